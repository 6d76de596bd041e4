#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk locate against podman image inspect, same store, same run:
# a store of 1 image, then of 500.  Also locate's peak RSS and what it read.
# locate is timed twice: as it runs every time the store has not changed
# since the last locate (its answer cache, common/cache.h, in use), and as
# it runs the first time after a change (PODMAN_DISK_CACHE=off: every
# JSON file parsed).
# The fixture helpers are the tests' (private store, cleanup traps).
source "$(dirname "$0")/../tests/functions.sh"
requires hyperfine --version
requires test -x /usr/bin/time
setup_store

make_raw_disk "$tmpdir/disk.img" 256
build_disk_image localhost/bench-base "$tmpdir/disk.img"

# mean seconds of one command, by hyperfine; environment from the caller
mean () {
    hyperfine -N --warmup 5 --min-runs 30 --export-json "$tmpdir/h.json" "$1" >/dev/null 2>&1
    jq -r '.results[0].mean' "$tmpdir/h.json"
}
ms () { echo "$1 * 1000" | bc -l; }

measure () {
    local n=$1 img=$2
    local inspect="podman --root $store/root --runroot $store/runroot image inspect $img"
    local t_pd t_first t_podman
    # The cache keeps no answer from files changed in the last 2 s.
    sleep 3
    t_pd=$(mean "$PODMAN_DISK locate $img")
    t_first=$(PODMAN_DISK_CACHE=off mean "$PODMAN_DISK locate $img")
    t_podman=$(mean "$inspect")
    # GNU time: a small C parent, so the peak RSS is podman-disk's own (a
    # Python parent's memory would count, fork or vfork alike).
    read -r rss blocks < <(PODMAN_DISK_CACHE=off /usr/bin/time -f '%M %I' "$PODMAN_DISK" locate "$img" 2>&1 >/dev/null)
    blocks=$((blocks * 512))
    rchar=$(PODMAN_DISK_CACHE=off "$PODMAN_DISK" --log-level debug locate "$img" 2>&1 >/dev/null | sed -n 's/.*io: rchar: //p')
    printf '%4d images: podman image inspect %.2f ms; locate %.2f ms: %.1fx faster (first after a store change %.2f ms: %.1fx)\n' \
        "$n" "$(ms "$t_podman")" "$(ms "$t_pd")" "$(echo "$t_podman / $t_pd" | bc -l)" \
        "$(ms "$t_first")" "$(echo "$t_podman / $t_first" | bc -l)"
    # The first locate after a change reads images.json and layers.json
    # through json-c: that part alone (best of 10, from --log-level debug)
    # bounds what any json-c reader of this store can reach.
    local t_json
    t_json=$(for i in $(seq 10); do
                 PODMAN_DISK_CACHE=off "$PODMAN_DISK" --log-level debug locate "$img" 2>&1 >/dev/null |
                     sed -n 's/.*JSON read in \([0-9.]*\) ms/\1/p'
             done | sort -n | head -1)
    printf '            of the first locate, reading the store JSON with json-c alone: %.2f ms (podman image inspect is %.1fx that)\n' \
        "$t_json" "$(echo "$t_podman * 1000 / $t_json" | bc -l)"
    # rchar counts read(2); images.json and layers.json are mapped, so
    # their size is shown beside it.
    local meta
    meta=$(cat "$store/root/overlay-images/images.json" "$store/root/overlay-layers/layers.json" | wc -c)
    printf '            locate peak RSS %d KiB, read(2) %s bytes + %d bytes of mapped store JSON (disk is %d bytes), %s bytes from the block layer\n' \
        "$rss" "$rchar" "$meta" "$((256 * 1024 * 1024))" "$blocks"
}

measure 1 localhost/bench-base

# 499 more images sharing the disk layer (a LABEL makes each one distinct).
for i in $(seq 1 499); do
    printf 'FROM localhost/bench-base\nLABEL n=%d\n' "$i" | podman build -q -t "localhost/bench-$i" -f - "$tmpdir" >/dev/null
done
measure 500 localhost/bench-250
