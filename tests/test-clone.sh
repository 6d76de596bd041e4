#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk clone, clones, release, commit without a guest: the clone is
# a qcow2 over the disk in place whose guest view is the image's disk; the
# image is held (podman rmi refuses) until release; a base removed anyway
# is refused in one line; --size grows; hostile images are refused in
# json's words; DEST is never an existing file, a symlink or a device.
source "$(dirname "$0")/functions.sh"
requires_root
requires command podman --version
requires qemu-img --version
setup_store

# With the store on the line: podman-disk hands it on to podman.
pd () { podman_disk --root "$store/root" --runroot "$store/runroot" "$@"; }

make_qcow2_disk "$tmpdir/disk.qcow2"
build_disk_image localhost/clone-q:v1 "$tmpdir/disk.qcow2"
make_raw_disk "$tmpdir/disk.img" 4
build_disk_image localhost/clone-raw:v1 "$tmpdir/disk.img"
V=$tmpdir/vms
mkdir -p "$V"

# A qcow2 clone: a few hundred KiB, every format named, the guest view
# equal to the image's disk.
pd clone localhost/clone-q:v1 "$V/q.qcow2"
qemu-img info --backing-chain "$V/q.qcow2" > "$tmpdir/info"
grep -q '^backing file: json:{"driver":"qcow2"' "$tmpdir/info" || fail "no qcow2 json: backing: $(cat "$tmpdir/info")"
grep -q '^backing file format: qcow2$' "$tmpdir/info" || fail "the backing format is not named"
[ "$(stat -c %s "$V/q.qcow2")" -lt $((1024 * 1024)) ] || fail "the clone is not small"
qemu-img compare -f qcow2 -F qcow2 "$tmpdir/disk.qcow2" "$V/q.qcow2" || fail "the clone's guest sees another disk"
# qemu-img commit would write into the store: the base is read-only.
qemu-img commit "$V/q.qcow2" 2>"$tmpdir/err" && fail "qemu-img commit wrote into the base"
grep -q "read-only" "$tmpdir/err" || fail "qemu-img commit: $(cat "$tmpdir/err")"

# A raw clone, compared with podman-disk cp of the same image.
pd clone localhost/clone-raw:v1 "$V/raw.qcow2"
grep -q '^backing file format: raw$' <(qemu-img info "$V/raw.qcow2") || fail "raw backing format"
pd cp localhost/clone-raw:v1 "$tmpdir/raw-copy.img"
qemu-img compare -f raw -F qcow2 "$tmpdir/raw-copy.img" "$V/raw.qcow2" || fail "the raw clone differs from cp"

# The image is held: podman rmi refuses.
podman rmi localhost/clone-q:v1 >/dev/null 2>"$tmpdir/err" && fail "podman rmi removed a held image"
grep -q "image is in use" "$tmpdir/err" || fail "podman rmi: $(cat "$tmpdir/err")"
pd clones > "$tmpdir/clones"
grep -qE "^$V/q.qcow2 +localhost/clone-q:v1 +16 MiB +[0-9.]+ KiB +intact$" "$tmpdir/clones" ||
    fail "clones: $(cat "$tmpdir/clones")"
pd clones --format json > "$tmpdir/clones.json"
python3 -c 'import json, sys; v = {c["dest"]: c for c in json.load(open(sys.argv[1]))}
c = v[sys.argv[2]]; assert c["base_intact"] and c["virtual_size"] == 16777216 and c["base_format"] == "qcow2", c' \
    "$tmpdir/clones.json" "$V/q.qcow2" || fail "clones --format json: $(cat "$tmpdir/clones.json")"

# holds COUNT DEST: podman has COUNT holds of DEST (io.podman-disk.clone).
holds () {
    local n
    n=$(clone_holds "$2")
    [ "$n" = "$1" ] || fail "$2: $n holds, expected $1: $(podman ps -a --filter "label=io.podman-disk.clone=$2")"
}
# A clone removed without release leaves its hold: a new clone of that
# path replaces the stale hold (podman's name is taken), one hold left.
pd clone localhost/clone-raw:v1 "$V/again.qcow2"
rm "$V/again.qcow2"
pd clone localhost/clone-raw:v1 "$V/again.qcow2" || fail "clone over a stale hold failed"
holds 1 "$V/again.qcow2"
pd release "$V/again.qcow2"
holds 0 "$V/again.qcow2"
rm "$V/again.qcow2"
# qemu-img fails while podman makes the hold: no clone, no hold, and the
# error is qemu-img's.
mkdir "$tmpdir/badbin"
printf '#!/bin/sh\necho "qemu-img says no" >&2\nexit 1\n' > "$tmpdir/badbin/qemu-img"
chmod +x "$tmpdir/badbin/qemu-img"
PATH=$tmpdir/badbin:$PATH expect_error 1 '^podman-disk: qemu-img create failed: qemu-img says no$' \
    pd clone localhost/clone-raw:v1 "$V/failed.qcow2"
[ ! -e "$V/failed.qcow2" ] || fail "a failed clone left its file"
holds 0 "$V/failed.qcow2"
[ -z "$(ls -A "$V" | grep -v -e '^q.qcow2$' -e '^raw.qcow2$')" ] || fail "temporary files left: $(ls -A "$V")"

# --size grows, never shrinks.
pd clone --size 64M localhost/clone-q:v1 "$V/big.qcow2"
[ "$(qemu-img info --output json "$V/big.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')" = 67108864 ] ||
    fail "--size 64M did not make a 64 MiB disk"
expect_error 1 '^podman-disk: --size 1048576 is smaller than the disk \(16777216 bytes\): a clone can only be larger than its image$' \
    pd clone --size 1M localhost/clone-q:v1 "$V/small.qcow2"
rc=0; pd clone --size 1X localhost/clone-q:v1 "$V/small.qcow2" 2>"$tmpdir/err" || rc=$?
[ $rc = 2 ] && grep -q "^podman-disk clone: --size must be a number" "$tmpdir/err" ||
    fail "--size 1X: exit $rc, $(cat "$tmpdir/err")"
[ ! -e "$V/small.qcow2" ] || fail "a refused clone left its file"

# DEST: never an existing file, never through a symlink, never a device.
echo keep > "$V/existing"
expect_error 1 "^podman-disk: $V/existing exists: a clone is never written over a file" \
    pd clone localhost/clone-q:v1 "$V/existing"
[ "$(cat "$V/existing")" = keep ] || fail "the existing file was changed"
ln -s existing "$V/link"
expect_error 1 "^podman-disk: $V/link is a symbolic link: a clone is never created through one" \
    pd clone localhost/clone-q:v1 "$V/link"
ln -s nowhere "$V/dangling"
expect_error 1 "^podman-disk: $V/dangling is a symbolic link" pd clone localhost/clone-q:v1 "$V/dangling"
[ ! -e "$V/nowhere" ] || fail "the clone was made through a dangling symlink"
if truncate -s 8M "$tmpdir/loop.img" && loop=$(losetup --find --show "$tmpdir/loop.img" 2>/dev/null); then
    cleanup_fn "losetup -d $loop"
    expect_error 1 "^podman-disk: $loop is a block device: a clone is a qcow2 file that grows" \
        pd clone localhost/clone-q:v1 "$loop"
else
    echo "no loop device here: the block device case is left out"
fi
# Nothing of ours is left in the directory.
ls -A "$V" | grep -q podman-disk-clone && fail "a temporary file was left: $(ls -A "$V")"

# Hostile images: refused by clone in json's words, before qemu-img runs.
qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$tmpdir/backing.qcow2" 1M
build_disk_image localhost/hostile-backing "$tmpdir/backing.qcow2"
qemu-img create -q -f qcow2 -o data_file="$tmpdir/ext.raw" "$tmpdir/datafile.qcow2" 1M
build_disk_image localhost/hostile-datafile "$tmpdir/datafile.qcow2"
for h in hostile-backing hostile-datafile; do
    pd json localhost/$h >/dev/null 2>"$tmpdir/json.err" && fail "json accepted $h"
    expect_error 1 "would open a host path: refused" pd clone localhost/$h "$V/$h.qcow2"
    cmp "$tmpdir/json.err" "$tmpdir/err" || fail "$h: clone says $(cat "$tmpdir/err"), json $(cat "$tmpdir/json.err")"
    [ ! -e "$V/$h.qcow2" ] || fail "$h: a clone was made"
done

# A base removed anyway: every command that touches the clone says so.
pd clone localhost/clone-raw:v1 "$V/doomed.qcow2"
podman rmi --force localhost/clone-raw:v1 >/dev/null
gone="^podman-disk: $V/doomed.qcow2: its base /.* is gone \(the image was removed anyway, podman rmi --force\?\): the clone cannot be used, make a new one$"
expect_error 1 "$gone" pd clones "$V/doomed.qcow2"
expect_error 1 "$gone" pd commit "$V/doomed.qcow2" localhost/never
podman image exists localhost/never && fail "commit built an image of a broken clone"

# A clone of an archive: no hold, its record is the xattr on the clone.
podman save --format docker-archive -o "$tmpdir/archive.tar" localhost/clone-q:v1 >/dev/null
pd clone "docker-archive:$tmpdir/archive.tar" "$V/arch.qcow2"
qemu-img compare -f qcow2 -F qcow2 "$tmpdir/disk.qcow2" "$V/arch.qcow2" || fail "the archive clone differs"
pd clones "$V/arch.qcow2" >/dev/null || fail "the archive clone is not intact"
expect_error 1 "has no hold in this store" pd release "$V/arch.qcow2"
touch -d '2001-01-01' "$tmpdir/archive.tar"
expect_error 1 "^podman-disk: $V/arch.qcow2: its base $tmpdir/archive.tar is not the file the clone was made on" \
    pd clones "$V/arch.qcow2"

# release drops the hold: rmi then works, and the clone's base is gone.
pd release "$V/q.qcow2" "$V/big.qcow2"
podman rmi localhost/clone-q:v1 >/dev/null || fail "podman rmi refused after release"
expect_error 1 "its base /.* is gone" pd clones "$V/q.qcow2"
# A hold whose clone was deleted: --prune removes it.
build_disk_image localhost/clone-p:v1 "$tmpdir/disk.img"
pd clone localhost/clone-p:v1 "$V/p.qcow2"
rm "$V/p.qcow2"
pd clones | grep -qE "^$V/p.qcow2 .* clone-gone$" || fail "clones does not show the deleted clone"
[ "$(pd clones --prune)" = "$V/p.qcow2" ] || fail "--prune did not name the deleted clone"
podman rmi localhost/clone-p:v1 >/dev/null || fail "podman rmi refused after --prune"
echo "clone OK"
