#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A real guest on a clone: a Linux kernel of the host's and a busybox
# initramfs whose init mounts /dev/vda, appends "boot N" to /log on it and
# prints the file.  Booted under TCG on a clone of a containerDisk twice:
# the second boot sees the first one's line (the clone persists), the
# image's layer file is byte-for-byte unchanged; then the clone is
# committed to a new image whose clone boots with all the lines.  The only
# test that boots guests: three boots in all.
source "$(dirname "$0")/functions.sh"
source "$testsdir/clone-functions.sh"
requires_root
requires command podman --version
requires qemu-img --version
requires_guest
setup_store

make_guest_kernel "$tmpdir"
make_guest_disk "$tmpdir/guest.qcow2"
build_disk_image localhost/guest:v1 "$tmpdir/guest.qcow2"
layer=$(podman_disk locate localhost/guest:v1 | field file)
before=$(sha256sum < "$layer")

podman_disk clone localhost/guest:v1 "$tmpdir/vm.qcow2"
boot_guest "$tmpdir" "file=$tmpdir/vm.qcow2,format=qcow2,if=virtio" "$tmpdir/boot1.out"
[ "$(guest_log "$tmpdir/boot1.out")" = "$(printf 'from the image\nboot 1')" ] ||
    fail "first boot: $(cat "$tmpdir/boot1.out")"
boot_guest "$tmpdir" "file=$tmpdir/vm.qcow2,format=qcow2,if=virtio" "$tmpdir/boot2.out"
[ "$(guest_log "$tmpdir/boot2.out")" = "$(printf 'from the image\nboot 1\nboot 2')" ] ||
    fail "second boot: $(cat "$tmpdir/boot2.out")"
[ "$(sha256sum < "$layer")" = "$before" ] || fail "the image's layer file changed"
podman_disk clones "$tmpdir/vm.qcow2" >/dev/null || fail "the clone's base is not intact"

# commit: a containerDisk as kubevirt/containerdisks ships them.
podman_disk commit "$tmpdir/vm.qcow2" localhost/guest:v2 > "$tmpdir/id"
podman image inspect --format '{{.Id}}' localhost/guest:v2 | grep -qxF "$(cat "$tmpdir/id")" ||
    fail "commit printed $(cat "$tmpdir/id"), not the image's id"
podman_disk locate localhost/guest:v2 > "$tmpdir/loc2"
[ "$(field member < "$tmpdir/loc2")" = /disk/disk.qcow2 ] || fail "member: $(cat "$tmpdir/loc2")"
[ "$(field format < "$tmpdir/loc2")" = qcow2 ] || fail "format: $(cat "$tmpdir/loc2")"
[ "$(stat -c '%a %u:%g' "$(field file < "$tmpdir/loc2")")" = "440 107:107" ] ||
    fail "the committed disk is not 0440 107:107"
ls /var/tmp | grep -q '^podman-disk-commit\.' && fail "commit left its build directory"

podman_disk clone localhost/guest:v2 "$tmpdir/vm2.qcow2"
boot_guest "$tmpdir" "file=$tmpdir/vm2.qcow2,format=qcow2,if=virtio" "$tmpdir/boot3.out"
[ "$(guest_log "$tmpdir/boot3.out")" = "$(printf 'from the image\nboot 1\nboot 2\nboot 3')" ] ||
    fail "the committed image's guest: $(cat "$tmpdir/boot3.out")"
echo "clone boot OK"
