#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make demo: build a small containerDisk image in the local store and show
# podman-disk finding its disk and qemu reading it in place.  No network:
# the image is FROM scratch, its disk a qcow2 holding an ext4 filesystem
# with /hello.txt.
#
# scripts/demo.sh --build-only [DIR]: build the image only, quietly, into
# the store podman uses here (CONTAINERS_STORAGE_CONF and friends), and
# keep the original disk as DIR/original.qcow2: tests/test-readme.sh runs
# the README's workflows on it.
set -euo pipefail
: "${PODMAN_DISK:=podman-disk}"
image=localhost/podman-disk-demo:latest
hello="Hello from inside a containerDisk."

build_only=false keep=
if [ "${1:-}" = --build-only ]; then
    build_only=true keep=${2:-}
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Show each command before its output, in bold on a terminal.
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold= plain=; fi
step () { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

mkdir -p "$work/fs" "$work/ctx"
echo "$hello" > "$work/fs/hello.txt"
mkfs.ext4 -q -F -L demo -d "$work/fs" "$work/disk.raw" 32M
qemu-img convert -f raw -O qcow2 "$work/disk.raw" "$work/ctx/disk.qcow2"
cp "$work/ctx/disk.qcow2" "$work/original.qcow2"
# As kubevirt/containerdisks ship it: owned by qemu (107), read-only.
printf 'FROM scratch\nCOPY --chown=107:107 disk.qcow2 /disk/\n' > "$work/ctx/Containerfile"

if $build_only; then
    podman build -q -t "$image" "$work/ctx" >/dev/null
    [ -z "$keep" ] || cp "$work/original.qcow2" "$keep/original.qcow2"
    exit 0
fi

step podman build -q -t "$image" "$work/ctx"
step "$PODMAN_DISK" locate "$image"
step "$PODMAN_DISK" json "$image"
spec=$("$PODMAN_DISK" json "$image")
step qemu-img info "$spec"
# The proof: the disk read in place equals the one that went in.
step qemu-img compare -f qcow2 "$work/original.qcow2" "$spec"
echo
echo "The disk of $image was read where podman stored it; nothing was copied."
