#!/bin/bash
# make demo: build a small containerDisk image in the local store and show
# podman-disk finding its disk and qemu reading it in place.  No network:
# the image is FROM scratch, its disk a qcow2 holding an ext4 filesystem.
set -euo pipefail
: "${PODMAN_DISK:=podman-disk}"
image=localhost/podman-disk-demo:latest
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Show each command before its output, in bold on a terminal.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step () { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

mkdir -p "$work/fs" "$work/ctx"
echo "Hello from inside a containerDisk." > "$work/fs/hello.txt"
mkfs.ext4 -q -F -L demo -d "$work/fs" "$work/disk.raw" 32M
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/ctx/disk.qcow2"
cp "$work/ctx/disk.qcow2" "$work/original.qcow2"
# As kubevirt/containerdisks ship it: owned by qemu (107), read-only.
printf 'FROM scratch\nCOPY --chown=107:107 disk.qcow2 /disk/\n' > "$work/ctx/Containerfile"
step podman build -q -t "$image" "$work/ctx"

step "$PODMAN_DISK" locate "$image"
step "$PODMAN_DISK" json "$image"
spec=$("$PODMAN_DISK" json "$image")
step qemu-img info "$spec"
# The proof: the disk read in place equals the one that went in.
step qemu-img compare -f qcow2 "$work/original.qcow2" "$spec"
echo
echo "The disk of $image was read where podman stored it; nothing was copied."
