# SPDX-License-Identifier: Apache-2.0
# A bootable guest for the clone tests and bench, built at test time from
# the host's own kernel (Debian's linux-image-cloud-amd64) and
# busybox-static: sourced after functions.sh.
#
#   make_guest_kernel DIR   DIR/vmlinuz and DIR/initrd (a busybox initramfs
#                           whose /init mounts /dev/vda, appends a line to
#                           /log on it, prints the file between markers
#                           and powers off)
#   make_guest_disk FILE    FILE, a qcow2 of an ext4 filesystem with /log
#                           holding "from the image"
#   boot_guest DISK-ARGS OUT   boots under TCG with -drive DISK-ARGS, serial
#                           console to OUT; fails if qemu does not end
#   guest_log OUT           what /log held at the end of that boot

# The kernel and its modules: the cloud kernel has virtio as modules.
guest_kernel_version () {
    local k
    for k in /boot/vmlinuz-*-cloud-amd64 /boot/vmlinuz-*; do
        [ -r "$k" ] || continue
        k=${k#/boot/vmlinuz-}
        [ -d "/lib/modules/$k" ] && { echo "$k"; return 0; }
    done
    return 1
}

requires_guest () {
    requires qemu-system-x86_64 --version
    requires cpio --version
    requires mkfs.ext4 -V
    [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
        skip "no static busybox (Debian: busybox-static)"
    guest_kernel_version >/dev/null || skip "no kernel in /boot with its modules (Debian: linux-image-cloud-amd64)"
}

make_guest_kernel () {
    local dir=$1 kver root m
    kver=$(guest_kernel_version)
    root=$dir/initramfs
    mkdir -p "$root/bin" "$root/lib" "$root/proc" "$root/sys" "$root/dev" "$root/mnt"
    cp /bin/busybox "$root/bin/busybox"
    # virtio_blk and what it needs, in dependency order (modules.dep);
    # a module built into this kernel is simply not there.
    for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
             virtio_pci virtio_blk crc16 mbcache jbd2 ext4; do
        local ko
        ko=$(modinfo -k "$kver" -n "$m" 2>/dev/null) || continue
        case $ko in /*.ko) cp "$ko" "$root/lib/$m.ko" && echo "$m" >> "$root/lib/order" ;;
                    /*.ko.xz) xz -dc "$ko" > "$root/lib/$m.ko" && echo "$m" >> "$root/lib/order" ;;
        esac
    done
    cat > "$root/init" <<'EOI'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "podman-disk-guest: up"
for m in $(cat /lib/order 2>/dev/null); do insmod /lib/$m.ko; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
if mount -t ext4 /dev/vda /mnt; then
    n=$(($(grep -c "^boot" /mnt/log) + 1))
    echo "boot $n" >> /mnt/log
    echo "podman-disk-guest: log begin"
    cat /mnt/log
    echo "podman-disk-guest: log end"
    umount /mnt
else
    echo "podman-disk-guest: cannot mount /dev/vda"
fi
sync
poweroff -f
EOI
    chmod +x "$root/init"
    (cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$dir/initrd"
    cp "/boot/vmlinuz-$kver" "$dir/vmlinuz"
}

make_guest_disk () {
    local d=$tmpdir/guest-content
    mkdir -p "$d"
    echo "from the image" > "$d/log"
    mkfs.ext4 -q -F -d "$d" "$1.raw" 32M >/dev/null
    qemu-img convert -f raw -O qcow2 "$1.raw" "$1"
    rm -f "$1.raw"
}

# boot_guest KERNEL-DIR DRIVE-OPTIONS OUT: the guest under TCG (no KVM is
# needed; the kernel and busybox boot in seconds), its serial console in
# OUT.  It powers itself off; timeout bounds a hang.
boot_guest () {
    timeout 600 qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
        -nodefaults -serial stdio -kernel "$1/vmlinuz" -initrd "$1/initrd" \
        -append 'console=ttyS0 panic=-1 quiet' -drive "$2" \
        > "$3" 2>&1 < /dev/null || { cat "$3" >&2; fail "the guest did not end cleanly"; }
}

guest_log () {
    sed -n '/podman-disk-guest: log begin/,/podman-disk-guest: log end/p' "$1" |
        tr -d '\r' | grep -v '^podman-disk-guest:'
}
