#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk clone against the copy-first routes, same run, same disks:
#   a 1 GiB raw disk of random bytes, and a 20 GiB qcow2 holding the same
#   1 GiB (sparse: the rest is unallocated);
#   clone (the qcow2 overlay and the podman hold) against podman-disk cp
#   (a sparse copy) and qemu-img convert of the disk in place to qcow2;
#   the time from the command to the guest's first line on its serial
#   console (tests/clone-functions.sh's guest, TCG), clone against cp.
# Prints ratios; no assertions.
source "$(dirname "$0")/../tests/functions.sh"
source "$testsdir/clone-functions.sh"
requires_root
requires command podman --version
requires qemu-img --version
setup_store

make_raw_disk "$tmpdir/disk.img" 1024
qemu-img convert -f raw -O qcow2 "$tmpdir/disk.img" "$tmpdir/big.qcow2"
qemu-img resize -q "$tmpdir/big.qcow2" 20G
build_disk_image localhost/bench-clone-1g "$tmpdir/disk.img"
build_disk_image localhost/bench-clone-20g "$tmpdir/big.qcow2"
rm -f "$tmpdir/disk.img" "$tmpdir/big.qcow2"
V=$tmpdir/vms
mkdir -p "$V"

now () { echo "$EPOCHREALTIME"; }
secs () { awk -v a="$1" -v z="$2" 'BEGIN {printf "%.4f", z - a}'; }
ms () { awk -v a="$1" 'BEGIN {printf "%.1f ms", a * 1000}'; }
ratio () { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", a / b}'; }
# timed VAR CMD...: CMD's wall time in seconds into VAR.
timed () {
    local var=$1 t0 t1
    shift
    t0=$(now); "$@" >/dev/null; t1=$(now)
    printf -v "$var" %s "$(secs "$t0" "$t1")"
}

for size in 1g 20g; do
    image=localhost/bench-clone-$size
    layer=$(podman_disk locate "$image" | field file)
    cat "$layer" > /dev/null                         # in the page cache
    timed t_clone podman_disk clone "$image" "$V/clone-$size.qcow2"
    # The overlay alone, what clone does without the podman hold.
    spec=$(podman_disk json "$image")
    fmt=$(podman_disk locate "$image" | field format)
    timed t_overlay qemu-img create -q -f qcow2 -F "$fmt" -b "$spec" "$V/overlay-$size.qcow2"
    timed t_cp podman_disk cp "$image" "$V/cp-$size.raw"
    timed t_convert qemu-img convert -O qcow2 "$spec" "$V/convert-$size.qcow2"
    echo "$size: clone $(ms "$t_clone") (the overlay alone $(ms "$t_overlay"), $(du -k "$V/clone-$size.qcow2" | cut -f1) KiB);" \
         "podman-disk cp $(ms "$t_cp"): clone $(ratio "$t_cp" "$t_clone")x, overlay $(ratio "$t_cp" "$t_overlay")x faster;" \
         "qemu-img convert $(ms "$t_convert"): clone $(ratio "$t_convert" "$t_clone")x, overlay $(ratio "$t_convert" "$t_overlay")x faster"
    podman_disk release "$V/clone-$size.qcow2"
    rm -f "$V"/*-$size.*
done

# From the command to the guest's first console line, on the 20 GiB disk:
# clone then boot, against cp (to qcow2, what a VM would keep) then boot.
if (requires_guest) >/dev/null 2>&1; then
    make_guest_kernel "$tmpdir"
    first_line () {       # first_line DISK: seconds until the guest says "up"
        local out=$tmpdir/first.out t0=$1
        : > "$out"
        timeout 600 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
            -nodefaults -serial stdio -kernel "$tmpdir/vmlinuz" -initrd "$tmpdir/initrd" \
            -append 'console=ttyS0 panic=-1 quiet' \
            -drive "file=$2,format=qcow2,if=virtio" > "$out" 2>&1 < /dev/null &
        local pid=$!
        while ! grep -q 'podman-disk-guest: up' "$out" && kill -0 $pid 2>/dev/null; do
            sleep 0.05
        done
        secs "$t0" "$(now)"
        kill $pid 2>/dev/null; wait $pid 2>/dev/null
    }
    t0=$(now)
    podman_disk clone localhost/bench-clone-20g "$V/vm.qcow2"
    t_clone=$(first_line "$t0" "$V/vm.qcow2")
    t0=$(now)
    podman_disk cp --format qcow2 localhost/bench-clone-20g "$V/vm-copy.qcow2"
    t_copy=$(first_line "$t0" "$V/vm-copy.qcow2")
    echo "first console line, 20 GiB disk: clone+boot $(ms "$t_clone"), cp+boot $(ms "$t_copy")" \
         "($(awk -v a="$t_copy" -v b="$t_clone" 'BEGIN {printf "%.2f", a / b}')x)"
    podman_disk release "$V/vm.qcow2"
else
    echo "first console line: left out (no qemu-system-x86_64, static busybox or kernel)"
fi
