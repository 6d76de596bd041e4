#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile tars: member names that climb out of the root (../x, /abs,
# disk/../../x), a member whose size is larger than the blob, a truncated
# tar, pax headers with a negative or 2^63 size, GNU and pax sparse
# members (as the disk, beside it, in the archive around a layout and as
# a blob of it), a compressed layer under an uncompressed media type.  Read
# in place (oci:DIR, oci-archive:FILE) each is refused with one line or
# served from inside the blob only; through containers/storage they are
# refused on import or served as containers/storage laid them out.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires tar --version
hostile_setup

L=$tmpdir/layers
mkdir -p "$L"
head -c 1M /dev/urandom > "$tmpdir/disk.raw"
dir='{"name":"disk","type":"dir"}'
disk='{"name":"disk/disk.img","type":"file","from":"'$tmpdir/disk.raw'"}'

# Names out of the root next to a good disk: the layout reader refuses
# the layer; containers/storage refuses or keeps them inside the layer,
# and the disk is then the right one.
climbs='climbs out of the image root: refused'
# The way out of a refusal to serve a layer in place.
hint='produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE'
absolute='is an absolute path: refused \(a tar member must stay inside the image\)'
for n in ../x /abs disk/../../x ../../../../etc/shadow; do
    tag=$(tr -c 'a-z\n' - <<<"$n" | tr -s -)
    why=$climbs
    [ "${n:0:1}" != / ] || why=$absolute
    mktar "$L/out$tag.tar" "[$dir,$disk,"'{"name":"'"$n"'","type":"file","data":"outside"}]'
    check_image "out$tag" "served:$tmpdir/disk.raw" \
        "$layer_re: member '$(regex_quote "$n")' $why" "$L/out$tag.tar"
done
# ... and as the disk itself: never a host path.
mktar "$L/diskout.tar" "[$dir,"'{"name":"disk/../../../etc/shadow","type":"file","data":"not the host file"}]'
# (containers/storage does not put that member under /disk/, left empty.)
check_image diskout "@REF@: no regular file under /disk/ \(the directory is empty\): $usedisk" \
    "$layer_re: member 'disk/\.\./\.\./\.\./etc/shadow' $climbs" "$L/diskout.tar"

# A member larger than the blob, and a tar cut short.
mktar "$L/sizelie.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","data":"short","size_field":1048576}]'
check_image sizelie refused-on-import \
    "$layer_re: member 'disk/disk\.img' needs 1048576 bytes at offset 1024 but the tar has only $(stat -c %s "$L/sizelie.tar") bytes: the tar is truncated; $hint" \
    "$L/sizelie.tar"
mktar "$L/trunc.tar" "[$dir,$disk,"'{"archive":{"truncate":600000}}]'
check_image trunc refused-on-import \
    "$layer_re: member 'disk/disk\.img' needs 1048576 bytes at offset 1024 but the tar has only 600000 bytes: the tar is truncated; $hint" \
    "$L/trunc.tar"
mktar "$L/noend.tar" "[$dir,$disk,"'{"archive":{"no_end":true}}]'
check_image noend "served:$tmpdir/disk.raw" "served:$tmpdir/disk.raw" "$L/noend.tar"

# pax sizes: negative, 2^63, 2^64 + 5 (the reason is libarchive's words).
for size in -1 9223372036854775808 18446744073709551621; do
    mktar "$L/pax$size.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","data":"hi","pax":{"size":"'$size'"}}]'
    why='Tar size attribute overflow'
    [ "$size" != -1 ] || why='Tar size attribute is negative'
    check_image "pax${size#-}" refused-on-import \
        "$layer_re: bad tar header at byte 512: $why; $hint" "$L/pax$size.tar"
done

# Sparse members (GNU and pax 1.0): the bytes are not in the tar as the
# disk sees them, so they cannot be served in place (containers/storage
# refuses GNU sparse members, and expands pax ones).
mkdir -p "$tmpdir/sp/disk"
truncate -s 1M "$tmpdir/sp/disk/disk.img"
printf 'some data' | dd of="$tmpdir/sp/disk/disk.img" bs=1 seek=700000 conv=notrunc status=none
(cd "$tmpdir/sp" && tar --format=gnu -S -cf "$L/gnusparse.tar" disk &&
     tar --format=posix -S -cf "$L/paxsparse.tar" disk)
sparse_refusal="$layer_re: member 'disk/disk\\.img' is a sparse file: .*; rebuild the image without tar --sparse or $hint"
check_image gnusparse refused-on-import "$sparse_refusal" "$L/gnusparse.tar"
check_image paxsparse "served:$tmpdir/sp/disk/disk.img" "$sparse_refusal" "$L/paxsparse.tar"
# A sparse file beside the disk is no reason to refuse the image: only
# the member served must be stored contiguously.
mkdir -p "$tmpdir/spo/disk" "$tmpdir/spo/var"
cp "$tmpdir/disk.raw" "$tmpdir/spo/disk/disk.img"
cp --sparse=always "$tmpdir/sp/disk/disk.img" "$tmpdir/spo/var/holes"
(cd "$tmpdir/spo" && tar --format=gnu -S -cf "$L/gnuother.tar" disk var &&
     tar --format=posix -S -cf "$L/paxother.tar" disk var)
check_image gnuother refused-on-import "served:$tmpdir/disk.raw" "$L/gnuother.tar"
check_image paxother "served:$tmpdir/disk.raw" "served:$tmpdir/disk.raw" "$L/paxother.tar"
# ... but it is refused when it is the disk asked for.
check_image paxlinked - "$layer_re: member 'var/holes' is a sparse file: .*; rebuild the image without tar --sparse or $hint" \
    "$L/paxother.tar" -- --disk /var/holes

# The same in the archive around a layout (oci-archive): a sparse member
# the layout does not use is kept; a sparse blob is refused by name.
if $have_layout; then
    mktar "$L/good.tar" "[$dir,$disk]"
    rm -rf "$tmpdir/plain"
    mklayout "$tmpdir/plain" plain "$L/good.tar"
    mkdir -p "$tmpdir/extra"
    cp --sparse=always "$tmpdir/sp/disk/disk.img" "$tmpdir/extra/holes"
    for fmt in gnu posix; do
        tar --format=$fmt -S -cf "$tmpdir/outer-$fmt.tar" -C "$tmpdir/plain" . \
            -C "$tmpdir" extra
        hostile_case "oci-archive:$tmpdir/outer-$fmt.tar:plain" "served:$tmpdir/disk.raw"
    done
    # A layer blob with holes (a disk of zeros), stored sparse in the archive.
    mkdir -p "$tmpdir/zero/disk"
    truncate -s 1M "$tmpdir/zero/disk/disk.img"
    tar -C "$tmpdir/zero" -cf "$L/zeros.tar" disk
    rm -rf "$tmpdir/holey"
    mklayout "$tmpdir/holey" holey "$L/zeros.tar"
    for b in "$tmpdir"/holey/blobs/sha256/*; do fallocate -d "$b" || :; done
    tar --format=posix -S -cf "$tmpdir/holey.tar" -C "$tmpdir/holey" .
    if [ "$(stat -c %s "$tmpdir/holey.tar")" -lt 1000000 ]; then
        hostile_case "oci-archive:$tmpdir/holey.tar:holey" \
            "layer sha256:[0-9a-f]{64} \\([^)]*\\): archive $(regex_quote "$tmpdir/holey.tar"): member 'blobs/sha256/[0-9a-f]{64}' is a sparse file: .*$hint"
    else
        echo "tar stored no sparse member here: the sparse blob case is not checked"
    fi
fi

# A gzip layer declared as an uncompressed tar.
(cd "$tmpdir" && mkdir -p gz/disk && cp disk.raw gz/disk/disk.img &&
     tar -C gz -czf "$L/gz.tar" disk)
check_image gz - "$layer_re is gzip-compressed: its files cannot be served in place; $hint" "$L/gz.tar"

hostile_done
