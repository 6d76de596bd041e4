#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
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

# nodisk FOUND: the line for a /disk/ that holds no regular file, only
# FOUND (a regex); loop: the reason given for a symlink loop.
nodisk () { echo "@REF@: no regular file under /disk/ \\($1\\): $usedisk"; }
loop='too many levels of symbolic links'
notfound='not found in the image'

# /disk/disk.img -> the host's /etc/shadow, which the image does not have.
mktar "$L/abs.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"/etc/shadow"}]'
e=$(nodisk "found: disk\\.img \\(symlink to /etc/shadow: $notfound\\)")
check_image abs "$e" "$e" "$L/abs.tar"
e="@REF@: /etc/shadow: $notfound"
check_image abs "$e" "$e" "$L/abs.tar" -- --disk /etc/shadow
e="@REF@: /disk/disk\\.img \\(resolves to /etc/shadow\\): $notfound"
check_image abs "$e" "$e" "$L/abs.tar" -- --disk /disk/disk.img

mktar "$L/dotdot.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"../../../../etc/shadow"}]'
e=$(nodisk "found: disk\\.img \\(symlink to \\.\\./\\.\\./\\.\\./\\.\\./etc/shadow: $notfound\\)")
check_image dotdot "$e" "$e" "$L/dotdot.tar"
e="@REF@: /\\.\\./\\.\\./\\.\\./\\.\\./etc/shadow: $notfound"
check_image dotdot "$e" "$e" "$L/dotdot.tar" -- --disk ../../../../etc/shadow

# The same links in an image that has its own /etc/shadow: the image's
# file is the disk, byte for byte.
mktar "$L/abs-own.tar" "[$dir,$own_shadow,"'{"name":"disk/disk.img","type":"sym","target":"/etc/shadow"}]'
check_image abs-own "served:$tmpdir/image-shadow" "served:$tmpdir/image-shadow" "$L/abs-own.tar"
mktar "$L/dotdot-own.tar" "[$dir,$own_shadow,"'{"name":"disk/disk.img","type":"sym","target":"../../../../etc/shadow"}]'
check_image dotdot-own "served:$tmpdir/image-shadow" "served:$tmpdir/image-shadow" "$L/dotdot-own.tar"

# Loops: to itself, and two links to each other.
mktar "$L/self.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"disk.img"}]'
e=$(nodisk "found: disk\\.img \\(symlink to disk\\.img: $loop\\)")
check_image self "$e" "$e" "$L/self.tar"
e="@REF@: /disk/disk\\.img \\(resolves to /disk/disk\\.img\\): $loop"
check_image self "$e" "$e" "$L/self.tar" -- --disk /disk/disk.img
mktar "$L/pair.tar" "[$dir,"'{"name":"disk/a","type":"sym","target":"/disk/b"},{"name":"disk/b","type":"sym","target":"a"}]'
e=$(nodisk "found: a \\(symlink to /disk/b: $loop\\), b \\(symlink to a: $loop\\)")
check_image pair "$e" "$e" "$L/pair.tar"

# To a directory.
mktar "$L/todir.tar" "[$dir,"'{"name":"data","type":"dir"},{"name":"disk/disk.img","type":"sym","target":"/data"}]'
e=$(nodisk "found: disk\\.img \\(symlink to /data: a directory, not a regular file\\)")
check_image todir "$e" "$e" "$L/todir.tar"

# /disk itself a symlink out of the image, then to the image's own root
# (whose entries are then listed as /disk/'s).
nodiskdir="@REF@: the image has no /disk/ directory: $usedisk"
mktar "$L/diskout.tar" '[{"name":"disk","type":"sym","target":"../../../../etc"}]'
check_image diskout "$nodiskdir" "$nodiskdir" "$L/diskout.tar"
mktar "$L/diskroot.tar" "[$own_shadow,"'{"name":"disk","type":"sym","target":"../../../etc/.."}]'
e=$(nodisk "found: disk \\(symlink to \\.\\./\\.\\./\\.\\./etc/\\.\\.: a directory, not a regular file\\), etc/ \\(a directory\\)")
check_image diskroot "$e" "$e" "$L/diskroot.tar"

# A device node as the disk.
mktar "$L/chardev.tar" "[$dir,"'{"name":"disk/disk.img","type":"char","major":1,"minor":3}]'
e=$(nodisk "found: disk\\.img \\(a device, fifo or socket\\)")
check_image chardev "$e" "$e" "$L/chardev.tar"

# Hardlinks: to a file of the image outside /disk (its bytes are the
# disk), and to a path outside the image (nothing to link to).
mktar "$L/hardin.tar" "[$dir,$own_shadow,"'{"name":"disk/disk.img","type":"hard","target":"etc/shadow"}]'
check_image hardin "served:$tmpdir/image-shadow" "served:$tmpdir/image-shadow" "$L/hardin.tar"
mktar "$L/hardout.tar" "[$dir,"'{"name":"disk/disk.img","type":"hard","target":"../../../../etc/shadow"}]'
check_image hardout refused-on-import \
    "$layer_re: hard link target of '\\.\\./\\.\\./\\.\\./\\.\\./etc/shadow' climbs out of the image root: refused" \
    "$L/hardout.tar"
mktar "$L/hardabs.tar" "[$dir,"'{"name":"disk/disk.img","type":"hard","target":"/etc/shadow"}]'
check_image hardabs refused-on-import \
    "$layer_re: hard link target of '/etc/shadow' is an absolute path: refused \\(a tar member must stay inside the image\\)" \
    "$L/hardabs.tar"

# A whiteout, and an opaque directory, hiding the only disk.
empty=$(nodisk 'the directory is empty')
mktar "$L/base.tar" "[$dir,$disk]"
mktar "$L/wh.tar" "[$dir,"'{"name":"disk/.wh.disk.img","type":"file","data":""}]'
check_image whiteout "$empty" "$empty" "$L/base.tar" "$L/wh.tar"
mktar "$L/opq.tar" "[$dir,"'{"name":"disk/.wh..wh..opq","type":"file","data":""}]'
check_image opaque "$empty" "$empty" "$L/base.tar" "$L/opq.tar"
mktar "$L/whdir.tar" '[{"name":".wh.disk","type":"file","data":""}]'
check_image whiteout-dir "$nodiskdir" "$nodiskdir" "$L/base.tar" "$L/whdir.tar"
# ... and the disk still there when the whiteout names another file.
mktar "$L/whother.tar" "[$dir,"'{"name":"disk/.wh.other.img","type":"file","data":""}]'
check_image whiteout-other "served:$tmpdir/disk.raw" "served:$tmpdir/disk.raw" \
    "$L/base.tar" "$L/whother.tar"

# Names with a newline and a terminal escape: still one line of error,
# each control character shown as '?'.
mktar "$L/ctrl.tar" "[$dir,$disk,"'{"name":"disk/two\nlines\u001b[2J.img","type":"file","data":"x"}]'
e='@REF@: several disks under /disk/: disk\.img, two\?lines\?\[2J\.img; pick one with --disk PATH'
check_image ctrl "$e" "$e" "$L/ctrl.tar"

hostile_done
