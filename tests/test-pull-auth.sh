#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --pull from a registry over TLS with a test CA and htpasswd auth: the
# CA through --cert-dir, credentials through --creds or a podman login
# --authfile; wrong credentials and an untrusted certificate each fail
# with one line naming the registry and why, and leave the store as it
# was.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires nbdcopy --version
requires command -v htpasswd
requires_root
source "$(dirname "$0")/pull-functions.sh"

setup_store overlay
write_registries_conf
make_ca
htpasswd -Bbn tester s3cret > "$tmpdir/htpasswd" 2>/dev/null
start_registry secure tls "$tmpdir/htpasswd"
reg=127.0.0.1:$secure_port
certs=(--cert-dir "$tmpdir/cert-dir")

make_raw_disk "$tmpdir/disk.img" 1
build_disk_image localhost/podman-disk-push "$tmpdir/disk.img"
podman push -q "${certs[@]}" --creds tester:s3cret localhost/podman-disk-push \
    "docker://$reg/disk:1" >/dev/null
podman rmi -f localhost/podman-disk-push >/dev/null

# expect_pull_error REGEX CMD...: exit 1, one line of podman-disk's own
# matching REGEX, none of podman's "Error:", and the store unchanged.
expect_pull_error () {
    local regex=$1 rc=0 before
    shift
    before=$(images_state)
    "$@" > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
    [ "$rc" = 1 ] || { cat "$tmpdir/err" >&2; fail "'$*' exited $rc, expected 1"; }
    [ "$(grep -c '^podman-disk:' "$tmpdir/err")" = 1 ] &&
        grep -Eq -- "$regex" "$tmpdir/err" && ! grep -q '^Error' "$tmpdir/err" ||
        { cat "$tmpdir/err" >&2; fail "'$*': not one line matching /$regex/"; }
    [ ! -s "$tmpdir/out" ] || fail "'$*' printed on stdout while failing"
    [ "$(images_state)" = "$before" ] || fail "'$*' left something in the store"
}

expect_pull_error "^podman-disk: $reg/disk:1: pulling from $reg failed: unauthorized" \
    podman_disk locate --pull missing "${certs[@]}" --creds tester:wrong "$reg/disk:1"
expect_pull_error "^podman-disk: $reg/disk:1: pulling from $reg failed: (unauthorized|authentication required)" \
    podman_disk locate --pull missing "${certs[@]}" "$reg/disk:1"
expect_pull_error "^podman-disk: $reg/disk:1: pulling from $reg failed: the registry's TLS certificate is not trusted: pass --cert-dir" \
    podman_disk locate --pull missing --creds tester:s3cret "$reg/disk:1"

# Logged in: the auth file and the CA, and the bytes are the pushed ones.
podman login -u tester -p s3cret "${certs[@]}" --authfile "$tmpdir/auth.json" "$reg" >/dev/null
podman_disk serve "${certs[@]}" --authfile "$tmpdir/auth.json" "$reg/disk:1" \
    --run "nbdcopy \"\$uri\" '$tmpdir/got'" 2>/dev/null || fail "serve with --authfile failed"
cmp "$tmpdir/disk.img" "$tmpdir/got" || fail "the pulled disk differs"
# --creds and --tls-verify=false (no CA) too, with --pull always.
podman_disk locate --pull always --tls-verify=false --creds tester:s3cret "$reg/disk:1" \
    > "$tmpdir/loc" 2>/dev/null || fail "--tls-verify=false --creds failed"
cmp "$tmpdir/disk.img" "$(field file < "$tmpdir/loc")" || fail "--creds: another disk"
echo "$testname: ok"
