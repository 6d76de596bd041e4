#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve and cp from OCI layouts and archives: the disk is a tar member at
# an offset inside a layer blob (or an archive), served and copied from
# there, never extracted.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires skopeo --version
requires qemu-img --version
setup_store

# 8 MiB: random data, zeros, random data (the zeros must come out sparse).
head -c $((2 * 1024 * 1024)) /dev/urandom > "$tmpdir/raw.img"
head -c $((4 * 1024 * 1024)) /dev/zero >> "$tmpdir/raw.img"
head -c $((2 * 1024 * 1024)) /dev/urandom >> "$tmpdir/raw.img"
make_qcow2_disk "$tmpdir/q.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/q.qcow2" "$tmpdir/guest.raw"
build_disk_image localhost/lraw "$tmpdir/raw.img"
build_disk_image localhost/lqcow2 "$tmpdir/q.qcow2"
podman save -q --uncompressed --format oci-dir -o "$tmpdir/oci-raw" localhost/lraw
podman save -q --uncompressed --format oci-dir -o "$tmpdir/oci-qcow2" localhost/lqcow2
podman save -q --format docker-archive -o "$tmpdir/raw.tar" localhost/lraw

for ref in "oci:$tmpdir/oci-raw" "docker-archive:$tmpdir/raw.tar"; do
    podman_disk locate "$ref" > "$tmpdir/loc"
    file=$(field file < "$tmpdir/loc")
    offset=$(field offset < "$tmpdir/loc")
    [ "$offset" -gt 0 ] || fail "$ref: the disk is not at an offset ($offset)"
    cleanup_fn "kill_holders '$file'"

    uri=$(podman_disk serve "$ref" --pidfile "$tmpdir/pid")
    holders "$file" | grep -qx "$(cat "$tmpdir/pid")" || fail "$ref: the server does not hold $file"
    [ "$(nbdinfo_field "$uri" export-size)" = "$(stat -c %s "$tmpdir/raw.img")" ] || fail "$ref: size"
    nbdcopy "$uri" "$tmpdir/copy.img"
    cmp "$tmpdir/raw.img" "$tmpdir/copy.img" || fail "$ref: served bytes differ"
    kill "$(cat "$tmpdir/pid")"
    wait_until path_gone "$(socket_of "$uri")" || fail "$ref: socket left"
    wait_until nothing_holds "$file" || fail "$ref: a process still holds $file"

    podman_disk cp "$ref" "$tmpdir/cp.img"
    cmp "$tmpdir/raw.img" "$tmpdir/cp.img" || fail "$ref: cp output differs"
    allocated=$(( $(stat -c %b "$tmpdir/cp.img") * 512 ))
    [ "$allocated" -le $((5 * 1024 * 1024)) ] || fail "$ref: cp output not sparse ($allocated bytes)"
    rm -f "$tmpdir/copy.img" "$tmpdir/cp.img"
done

# A qcow2 disk in a layout: decoded by qemu-nbd, kept as stored by cp --format qcow2.
ref="oci:$tmpdir/oci-qcow2"
file=$(podman_disk locate "$ref" | field file)
cleanup_fn "kill_holders '$file'"
podman_disk serve "$ref" --run 'qemu-img compare -q -f raw '"$tmpdir/guest.raw"' "$uri"' ||
    fail "$ref: the guest view differs"
podman_disk serve "$ref" --no-decode --run 'nbdcopy "$uri" '"$tmpdir/stored.qcow2"
cmp "$tmpdir/q.qcow2" "$tmpdir/stored.qcow2" || fail "$ref: --no-decode bytes differ"
podman_disk cp --format qcow2 "$ref" "$tmpdir/cp.qcow2"
cmp "$tmpdir/q.qcow2" "$tmpdir/cp.qcow2" || fail "$ref: cp --format qcow2 differs"
podman_disk cp "$ref" "$tmpdir/cp.raw"
cmp "$tmpdir/guest.raw" "$tmpdir/cp.raw" || fail "$ref: cp to raw differs"
wait_until nothing_holds "$file" || fail "$ref: a process still holds $file"
echo PASS
