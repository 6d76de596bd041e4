#!/bin/bash
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

qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$D/backing" 1M
check_disk backing 'qcow2 with a backing file \(/etc/shadow\) would open a host path: refused'
qemu-img create -q -f qcow2 -b ../../../../etc/shadow -F raw -u "$D/backing-rel" 1M
check_disk backing-rel 'qcow2 with a backing file \(\.\./\.\./\.\./\.\./etc/shadow\) would open a host path: refused'
qemu-img create -q -f qcow2 -o data_file="$tmpdir/ext.raw" "$D/datafile" 1M
check_disk datafile "qcow2 with an external data file \($tmpdir/ext.raw\) would open a host path: refused"

qemu-img create -q -f qcow2 "$D/good" 1M
cp "$D/good" "$D/cluster40"; poke "$D/cluster40" 20 00000028
check_disk cluster40 'qcow2 cluster_bits 40 is out of range \(9 to 21\): corrupt header'
cp "$D/good" "$D/hugel1"; poke "$D/hugel1" 36 7fffffff
check_disk hugel1 'qcow2 L1 table \(2147483647 entries at offset [0-9]+\) lies beyond the end of the disk'
cp "$D/good" "$D/l1off"; poke "$D/l1off" 40 7fffffffffff0000
check_disk l1off 'qcow2 L1 table \(.* at offset 9223372036854710272\) lies beyond'
cp "$D/good" "$D/hdrlen"; poke "$D/hdrlen" 100 ffffffff
check_disk hdrlen 'qcow2 header_length 4294967295 is invalid: corrupt header'
cp "$D/good" "$D/version"; poke "$D/version" 4 00000004
check_disk version 'qcow2 version 4 is not supported'
cp "$D/good" "$D/hugesize"; poke "$D/hugesize" 24 ffffffffffffffff
check_disk hugesize 'qcow2 virtual size 18446744073709551615 is out of range'
cp "$D/good" "$D/corrupt"; poke "$D/corrupt" 79 02
check_disk corrupt 'qcow2 image marked corrupt: refused'
head -c 100 "$D/good" > "$D/truncated"
check_disk truncated 'qcow2 L1 table .* lies beyond the end of the disk|qcow2 header truncated'

# A vmdk descriptor naming a host file as its extent, and the binary vmdk.
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\nRW 2048 FLAT "/etc/shadow" 0\n' \
    > "$D/vmdk-desc"
check_disk vmdk-desc 'vmdk disks are not supported yet'
qemu-img create -q -f vmdk "$D/vmdk" 1M
check_disk vmdk 'vmdk disks are not supported yet'
qemu-img create -q -f vdi "$D/vdi" 1M
check_disk vdi 'vdi disks are not supported yet'
qemu-img create -q -f vpc "$D/vpc" 1M
check_disk vpc 'vpc disks are not supported yet'
qemu-img create -q -f vhdx "$D/vhdx" 4M
check_disk vhdx 'vhdx disks are not supported yet'

# The good qcow2 itself is served, and qemu reads the same guest bytes.
check_disk good "served:$D/good"
if $have_storage; then
    qemu-img compare -q -f qcow2 "$D/good" "$(podman_disk json "$(storage_ref good)")" ||
        fail "good: qemu sees other guest bytes through json"
fi

# Reading qcow2 through json never opens the host's file: the backing
# disk is never served even with --no-decode (the header is checked first).
if $have_storage; then
    expect_error 1 'backing file' podman_disk json --no-decode "$(storage_ref backing)"
fi

hostile_done
