#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile sizes: an index.json of 30,000 entries, a docker-archive whose
# manifest.json has 30,000, 30,000 platforms under one name (each once
# took minutes to hours: the index was parsed again per entry and the
# platforms compared pairwise); a store image of 2,000 layers (one fd
# each: EMFILE at the usual limit of 1024); a FIFO where a JSON file
# should be (an open that waited forever for a writer).
#
# No wall-clock assertion: each command runs under a generous timeout, so
# a return of the quadratic (or of the blocking open) fails the test,
# and the count of what it prints is checked.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires python3 --version
requires timeout --version
layout_implemented || skip "OCI layouts are not implemented yet"

# bounded SECONDS ARGS...: podman-disk ARGS, killed after SECONDS.
bounded () {
    local secs=$1
    shift
    timeout -k 5 "$secs" "$PODMAN_DISK" "$@"
}

disk=$tmpdir/disk.raw
head -c 64K /dev/urandom > "$disk"
mkbig () { python3 "$hostiledir/mkbig.py" "$@"; }

# ---- 30,000 entries ----

mkbig index "$tmpdir/index" 30000 "$disk"
bounded 120 list -q "oci:$tmpdir/index" > "$tmpdir/names" ||
    fail "list of a 30,000-entry index failed or took more than 120 s"
[ "$(wc -l < "$tmpdir/names")" = 30000 ] ||
    fail "list of a 30,000-entry index printed $(wc -l < "$tmpdir/names") names"
[ "$(sed -n '1p;30000p' "$tmpdir/names" | tr '\n' ' ')" = "img0 img29999 " ] ||
    fail "list of a 30,000-entry index: not img0 ... img29999 in order"
bounded 120 list "oci:$tmpdir/index" > "$tmpdir/table" ||
    fail "list (the table) of a 30,000-entry index failed or took more than 120 s"
[ "$(grep -c ' /disk/disk.img$' "$tmpdir/table")" = 30000 ] ||
    fail "list of a 30,000-entry index: not 30,000 disks in the table"
# A name near the end, and one entry by number, through the whole index.
bounded 60 locate "oci:$tmpdir/index:img29999" | grep -qx 'member: /disk/disk.img' ||
    fail "locate of the last of 30,000 names"
served_bytes "oci:$tmpdir/index:@29998" "$tmpdir/served"
cmp "$tmpdir/served" "$disk" || fail "entry @29998: other bytes than the disk's"
echo "ok - index.json of 30,000 entries: listed, named, numbered"

mkbig docker "$tmpdir/big.tar" 30000 "$disk"
bounded 120 list -q "docker-archive:$tmpdir/big.tar" > "$tmpdir/names" ||
    fail "list of a 30,000-entry docker-archive failed or took more than 120 s"
[ "$(wc -l < "$tmpdir/names")" = 30000 ] ||
    fail "list of a 30,000-entry docker-archive printed $(wc -l < "$tmpdir/names") names"
[ "$(tail -1 "$tmpdir/names")" = img29999:latest ] ||
    fail "list of a 30,000-entry docker-archive: the last is $(tail -1 "$tmpdir/names")"
served_bytes "docker-archive:$tmpdir/big.tar:img29999" "$tmpdir/served"
cmp "$tmpdir/served" "$disk" || fail "docker-archive img29999: other bytes than the disk's"
echo "ok - docker-archive manifest.json of 30,000 entries: listed, named"

last=$(mkbig platforms "$tmpdir/platforms" 30000 "$disk")
bounded 120 locate --platform linux/a29999 "oci:$tmpdir/platforms:multi" > "$tmpdir/loc" ||
    fail "locate among 30,000 platforms failed or took more than 120 s"
[ "$(field image < "$tmpdir/loc")" = "$last" ] ||
    fail "locate among 30,000 platforms picked $(field image < "$tmpdir/loc"), not $last"
echo "ok - 30,000 platforms under one name: the asked one picked"

# ---- 2,000 layers ----

# By hand (tests/hostile/mkstore.py says why not skopeo).
mkdir -p "$tmpdir/many/root" "$tmpdir/many/run"
python3 "$hostiledir/mkstore.py" "$tmpdir/many/root" localhost/many:latest 2000 "$disk"
many="containers-storage:[overlay@$tmpdir/many/root+$tmpdir/many/run]localhost/many:latest"
# The usual limits: 1024 open files, more allowed on asking.  Under
# valgrind (make check-valgrind), the binary itself: valgrind keeps the fd
# limit it started with, refusing the raise, and takes some of the fds
# for itself, so the limits here would be valgrind's, not podman-disk's.
if [ -n "${PODMAN_DISK_REAL:-}" ]; then
    podman_disk () { "$PODMAN_DISK_REAL" "$@"; }
    PODMAN_DISK_FD_CASES=$PODMAN_DISK_REAL
else
    PODMAN_DISK_FD_CASES=$PODMAN_DISK
fi
hard=$(ulimit -H -n)
if [ "$hard" = unlimited ] || [ "$hard" -ge 2100 ]; then
    ( ulimit -S -n 1024
      served_bytes "$many" "$tmpdir/served"
      cmp "$tmpdir/served" "$disk" || fail "2,000 layers: other bytes than the disk's" )
    echo "ok - 2,000 layers under a soft limit of 1024 open files: located"
else
    echo "skipped: 2,000 layers under a soft limit of 1024 (the hard limit is $hard)"
fi
# Where no more may be asked for: the limit, said.
( ulimit -n 1024
  expect_error 1 "^podman-disk: localhost/many:latest: the image has 2000 layers: reading them takes 2064 open files, more than this process may open \(ulimit -n: 1024\)$" \
      "$PODMAN_DISK_FD_CASES" locate "$many" )
echo "ok - 2,000 layers under a hard limit of 1024: the limit said"
podman_disk () { "$PODMAN_DISK" "$@"; }

# ---- FIFOs where files should be: refused at once, never waited on ----

# fifo_case LINE ARGS...: podman-disk ARGS exits 1 with exactly LINE at
# once (bounded: a blocking open would wait for a writer forever).
fifo_cases=0
fifo_case () {
    local line=$1
    shift
    expect_error 1 "^$(regex_quote "$line")\$" timeout -k 5 30 "$PODMAN_DISK" "$@"
    fifo_cases=$((fifo_cases + 1))
}
# fifo_in FILE: FILE replaced by a FIFO (kept aside as FILE.orig).
fifo_in () { mv "$1" "$1.orig"; mkfifo "$1"; }
fifo_out () { rm "$1"; mv "$1.orig" "$1"; }

O=$tmpdir/oci
mkdir -p "$tmpdir/layers"
mktar "$tmpdir/layers/good.tar" '[{"name":"disk","type":"dir"},{"name":"disk/disk.img","type":"file","from":"'"$disk"'"}]'
mklayout "$O" img "$tmpdir/layers/good.tar"
digest_of () { python3 -c 'import json,sys; print(eval("json.load(open(sys.argv[1]))" + sys.argv[2]).split(":")[1])' "$@"; }
manifest=$O/blobs/sha256/$(digest_of "$O/index.json" '["manifests"][0]["digest"]')
config=$O/blobs/sha256/$(digest_of "$manifest" '["config"]["digest"]')
layer=$O/blobs/sha256/$(digest_of "$manifest" '["layers"][0]["digest"]')
for f in "$O/oci-layout" "$O/index.json" "$manifest" "$config" "$layer"; do
    fifo_in "$f"
    what=
    [ "$f" != "$layer" ] || what="layer sha256:${f##*/} (application/vnd.oci.image.layer.v1.tar): "
    # The config is read with --platform (for an image listed without one).
    fifo_case "podman-disk: $what$f: not a regular file" \
        locate --platform linux/amd64 "oci:$O:img"
    fifo_out "$f"
done
# The layout must be whole again: the FIFOs left nothing behind.
served_bytes "oci:$O:img" "$tmpdir/served"
cmp "$tmpdir/served" "$disk" || fail "the layout after its FIFOs: other bytes"
mkfifo "$tmpdir/archive.tar"
fifo_case "podman-disk: oci-archive:$tmpdir/archive.tar: not a regular file (a oci-archive reference names a tar file)" \
    locate "oci-archive:$tmpdir/archive.tar"
fifo_case "podman-disk: docker-archive:$tmpdir/archive.tar: not a regular file (a docker-archive reference names a tar file)" \
    list "docker-archive:$tmpdir/archive.tar"

# The store's JSON files, in a store of one small image.
mkdir -p "$tmpdir/small/root" "$tmpdir/small/run"
python3 "$hostiledir/mkstore.py" "$tmpdir/small/root" localhost/small:latest 1 "$disk"
small="containers-storage:[overlay@$tmpdir/small/root+$tmpdir/small/run]localhost/small:latest"
served_bytes "$small" "$tmpdir/served"
cmp "$tmpdir/served" "$disk" || fail "the small store: other bytes"
for f in overlay-layers/layers.json overlay-images/images.json; do
    fifo_in "$tmpdir/small/root/$f"
    fifo_case "podman-disk: $tmpdir/small/root/$f: not a regular file" locate "$small"
    fifo_out "$tmpdir/small/root/$f"
done
# And storage.conf, which names the store.
mkfifo "$tmpdir/storage.conf"
CONTAINERS_STORAGE_CONF=$tmpdir/storage.conf \
    fifo_case "podman-disk: $tmpdir/storage.conf: not a regular file" list
unset CONTAINERS_STORAGE_CONF

# The OCI hook's config.json, in the bundle the runtime names.
bundle=$tmpdir/bundle
mkdir -p "$bundle/rootfs"
mkfifo "$bundle/config.json"
printf '{"ociVersion":"1.0.2","id":"%064d","status":"creating","pid":%d,"bundle":"%s","annotations":{"io.podman-disk.export":"true"}}' \
    1 $$ "$bundle" > "$tmpdir/state"
expect_error 1 "^podman-disk: $(regex_quote "$bundle/config.json"): not a regular file\$" \
    timeout -k 5 30 "$PODMAN_DISK" hook --state-dir "$tmpdir/hookstate" createRuntime < "$tmpdir/state"
fifo_cases=$((fifo_cases + 1))
[ ! -e "$tmpdir/hookstate" ] || [ -z "$(ls -A "$tmpdir/hookstate")" ] ||
    fail "the hook left state behind for a FIFO config.json"
echo "ok - $fifo_cases FIFOs where JSON files should be: each refused at once"
