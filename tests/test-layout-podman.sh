#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Layouts and archives as the real tools write them: podman save in every
# format (with and without --uncompressed) and skopeo copy to oci: and
# oci-archive:.  What can be served in place must read back as the
# original disk through qemu; compressed ones are refused with the way out.
source "$(dirname "$0")/functions.sh"
source "$(dirname "$0")/layout-functions.sh"
requires_root
requires command podman --version
requires skopeo --version
requires qemu-img --version
requires mkfs.ext4 -V
setup_store

make_raw_disk "$tmpdir/raw.img" 4
make_qcow2_disk "$tmpdir/q.qcow2"
build_disk_image localhost/rawdisk "$tmpdir/raw.img"
build_disk_image localhost/qdisk "$tmpdir/q.qcow2"
out=$tmpdir/out.d
mkdir -p "$out"

gzip_refused='layer sha256:[0-9a-f]{64} \(application/vnd\.oci\.image\.layer\.v1\.tar\+gzip\) is gzip-compressed: .*produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE'

# podman save --format oci-dir
podman save -q --uncompressed --format oci-dir -o "$out/oci-u" localhost/rawdisk
same_disk "$tmpdir/raw.img" "oci:$out/oci-u"
podman_disk locate "oci:$out/oci-u" > "$tmpdir/loc"
[ "$(field transport < "$tmpdir/loc")" = oci ] || fail "transport"
[ "$(field member < "$tmpdir/loc")" = /disk/raw.img ] || fail "member"
[ "$(field names < "$tmpdir/loc")" = localhost/rawdisk:latest ] || fail "names"
[ "$(field layer_media_type < "$tmpdir/loc")" = application/vnd.oci.image.layer.v1.tar ] ||
    fail "layer media type"
layer=$(field layer < "$tmpdir/loc")
[ "$(field file < "$tmpdir/loc")" = "$out/oci-u/blobs/sha256/${layer#sha256:}" ] ||
    fail "file is not the layer blob"
offset=$(field offset < "$tmpdir/loc")
header=$(field header_offset < "$tmpdir/loc")
[ "$header" -lt "$offset" ] && [ $(( (offset - header) % 512 )) = 0 ] ||
    fail "header_offset $header does not precede offset $offset"
# The bytes at that offset of the blob are the disk, by cmp too.
cmp <(tail -c +$((offset + 1)) "$(field file < "$tmpdir/loc")" | head -c "$(field size < "$tmpdir/loc")") \
    "$tmpdir/raw.img" || fail "cmp at the located offset"
podman_disk locate --verify "oci:$out/oci-u" > /dev/null

podman save -q --format oci-dir -o "$out/oci-gz" localhost/rawdisk
expect_error 1 "$gzip_refused" podman_disk locate "oci:$out/oci-gz"

# podman save --format oci-archive
podman save -q --uncompressed --format oci-archive -o "$out/oci-u.tar" localhost/qdisk
same_disk "$tmpdir/q.qcow2" "oci-archive:$out/oci-u.tar" qcow2
same_disk "$tmpdir/q.qcow2" "oci-archive:$out/oci-u.tar:localhost/qdisk:latest" qcow2
podman_disk locate "oci-archive:$out/oci-u.tar" > "$tmpdir/loc"
[ "$(field file < "$tmpdir/loc")" = "$out/oci-u.tar" ] || fail "file is not the archive"
[ "$(field format < "$tmpdir/loc")" = qcow2 ] || fail "format"
podman_disk locate --verify "oci-archive:$out/oci-u.tar" > /dev/null
podman save -q --format oci-archive -o "$out/oci-gz.tar" localhost/qdisk
expect_error 1 "$gzip_refused" podman_disk locate "oci-archive:$out/oci-gz.tar"

# podman save (docker-archive), with and without --uncompressed
podman save -q -o "$out/docker.tar" localhost/rawdisk
podman save -q --uncompressed -o "$out/docker-u.tar" localhost/rawdisk
for f in docker.tar docker-u.tar; do
    same_disk "$tmpdir/raw.img" "docker-archive:$out/$f"
    same_disk "$tmpdir/raw.img" "docker-archive:$out/$f:localhost/rawdisk:latest"
    same_disk "$tmpdir/raw.img" "docker-archive:$out/$f:rawdisk"
    same_disk "$tmpdir/raw.img" "docker-archive:$out/$f:@0"
    podman_disk locate --verify "docker-archive:$out/$f" > /dev/null
done
podman_disk locate "docker-archive:$out/docker.tar" > "$tmpdir/loc"
[ "$(field transport < "$tmpdir/loc")" = docker-archive ] || fail "transport"
[ "$(field layer_media_type < "$tmpdir/loc")" = application/vnd.docker.image.rootfs.diff.tar ] ||
    fail "docker layer media type"
podman_disk locate --format json "docker-archive:$out/docker.tar" |
    python3 -c 'import json,sys; o=json.load(sys.stdin); assert o["names"] == ["localhost/rawdisk:latest"], o' ||
    fail "docker-archive names"

# Several images in one docker-archive: by name or @INDEX, never guessed.
podman save -q -m -o "$out/multi.tar" localhost/rawdisk localhost/qdisk
expect_error 1 'the archive holds 2 images: name one as docker-archive:.*multi.tar:NAME or :@INDEX \(localhost/rawdisk:latest, localhost/qdisk:latest\)' \
    podman_disk locate "docker-archive:$out/multi.tar"
same_disk "$tmpdir/raw.img" "docker-archive:$out/multi.tar:localhost/rawdisk"
same_disk "$tmpdir/q.qcow2" "docker-archive:$out/multi.tar:qdisk:latest" qcow2
same_disk "$tmpdir/q.qcow2" "docker-archive:$out/multi.tar:@1" qcow2
expect_error 1 "no image named 'nosuch' \(it has: localhost/rawdisk:latest, localhost/qdisk:latest\)" \
    podman_disk locate "docker-archive:$out/multi.tar:nosuch"
expect_error 1 'multi.tar:@2: the archive has images @0 to @1' \
    podman_disk locate "docker-archive:$out/multi.tar:@2"

# list takes a layout: every image in it with its disk.
podman_disk list -q "docker-archive:$out/multi.tar" > "$tmpdir/names"
printf 'localhost/rawdisk:latest\nlocalhost/qdisk:latest\n' | cmp - "$tmpdir/names" ||
    fail "list -q of a docker-archive"
podman_disk list --format json "docker-archive:$out/multi.tar" |
    python3 -c 'import json,sys; o=json.load(sys.stdin); assert [i["format"] for i in o] == ["raw", "qcow2"], o' ||
    fail "list --format json of a docker-archive"
podman_disk list "oci-archive:$out/oci-u.tar" | grep -q "^localhost/qdisk:latest  *qcow2 " ||
    fail "list of an oci-archive"

# skopeo copy: layers stay uncompressed only when told so.
skopeo copy -q --dest-oci-accept-uncompressed-layers \
    containers-storage:localhost/rawdisk oci:"$out/sk":raw
skopeo copy -q --dest-oci-accept-uncompressed-layers \
    containers-storage:localhost/qdisk oci:"$out/sk":q
same_disk "$tmpdir/raw.img" "oci:$out/sk:raw"
same_disk "$tmpdir/q.qcow2" "oci:$out/sk:q" qcow2
expect_error 1 "index.json: the layout holds 2 images: pick one as oci:$out/sk:NAME or oci:$out/sk:@INDEX \(@0 raw, @1 q\)" \
    podman_disk locate "oci:$out/sk"
expect_error 1 "index.json: no image named 'nosuch' \(org.opencontainers.image.ref.name: raw, q\)" \
    podman_disk locate "oci:$out/sk:nosuch"
[ "$(podman_disk list -q "oci:$out/sk" | tr '\n' ' ')" = "raw q " ] || fail "list -q of a layout"
same_disk "$tmpdir/q.qcow2" "oci:$out/sk:@1" qcow2
skopeo copy -q --dest-oci-accept-uncompressed-layers \
    containers-storage:localhost/qdisk oci-archive:"$out/sk.tar"
same_disk "$tmpdir/q.qcow2" "oci-archive:$out/sk.tar" qcow2
skopeo copy -q containers-storage:localhost/qdisk oci-archive:"$out/sk-gz.tar"
expect_error 1 "$gzip_refused" podman_disk locate "oci-archive:$out/sk-gz.tar"
skopeo copy -q containers-storage:localhost/rawdisk oci:"$out/sk-gz"
expect_error 1 "$gzip_refused" podman_disk locate "oci:$out/sk-gz"

# --verify reads every layer: a changed byte in the disk's data is found,
# while plain locate (headers only) still answers.
cp -a "$out/oci-u" "$out/oci-bad"
blob=$out/oci-bad/blobs/sha256/${layer#sha256:}
# A byte that differs from the one there (the disk is random: an 'X' may
# already be in place, 1 time in 256).
old=$(dd if="$blob" bs=1 skip=$((offset + 4096)) count=1 status=none)
if [ "$old" = X ]; then new=Y; else new=X; fi
printf '%s' "$new" | dd of="$blob" bs=1 seek=$((offset + 4096)) conv=notrunc status=none
cmp -s "$blob" "$out/oci-u/blobs/sha256/${layer#sha256:}" && fail "the blob was not changed"
podman_disk locate "oci:$out/oci-bad" > /dev/null
expect_error 1 "layer $layer \(application/vnd.oci.image.layer.v1.tar\): the content's digest is sha256:[0-9a-f]{64}, not $layer: the layout is damaged or was modified" \
    podman_disk locate --verify "oci:$out/oci-bad"

# References that name nothing.
expect_error 1 "oci:$out/nosuch: No such file or directory" podman_disk locate "oci:$out/nosuch"
expect_error 1 "oci-archive:$out/oci-u: not a regular file" podman_disk locate "oci-archive:$out/oci-u"
expect_error 1 "oci:$out/oci-u.tar: an OCI layout is a directory" podman_disk locate "oci:$out/oci-u.tar"
expect_error 1 "oci:: no layout directory given" podman_disk locate "oci:"
expect_error 1 "docker-archive:$out/oci-u.tar is not a docker archive: it has no manifest.json" \
    podman_disk locate "docker-archive:$out/oci-u.tar"
expect_error 1 "oci-archive:$out/docker.tar is not an OCI image layout: it has no oci-layout file" \
    podman_disk locate "oci-archive:$out/docker.tar"
echo "test-layout-podman: ok"
