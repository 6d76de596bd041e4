#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook with podman run: an annotated container's disk is exported
# while it runs (raw through nbdkit, qcow2 decoded through qemu-nbd, a
# chosen member, a copy-on-write export, a disk the container's upper dir
# replaced), the bytes served are the image's, and stop/rm/restart leave
# no process, socket, record or open file behind.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"
requires qemu-img --version
requires qemu-nbd --version

make_raw_disk "$tmpdir/raw.img" 8
build_hook_image localhost/hook-raw "$tmpdir/raw.img"

# ---- raw, the annotation's simplest form ----
id=$(hpodman run -d --name c1 --annotation io.podman-disk.export=true \
         localhost/hook-raw /bin/busybox sleep 1000)
[ -f "$statedir/$id.json" ] || fail "no record for $id"
[ -S "$statedir/$id.sock" ] || fail "no socket $statedir/$id.sock"
uri=$(record_field "$id" uri)
[ "$uri" = "nbd+unix:///?socket=$statedir/$id.sock" ] || fail "uri: $uri"
for kv in name=c1 image=localhost/hook-raw:latest disk=/disk/raw.img format=raw \
          server=nbdkit size=$((8 * 1024 * 1024)) writable=false volume_socket=null; do
    got=$(record_field "$id" "${kv%%=*}")
    [ "$got" = "${kv#*=}" ] || fail "record ${kv%%=*}: '$got', expected '${kv#*=}'"
done
[ "$(record_field "$id" container_pid)" = "$(podman inspect -f '{{.State.Pid}}' c1)" ] ||
    fail "record container_pid is not the container's"
file=$(record_field "$id" file)
layer=$(record_field "$id" layer)
case $file in
    "$store/root/overlay/$layer/diff/disk/raw.img") ;;
    *) fail "served file $file is not the layer's own file" ;;
esac

# The bytes, through real clients.
[ "$(nbdinfo --size "$uri")" = $((8 * 1024 * 1024)) ] || fail "nbdinfo --size"
nbdinfo --is read-only "$uri" || fail "the export is not read-only"
nbdcopy "$uri" "$tmpdir/copy.raw"
cmp "$tmpdir/raw.img" "$tmpdir/copy.raw" || fail "nbdcopy: bytes differ"

# exports lists it, alive.
exports > "$tmpdir/list"
awk -v id="${id:0:12}" -v uri="$uri" -v pid="$(record_field "$id" pid)" \
    '$1 == id && $2 == "c1" && $4 == "/disk/raw.img" && $5 == "nbdkit" &&
     $6 == pid && $7 == "yes" && $8 == uri { found = 1 } END { exit !found }' \
    "$tmpdir/list" ||
    { cat "$tmpdir/list"; fail "exports: no live line for c1"; }
exports --format json > "$tmpdir/list.json"
[ "$(jq -r '.[0].container + " " + (.[0].alive|tostring)' "$tmpdir/list.json")" = "$id true" ] ||
    fail "exports --format json"
[ "$(jq length "$tmpdir/list.json")" = 1 ] || fail "exports: more than one"

# Stop and remove: nothing left.
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman stop -t 0 c1 >/dev/null
assert_export_gone "$id" "$watcher" "$server"
hpodman rm c1 >/dev/null
assert_not_open "$file"
assert_statedir_empty
[ "$(exports --format json | jq length)" = 0 ] || fail "exports not empty after stop"

# ---- restart: the export follows the new process ----
id=$(hpodman run -d --name c2 --annotation io.podman-disk.export=mydisk \
         localhost/hook-raw /bin/busybox sleep 1000)
[ "$(record_field "$id" name)" = mydisk ] || fail "export name"
old_server=$(record_field "$id" pid)
old_watcher=$(record_field "$id" watcher_pid)
hpodman restart -t 0 c2 >/dev/null
wait_until 30 pid_gone "$old_server" || fail "restart: old server still runs"
wait_until 30 pid_gone "$old_watcher" || fail "restart: old watcher still runs"
[ "$(record_field "$id" container_pid)" = "$(podman inspect -f '{{.State.Pid}}' c2)" ] ||
    fail "restart: the record is not the new process's"
nbdcopy "$(record_field "$id" uri)" "$tmpdir/copy2.raw"
cmp "$tmpdir/raw.img" "$tmpdir/copy2.raw" || fail "after restart: bytes differ"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 c2 >/dev/null
assert_export_gone "$id" "$watcher" "$server"

# ---- qcow2: qemu-nbd serves the guest view ----
make_qcow2_disk "$tmpdir/fedora.qcow2"
build_hook_image localhost/hook-qcow2 "$tmpdir/fedora.qcow2"
id=$(hpodman run -d --annotation io.podman-disk.export=true \
         localhost/hook-qcow2 /bin/busybox sleep 1000)
[ "$(record_field "$id" server)" = qemu-nbd ] || fail "qcow2 not served by qemu-nbd"
[ "$(record_field "$id" format)" = qcow2 ] || fail "qcow2: format"
uri=$(record_field "$id" uri)
[ "$(nbdinfo --size "$uri")" = $((16 * 1024 * 1024)) ] || fail "qcow2: virtual size"
qemu-img compare -f qcow2 -F raw "$tmpdir/fedora.qcow2" "$uri" >/dev/null ||
    fail "qcow2: the guest view differs"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 "$id" >/dev/null
assert_export_gone "$id" "$watcher" "$server"

# ---- two disks: io.podman-disk.disk picks one ----
make_raw_disk "$tmpdir/a.img" 1
make_raw_disk "$tmpdir/b.img" 2
build_hook_image localhost/hook-two "$tmpdir/a.img" "$tmpdir/b.img"
id=$(hpodman run -d --annotation io.podman-disk.export=true \
         --annotation io.podman-disk.disk=/disk/b.img \
         localhost/hook-two /bin/busybox sleep 1000)
[ "$(record_field "$id" disk)" = /disk/b.img ] || fail "disk annotation"
nbdcopy "$(record_field "$id" uri)" "$tmpdir/copyb.raw"
cmp "$tmpdir/b.img" "$tmpdir/copyb.raw" || fail "disk annotation: bytes differ"
hpodman rm -f -t 0 "$id" >/dev/null

# ---- writable=cow: clients write, the image does not change ----
id=$(hpodman run -d --annotation io.podman-disk.export=true \
         --annotation io.podman-disk.writable=cow \
         localhost/hook-raw /bin/busybox sleep 1000)
uri=$(record_field "$id" uri)
[ "$(record_field "$id" writable)" = true ] || fail "cow: record"
nbdinfo --is read-only "$uri" && fail "cow: the export is read-only"
make_raw_disk "$tmpdir/new.img" 8
nbdcopy "$tmpdir/new.img" "$uri"
nbdcopy "$uri" "$tmpdir/copy3.raw"
cmp "$tmpdir/new.img" "$tmpdir/copy3.raw" || fail "cow: the writes are not visible"
cmp "$tmpdir/raw.img" "$(record_field "$id" file)" || fail "cow: the image was written"
hpodman rm -f -t 0 "$id" >/dev/null

# ---- a disk the container replaced is served from its upper dir ----
make_raw_disk "$tmpdir/upper.img" 4
hpodman create --name c5 --annotation io.podman-disk.export=true \
    localhost/hook-raw /bin/busybox sleep 1000 >/dev/null
podman cp "$tmpdir/upper.img" c5:/disk/raw.img
id=$(podman inspect -f '{{.Id}}' c5)
hpodman start c5 >/dev/null
layer=$(record_field "$id" layer)
[ "$(podman inspect -f '{{.GraphDriver.Data.UpperDir}}' c5)" = \
  "$store/root/overlay/$layer/diff" ] || fail "upper: not served from the container's layer"
[ "$(record_field "$id" size)" = $((4 * 1024 * 1024)) ] || fail "upper: size"
nbdcopy "$(record_field "$id" uri)" "$tmpdir/copy5.raw"
cmp "$tmpdir/upper.img" "$tmpdir/copy5.raw" || fail "upper: bytes differ"
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 c5 >/dev/null
assert_export_gone "$id" "$watcher" "$server"

# ---- no annotation, or =false: the hook does nothing ----
id=$(hpodman run -d --annotation io.podman-disk.export=false \
         localhost/hook-raw /bin/busybox sleep 1000)
[ "$(podman inspect -f '{{.State.Running}}' "$id")" = true ] || fail "=false: not running"
hpodman rm -f -t 0 "$id" >/dev/null
assert_statedir_empty
exit 0
