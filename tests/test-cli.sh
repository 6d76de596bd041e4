#!/bin/bash
# The command line itself: --help everywhere, --version, usage errors exit 2
# with one hint, unknown commands.
source "$(dirname "$0")/functions.sh"

podman_disk --help | grep -q '^Usage: podman-disk' || fail "--help"
podman_disk --version > "$tmpdir/v"
grep -qx "podman-disk [0-9.]*" "$tmpdir/v" || fail "--version: no version line"
grep -q '^json-c ' "$tmpdir/v" || fail "--version: no json-c line"

# Every listed command has --help, exit 0, on stdout.
for cmd in $(podman_disk --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
    podman_disk "$cmd" --help > "$tmpdir/help" || fail "$cmd --help failed"
    grep -q "^Usage: podman-disk $cmd" "$tmpdir/help" || fail "$cmd --help: no usage line"
done

# Usage errors: exit 2, the message and a hint (two lines).
for args in "" "frobnicate" "--bogus" "locate" "locate --bogus x" \
            "locate a b" "locate --format yaml x" "--log-level loud list" \
            "json" "list extra"; do
    rc=0
    podman_disk $args >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || fail "'$args' exited $rc, expected 2"
    grep -q "Try 'podman-disk.*--help'" "$tmpdir/err" || fail "'$args': no hint"
    [ ! -s "$tmpdir/out" ] || fail "'$args' printed on stdout"
done

# Remote transports are refused with a pointer to what works.
expect_error 1 'docker://quay.io/x: the docker transport is not read in place' \
    podman_disk locate docker://quay.io/x
