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
for n in ../x /abs disk/../../x ../../../../etc/shadow; do
    tag=$(tr -c 'a-z\n' - <<<"$n" | tr -s -)
    mktar "$L/out$tag.tar" "[$dir,$disk,"'{"name":"'"$n"'","type":"file","data":"outside"}]'
    check_image "out$tag" "served:$tmpdir/disk.raw" \
        "member '${n//./\\.}' (climbs out of the image root|is an absolute path): refused" \
        "$L/out$tag.tar"
done
# ... and as the disk itself: never a host path.
mktar "$L/diskout.tar" "[$dir,"'{"name":"disk/../../../etc/shadow","type":"file","data":"not the host file"}]'
check_image diskout "the image has no /disk/ directory|no regular file under /disk/" \
    "member 'disk/\.\./\.\./\.\./etc/shadow' climbs out of the image root: refused" "$L/diskout.tar"

# A member larger than the blob, and a tar cut short.
mktar "$L/sizelie.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","data":"short","size_field":1048576}]'
check_image sizelie refused-on-import "(truncated|past the end|beyond|shorter|ends)" "$L/sizelie.tar"
mktar "$L/trunc.tar" "[$dir,$disk,"'{"archive":{"truncate":600000}}]'
check_image trunc refused-on-import "(truncated|past the end|beyond|shorter|ends)" "$L/trunc.tar"
mktar "$L/noend.tar" "[$dir,$disk,"'{"archive":{"no_end":true}}]'
check_image noend "served:$tmpdir/disk.raw" "served:$tmpdir/disk.raw" "$L/noend.tar"

# pax sizes: negative, 2^63, 2^64 + 5.
for size in -1 9223372036854775808 18446744073709551621; do
    mktar "$L/pax$size.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","data":"hi","pax":{"size":"'$size'"}}]'
    check_image "pax${size#-}" refused-on-import "(size|truncated|pax|invalid|past the end|header)" \
        "$L/pax$size.tar"
done

# Sparse members (GNU and pax 1.0): the bytes are not in the tar as the
# disk sees them, so they cannot be served in place (containers/storage
# refuses GNU sparse members, and expands pax ones).
mkdir -p "$tmpdir/sp/disk"
truncate -s 1M "$tmpdir/sp/disk/disk.img"
printf 'some data' | dd of="$tmpdir/sp/disk/disk.img" bs=1 seek=700000 conv=notrunc status=none
(cd "$tmpdir/sp" && tar --format=gnu -S -cf "$L/gnusparse.tar" disk &&
     tar --format=posix -S -cf "$L/paxsparse.tar" disk)
check_image gnusparse refused-on-import "sparse" "$L/gnusparse.tar"
check_image paxsparse "served:$tmpdir/sp/disk/disk.img" "sparse" "$L/paxsparse.tar"

# A gzip layer declared as an uncompressed tar.
(cd "$tmpdir" && mkdir -p gz/disk && cp disk.raw gz/disk/disk.img &&
     tar -C gz -czf "$L/gz.tar" disk)
check_image gz - "(compress|gzip)" "$L/gz.tar"

hostile_done
