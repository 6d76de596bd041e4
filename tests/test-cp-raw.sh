#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cp of a raw disk: byte-exact, and sparse even though containers/storage
# keeps the layer file fully allocated; to a block device too; to qcow2.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_root
requires command podman --version
requires qemu-img --version
setup_store

# 64 MiB: 2 MiB of data, 60 MiB of zeros, 2 MiB of data.
head -c $((2 * 1024 * 1024)) /dev/urandom > "$tmpdir/disk.img"
head -c $((60 * 1024 * 1024)) /dev/zero >> "$tmpdir/disk.img"
head -c $((2 * 1024 * 1024)) /dev/urandom >> "$tmpdir/disk.img"
serve_image localhost/cp-raw "$tmpdir/disk.img"
size=$(stat -c %s "$tmpdir/disk.img")
echo "layer file: $(du -k "$backing" | cut -f1) KiB allocated"

podman_disk cp localhost/cp-raw "$tmpdir/out.img"
cmp "$tmpdir/disk.img" "$tmpdir/out.img" || fail "cp output differs"
[ "$(stat -c %s "$tmpdir/out.img")" = "$size" ] || fail "cp output size"
allocated=$(( $(stat -c %b "$tmpdir/out.img") * $(stat -c %B "$tmpdir/out.img") ))
echo "cp output: $allocated bytes allocated for 4 MiB of data"
[ "$allocated" -le $((5 * 1024 * 1024)) ] || fail "cp output not sparse: $allocated bytes allocated"

# Overwrites an existing file (shorter afterwards, not longer).
head -c $((100 * 1024 * 1024)) /dev/zero > "$tmpdir/big"
podman_disk cp localhost/cp-raw "$tmpdir/big"
cmp "$tmpdir/disk.img" "$tmpdir/big" || fail "cp over an existing file differs"

# --progress: a bar on a terminal; elsewhere plain lines, the last one
# saying the copy is done (one every 5 s before that: this copy is
# quicker than that on any machine, which the test does not count on).
podman_disk cp --progress localhost/cp-raw "$tmpdir/p.img" 2>"$tmpdir/err"
tail -n 1 "$tmpdir/err" | grep -Eq '^copied 64\.0 MiB of 64\.0 MiB \(100%\) in [0-9.]+s$' ||
    fail "--progress off a terminal: $(cat -v "$tmpdir/err")"
! grep -q $'\r' "$tmpdir/err" || fail "--progress drew a bar on a non-terminal"
podman_disk cp localhost/cp-raw "$tmpdir/p.img" 2>"$tmpdir/err"
[ ! -s "$tmpdir/err" ] || fail "cp without --progress wrote: $(cat "$tmpdir/err")"

# DEST -: the disk on stdout, byte for byte, into a pipe; not to a
# terminal.
podman_disk cp localhost/cp-raw - | cmp - "$tmpdir/disk.img" || fail "cp - (raw) differs"
podman_disk cp --progress localhost/cp-raw - 2>"$tmpdir/err" > "$tmpdir/stdout.img"
cmp "$tmpdir/disk.img" "$tmpdir/stdout.img" || fail "cp - > FILE differs"
grep -q '(100%)' "$tmpdir/err" || fail "cp - --progress: $(cat "$tmpdir/err")"
expect_error 1 "raw disk cannot be converted to qcow2 on a stream" \
    podman_disk cp --format qcow2 localhost/cp-raw -
[ ! -e ./- ] || fail "cp wrote a file named -"
if script -qec "true" /dev/null >/dev/null 2>&1; then
    script -qec "$PODMAN_DISK cp localhost/cp-raw -; echo rc=\$?" /dev/null > "$tmpdir/tty" || true
    grep -q "stdout is a terminal" "$tmpdir/tty" && grep -q "rc=2" "$tmpdir/tty" ||
        fail "cp - on a terminal: $(cat -v "$tmpdir/tty")"
fi
if script -qec "true" /dev/null >/dev/null 2>&1; then
    script -qec "$PODMAN_DISK cp --progress localhost/cp-raw $tmpdir/p.img" /dev/null > "$tmpdir/tty"
    grep -q '100%' "$tmpdir/tty" || fail "--progress: no 100% on the terminal: $(cat -v "$tmpdir/tty")"
    cmp "$tmpdir/disk.img" "$tmpdir/p.img" || fail "cp --progress output differs"
fi

# --format qcow2: a qcow2 of the same guest disk.
podman_disk cp --format qcow2 localhost/cp-raw "$tmpdir/out.qcow2"
[ "$(qemu-img info --output=json "$tmpdir/out.qcow2" | jq -r .format)" = qcow2 ] || fail "not qcow2"
qemu-img compare -q -f raw "$tmpdir/disk.img" -F qcow2 "$tmpdir/out.qcow2" || fail "qcow2 output differs"

# A block device (a loop device on a file of garbage): every byte written,
# the zeros included.
if losetup --version >/dev/null 2>&1 && [ -e /dev/loop-control ]; then
    head -c $((size + 1024 * 1024)) /dev/urandom > "$tmpdir/dev.img"
    if dev=$(losetup --show -f "$tmpdir/dev.img" 2>/dev/null); then
        cleanup_fn "losetup -d $dev"
        podman_disk cp localhost/cp-raw "$dev"
        cmp -n "$size" "$tmpdir/disk.img" "$dev" || fail "cp to a block device differs"
        [ -b "$dev" ] || fail "the block device was replaced"
        # Too small a device: refused before writing.
        head -c $((size / 2)) /dev/urandom > "$tmpdir/small.img"
        small=$(losetup --show -f "$tmpdir/small.img")
        cleanup_fn "losetup -d $small"
        expect_error 1 "$small is too small" podman_disk cp localhost/cp-raw "$small"
    else
        echo "no loop device: block device case not run"
    fi
fi
echo PASS
