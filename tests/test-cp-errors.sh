#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cp's errors: one line each, no partial file left.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_root
requires command podman --version
requires qemu-img --version
setup_store

make_raw_disk "$tmpdir/disk.img" 4
serve_image localhost/cp-err "$tmpdir/disk.img"
raw_backing=$backing
qemu-img convert -f raw -O qcow2 "$tmpdir/disk.img" "$tmpdir/disk.qcow2"
serve_image localhost/cp-err-qcow2 "$tmpdir/disk.qcow2"

for args in "" "localhost/cp-err" "localhost/cp-err a b" "--format vmdk localhost/cp-err x" \
            "--bogus localhost/cp-err x"; do
    rc=0
    podman_disk cp $args >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || fail "cp $args exited $rc, expected 2"
    grep -q "Try 'podman-disk cp --help'" "$tmpdir/err" || fail "cp $args: no hint"
done

expect_error 1 "$tmpdir/nodir/out.img: directory $tmpdir/nodir does not exist" \
    podman_disk cp localhost/cp-err "$tmpdir/nodir/out.img"
expect_error 1 "$tmpdir is a directory" podman_disk cp localhost/cp-err "$tmpdir"
expect_error 1 "is the file the disk is in" podman_disk cp localhost/cp-err "$raw_backing"
expect_error 1 "/dev/null is neither a regular file nor a block device" \
    podman_disk cp localhost/cp-err /dev/null
expect_error 1 'podman-disk: .*no-such-image' podman_disk cp localhost/no-such-image "$tmpdir/x"
path_gone "$tmpdir/x" || fail "a failed cp left $tmpdir/x"

# Disk full: a 1 MiB tmpfs for a 4 MiB disk; the partial file is removed.
mkdir "$tmpdir/full"
if mount -t tmpfs -o size=1m tmpfs "$tmpdir/full" 2>/dev/null; then
    cleanup_fn "umount -l '$tmpdir/full'"
    expect_error 1 'no space left on the destination device' \
        podman_disk cp localhost/cp-err "$tmpdir/full/out.img"
    path_gone "$tmpdir/full/out.img" || fail "partial file left on a full device"
    expect_error 1 'no space left on the destination device' \
        podman_disk cp localhost/cp-err-qcow2 "$tmpdir/full/out.raw"
    path_gone "$tmpdir/full/out.raw" || fail "partial qemu-img output left on a full device"
else
    echo "cannot mount a tmpfs: disk-full case not run"
fi

# Interrupted: nothing of the copy is left.  The new file has no name
# until it is complete (O_TMPFILE: "$tmpdir/#INODE (deleted)" in /proc, or
# a .podman-disk-*.tmp name): wait until cp writes it.
make_raw_disk "$tmpdir/big.img" 512
serve_image localhost/cp-big "$tmpdir/big.img"
"$PODMAN_DISK" cp localhost/cp-big "$tmpdir/int.img" 2>"$tmpdir/err" &
cp_pid=$!
cp_writing () {
    ls -l "/proc/$cp_pid/fd" 2>/dev/null | grep -qE -- "-> $tmpdir/(#|\.podman-disk-)" ||
        ! kill -0 "$cp_pid" 2>/dev/null
}
wait_until cp_writing
kill -TERM "$cp_pid" 2>/dev/null || true
rc=0; wait "$cp_pid" || rc=$?
if [ "$rc" = 0 ]; then
    echo "cp finished before SIGTERM: interruption not tested"
    cmp "$tmpdir/big.img" "$tmpdir/int.img" || fail "finished cp differs"
else
    [ "$rc" = 1 ] || fail "interrupted cp exited $rc"
    grep -q 'interrupted by SIGTERM' "$tmpdir/err" || fail "message: $(cat "$tmpdir/err")"
    path_gone "$tmpdir/int.img" || fail "interrupted cp left its partial file"
    [ -z "$(find "$tmpdir" -maxdepth 1 -name '.podman-disk-*')" ] ||
        fail "interrupted cp left a temporary file"
    echo "interrupted: $(cat "$tmpdir/err")"
fi
echo PASS
