#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve a qcow2 disk: decoded by qemu-nbd to the guest view by default, the
# stored bytes with --no-decode (nbdkit), and the guest's filesystem is
# really there.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires qemu-img --version
setup_store

make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
serve_image localhost/qcow2-disk "$tmpdir/disk.qcow2"
vsize=$(qemu-img info --output=json "$tmpdir/disk.qcow2" | jq -r '.["virtual-size"]')

uri=$(podman_disk serve localhost/qcow2-disk --pidfile "$tmpdir/pid")
[ "$(nbdinfo_field "$uri" export-size)" = "$vsize" ] || fail "size is not the virtual size"
[ "$(nbdinfo_field "$uri" is_read_only)" = true ] || fail "export not read-only"
qemu-img compare -q -f raw "$tmpdir/guest.raw" "$uri" || fail "guest view differs"
nbdcopy "$uri" "$tmpdir/copy.raw"
cmp "$tmpdir/guest.raw" "$tmpdir/copy.raw" || fail "nbdcopy of the guest view differs"
# The guest's ext4 and its file.
debugfs -R 'cat /hello.txt' "$tmpdir/copy.raw" 2>/dev/null | grep -q 'hello from podman-disk' ||
    fail "no /hello.txt in the served filesystem"
pid=$(cat "$tmpdir/pid")
[ "$(cat /proc/"$pid"/comm)" = qemu-nbd ] || fail "not served by qemu-nbd"
# Concurrent readers through qemu-nbd.
pids=()
for i in $(seq 1 8); do
    nbdcopy "$uri" "$tmpdir/reader$i.raw" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent reader failed"; done
for i in $(seq 1 8); do
    cmp "$tmpdir/guest.raw" "$tmpdir/reader$i.raw" || fail "reader $i differs"
done
kill "$pid"
check_no_leftovers localhost/qcow2-disk

# --no-decode: the qcow2 file as stored, by nbdkit.
uri=$(podman_disk serve localhost/qcow2-disk --no-decode --pidfile "$tmpdir/pid")
[ "$(nbdinfo_field "$uri" export-size)" = "$(stat -c %s "$tmpdir/disk.qcow2")" ] || fail "--no-decode size"
nbdcopy "$uri" "$tmpdir/copy.qcow2"
cmp "$tmpdir/disk.qcow2" "$tmpdir/copy.qcow2" || fail "--no-decode bytes differ"
[ "$(cat /proc/"$(cat "$tmpdir/pid")"/comm)" = nbdkit ] || fail "not served by nbdkit"
# A client can decode it itself.
qemu-img compare -q -f raw "$tmpdir/guest.raw" -F qcow2 "$uri" || fail "decoding the --no-decode export"
kill "$(cat "$tmpdir/pid")"
check_no_leftovers localhost/qcow2-disk

# nbdkit cannot decode qcow2: said before anything runs.
expect_error 1 'nbdkit cannot decode the qcow2 disk' \
    podman_disk serve localhost/qcow2-disk --server nbdkit
check_no_leftovers localhost/qcow2-disk
echo PASS
