#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
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

# A libarchive too old for podman-disk (here one without the functions it
# uses): one warning for each image a list reads, the same each time, and
# no crash on the second (common/dl.c).
if command -v cc >/dev/null && command -v python3 >/dev/null; then
    mkdir -p "$tmpdir/oldlib" "$tmpdir/layer/disk"
    echo 'const char *archive_version_string (void) { return "libarchive 0.1"; }' \
        > "$tmpdir/oldlib/old.c"
    cc -shared -fPIC -Wl,-soname,libarchive.so.13 -o "$tmpdir/oldlib/libarchive.so.13" \
        "$tmpdir/oldlib/old.c"
    head -c 4096 /dev/urandom > "$tmpdir/layer/disk/disk.img"
    # A name the header walk leaves to libarchive (tarwalk.h): non-ASCII
    # in a pax header.
    touch "$tmpdir/layer/"$'caf\303\251'
    tar --format=pax -C "$tmpdir/layer" -cf "$tmpdir/layer.tar" disk $'caf\303\251'
    python3 "$testsdir/hostile/mklayout.py" "$tmpdir/oci" one "$tmpdir/layer.tar"
    python3 "$testsdir/hostile/mklayout.py" "$tmpdir/oci" two "$tmpdir/layer.tar"
    rc=0
    LD_LIBRARY_PATH=$tmpdir/oldlib PODMAN_DISK_CACHE=off "$PODMAN_DISK" list "oci:$tmpdir/oci" \
        > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
    [ "$rc" = 0 ] || fail "list with a too old libarchive exited $rc: $(cat "$tmpdir/err")"
    [ "$(grep -c '^podman-disk: warning: image .*: libarchive.so.13 has no symbol .*: the library is too old$' "$tmpdir/err")" = 2 ] ||
        fail "list with a too old libarchive: $(cat "$tmpdir/err")"
else
    echo "cc or python3 missing: the too old libarchive not tried"
fi
echo PASS
