#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The hook's io.podman-disk.writable=persistent:DEST: a container's export
# writes into DEST, a clone made beforehand by 'podman-disk clone' (which
# holds the image) or by the hook on first use (the hold then made after
# the hook, by a process of its own); the writes are there for the next
# container, the image's layer is never written.  A DEST that is
# relative, a clone of another image, or reachable through a directory
# another user can change fails the start with one line and leaves
# nothing.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"
requires qemu-img --version
requires qemu-nbd --version

make_raw_disk "$tmpdir/raw.img" 8
build_hook_image localhost/hook-pers "$tmpdir/raw.img"
make_raw_disk "$tmpdir/other.img" 8
build_hook_image localhost/hook-other "$tmpdir/other.img"
layer_file=$(podman_disk locate localhost/hook-pers | sed -n 's/^file: //p')
layer_sum=$(sha256sum < "$layer_file")

dest=$tmpdir/vm.qcow2
podman_disk clone localhost/hook-pers "$dest" || fail "clone"
w=io.podman-disk.writable

# ---- the first container writes into the clone ----
id=$(hpodman run -d --annotation io.podman-disk.export=true \
         --annotation "$w=persistent:$dest" \
         localhost/hook-pers /bin/busybox sleep 1000)
uri=$(record_field "$id" uri)
[ "$(record_field "$id" writable)" = true ] || fail "record: not writable"
[ "$(record_field "$id" file)" = "$dest" ] || fail "record: serves $(record_field "$id" file), not the clone"
[ "$(record_field "$id" server)" = qemu-nbd ] || fail "record: server $(record_field "$id" server)"
[ "$(nbdinfo --size "$uri")" = $((8 * 1024 * 1024)) ] || fail "size"
nbdinfo --is read-only "$uri" && fail "the export is read-only"
nbdcopy "$uri" "$tmpdir/before.raw"
cmp "$tmpdir/raw.img" "$tmpdir/before.raw" || fail "the clone does not show the image's disk"
make_raw_disk "$tmpdir/new.img" 8
nbdcopy "$tmpdir/new.img" "$uri"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 "$id" >/dev/null
assert_export_gone "$id" "$watcher" "$server"

# The writes are in the clone, as qemu sees it without podman-disk; the
# image's layer is unchanged.
qemu-img compare -f qcow2 -F raw "$dest" "$tmpdir/new.img" || fail "the writes are not in the clone"
[ "$(sha256sum < "$layer_file")" = "$layer_sum" ] || fail "the image's layer was written"

# ---- the next container serves them ----
id=$(hpodman run -d --annotation io.podman-disk.export=true \
         --annotation "$w=persistent:$dest" \
         localhost/hook-pers /bin/busybox sleep 1000)
nbdcopy "$(record_field "$id" uri)" "$tmpdir/again.raw"
cmp "$tmpdir/new.img" "$tmpdir/again.raw" || fail "the writes did not persist"
hpodman rm -f -t 0 "$id" >/dev/null

# ---- refusals: one line, nothing left, the container not running ----
e=io.podman-disk.export=true
expect_start_failure "the value must be cow .*, persistent:/PATH" \
    localhost/hook-pers --annotation "$e" --annotation "$w=persistent:vm.qcow2"
expect_start_failure "is a clone of another disk" \
    localhost/hook-other --annotation "$e" --annotation "$w=persistent:$dest"
# A directory anyone may write (not sticky), outside the test's private
# one: someone could put another clone there between the check and the
# server's open.
open=$(mktemp -d /var/tmp/podman-disk-open.XXXXXX)
cleanup_fn "rm -rf '$open'"
chmod 0777 "$open"
cp --sparse=always --preserve=xattr "$dest" "$open/vm.qcow2"
expect_start_failure "not served: keep clones in a directory only you and root can change" \
    localhost/hook-pers --annotation "$e" --annotation "$w=persistent:$open/vm.qcow2"
qemu-img compare -f qcow2 -F raw "$dest" "$tmpdir/new.img" || fail "a refusal changed the clone"
# Nor is a clone made there on first use.
expect_start_failure "not made: keep clones in a directory only you and root can change" \
    localhost/hook-pers --annotation "$e" --annotation "$w=persistent:$open/new.qcow2"
[ ! -e "$open/new.qcow2" ] || fail "the hook made a clone in a directory anyone can write"

podman_disk release "$dest" || fail "release"

# ---- first use: the hook makes the clone, its hold comes after ----
# (--rm: once the container is gone, only the hold keeps the image.)
first=$tmpdir/first.qcow2
id=$(hpodman run -d --rm --annotation io.podman-disk.export=true \
         --annotation "$w=persistent:$first" \
         localhost/hook-pers /bin/busybox sleep 1000)
[ -f "$first" ] || fail "the hook made no clone $first"
[ "$(record_field "$id" file)" = "$first" ] || fail "record: serves $(record_field "$id" file), not the new clone"
nbdcopy "$(record_field "$id" uri)" "$tmpdir/first.raw"
cmp "$tmpdir/raw.img" "$tmpdir/first.raw" || fail "the new clone does not show the image's disk"
nbdcopy "$tmpdir/new.img" "$(record_field "$id" uri)"
held () { [ "$(clone_holds "$first")" = 1 ]; }
wait_until 60 held || fail "no hold of $first: $(podman ps -a)"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 "$id" >/dev/null 2>&1 || :
assert_export_gone "$id" "$watcher" "$server"
qemu-img compare -f qcow2 -F raw "$first" "$tmpdir/new.img" || fail "the writes are not in the new clone"
[ "$(sha256sum < "$layer_file")" = "$layer_sum" ] || fail "the image's layer was written"
podman_disk clones > "$tmpdir/clones"
grep -qE "^$first +localhost/hook-pers(:latest)? .* intact$" "$tmpdir/clones" ||
    fail "clones: $(cat "$tmpdir/clones")"
podman rmi localhost/hook-pers >/dev/null 2>"$tmpdir/err" && fail "podman rmi removed the image of the new clone"
grep -q "image is in use" "$tmpdir/err" || fail "podman rmi: $(cat "$tmpdir/err")"
podman_disk release "$first" || fail "release of the new clone"
podman rmi localhost/hook-pers >/dev/null || fail "podman rmi refused after release"
exit 0
