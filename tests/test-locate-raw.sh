#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A one-layer raw disk in an overlay store: locate (text and json) points
# at the very bytes in the layer's diff directory, json opens them in
# qemu, list shows the image, and none of it writes into the store.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires jq --version
requires_root

setup_store overlay
make_raw_disk "$tmpdir/disk.img" 3
build_disk_image localhost/raw-one "$tmpdir/disk.img"
id=$(podman image inspect --format '{{.Id}}' localhost/raw-one)
before=$(store_fingerprint)

podman_disk locate raw-one > "$tmpdir/loc"
cat "$tmpdir/loc"
[ "$(field image < "$tmpdir/loc")" = "$id" ] || fail "image id"
[ "$(field names < "$tmpdir/loc")" = "localhost/raw-one:latest" ] || fail "names"
[ "$(field transport < "$tmpdir/loc")" = containers-storage ] || fail "transport"
[ "$(field member < "$tmpdir/loc")" = /disk/disk.img ] || fail "member"
[ "$(field format < "$tmpdir/loc")" = raw ] || fail "format"
[ "$(field offset < "$tmpdir/loc")" = 0 ] || fail "offset"
[ "$(field size < "$tmpdir/loc")" = $((3 * 1024 * 1024)) ] || fail "size"
[ "$(field virtual_size < "$tmpdir/loc")" = $((3 * 1024 * 1024)) ] || fail "virtual size"
[ "$(field zero_copy < "$tmpdir/loc")" = true ] || fail "zero_copy"
file=$(field file < "$tmpdir/loc")
layer=$(field layer < "$tmpdir/loc")
[ "$file" = "$store/root/overlay/$layer/diff/disk/disk.img" ] ||
    fail "file $file is not in the layer's diff directory"
# The very bytes, in place.
cmp "$tmpdir/disk.img" "$file" || fail "the backing file differs from the disk"
[ "$(stat -c %i "$file")" != "$(stat -c %i "$tmpdir/disk.img")" ] || fail "same inode?"

# The json form: one object, the same facts, parsed by jq.
podman_disk locate --format json raw-one > "$tmpdir/loc.json"
jq -e --arg id "$id" --arg file "$file" --arg layer "$layer" '
    .image == $id and .names == ["localhost/raw-one:latest"]
    and .transport == "containers-storage" and .layer == $layer
    and .member == "/disk/disk.img" and .file == $file and .offset == 0
    and .size == 3145728 and .format == "raw" and .virtual_size == 3145728
    and .zero_copy == true' "$tmpdir/loc.json" >/dev/null ||
    fail "locate --format json: $(cat "$tmpdir/loc.json")"

# qemu reads the same bytes through the json: filename.
spec=$(podman_disk json raw-one)
case $spec in json:*) ;; *) fail "json: $spec" ;; esac
qemu-img compare -f raw "$tmpdir/disk.img" "$spec"
# And a different disk is seen as different (the check can fail).
make_raw_disk "$tmpdir/other.img" 3
if qemu-img compare -q -f raw "$tmpdir/other.img" "$spec"; then
    fail "qemu-img compare does not tell disks apart"
fi

# list shows it.
podman_disk list > "$tmpdir/list"
grep -Eq "^localhost/raw-one:latest +raw +3.0 MiB +3.0 MiB +${id:0:12} +/disk/disk.img$" \
    "$tmpdir/list" || { cat "$tmpdir/list"; fail "list"; }

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"
