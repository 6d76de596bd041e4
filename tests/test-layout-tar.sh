#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Layer tars in every format the tools write, put in hand-made OCI layouts:
# GNU tar (v7, ustar, oldgnu, gnu, pax), a 150-character member name,
# Python's tarfile, members over 8 GiB (pax size record, GNU base-256),
# and what cannot be served in place: sparse members, truncated tars,
# compressed layers, members that climb out of the root.
source "$(dirname "$0")/functions.sh"
source "$(dirname "$0")/layout-functions.sh"
requires qemu-img --version
requires tar --version
requires python3 --version

make_raw_disk "$tmpdir/raw.img" 3
src=$tmpdir/src
mkdir -p "$src/disk" "$src/etc"
cp "$tmpdir/raw.img" "$src/disk/"
echo "not a disk" > "$src/etc/hostname"
n=0
new_oci () { n=$((n + 1)); d=$tmpdir/oci$n; }

# GNU tar, every format.
for fmt in v7 ustar oldgnu gnu pax; do
    mk_layer "$tmpdir/$fmt.tar" "$src" --format=$fmt
    new_oci; one_layer_oci "$d" "$tmpdir/$fmt.tar"
    same_disk "$tmpdir/raw.img" "oci:$d"
    # The offset is where tar itself says the member's data starts: right
    # after the header block it numbers (for pax, the ustar header that
    # follows the extended one, which header_offset points at).
    block=$(tar tvf "$tmpdir/$fmt.tar" --block-number | awk '/disk\/raw.img$/ {sub(":", "", $2); print $2}')
    podman_disk locate "oci:$d" > "$tmpdir/loc"
    offset=$(field offset < "$tmpdir/loc")
    [ "$offset" = $(( (block + 1) * 512 )) ] || fail "$fmt: offset $offset, tar says block $block"
    header=$(field header_offset < "$tmpdir/loc")
    case $fmt in
        pax) [ "$header" = $(( offset - 1536 )) ] || fail "pax: header_offset $header" ;;
        *) [ "$header" = $(( offset - 512 )) ] || fail "$fmt: header_offset $header" ;;
    esac
done

# A 150-character name: GNU long-name records and pax path records.
long=$(printf 'l%.0s' $(seq 146)).img
mkdir -p "$tmpdir/src-long/disk"
cp "$tmpdir/raw.img" "$tmpdir/src-long/disk/$long"
for fmt in gnu pax; do
    mk_layer "$tmpdir/long-$fmt.tar" "$tmpdir/src-long" --format=$fmt
    new_oci; one_layer_oci "$d" "$tmpdir/long-$fmt.tar"
    same_disk "$tmpdir/raw.img" "oci:$d"
    same_disk "$tmpdir/raw.img" "oci:$d" raw --disk "/disk/$long"
    [ "$(podman_disk locate "oci:$d" | field member)" = "/disk/$long" ] ||
        fail "$fmt: long member name"
done

# Python's tarfile, its three formats.
for fmt in USTAR GNU PAX; do
    python3 - "$tmpdir/py-$fmt.tar" "$fmt" "$src" <<'EOPY'
import os, sys, tarfile
out, fmt, src = sys.argv[1:]
with tarfile.open(out, "w", format=getattr(tarfile, fmt + "_FORMAT")) as t:
    t.add(os.path.join(src, "etc"), "etc")
    t.add(os.path.join(src, "disk"), "disk")
EOPY
    new_oci; one_layer_oci "$d" "$tmpdir/py-$fmt.tar"
    same_disk "$tmpdir/raw.img" "oci:$d"
done

# Members over 8 GiB: the size lives in a pax record or in GNU base-256.
# The tar holds the header and a hole, with a mark near the end of the
# member at the same place as in the sparse original.
big=$((9 << 30)) mark=$(( (17 << 29) + 12345 ))
truncate -s $big "$tmpdir/big.img"
printf 'MARK' | dd of="$tmpdir/big.img" bs=1 seek=$mark conv=notrunc status=none
for fmt in PAX GNU; do
    python3 - "$tmpdir/big-$fmt.tar" "$fmt" "$big" <<'EOPY'
import sys, tarfile
out, fmt, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
ti = tarfile.TarInfo("disk/big.img")
ti.size = size
with open(out, "wb") as f:
    f.write(ti.tobuf(getattr(tarfile, fmt + "_FORMAT"), "utf-8", "surrogateescape"))
EOPY
    header=$(stat -c %s "$tmpdir/big-$fmt.tar")
    truncate -s $((header + big + 1024)) "$tmpdir/big-$fmt.tar"
    printf 'MARK' | dd of="$tmpdir/big-$fmt.tar" bs=1 seek=$((header + mark)) conv=notrunc status=none
    new_oci
    mk_oci "$d" <<EOJ
{"index": [{"layers": [{"file": "$tmpdir/big-$fmt.tar", "fakeDigest": true}]}]}
EOJ
    podman_disk locate "oci:$d" > "$tmpdir/loc"
    [ "$(field size < "$tmpdir/loc")" = $big ] || fail "$fmt: size of the big member"
    [ "$(field offset < "$tmpdir/loc")" = "$header" ] || fail "$fmt: offset of the big member"
    same_disk "$tmpdir/big.img" "oci:$d"
done
rm -f "$tmpdir"/big*

# Sparse members: GNU 'S' headers and pax GNU.sparse records, declaring
# more than 8 GiB.
mkdir -p "$tmpdir/src-sparse/disk"
truncate -s 9G "$tmpdir/src-sparse/disk/sparse.img"
printf 'data' | dd of="$tmpdir/src-sparse/disk/sparse.img" bs=1 seek=$((5 << 30)) conv=notrunc status=none
for fmt in gnu pax; do
    mk_layer "$tmpdir/sparse-$fmt.tar" "$tmpdir/src-sparse" --sparse --format=$fmt
    new_oci; one_layer_oci "$d" "$tmpdir/sparse-$fmt.tar"
    expect_error 1 "layer sha256:[0-9a-f]{64} \(application/vnd.oci.image.layer.v1.tar\): member 'disk/sparse\.img' is a sparse file: .*cannot be served in place; .*podman save --uncompressed --format oci-dir -o DIR IMAGE$" \
        podman_disk locate "oci:$d"
done
rm -rf "$tmpdir/src-sparse"

# A truncated tar (the layout agrees on its size: only the tar is short).
size=$(stat -c %s "$tmpdir/gnu.tar")
head -c $((size / 2)) "$tmpdir/gnu.tar" > "$tmpdir/cut.tar"
new_oci; one_layer_oci "$d" "$tmpdir/cut.tar"
expect_error 1 "member '\./disk/raw\.img' needs 3145728 bytes at offset [0-9]+ but the tar has only [0-9]+ bytes: the tar is truncated; produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE\$" \
    podman_disk locate "oci:$d"
# A blob shorter than its descriptor says.
new_oci; cp "$tmpdir/gnu.tar" "$tmpdir/short.tar"; one_layer_oci "$d" "$tmpdir/short.tar"
truncate -s $((size - 1024)) "$tmpdir/short.tar"
expect_error 1 "the blob has $((size - 1024)) bytes but the manifest says $size: the layout is damaged" \
    podman_disk locate "oci:$d"

# Compressed layers: the bytes decide, whatever the media type says.
gzip -c "$tmpdir/gnu.tar" > "$tmpdir/gnu.tar.gz"
new_oci; one_layer_oci "$d" "$tmpdir/gnu.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip
expect_error 1 "layer sha256:[0-9a-f]{64} \(application/vnd.oci.image.layer.v1.tar\+gzip\) is gzip-compressed: its files cannot be served in place; produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE" \
    podman_disk locate "oci:$d"
new_oci; one_layer_oci "$d" "$tmpdir/gnu.tar.gz"
expect_error 1 "\(application/vnd.oci.image.layer.v1.tar\) is gzip-compressed" podman_disk locate "oci:$d"
if command -v zstd >/dev/null; then
    zstd -q -c "$tmpdir/gnu.tar" > "$tmpdir/gnu.tar.zst"
    new_oci; one_layer_oci "$d" "$tmpdir/gnu.tar.zst" application/vnd.oci.image.layer.v1.tar+zstd
    expect_error 1 "\(application/vnd.oci.image.layer.v1.tar\+zstd\) is zstd-compressed: .*podman save --uncompressed" \
        podman_disk locate "oci:$d"
fi
# Docker's media type for a layer that podman left uncompressed.
new_oci; one_layer_oci "$d" "$tmpdir/gnu.tar" application/vnd.docker.image.rootfs.diff.tar.gzip
same_disk "$tmpdir/raw.img" "oci:$d"
# Not a tar at all.
head -c 4096 /dev/urandom > "$tmpdir/noise.tar"
new_oci; one_layer_oci "$d" "$tmpdir/noise.tar"
expect_error 1 "layer sha256:[0-9a-f]{64} \(application/vnd.oci.image.layer.v1.tar\) is not a tar: .*; produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE\$" \
    podman_disk locate "oci:$d"

# Members that climb out of the root, made by tarfile (GNU tar won't).
for name in ../x disk/../../x /etc/passwd; do
    python3 - "$tmpdir/escape.tar" "$name" "$tmpdir/raw.img" <<'EOPY'
import sys, tarfile
out, name, disk = sys.argv[1:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    t.add(disk, "disk/raw.img")
    ti = tarfile.TarInfo(name)     # as given: add() would strip a leading /
    ti.size = 5
    t.addfile(ti, open(disk, "rb"))
EOPY
    new_oci; one_layer_oci "$d" "$tmpdir/escape.tar"
    case $name in
        /*) why="is an absolute path: refused" ;;
        *) why="climbs out of the image root: refused" ;;
    esac
    expect_error 1 "layer sha256:[0-9a-f]{64} \(application/vnd.oci.image.layer.v1.tar\): member '$name' $why" \
        podman_disk locate "oci:$d"
    rm -f "$tmpdir/escape.tar"
done
echo "test-layout-tar: ok"
