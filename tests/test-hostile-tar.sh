#!/bin/bash
# Hostile tars: member names that climb out of the root (../x, /abs,
# disk/../../x), a member whose size is larger than the blob, a truncated
# tar, pax headers with a negative or 2^63 size, GNU and pax sparse
# members, a compressed layer under an uncompressed media type.  Read in
# place (oci:DIR) each is refused with one line or served from inside the
# blob only; through containers/storage they are refused on import or
# served as containers/storage laid them out.
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

# A member larger than the blob, and a tar cut short.  (What follows
# "the tar is truncated" is a hint that is being reworded: left open.)
mktar "$L/sizelie.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","data":"short","size_field":1048576}]'
check_image sizelie refused-on-import \
    "$layer_re: member 'disk/disk\.img' needs 1048576 bytes at offset 1024 but the tar has only $(stat -c %s "$L/sizelie.tar") bytes: the tar is truncated.*" \
    "$L/sizelie.tar"
mktar "$L/trunc.tar" "[$dir,$disk,"'{"archive":{"truncate":600000}}]'
check_image trunc refused-on-import \
    "$layer_re: member 'disk/disk\.img' needs 1048576 bytes at offset 1024 but the tar has only 600000 bytes: the tar is truncated.*" \
    "$L/trunc.tar"
mktar "$L/noend.tar" "[$dir,$disk,"'{"archive":{"no_end":true}}]'
check_image noend "served:$tmpdir/disk.raw" "served:$tmpdir/disk.raw" "$L/noend.tar"

# pax sizes: negative, 2^63, 2^64 + 5 (the reason is libarchive's words).
for size in -1 9223372036854775808 18446744073709551621; do
    mktar "$L/pax$size.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","data":"hi","pax":{"size":"'$size'"}}]'
    why='Tar size attribute overflow'
    [ "$size" != -1 ] || why='Tar size attribute is negative'
    check_image "pax${size#-}" refused-on-import \
        "$layer_re: bad tar header at byte 512: $why" "$L/pax$size.tar"
done

# Sparse members (GNU and pax 1.0): the bytes are not in the tar as the
# disk sees them, so they cannot be served in place (containers/storage
# refuses GNU sparse members, and expands pax ones).
mkdir -p "$tmpdir/sp/disk"
truncate -s 1M "$tmpdir/sp/disk/disk.img"
printf 'some data' | dd of="$tmpdir/sp/disk/disk.img" bs=1 seek=700000 conv=notrunc status=none
(cd "$tmpdir/sp" && tar --format=gnu -S -cf "$L/gnusparse.tar" disk &&
     tar --format=posix -S -cf "$L/paxsparse.tar" disk)
# (Where the refusal is made, so what the line starts with, and the hint
# after "is a sparse file" are being reworked: only the member is pinned.)
sparse=".*member 'disk/disk\.img' is a sparse file.*"
check_image gnusparse refused-on-import "$sparse" "$L/gnusparse.tar"
check_image paxsparse "served:$tmpdir/sp/disk/disk.img" "$sparse" "$L/paxsparse.tar"

# A gzip layer declared as an uncompressed tar.
(cd "$tmpdir" && mkdir -p gz/disk && cp disk.raw gz/disk/disk.img &&
     tar -C gz -czf "$L/gz.tar" disk)
# (The hint after "in place" is being reworded: left open.)
check_image gz - "$layer_re is gzip-compressed: its files cannot be served in place.*" "$L/gz.tar"

hostile_done
