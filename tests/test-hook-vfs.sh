#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook on a vfs store: the rootfs is one plain directory (no
# overlay mount), and the disk is served from it.
source "$(dirname "$0")/functions.sh"
hook_store_driver=vfs
source "$testsdir/hook-functions.sh"

make_raw_disk "$tmpdir/raw.img" 4
build_hook_image localhost/hook-raw "$tmpdir/raw.img"
id=$(hpodman run -d --annotation io.podman-disk.export=true \
         localhost/hook-raw /bin/busybox sleep 1000)
file=$(record_field "$id" file)
case $file in
    "$store/root/vfs/dir/"*/disk/raw.img) ;;
    *) fail "vfs: served $file" ;;
esac
nbdcopy "$(record_field "$id" uri)" "$tmpdir/copy.raw"
cmp "$tmpdir/raw.img" "$tmpdir/copy.raw" || fail "vfs: bytes differ"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 "$id" >/dev/null
assert_export_gone "$id" "$watcher" "$server"
assert_not_open "$file"
assert_statedir_empty
exit 0
