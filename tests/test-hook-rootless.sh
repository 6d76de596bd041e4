#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook under rootless podman: a test user whose containers.conf
# sets hooks_dir (podman loads no hooks for rootless users otherwise, the
# README's line) runs an annotated container of its own store.  The hook
# runs as root of the user's namespace, finds the disk (a 0440 file of a
# subordinate uid, readable only there) and exports it under the user's
# $XDG_RUNTIME_DIR/podman-disk, where the user reads it; rm leaves nothing.
# A clone on first use (io.podman-disk.writable=persistent:DEST) is refused
# there: the hook could not hold the image.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires nbdcopy --version
requires jq --version
requires_root
busybox=$(command -v busybox) || skip "busybox not installed (Debian: busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && skip "$busybox is not static (Debian: busybox-static)"

# The installed hooks.d files, but naming this build: no --state-dir, the
# rootless default is under test.
hooks=$tmpdir/hooks.d
mkdir -p "$hooks"
for f in "$top_srcdir"/hooks/*.json.in; do
    sed "s|@BINDIR@/podman-disk|$PODMAN_DISK|" "$f" > "$hooks/$(basename "$f" .in)"
done
chmod -R a+rX "$hooks"
# A short $XDG_RUNTIME_DIR, as /run/user/UID is: socket paths have a limit
# of 107 bytes, and the socket is named by the 64-character container id.
run=$(mktemp -d /tmp/pdhook.XXXXXX)
cleanup_fn "rm -rf '$run'"
setup_rootless_user pdhook$$ "$run" "hooks_dir = [\"$hooks\"]"
# Whatever a failure leaves: the user's containers (their exports follow).
cleanup_fn "as_user podman rm -a -f -t 0"

make_raw_disk "$tmpdir/locked.img" 4
ctx=$tmpdir/ctx
mkdir -p "$ctx"
cp "$busybox" "$ctx/busybox"
cp "$tmpdir/locked.img" "$ctx/"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY --chown=107:107 --chmod=0440 locked.img /disk/\n' \
    > "$ctx/Containerfile"
chmod -R a+rX "$ctx"
as_user podman build -q -t localhost/locked "$ctx" >/dev/null

id=$(as_user podman run -d --network none --annotation io.podman-disk.export=true \
         localhost/locked /bin/busybox sleep 1000)
statedir=$run/podman-disk
[ -f "$statedir/$id.json" ] || fail "no record in the rootless default $statedir"
rec () { jq -r ".$1" "$statedir/$id.json"; }
[ -S "$statedir/$id.sock" ] || fail "no socket"
case $(rec file) in
    "$home/.local/share/containers/storage/"*) ;;
    *) fail "not served from the user's store: $(rec file)" ;;
esac
as_user test -r "$(rec file)" && fail "the disk is readable outside the namespace: a weak test"
as_user nbdcopy "$(rec uri)" - > "$tmpdir/copy.raw"
cmp "$tmpdir/locked.img" "$tmpdir/copy.raw" || fail "bytes differ"
as_user "$PODMAN_DISK" exports --format json > "$tmpdir/list"
[ "$(jq -r '.[0].container + " " + (.[0].alive|tostring)' "$tmpdir/list")" = "$id true" ] ||
    { cat "$tmpdir/list"; fail "exports as the user"; }

watcher=$(rec watcher_pid)
server=$(rec pid)
as_user podman rm -f -t 0 "$id" >/dev/null
for p in "$server" "$watcher"; do
    for w in $(seq 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$p" 2>/dev/null || fail "process $p still runs"
done
[ -z "$(ls -A "$statedir")" ] || { ls -la "$statedir" >&2; fail "$statedir is not empty"; }

# A clone is not made on first use here: the hook, root of the user's
# namespace, could not hold the image.  One line; no clone, no export.
vm=$run/vm.qcow2
rc=0
as_user podman run -d --network none --annotation io.podman-disk.export=true \
    --annotation "io.podman-disk.writable=persistent:$vm" \
    localhost/locked /bin/busybox sleep 1000 > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
[ "$rc" != 0 ] || fail "a rootless container started with a clone the hook cannot hold"
grep -q "stderr: podman-disk: .*a rootless container's hook cannot hold its image: make the clone with 'podman-disk clone IMAGE $vm' first" "$tmpdir/err" ||
    { cat "$tmpdir/err" >&2; fail "rootless first-use clone: not the one line"; }
[ ! -e "$vm" ] || fail "the hook made a clone it cannot hold"
[ -z "$(ls -A "$statedir")" ] || { ls -la "$statedir" >&2; fail "$statedir is not empty after the refusal"; }
exit 0
