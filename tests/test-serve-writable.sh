#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve --writable: a client's writes are visible to it, and the image is
# never written (the overlay is thrown away), with nbdkit (cow filter) and
# qemu-nbd (--snapshot).
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
setup_store

make_raw_disk "$tmpdir/disk.img" 8
serve_image localhost/rw-raw "$tmpdir/disk.img"
raw_backing=$backing
make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
serve_image localhost/rw-qcow2 "$tmpdir/disk.qcow2"
qcow2_backing=$backing

# write_and_check IMAGE ORIGINAL [SERVE-ARGS]: write a pattern over the
# whole export, read it back, stop; the backing file is unchanged and a
# new export shows the original.
write_and_check () {
    local image=$1 orig=$2 uri before after size
    shift 2
    backing=$(podman_disk locate "$image" | field file)
    before=$(sha256sum < "$backing")
    uri=$(podman_disk serve "$image" --writable --pidfile "$tmpdir/pid" "$@")
    [ "$(nbdinfo_field "$uri" is_read_only)" = false ] || fail "--writable export is read-only"
    size=$(nbdinfo --size "$uri")
    head -c "$size" /dev/urandom > "$tmpdir/pattern"
    nbdcopy "$tmpdir/pattern" "$uri" || fail "writing $image $*"
    nbdcopy "$uri" "$tmpdir/back"
    cmp "$tmpdir/pattern" "$tmpdir/back" || fail "writes not visible to the client ($image $*)"
    kill "$(cat "$tmpdir/pid")"
    check_no_leftovers "$image"
    after=$(sha256sum < "$backing")
    [ "$before" = "$after" ] || fail "the image was written ($image $*)"
    uri=$(podman_disk serve "$image" --pidfile "$tmpdir/pid")
    qemu-img compare -q -f raw "$orig" "$uri" || fail "the original is gone ($image $*)"
    kill "$(cat "$tmpdir/pid")"
    check_no_leftovers "$image"
}

write_and_check localhost/rw-raw "$tmpdir/disk.img"
write_and_check localhost/rw-raw "$tmpdir/disk.img" --server qemu-nbd
write_and_check localhost/rw-qcow2 "$tmpdir/guest.raw"
echo PASS
