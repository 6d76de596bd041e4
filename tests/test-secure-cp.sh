#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cp never writes through a symlink another user planted (issue 10, class
# 1).  In a sticky world-writable directory like /tmp, a second local user
# plants DEST as a symlink to a root-owned file, as a dangling symlink into
# a cron-like directory, or as a symlink to that directory above DEST:
# root's cp refuses with one exact line, exit 1, and no byte of the target
# changes, no file appears.  The rules that keep cp useful: root's own
# symlinks are followed, an existing file is replaced whole (its other
# hard links untouched, its permissions kept), a block device is written.
source "$(dirname "$0")/functions.sh"
source "$testsdir/secure-lib.sh"
requires command podman --version
requires qemu-img --version
requires_root
setup_attacker
setup_store overlay

make_raw_disk "$tmpdir/disk.img" 2
build_disk_image localhost/secure-cp "$tmpdir/disk.img"
qemu-img convert -f raw -O qcow2 "$tmpdir/disk.img" "$tmpdir/disk.qcow2"
build_disk_image localhost/secure-cp-qcow2 "$tmpdir/disk.qcow2"
uid=$(id -u "$attacker")

shared=$tmpdir/shared
sticky_dir "$shared"
crond=$tmpdir/cron.d
mkdir -m 0755 "$crond"
victim=$tmpdir/victim
echo "root's file" > "$victim"
chmod 0644 "$victim"
state () { tree_state "$crond" "$victim"; }
before=$(state)
unchanged () { [ "$(state)" = "$before" ] || fail "$1: a root file changed or appeared"; }

# refused REGEX DEST: every way cp writes (the kernel copy, qemu-img in
# both directions) refuses DEST with exactly one line, exit 1.
refused () {
    local line=$1 dest=$2 img
    for img in "localhost/secure-cp" "--format qcow2 localhost/secure-cp" \
               "--format raw localhost/secure-cp-qcow2"; do
        expect_error 1 "$line" podman_disk cp $img "$dest"
        unchanged "cp $img $dest"
    done
}

# (a) DEST is the user's symlink to a root-owned file.
as_attacker ln -s "$victim" "$shared/out.img"
refused "^podman-disk: not writing through symlink '$shared/out.img', owned by uid $uid \(neither you nor root\): remove it first, or give a path without it$" \
    "$shared/out.img"
[ "$(readlink "$shared/out.img")" = "$victim" ] || fail "the planted link changed"

# (b) DEST is the user's dangling symlink into a cron-like directory.
as_attacker ln -s "$crond/x-$$" "$shared/dangling.img"
refused "^podman-disk: not writing through dangling symlink '$shared/dangling.img': remove it first, or give another path$" \
    "$shared/dangling.img"
[ ! -e "$crond/x-$$" ] || fail "root created $crond/x-$$"

# (c) The symlink is above DEST: shared/dir -> the cron-like directory.
as_attacker ln -s "$crond" "$shared/dir"
refused "^podman-disk: not writing through symlink '$shared/dir', owned by uid $uid \(neither you nor root\): remove it first, or give a path without it$" \
    "$shared/dir/new.img"

# (d) Root's own symlinks are followed: the target gets the disk, the link
# stays.
ln -s "$tmpdir/target.img" "$tmpdir/mylink"
echo old > "$tmpdir/target.img"
podman_disk cp localhost/secure-cp "$tmpdir/mylink"
[ -L "$tmpdir/mylink" ] || fail "root's own symlink was replaced"
cmp "$tmpdir/disk.img" "$tmpdir/target.img" || fail "cp through root's own symlink"
# ... but a dangling one of root's own is refused too, as cp(1) does.
ln -s "$tmpdir/nowhere/x" "$tmpdir/mydangling"
expect_error 1 "^podman-disk: not writing through dangling symlink '$tmpdir/mydangling'" \
    podman_disk cp localhost/secure-cp "$tmpdir/mydangling"

# (e) An existing file is replaced whole, never written in place: another
# hard link of it keeps its bytes, and its permissions are kept.
echo "the other name's bytes" > "$tmpdir/existing"
chmod 0600 "$tmpdir/existing"
ln "$tmpdir/existing" "$tmpdir/other-name"
for args in "localhost/secure-cp" "--format raw localhost/secure-cp-qcow2"; do
    podman_disk cp $args "$tmpdir/existing"
    cmp "$tmpdir/disk.img" "$tmpdir/existing" || fail "cp $args over an existing file"
    [ "$(stat -c %a "$tmpdir/existing")" = 600 ] ||
        fail "cp $args: mode $(stat -c %a "$tmpdir/existing"), was 600"
    [ "$(cat "$tmpdir/other-name")" = "the other name's bytes" ] ||
        fail "cp $args wrote through a hard link"
done
# A new file gets the usual mode; nothing else is left in the directory.
( umask 022; podman_disk cp localhost/secure-cp "$shared/new.img" )
[ "$(stat -c '%a %U' "$shared/new.img")" = "644 root" ] ||
    fail "new file: $(stat -c '%a %U' "$shared/new.img")"
leftovers=$(find "$tmpdir" "$shared" -maxdepth 1 -name '.podman-disk-*')
[ -z "$leftovers" ] || fail "temporary files left: $leftovers"

# (f) A block device through root's own symlink (as /dev/disk/by-id/...),
# by the kernel copy and by qemu-img.
if losetup --version >/dev/null 2>&1 && [ -e /dev/loop-control ] &&
   head -c $((3 * 1024 * 1024)) /dev/urandom > "$tmpdir/dev.img" &&
   dev=$(losetup --show -f "$tmpdir/dev.img" 2>/dev/null); then
    cleanup_fn "losetup -d $dev"
    ln -s "$dev" "$tmpdir/devlink"
    for img in localhost/secure-cp localhost/secure-cp-qcow2; do
        head -c $((3 * 1024 * 1024)) /dev/urandom | dd of="$dev" bs=1M status=none
        podman_disk cp "$img" "$tmpdir/devlink"
        cmp -n $((2 * 1024 * 1024)) "$tmpdir/disk.img" "$dev" || fail "cp $img to a block device"
        [ -b "$dev" ] && [ -L "$tmpdir/devlink" ] || fail "the device or its link was replaced"
    done
else
    echo "no loop device: the block device case not run"
fi
echo PASS
