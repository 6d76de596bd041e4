#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The disk's path swapped while it is served (someone who can write a
# directory on the way, as a container can its upper layer, replaces the
# file with a symlink to a host file): every later client still reads the
# bytes that were located, never the host file.  nbdkit before 1.34 takes
# the disk only by name and opens it again for each client, so the name it
# gets must lead to the very file podman-disk opened (serve/server.c).
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
setup_store

make_raw_disk "$tmpdir/disk.img" 4
# The host file that must never be served: as big as a layer blob.
head -c $((8 * 1024 * 1024)) /dev/zero | tr '\0' S > "$tmpdir/secret"

# swap FILE: FILE becomes a symlink to the secret (the original is kept
# aside, as a hostile writer would keep it busy).
swap () {
    mv "$1" "$1.orig"
    ln -s "$tmpdir/secret" "$1"
}

# check_swap REF FILE [SERVE-ARGS]: served, swapped, then read by a new
# client: the original bytes.
check_swap () {
    local ref=$1 file=$2 uri
    shift 2
    cleanup_fn "kill_holders '$file.orig'"
    uri=$(podman_disk serve "$ref" --pidfile "$tmpdir/pid" "$@")
    nbdcopy "$uri" "$tmpdir/before.img"
    cmp "$tmpdir/disk.img" "$tmpdir/before.img" || fail "$ref: served bytes differ"
    swap "$file"
    nbdcopy "$uri" "$tmpdir/after.img"
    if grep -q SSSS "$tmpdir/after.img"; then
        fail "$ref $*: a client after the swap read the host file"
    fi
    cmp "$tmpdir/disk.img" "$tmpdir/after.img" || fail "$ref $*: bytes after the swap differ"
    kill "$(cat "$tmpdir/pid")"
    wait_until nothing_holds "$file.orig" || fail "$ref: the server outlived its kill"
    rm -f "$file"
    mv "$file.orig" "$file"
    rm -f "$tmpdir/before.img" "$tmpdir/after.img"
}

build_disk_image localhost/swap "$tmpdir/disk.img"
file=$(podman_disk locate localhost/swap | field file)
check_swap localhost/swap "$file"
check_swap localhost/swap "$file" --writable

podman save -q --uncompressed --format oci-dir -o "$tmpdir/oci" localhost/swap
file=$(podman_disk locate "oci:$tmpdir/oci" | field file)
check_swap "oci:$tmpdir/oci" "$file"
echo PASS
