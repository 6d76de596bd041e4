#!/bin/bash
# Hostile images, symlinks and whiteouts: a disk that points at the host
# (/etc/shadow, ../../../../etc/shadow), at itself, at a directory; /disk
# itself a symlink out; --disk naming host paths; hardlinks; a whiteout or
# an opaque directory hiding the only disk; names with control characters.
# Symlinks must resolve inside the image: either refused with one clear
# line, or the image's own bytes served, never the host's.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
hostile_setup

L=$tmpdir/layers
mkdir -p "$L"
# 512 bytes: qemu's raw driver refuses an offset/size not a multiple of 512.
{ echo "the image's own shadow file, not the host's"; head -c 2048 /dev/zero; } |
    head -c 512 > "$tmpdir/image-shadow"
head -c 1M /dev/urandom > "$tmpdir/disk.raw"
dir='{"name":"disk","type":"dir"}'
own_shadow='{"name":"etc","type":"dir"},{"name":"etc/shadow","type":"file","from":"'$tmpdir/image-shadow'"}'
disk='{"name":"disk/disk.img","type":"file","from":"'$tmpdir/disk.raw'"}'

nodisk='no regular file under /disk/'
loop='too many levels of symbolic links'

# /disk/disk.img -> the host's /etc/shadow, which the image does not have.
mktar "$L/abs.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"/etc/shadow"}]'
check_image abs "$nodisk.*disk.img \(symlink to /etc/shadow: not found in the image\)" \
    "$nodisk.*disk.img \(symlink to /etc/shadow: not found in the image\)" "$L/abs.tar"
check_image abs ": /etc/shadow: not found in the image" \
    ": /etc/shadow: not found in the image" "$L/abs.tar" -- --disk /etc/shadow
check_image abs "\(resolves to /etc/shadow\): not found in the image" \
    "\(resolves to /etc/shadow\): not found in the image" "$L/abs.tar" -- --disk /disk/disk.img

mktar "$L/dotdot.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"../../../../etc/shadow"}]'
check_image dotdot "$nodisk.*symlink to \.\./\.\./\.\./\.\./etc/shadow: not found in the image" \
    "$nodisk.*symlink to \.\./\.\./\.\./\.\./etc/shadow: not found in the image" "$L/dotdot.tar"
check_image dotdot ": /\.\./\.\./\.\./\.\./etc/shadow: not found in the image" \
    ": /\.\./\.\./\.\./\.\./etc/shadow: not found in the image" \
    "$L/dotdot.tar" -- --disk ../../../../etc/shadow

# The same links in an image that has its own /etc/shadow: the image's
# file is the disk, byte for byte.
mktar "$L/abs-own.tar" "[$dir,$own_shadow,"'{"name":"disk/disk.img","type":"sym","target":"/etc/shadow"}]'
check_image abs-own "served:$tmpdir/image-shadow" "served:$tmpdir/image-shadow" "$L/abs-own.tar"
mktar "$L/dotdot-own.tar" "[$dir,$own_shadow,"'{"name":"disk/disk.img","type":"sym","target":"../../../../etc/shadow"}]'
check_image dotdot-own "served:$tmpdir/image-shadow" "served:$tmpdir/image-shadow" "$L/dotdot-own.tar"

# Loops: to itself, and two links to each other.
mktar "$L/self.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"disk.img"}]'
check_image self "$nodisk.*symlink to disk.img: $loop" "$nodisk.*symlink to disk.img: $loop" "$L/self.tar"
check_image self ": /disk/disk.img .*$loop" ": /disk/disk.img .*$loop" \
    "$L/self.tar" -- --disk /disk/disk.img
mktar "$L/pair.tar" "[$dir,"'{"name":"disk/a","type":"sym","target":"/disk/b"},{"name":"disk/b","type":"sym","target":"a"}]'
check_image pair "$nodisk.*$loop" "$nodisk.*$loop" "$L/pair.tar"

# To a directory.
mktar "$L/todir.tar" "[$dir,"'{"name":"data","type":"dir"},{"name":"disk/disk.img","type":"sym","target":"/data"}]'
check_image todir "$nodisk.*symlink to /data: a directory, not a regular file" \
    "$nodisk.*symlink to /data: a directory, not a regular file" "$L/todir.tar"

# /disk itself a symlink out of the image, then to the image's own root.
mktar "$L/diskout.tar" '[{"name":"disk","type":"sym","target":"../../../../etc"}]'
check_image diskout 'the image has no /disk/ directory' 'the image has no /disk/ directory' "$L/diskout.tar"
mktar "$L/diskroot.tar" "[$own_shadow,"'{"name":"disk","type":"sym","target":"../../../etc/.."}]'
check_image diskroot "$nodisk.*disk \(symlink to \.\./\.\./\.\./etc/\.\.: a directory" \
    "$nodisk.*disk \(symlink to \.\./\.\./\.\./etc/\.\.: a directory" "$L/diskroot.tar"

# A device node as the disk.
mktar "$L/chardev.tar" "[$dir,"'{"name":"disk/disk.img","type":"char","major":1,"minor":3}]'
check_image chardev "$nodisk.*disk.img \(a device, fifo or socket\)" \
    "$nodisk.*disk.img \(a device, fifo or socket\)" "$L/chardev.tar"

# Hardlinks: to a file of the image outside /disk (its bytes are the
# disk), and to a path outside the image (nothing to link to).
mktar "$L/hardin.tar" "[$dir,$own_shadow,"'{"name":"disk/disk.img","type":"hard","target":"etc/shadow"}]'
check_image hardin "served:$tmpdir/image-shadow" "served:$tmpdir/image-shadow" "$L/hardin.tar"
mktar "$L/hardout.tar" "[$dir,"'{"name":"disk/disk.img","type":"hard","target":"../../../../etc/shadow"}]'
check_image hardout refused-on-import "$nodisk|hard ?link|outside|not found" "$L/hardout.tar"
mktar "$L/hardabs.tar" "[$dir,"'{"name":"disk/disk.img","type":"hard","target":"/etc/shadow"}]'
check_image hardabs refused-on-import "$nodisk|hard ?link|outside|not found" "$L/hardabs.tar"

# A whiteout, and an opaque directory, hiding the only disk.
mktar "$L/base.tar" "[$dir,$disk]"
mktar "$L/wh.tar" "[$dir,"'{"name":"disk/.wh.disk.img","type":"file","data":""}]'
check_image whiteout "$nodisk \(the directory is empty\)" "$nodisk \(the directory is empty\)" \
    "$L/base.tar" "$L/wh.tar"
mktar "$L/opq.tar" "[$dir,"'{"name":"disk/.wh..wh..opq","type":"file","data":""}]'
check_image opaque "$nodisk \(the directory is empty\)" "$nodisk \(the directory is empty\)" \
    "$L/base.tar" "$L/opq.tar"
mktar "$L/whdir.tar" '[{"name":".wh.disk","type":"file","data":""}]'
check_image whiteout-dir 'the image has no /disk/ directory' 'the image has no /disk/ directory' \
    "$L/base.tar" "$L/whdir.tar"
# ... and the disk still there when the whiteout names another file.
mktar "$L/whother.tar" "[$dir,"'{"name":"disk/.wh.other.img","type":"file","data":""}]'
check_image whiteout-other "served:$tmpdir/disk.raw" "served:$tmpdir/disk.raw" \
    "$L/base.tar" "$L/whother.tar"

# Names with a newline and a terminal escape: still one line of error.
mktar "$L/ctrl.tar" "[$dir,$disk,"'{"name":"disk/two\nlines\u001b[2J.img","type":"file","data":"x"}]'
check_image ctrl 'several disks under /disk/: disk.img, two\?lines\?\[2J.img; pick one' \
    'several disks under /disk/: disk.img, two\?lines\?\[2J.img; pick one' "$L/ctrl.tar"

hostile_done
