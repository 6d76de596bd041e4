#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cp of a qcow2 disk: decoded to raw by default, kept byte for byte with
# --format qcow2.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_root
requires command podman --version
requires qemu-img --version
setup_store

make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
serve_image localhost/cp-qcow2 "$tmpdir/disk.qcow2"

podman_disk cp localhost/cp-qcow2 "$tmpdir/out.raw"
cmp "$tmpdir/guest.raw" "$tmpdir/out.raw" || fail "decoded output differs"
# Sparse: the 16 MiB ext4 holds little data.
allocated=$(( $(stat -c %b "$tmpdir/out.raw") * 512 ))
[ "$allocated" -lt $((8 * 1024 * 1024)) ] || fail "decoded output not sparse: $allocated"

podman_disk cp --format qcow2 localhost/cp-qcow2 "$tmpdir/out.qcow2"
cmp "$tmpdir/disk.qcow2" "$tmpdir/out.qcow2" || fail "qcow2 kept as qcow2 differs"

# DEST -: the guest view through qemu-nbd and nbdcopy, the stored qcow2
# as it is; no server left behind.
if command -v nbdcopy >/dev/null; then
    podman_disk cp localhost/cp-qcow2 - | cmp - "$tmpdir/guest.raw" ||
        fail "cp - (decoded) differs"
    ! pgrep -f "qemu-nbd.*$tmpdir" >/dev/null || fail "cp - left qemu-nbd running"
fi
podman_disk cp --format qcow2 localhost/cp-qcow2 - | cmp - "$tmpdir/disk.qcow2" ||
    fail "cp --format qcow2 - differs"

if script -qec "true" /dev/null >/dev/null 2>&1; then
    script -qec "$PODMAN_DISK cp --progress localhost/cp-qcow2 $tmpdir/p.raw" /dev/null > "$tmpdir/tty"
    grep -q '100%' "$tmpdir/tty" || fail "--progress: no 100%: $(cat -v "$tmpdir/tty")"
    cmp "$tmpdir/guest.raw" "$tmpdir/p.raw" || fail "cp --progress output differs"
fi
echo PASS
