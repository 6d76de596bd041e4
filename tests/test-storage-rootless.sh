#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A rootless store: a test user (with subordinate uid/gid ranges) builds
# images with its own podman in its default store, and podman-disk run as
# that user finds them there.  A 0444 disk owned by 107:107 (a subordinate
# uid on the host) is read directly; a 0440 one only inside podman's user
# namespace: podman-disk says which command to run, and by default runs
# itself under "podman unshare".  Bytes are compared as the user.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
setup_rootless_user pdtest$$
pd () { as_user "$PODMAN_DISK" "$@"; }

make_raw_disk "$tmpdir/locked.img" 1
make_qcow2_disk "$tmpdir/open.qcow2"
chmod 0644 "$tmpdir/locked.img" "$tmpdir/open.qcow2"
for pair in locked:locked.img:0440 open:open.qcow2:0444; do
    IFS=: read -r name file mode <<< "$pair"
    ctx=$tmpdir/ctx-$name
    mkdir -p "$ctx"
    cp "$tmpdir/$file" "$ctx/"
    printf 'FROM scratch\nCOPY --chown=107:107 --chmod=%s %s /disk/\n' "$mode" "$file" \
        > "$ctx/Containerfile"
    chmod -R a+rX "$ctx"
    as_user podman build -q -t "localhost/$name" "$ctx" >/dev/null
done
graphroot=$(as_user podman info --format '{{.Store.GraphRoot}}')
[ "$graphroot" = "$home/.local/share/containers/storage" ] ||
    fail "the user's podman uses $graphroot"
before=$(store_fingerprint "$home/.local/share/containers" "$run/containers")

# The 0444 qcow2: readable as the user, no namespace needed.
pd locate open > "$tmpdir/loc"
cat "$tmpdir/loc"
file=$(field file < "$tmpdir/loc")
case $file in "$graphroot"/*) ;; *) fail "not in the user's store: $file" ;; esac
owner=$(stat -c %u "$file")
[ "$owner" != 107 ] && [ "$owner" != "$(id -u "$user")" ] ||
    fail "the disk is owned by $owner on the host, not a subordinate uid"
as_user qemu-img compare -f qcow2 "$tmpdir/open.qcow2" "$(pd json open)"

# The 0440 raw disk, not readable outside the namespace: the command to
# run, which does work.
pd_no_unshare () { as_user env PODMAN_DISK_UNSHARE=no "$PODMAN_DISK" "$@"; }
expect_error 1 "^podman-disk: locked: .*/disk/locked.img: Permission denied: the file belongs to a user of your rootless podman's user namespace; run the command in it: podman unshare $PODMAN_DISK locate locked$" \
    pd_no_unshare locate locked
hint=$(sed 's/.*run the command in it: //' "$tmpdir/err")
# (podman unshare itself touches the store's lock files: check before it.)
[ "$(store_fingerprint "$home/.local/share/containers" "$run/containers")" = "$before" ] ||
    fail "podman-disk changed the user's store"

as_user $hint > "$tmpdir/loc"
[ "$(field member < "$tmpdir/loc")" = /disk/locked.img ] || fail "the suggested command"
spec=$(as_user podman unshare "$PODMAN_DISK" json locked)
as_user podman unshare qemu-img compare -f raw "$tmpdir/locked.img" "$spec"
# Not readable outside indeed (so the above proves the namespace).
if as_user qemu-img compare -q -f raw "$tmpdir/locked.img" "$spec" 2>/dev/null; then
    fail "the 0440 disk is readable outside the user namespace: the test proves nothing"
fi

# By default podman-disk enters the namespace itself.
[ "$(pd json locked)" = "$spec" ] || fail "json locked through podman unshare"
pd locate --format json locked > "$tmpdir/loc.json"
grep -q '"member":"/disk/locked.img"' "$tmpdir/loc.json" || fail "locate locked"
pd list > "$tmpdir/list"
cat "$tmpdir/list"
grep -q "^localhost/locked:latest  *raw " "$tmpdir/list" || fail "list: locked"
grep -q "^localhost/open:latest  *qcow2 " "$tmpdir/list" || fail "list: open"
