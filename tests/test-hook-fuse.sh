#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook with fuse-overlayfs (rootless podman's overlay on older
# kernels): the FUSE mount does not show its layers, so they come from
# containers/storage's own files beside it (ID/diff, ID/lower), and the
# disk is still served from its layer, or from the container's upper dir
# when the container replaced it.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"
fuse=$(command -v fuse-overlayfs) || skip "fuse-overlayfs not installed"
[ -c /dev/fuse ] || skip "no /dev/fuse"
hpodman () {
    command podman --root "$store/root" --runroot "$store/runroot" \
        --storage-opt "overlay.mount_program=$fuse" --hooks-dir "$hooksdir" "$@"
}
podman () { hpodman "$@"; }

make_raw_disk "$tmpdir/raw.img" 4
build_hook_image localhost/hook-raw "$tmpdir/raw.img"
hpodman create --name f1 --annotation io.podman-disk.export=true \
    localhost/hook-raw /bin/busybox sleep 1000 >/dev/null
id=$(hpodman inspect -f '{{.Id}}' f1)
hpodman start f1 >/dev/null
awk -v m="$(hpodman inspect -f '{{.GraphDriver.Data.MergedDir}}' f1)" \
    '$5 == m { for (i = 6; $i != "-"; i++); if ($(i + 1) == "fuse.fuse-overlayfs") found = 1 }
     END { exit !found }' /proc/self/mountinfo ||
    skip "podman did not mount the rootfs with fuse-overlayfs"
file=$(record_field "$id" file)
case $file in
    "$store/root/overlay/"*/diff/disk/raw.img) ;;
    *) fail "fuse: served $file, not a layer's file" ;;
esac
[ "$(record_field "$id" layer)" != "$(hpodman inspect -f '{{.GraphDriver.Data.UpperDir}}' f1 | xargs dirname | xargs basename)" ] ||
    fail "fuse: served from the container's layer, not the image's"
nbdcopy "$(record_field "$id" uri)" - | cmp - "$tmpdir/raw.img" || fail "fuse: bytes differ"
hpodman stop -t 0 f1 >/dev/null

# Replaced in the upper dir: served from there.
make_raw_disk "$tmpdir/upper.img" 2
hpodman cp "$tmpdir/upper.img" f1:/disk/raw.img
hpodman start f1 >/dev/null
[ "$(record_field "$id" file)" = "$(hpodman inspect -f '{{.GraphDriver.Data.UpperDir}}' f1)/disk/raw.img" ] ||
    fail "fuse: the replaced disk is not served from the upper dir: $(record_field "$id" file)"
nbdcopy "$(record_field "$id" uri)" - | cmp - "$tmpdir/upper.img" || fail "fuse upper: bytes differ"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 f1 >/dev/null
assert_export_gone "$id" "$watcher" "$server"
assert_statedir_empty
exit 0
