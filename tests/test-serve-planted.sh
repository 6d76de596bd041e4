#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Files root's serve makes, in places another user can write (issue 10,
# class 1), with a real second user planting symlinks in a shared sticky
# directory:
#   - --pidfile there, over a symlink to root's file or a dangling one:
#     the pidfile is written whole and replaces the symlink, the file it
#     points to is unchanged (sha256), the dangling target never created;
#     the server's pid is in the pidfile, which goes when the server stops;
#   - a writable export (qemu-nbd --snapshot) with TMPDIR set to that
#     shared directory: the server gets a private directory of its own
#     instead, gone once it serves; nothing is made in the caller's TMPDIR.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires qemu-io --version
requires useradd --help
requires runuser --help
setup_store

user=pdplant$$
useradd -M -s /bin/sh "$user" || skip "useradd $user failed"
cleanup_fn "userdel -f $user 2>/dev/null"
cleanup_fn "ps -o pid= -u $user | xargs -r kill -9"
chmod 0755 "$tmpdir"
shared=$tmpdir/shared
mkdir "$shared" "$tmpdir/root-only"
chmod 1777 "$shared"
echo "root's precious file" > "$tmpdir/root-only/target"
want=$(sha256sum < "$tmpdir/root-only/target")
as_attacker () { runuser -u "$user" -- "$@"; }
as_attacker ln -s "$tmpdir/root-only/target" "$shared/pid"
as_attacker ln -s "$tmpdir/root-only/created" "$shared/dangling"
as_attacker ln -s "$tmpdir/root-only/target" "$shared/fg.pid"

make_raw_disk "$tmpdir/disk.img" 8
serve_image localhost/planted "$tmpdir/disk.img"
target_unchanged () {
    [ "$(sha256sum < "$tmpdir/root-only/target")" = "$want" ] ||
        fail "$1: root's file was written through the planted symlink"
    [ ! -e "$tmpdir/root-only/created" ] || fail "$1: the dangling symlink's target was created"
}

# ---- --pidfile over planted symlinks ----
for name in pid dangling; do
    uri=$(podman_disk serve --pidfile "$shared/$name" localhost/planted) ||
        fail "serve --pidfile over a planted symlink"
    target_unchanged "--pidfile $name"
    [ -f "$shared/$name" ] && [ ! -L "$shared/$name" ] ||
        fail "--pidfile $name: not a file of its own"
    [ "$(stat -c %u "$shared/$name")" = 0 ] || fail "--pidfile $name: not root's"
    pid=$(cat "$shared/$name")
    [ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$(command -v nbdkit)")" ] ||
        fail "--pidfile $name: $pid is not the server"
    nbdcopy "$uri" "$tmpdir/copy.img"
    cmp "$tmpdir/disk.img" "$tmpdir/copy.img" || fail "--pidfile $name: other bytes"
    kill "$pid"
    wait_until path_gone "$shared/$name" || fail "--pidfile $name: left after the server stopped"
    target_unchanged "--pidfile $name, stopped"
done
"$PODMAN_DISK" serve --foreground --pidfile "$shared/fg.pid" localhost/planted \
    > "$tmpdir/fg.out" 2> "$tmpdir/fg.err" &
fg=$!
wait_until test -s "$tmpdir/fg.out" || fail "--foreground printed no URI: $(cat "$tmpdir/fg.err")"
target_unchanged "--foreground --pidfile"
[ ! -L "$shared/fg.pid" ] && [ "$(cat "$shared/fg.pid")" -gt 1 ] || fail "--foreground --pidfile"
kill -TERM "$fg"
wait "$fg" || fail "--foreground exit"
path_gone "$shared/fg.pid" || fail "--foreground --pidfile left"
check_no_leftovers localhost/planted
echo "ok 1 - --pidfile over planted symlinks: written whole, nothing written through them"

# ---- a writable export's overlay, not in the caller's TMPDIR ----
before=$(ls -A "$shared" | sort | tr '\n' ' ')
TMPDIR=$shared "$PODMAN_DISK" serve --foreground --writable --server qemu-nbd \
    --pidfile "$tmpdir/w.pid" localhost/planted > "$tmpdir/w.out" 2> "$tmpdir/w.err" &
w=$!
cleanup_fn "kill $w 2>/dev/null"
wait_until test -s "$tmpdir/w.out" || fail "writable: no URI: $(cat "$tmpdir/w.err")"
uri=$(head -n1 "$tmpdir/w.out")
server_tmp=$(tr '\0' '\n' < "/proc/$(cat "$tmpdir/w.pid")/environ" | sed -n 's/^TMPDIR=//p')
case $server_tmp in
    /var/tmp/podman-disk-server.*) ;;
    *) fail "writable: the server's TMPDIR is '$server_tmp'" ;;
esac
path_gone "$server_tmp" || fail "writable: the server's private directory $server_tmp is still there"
qemu-io -f raw -c 'write -P 0x5a 0 64k' -c 'read -P 0x5a 0 64k' "$uri" > "$tmpdir/io" ||
    { cat "$tmpdir/io"; fail "writable: writes do not read back"; }
[ "$(ls -A "$shared" | sort | tr '\n' ' ')" = "$before" ] ||
    fail "writable: something was made in the caller's TMPDIR: $(ls -A "$shared")"
kill -TERM "$w"
wait "$w" || fail "writable: --foreground exit"
cmp "$tmpdir/disk.img" <(podman_disk serve localhost/planted --run 'nbdcopy "$uri" -') ||
    fail "writable: the image changed"
check_no_leftovers localhost/planted
echo "ok 2 - a writable export's overlay: in a private directory, not the caller's TMPDIR"
