#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The image's tree across layers, as a container would see it: whiteouts,
# opaque directories, later members, hard links (within and across
# layers), symlinks resolved inside the image; and ORAS-style images whose
# layer blob is the disk itself.
source "$(dirname "$0")/functions.sh"
source "$(dirname "$0")/layout-functions.sh"
requires qemu-img --version
requires python3 --version

for x in A B C; do make_raw_disk "$tmpdir/$x.img" 1; done
n=0
new_oci () { n=$((n + 1)); d=$tmpdir/oci$n; }
# image LAYER...: a layout of one image with these layers, bottom first.
image () {
    local layers="" f
    for f in "$@"; do layers="$layers${layers:+,} {\"file\": \"$tmpdir/$f\"}"; done
    new_oci
    mk_oci "$d" <<< "{\"index\": [{\"layers\": [$layers]}]}"
}
digest () { echo "sha256:$(sha256sum < "$tmpdir/$1" | cut -d' ' -f1)"; }

mk_tar "$tmpdir/base.tar" d:disk "f:disk/a.img=$tmpdir/A.img" "f:disk/b.img=$tmpdir/B.img" \
    d:etc "f:etc/hostname=/etc/hostname"
image base.tar
expect_error 1 "oci:$d: several disks under /disk/: a.img, b.img; pick one with --disk PATH" \
    podman_disk locate "oci:$d"
same_disk "$tmpdir/B.img" "oci:$d" raw --disk /disk/b.img

# A whiteout deletes a lower file.
mk_tar "$tmpdir/wh.tar" d:disk e:disk/.wh.b.img
image base.tar wh.tar
same_disk "$tmpdir/A.img" "oci:$d"
podman_disk locate "oci:$d" > "$tmpdir/loc"
[ "$(field layer < "$tmpdir/loc")" = "$(digest base.tar)" ] || fail "the disk's layer is the base"
expect_error 1 "/disk/b.img: not found in the image" podman_disk locate --disk /disk/b.img "oci:$d"

# An opaque directory hides everything below it; its own files stay.
mk_tar "$tmpdir/opq.tar" d:disk e:disk/.wh..wh..opq "f:disk/c.img=$tmpdir/C.img"
image base.tar opq.tar
same_disk "$tmpdir/C.img" "oci:$d"
[ "$(podman_disk locate "oci:$d" | field layer)" = "$(digest opq.tar)" ] || fail "opaque: layer"

# A whiteout of the whole directory, and a file replacing it.
mk_tar "$tmpdir/whdir.tar" e:.wh.disk
image base.tar whdir.tar
expect_error 1 "the image has no /disk/ directory" podman_disk locate "oci:$d"
mk_tar "$tmpdir/file.tar" "f:disk=$tmpdir/C.img"
image base.tar file.tar
expect_error 1 "the image has no /disk/ directory" podman_disk locate "oci:$d"
expect_error 1 "/disk/a.img: not a directory" podman_disk locate --disk /disk/a.img "oci:$d"

# Within a layer, a later member replaces an earlier one.
mk_tar "$tmpdir/twice.tar" d:disk "f:disk/x.img=$tmpdir/B.img" "f:disk/x.img=$tmpdir/C.img"
image twice.tar
same_disk "$tmpdir/C.img" "oci:$d"

# Hard links: to the same layer, and to a lower layer.
mk_tar "$tmpdir/data.tar" d:data "f:data/real.img=$tmpdir/A.img"
mk_tar "$tmpdir/hl.tar" d:disk h:disk/link.img=data/real.img
image data.tar hl.tar
same_disk "$tmpdir/A.img" "oci:$d"
podman_disk locate "oci:$d" > "$tmpdir/loc"
[ "$(field layer < "$tmpdir/loc")" = "$(digest data.tar)" ] || fail "hard link: the bytes are in the lower layer"
[ "$(field member < "$tmpdir/loc")" = /disk/link.img ] || fail "hard link: member"
[ "$(field offset < "$tmpdir/loc")" = "$(podman_disk locate --disk /data/real.img "oci:$d" | field offset)" ] ||
    fail "hard link: not the target's offset"
mk_tar "$tmpdir/hl1.tar" d:data "f:data/real.img=$tmpdir/B.img" d:disk h:disk/link.img=data/real.img
image hl1.tar
same_disk "$tmpdir/B.img" "oci:$d"
mk_tar "$tmpdir/hlbad.tar" d:disk h:disk/link.img=data/nosuch.img
image hlbad.tar
expect_error 1 "layer $(digest hlbad.tar) \(application/vnd.oci.image.layer.v1.tar\): hard link 'disk/link.img' points to 'data/nosuch.img', which is not a regular file of this or a lower layer" \
    podman_disk locate "oci:$d"

# Symlinks resolve inside the image, relative or absolute, across layers.
mk_tar "$tmpdir/rel.tar" d:disk l:disk/disk.img=../data/real.img
image data.tar rel.tar
same_disk "$tmpdir/A.img" "oci:$d"
mk_tar "$tmpdir/abs.tar" d:disk l:disk/disk.img=/data/../data/real.img
image data.tar abs.tar
same_disk "$tmpdir/A.img" "oci:$d"
[ "$(podman_disk locate "oci:$d" | field member)" = /data/real.img ] || fail "symlink: member"
# ... and never on the host: this one points at a host file.
mk_tar "$tmpdir/host.tar" d:disk "l:disk/disk.img=../../../../../../..$tmpdir/A.img"
image data.tar host.tar
expect_error 1 "no regular file under /disk/ \(found: disk.img \(symlink to .*: not found in the image\)\)" \
    podman_disk locate "oci:$d"
mk_tar "$tmpdir/dirlink.tar" l:disk=data
image data.tar dirlink.tar
same_disk "$tmpdir/A.img" "oci:$d"

# Three layers, the disk in the middle one.
mk_tar "$tmpdir/top.tar" d:etc "f:etc/motd=/etc/hostname"
image base.tar opq.tar top.tar
same_disk "$tmpdir/C.img" "oci:$d"
[ "$(podman_disk locate "oci:$d" | field layer)" = "$(digest opq.tar)" ] || fail "middle layer"

# ORAS-style: the layer blob is the disk, named by its title.
new_oci
mk_oci "$d" <<EOJ
{"index": [{"layers": [{"file": "$tmpdir/A.img", "title": "disk.img"}]}]}
EOJ
same_disk "$tmpdir/A.img" "oci:$d"
podman_disk locate --format json "oci:$d" > "$tmpdir/loc.json"
python3 - "$tmpdir/loc.json" <<'EOPY' || fail "ORAS location"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["offset"] == 0 and o["member"] == "disk.img" and "header_offset" not in o, o
EOPY
new_oci
mk_oci "$d" <<EOJ
{"index": [{"layers": [{"file": "$tmpdir/B.img", "mediaType": "application/octet-stream"}]}]}
EOJ
same_disk "$tmpdir/B.img" "oci:$d"
new_oci
mk_oci "$d" <<EOJ
{"index": [{"layers": [{"file": "$tmpdir/A.img", "title": "a.img", "mediaType": "application/x-raw-disk-image"},
                       {"file": "$tmpdir/B.img", "title": "b.img", "mediaType": "application/x-raw-disk-image"}]}]}
EOJ
expect_error 1 "oci:$d: the image holds 2 blobs: pick one with --disk TITLE \(it has: a.img, b.img\)" \
    podman_disk locate "oci:$d"
same_disk "$tmpdir/B.img" "oci:$d" raw --disk b.img
same_disk "$tmpdir/A.img" "oci:$d" raw --disk /a.img
expect_error 1 "no blob titled 'c.img' \(it has: a.img, b.img\)" podman_disk locate --disk c.img "oci:$d"
# ... in an archive: the blob is a member of it.
tar -C "$d" -cf "$tmpdir/oras.tar" .
podman_disk locate --disk b.img "oci-archive:$tmpdir/oras.tar" > "$tmpdir/loc"
[ -n "$(field header_offset < "$tmpdir/loc")" ] || fail "ORAS in an archive: header_offset"
same_disk "$tmpdir/B.img" "oci-archive:$tmpdir/oras.tar" raw --disk b.img
gzip -c "$tmpdir/C.img" > "$tmpdir/C.img.gz"
new_oci
mk_oci "$d" <<EOJ
{"index": [{"layers": [{"file": "$tmpdir/C.img.gz", "title": "c.img.gz"}]}]}
EOJ
expect_error 1 "blob sha256:[0-9a-f]{64} \(application/vnd.oci.image.layer.v1.tar\) is gzip-compressed: a disk must be stored uncompressed" \
    podman_disk locate "oci:$d"
echo "test-layout-tree: ok"
