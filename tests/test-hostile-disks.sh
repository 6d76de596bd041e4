#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile disks: qcow2 headers that would make qemu open host files (a
# backing file /etc/shadow, an external data file), corrupt qcow2 headers
# (cluster_bits 40, a huge L1 table, a bad header length), a vmdk
# descriptor naming a host extent, and the other formats qemu would probe.
# Each is refused by locate and json with one line, before qemu sees it.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
hostile_setup

D=$tmpdir/disks L=$tmpdir/layers
mkdir -p "$D" "$L"
dir='{"name":"disk","type":"dir"}'

# layer_of DISKFILE TAR: a layer holding DISKFILE as /disk/disk.img.
layer_of () {
    mktar "$2" "[$dir,"'{"name":"disk/disk.img","type":"file","from":"'"$1"'"}]'
}
# poke FILE OFFSET HEX: overwrite bytes of FILE at OFFSET.
poke () {
    printf "$(sed 's/../\\x&/g' <<<"$3")" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

check_disk () {
    local name=$1 expect=$2
    layer_of "$D/$name" "$L/$name.tar"
    check_image "$name" "$expect" "$expect" "$L/$name.tar"
}
# qcow2_field FILE OFFSET BYTES: a big-endian header field of a qcow2.
qcow2_field () {
    python3 -c 'import sys; f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2]));
print(int.from_bytes(f.read(int(sys.argv[3])), "big"))' "$@"
}
# The line is the disk's: "REF: /disk/disk.img: WHY".
d='@REF@: /disk/disk\.img'
hostpath='would open a host path: refused'
corrupt='corrupt header'

qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$D/backing" 1M
check_disk backing "$d: qcow2 with a backing file \(/etc/shadow\) $hostpath"
qemu-img create -q -f qcow2 -b ../../../../etc/shadow -F raw -u "$D/backing-rel" 1M
check_disk backing-rel "$d: qcow2 with a backing file \(\.\./\.\./\.\./\.\./etc/shadow\) $hostpath"
qemu-img create -q -f qcow2 -o data_file="$tmpdir/ext.raw" "$D/datafile" 1M
check_disk datafile "$d: qcow2 with an external data file \($(regex_quote "$tmpdir/ext.raw")\) $hostpath"

qemu-img create -q -f qcow2 "$D/good" 1M
# Where qemu-img put the L1 table, how many entries, and the file's size.
l1off=$(qcow2_field "$D/good" 40 8) l1size=$(qcow2_field "$D/good" 36 4)
goodsize=$(stat -c %s "$D/good")
beyond="lies beyond the end of the disk \($goodsize bytes\): corrupt or truncated"
cp "$D/good" "$D/cluster40"; poke "$D/cluster40" 20 00000028
check_disk cluster40 "$d: qcow2 cluster_bits 40 is out of range \(9 to 21\): $corrupt"
cp "$D/good" "$D/hugel1"; poke "$D/hugel1" 36 7fffffff
check_disk hugel1 "$d: qcow2 L1 table \(2147483647 entries at offset $l1off\) $beyond"
cp "$D/good" "$D/l1off"; poke "$D/l1off" 40 7fffffffffff0000
check_disk l1off "$d: qcow2 L1 table \($l1size entries at offset 9223372036854710272\) $beyond"
cp "$D/good" "$D/hdrlen"; poke "$D/hdrlen" 100 ffffffff
check_disk hdrlen "$d: qcow2 header_length 4294967295 is invalid: $corrupt"
cp "$D/good" "$D/version"; poke "$D/version" 4 00000004
check_disk version "$d: qcow2 version 4 is not supported \(2 and 3 are\)"
cp "$D/good" "$D/hugesize"; poke "$D/hugesize" 24 ffffffffffffffff
check_disk hugesize "$d: qcow2 virtual size 18446744073709551615 is out of range: $corrupt"
cp "$D/good" "$D/corrupt"; poke "$D/corrupt" 79 02
check_disk corrupt "$d: qcow2 image marked corrupt: refused \(qemu-img check -r all repairs a copy\)"
head -c 100 "$D/good" > "$D/truncated"
check_disk truncated "$d: qcow2 header truncated \(100 bytes\)"

# A vmdk descriptor naming a host file as its extent, and the binary vmdk.
unsupported () { echo "$d: $1 disks are not supported yet: convert with qemu-img convert -O qcow2"; }
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "/etc/shadow" 0\n' \
    > "$D/vmdk-desc"
check_disk vmdk-desc "$(unsupported vmdk)"
qemu-img create -q -f vmdk "$D/vmdk" 1M
check_disk vmdk "$(unsupported vmdk)"
qemu-img create -q -f vdi "$D/vdi" 1M
check_disk vdi "$(unsupported vdi)"
qemu-img create -q -f vpc "$D/vpc" 1M
check_disk vpc "$(unsupported vpc)"
qemu-img create -q -f vhdx "$D/vhdx" 4M
check_disk vhdx "$(unsupported vhdx)"

# The good qcow2 itself is served (the guest's bytes through json, serve
# and cp: see hostile_case), and as the qcow2 file it is with serve
# --no-decode and cp --format qcow2.
check_disk good "served:$D/good"
refs=()
$have_storage && refs+=("$(storage_ref good)")
$have_layout && refs+=("oci:$tmpdir/oci:good")
for ref in "${refs[@]}"; do
    podman_disk serve --no-decode "$ref" --run 'nbdcopy "$uri" -' >"$tmpdir/nodecode" ||
        fail "$ref: serve --no-decode failed"
    cmp "$tmpdir/nodecode" "$D/good" || fail "$ref: serve --no-decode: not the qcow2 file's bytes"
    rm -f "$tmpdir/keep.qcow2"
    podman_disk cp --format qcow2 "$ref" "$tmpdir/keep.qcow2" ||
        fail "$ref: cp --format qcow2 failed"
    cmp "$tmpdir/keep.qcow2" "$D/good" || fail "$ref: cp --format qcow2: not the qcow2 file's bytes"
done

# A qcow2 that names a host file is refused whatever the output: its
# header is checked first, before the stored bytes are served as they
# are (json and serve --no-decode) or copied as they are (cp --format
# qcow2), so no qemu ever opens /etc/shadow from a spec or a copy.
# (oci:DIR:backing is still in the layout that check_disk wrote.)
refs=()
$have_storage && refs+=("$(storage_ref backing)")
$have_layout && refs+=("oci:$tmpdir/oci:backing")
for ref in "${refs[@]}"; do
    line="podman-disk: $(shown_ref "$ref"): /disk/disk.img: qcow2 with a backing file (/etc/shadow) would open a host path: refused"
    check_refusal "$line" json --no-decode "$ref"
    check_refusal "$line" serve --no-decode "$ref" --run 'nbdcopy "$uri" -'
    check_refusal "$line" cp --format qcow2 "$ref" "$tmpdir/refused.qcow2"
    [ ! -e "$tmpdir/refused.qcow2" ] || fail "$ref: cp --format qcow2 left its destination"
    no_process_in "$tmpdir" || fail "$ref: a process was left behind"
    hostile_cases=$((hostile_cases + 1))
    echo "ok $hostile_cases - $(shown_ref "$ref"): refused by json and serve --no-decode, cp --format qcow2"
done

hostile_done
