#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve --writable=persistent:DEST: an NBD consumer's writes persist in
# DEST, a clone of the disk made on first use and served read-write by
# qemu-nbd; served again, DEST keeps them; the image's own file is never
# written, and the image is held while the clone exists.
source "$(dirname "$0")/functions.sh"
requires_root
requires command podman --version
requires qemu-img --version
requires qemu-io --version
requires qemu-nbd --version
setup_store

pd () { podman_disk --root "$store/root" --runroot "$store/runroot" "$@"; }

make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
build_disk_image localhost/persist:v1 "$tmpdir/disk.qcow2"
make_raw_disk "$tmpdir/other.img" 1
build_disk_image localhost/persist-other:v1 "$tmpdir/other.img"
layer=$(pd locate localhost/persist:v1 | field file)
before=$(sha256sum < "$layer")
V=$tmpdir/vms
mkdir -p "$V"
cleanup_fn "pd release '$V/p.qcow2' >/dev/null 2>&1 || :"

# First use: the clone is made, written through NBD, writes flushed.
pd serve --writable=persistent:"$V/p.qcow2" localhost/persist:v1 \
    --run 'qemu-io -f raw -c "write -P 0x5a 1M 64k" -c flush "$uri"' >/dev/null
[ -f "$V/p.qcow2" ] || fail "no clone made"
qemu-img info "$V/p.qcow2" | grep -q '^backing file format: qcow2$' ||
    fail "DEST is not a clone of the disk: $(qemu-img info "$V/p.qcow2")"
podman rmi localhost/persist:v1 >/dev/null 2>"$tmpdir/err" && fail "podman rmi removed the image of a clone"
grep -q "image is in use" "$tmpdir/err" || fail "podman rmi: $(cat "$tmpdir/err")"

# Served again: the write is there, and the rest is the image's disk.
pd serve --writable=persistent:"$V/p.qcow2" localhost/persist:v1 \
    --run 'qemu-io -f raw -c "read -P 0x5a 1M 64k" "$uri" && nbdcopy "$uri" "'"$tmpdir"'/now.raw"' \
    > "$tmpdir/out" || fail "second serve: $(cat "$tmpdir/out")"
grep -q "read 65536/65536 bytes" "$tmpdir/out" || fail "the write did not persist: $(cat "$tmpdir/out")"
cmp -n $((1024 * 1024)) "$tmpdir/guest.raw" "$tmpdir/now.raw" || fail "bytes before the write changed"
cmp -i $((1024 * 1024 + 65536)) "$tmpdir/guest.raw" "$tmpdir/now.raw" || fail "bytes after the write changed"
# The clone's guest view holds it without podman-disk too.
qemu-io -f qcow2 -r -c "read -P 0x5a 1M 64k" "$V/p.qcow2" | grep -q "read 65536/65536" ||
    fail "the clone file does not hold the write"
[ "$(sha256sum < "$layer")" = "$before" ] || fail "the image's layer file changed"

# Errors, one line each: a clone of another image, a bad value, with
# --no-decode or the throw-away --writable.
expect_error 1 "is a clone of another disk" \
    pd serve --writable=persistent:"$V/p.qcow2" localhost/persist-other:v1 --run true
# usage ARGS...: serve exits 2 and its first line says $why.
usage () {
    local rc=0
    pd serve "$@" --run true 2>"$tmpdir/err" || rc=$?
    [ $rc = 2 ] && head -1 "$tmpdir/err" | grep -q "^podman-disk serve: $why" ||
        fail "serve $*: exit $rc: $(cat "$tmpdir/err")"
}
why="--writable takes no value, or persistent:DEST, not 'bogus'"
usage --writable=bogus localhost/persist:v1
why="--writable=persistent:DEST serves the guest view: not with --no-decode"
usage --no-decode --writable=persistent:"$V/q.qcow2" localhost/persist:v1
why="--writable and --writable=persistent:DEST exclude each other"
usage --writable --writable=persistent:"$V/q.qcow2" localhost/persist:v1
[ ! -e "$V/q.qcow2" ] || fail "a refused serve made a clone"
! pgrep -f "qemu-nbd.*$V" >/dev/null || fail "a qemu-nbd was left running"

pd release "$V/p.qcow2"
podman rmi localhost/persist:v1 >/dev/null || fail "podman rmi after release"
echo PASS
