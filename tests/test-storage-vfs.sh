#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The same images in a vfs store: a raw disk, a 107:107 0444 qcow2 tagged
# quay.io/containerdisks/fedora:41 and looked up as fedora:41, by ID and
# by digest.  vfs keeps the whole tree in the top layer's directory.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires mkfs.ext4 -V
requires_root

setup_store vfs
make_raw_disk "$tmpdir/disk.img" 2
make_qcow2_disk "$tmpdir/fedora.qcow2"
build_disk_image localhost/raw-vfs "$tmpdir/disk.img"
build_disk_image quay.io/containerdisks/fedora:41 "$tmpdir/fedora.qcow2" \
    "--chown=107:107 --chmod=0444"
id=$(podman image inspect --format '{{.Id}}' fedora:41)
digest=$(podman image inspect --format '{{.Digest}}' fedora:41)
before=$(store_fingerprint)

podman_disk locate raw-vfs > "$tmpdir/loc"
cat "$tmpdir/loc"
layer=$(field layer < "$tmpdir/loc")
[ "$(field file < "$tmpdir/loc")" = "$store/root/vfs/dir/$layer/disk/disk.img" ] ||
    fail "not in the vfs layer directory"
qemu-img compare -f raw "$tmpdir/disk.img" "$(podman_disk json raw-vfs)"

for ref in fedora:41 "$id" "${id:0:12}" "sha256:$id" "fedora@$digest" \
           "containers-storage:[vfs@$store/root+$store/runroot]fedora:41"; do
    podman_disk locate "$ref" > "$tmpdir/loc"
    [ "$(field format < "$tmpdir/loc")" = qcow2 ] || fail "$ref: format"
    file=$(field file < "$tmpdir/loc")
    [ "$(stat -c '%u:%g %a' "$file")" = "107:107 444" ] || fail "$ref: owner/mode"
    qemu-img compare -f qcow2 "$tmpdir/fedora.qcow2" "$(podman_disk json "$ref")"
done

# With the driver not configured at all, the root's vfs files decide.
sed -i '/^driver/d' "$store/storage.conf"
qemu-img compare -f raw "$tmpdir/disk.img" "$(podman_disk json raw-vfs)"
# An overlay-configured lookup is pointed at vfs.
expect_error 1 "^podman-disk: raw-vfs: image not known in $store/root \(driver overlay\): the root holds vfs images: pass --storage-driver vfs$" \
    podman_disk locate --storage-driver overlay raw-vfs

podman_disk list > "$tmpdir/list"
cat "$tmpdir/list"
grep -q "^quay.io/containerdisks/fedora:41 *qcow2 " "$tmpdir/list" || fail "list qcow2"
grep -q "^localhost/raw-vfs:latest *raw " "$tmpdir/list" || fail "list raw"

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"
