#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk list over a store with raw and qcow2 disks and images that
# are not containerDisks: the table, -q, and --format json parsed by jq,
# each entry's file holding the disk's bytes; an empty store.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires mkfs.ext4 -V
requires jq --version
requires_root

setup_store overlay
# An empty store: the header only, an empty JSON array.
[ "$(podman_disk list)" = "IMAGE  FORMAT  SIZE  VIRTUAL SIZE  IMAGE ID  DISK" ] ||
    fail "empty list: $(podman_disk list)"
[ "$(podman_disk list --format json | jq -c .)" = "[]" ] || fail "empty json list"
[ -z "$(podman_disk list -q)" ] || fail "empty list -q"

make_raw_disk "$tmpdir/a.img" 2
make_qcow2_disk "$tmpdir/b.qcow2"
build_disk_image localhost/list-raw "$tmpdir/a.img"
build_disk_image quay.io/containerdisks/list-qcow2:1 "$tmpdir/b.qcow2" "--chown=107:107 --chmod=0444"
podman tag localhost/list-raw localhost/list-raw:alias
ctx=$tmpdir/ctx-nodisk
mkdir -p "$ctx" && echo x > "$ctx/x" && printf 'FROM scratch\nCOPY x /etc/\n' > "$ctx/Containerfile"
podman build -q -t localhost/not-a-disk "$ctx" >/dev/null
# A containerDisk that cannot be served: two disks.
ctx=$tmpdir/ctx-two
mkdir -p "$ctx" && head -c 512 /dev/zero > "$ctx/one.img" && cp "$ctx/one.img" "$ctx/two.img"
printf 'FROM scratch\nCOPY one.img two.img /disk/\n' > "$ctx/Containerfile"
podman build -q -t localhost/two-disks "$ctx" >/dev/null
two_id=$(podman image inspect --format '{{.Id}}' localhost/two-disks)
raw_id=$(podman image inspect --format '{{.Id}}' localhost/list-raw)
before=$(store_fingerprint)

podman_disk list > "$tmpdir/list" 2> "$tmpdir/list.err"
cat "$tmpdir/list" "$tmpdir/list.err"
[ "$(wc -l < "$tmpdir/list")" = 3 ] || fail "list: a header and two images"
# Images that are no containerDisks go without a word; one whose disk
# cannot be served gets one warning line.
[ "$(cat "$tmpdir/list.err")" = "podman-disk: warning: image localhost/two-disks:latest ${two_id:0:12}: several disks under /disk/: one.img, two.img; pick one with --disk PATH" ] ||
    fail "list: the warnings: $(cat "$tmpdir/list.err")"
grep -Eq "^localhost/list-raw:latest +raw +2.0 MiB +2.0 MiB +${raw_id:0:12} +/disk/a.img$" "$tmpdir/list" ||
    fail "list: the raw row"
grep -Eq "^quay.io/containerdisks/list-qcow2:1 +qcow2 .* +16.0 MiB +[0-9a-f]{12} +/disk/b.qcow2$" "$tmpdir/list" ||
    fail "list: the qcow2 row"
! grep -q not-a-disk "$tmpdir/list" || fail "list shows an image without a disk"
# Columns as wide as their widest cell: every column starts at the same
# place on every line, a name longer than any fixed width included.
[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk list changed the store"
long=localhost/an-image-name-longer-than-forty-five-characters/for-the-columns:v1
head -c 4096 /dev/urandom > "$tmpdir/long.img"
build_disk_image "$long" "$tmpdir/long.img"
podman_disk list > "$tmpdir/list" 2>/dev/null
grep -q "^$long " "$tmpdir/list" || fail "list: the long name: $(cat "$tmpdir/list")"
for col in FORMAT SIZE 'VIRTUAL SIZE' 'IMAGE ID' DISK; do
    at=$(head -1 "$tmpdir/list" | awk -v c="$col" '{print index($0, c)}')
    awk -v at="$at" 'NR > 1 && !(substr($0, at - 2, 2) == "  " && substr($0, at, 1) != " ") {
        bad = 1 } END { exit bad }' "$tmpdir/list" ||
        fail "list: columns not aligned: $(cat "$tmpdir/list")"
done
podman rmi "$long" >/dev/null
before=$(store_fingerprint)

podman_disk list -q 2>/dev/null | sort > "$tmpdir/q"
printf '%s\n' localhost/list-raw:alias localhost/list-raw:latest \
    quay.io/containerdisks/list-qcow2:1 | diff - "$tmpdir/q" || fail "list -q"

podman_disk list --format json 2>/dev/null > "$tmpdir/list.json"
jq -e 'length == 2 and all(.[]; .transport == "containers-storage" and .zero_copy and .offset == 0)' \
    "$tmpdir/list.json" >/dev/null || fail "list --format json: $(cat "$tmpdir/list.json")"
jq -e --arg id "$raw_id" '.[] | select(.image == $id) |
    .names == ["localhost/list-raw:latest", "localhost/list-raw:alias"] and .format == "raw"
    and .size == 2097152' "$tmpdir/list.json" >/dev/null || fail "json: the raw entry"
# Each entry's file is the disk: the same bytes.
cmp "$tmpdir/a.img" "$(jq -r '.[] | select(.format == "raw") | .file' "$tmpdir/list.json")"
cmp "$tmpdir/b.qcow2" "$(jq -r '.[] | select(.format == "qcow2") | .file' "$tmpdir/list.json")"
# The same facts as locate's.
for ref in list-raw list-qcow2:1; do
    podman_disk locate --format json "$ref" | jq -c 'del(.names)' > "$tmpdir/one"
    jq -c --slurpfile one "$tmpdir/one" '.[] | del(.names) | select(.image == $one[0].image)' \
        "$tmpdir/list.json" | diff - "$tmpdir/one" || fail "list and locate differ for $ref"
done

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"
