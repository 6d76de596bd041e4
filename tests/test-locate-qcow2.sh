#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A qcow2 disk as kubevirt/containerdisks ship it: owned 107:107, mode
# 0444.  locate reads its header (format, virtual size, cluster size), json
# opens it with a qcow2 node (or raw bytes with --no-decode), --disk names
# the member explicitly, and the store is left as it was.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires mkfs.ext4 -V
requires jq --version
requires_root

setup_store overlay
make_qcow2_disk "$tmpdir/fedora.qcow2"
build_disk_image quay.io/containerdisks/fedora:41 "$tmpdir/fedora.qcow2" \
    "--chown=107:107 --chmod=0444"
before=$(store_fingerprint)

podman_disk locate --format json fedora:41 > "$tmpdir/loc.json"
cat "$tmpdir/loc.json"
file=$(jq -r .file "$tmpdir/loc.json")
[ "$(stat -c '%u:%g %a' "$file")" = "107:107 444" ] ||
    fail "the fixture is not 107:107 0444: $(stat -c '%u:%g %a' "$file")"
vsize=$(qemu-img info -f qcow2 --output=json "$tmpdir/fedora.qcow2" | jq '."virtual-size"')
jq -e --argjson size "$(stat -c %s "$tmpdir/fedora.qcow2")" --argjson vsize "$vsize" '
    .format == "qcow2" and .size == $size and .virtual_size == $vsize
    and .qcow2_version == 3 and .cluster_size == 65536
    and .member == "/disk/fedora.qcow2"
    and .names == ["quay.io/containerdisks/fedora:41"]' "$tmpdir/loc.json" >/dev/null ||
    fail "locate fields"
cmp "$tmpdir/fedora.qcow2" "$file"

# Decoded: the guest's bytes equal the original's.
qemu-img compare -f qcow2 "$tmpdir/fedora.qcow2" "$(podman_disk json fedora:41)"
# qemu is told there is no backing file, whatever the header says.
podman_disk json fedora:41 | sed 's/^json://' | jq -e '.driver == "qcow2" and
    has("backing") and .backing == null and .file.driver == "raw"' >/dev/null ||
    fail "the qcow2 node: $(podman_disk json fedora:41)"
# Not decoded: the container file's bytes, as raw.
spec=$(podman_disk json --no-decode fedora:41)
case $spec in *'"driver":"qcow2"'*) fail "--no-decode still has a qcow2 node" ;; esac
qemu-img compare -f raw -F raw "$tmpdir/fedora.qcow2" "$spec"
# The guest filesystem is really there: the known file in the ext4.
qemu-img convert -O raw "$(podman_disk json fedora:41)" "$tmpdir/guest.raw"
debugfs -R 'cat /hello.txt' "$tmpdir/guest.raw" 2>/dev/null | grep -x "hello from podman-disk" >/dev/null ||
    fail "the guest file is not in the decoded disk"

# --disk names the member (relative or absolute): the same location.
for d in /disk/fedora.qcow2 disk/fedora.qcow2; do
    podman_disk locate --disk "$d" --format json quay.io/containerdisks/fedora:41 |
        jq -e --arg file "$file" '.file == $file' >/dev/null || fail "--disk $d"
done
expect_error 1 '^podman-disk: fedora:41: /disk/nope.img: .*not found' \
    podman_disk locate --disk /disk/nope.img fedora:41

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"
