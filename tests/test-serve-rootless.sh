#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve as a rootless user, on the user's own store: a 0440 disk owned by a
# subordinate uid (readable only in podman's user namespace) is served by a
# server inside that namespace, through a socket the user reaches from
# outside; stopping it leaves nothing.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
setup_rootless_user pdserve$$

make_raw_disk "$tmpdir/locked.img" 4
chmod 0644 "$tmpdir/locked.img"
ctx=$tmpdir/ctx
mkdir -p "$ctx"
cp "$tmpdir/locked.img" "$ctx/"
printf 'FROM scratch\nCOPY --chown=107:107 --chmod=0440 locked.img /disk/\n' > "$ctx/Containerfile"
chmod -R a+rX "$ctx"
as_user podman build -q -t localhost/locked "$ctx" >/dev/null

# Really not readable by the user outside the namespace.
file=$(as_user podman unshare "$PODMAN_DISK" locate locked | field file)
if as_user cat "$file" >/dev/null 2>&1; then
    fail "the 0440 disk is readable outside the user namespace: the test proves nothing"
fi

as_user "$PODMAN_DISK" serve localhost/locked --pidfile "$run/serve.pid" > "$tmpdir/uri"
uri=$(cat "$tmpdir/uri")
sock=$(socket_of "$uri")
case $sock in "$run"/podman-disk/*.sock) ;; *) fail "socket not in the user's runtime dir: $uri" ;; esac
[ "$(stat -c %U "$sock")" = "$user" ] || fail "the socket is not the user's"
[ "$(as_user nbdinfo --json "$uri" | jq -r '.exports[0].is_read_only')" = true ] || fail "not read-only"
as_user nbdcopy "$uri" "$run/copy.img"
cmp "$tmpdir/locked.img" "$run/copy.img" || fail "bytes served to the user differ"

# The user stops it with the pid of the pidfile.
pid=$(cat "$run/serve.pid")
as_user kill "$pid"
wait_until process_gone "$pid" || fail "the server is still running"
wait_until path_gone "$sock" || fail "socket left"
wait_until path_gone "$run/serve.pid" || fail "pidfile left"

# --foreground, stopped by a kill of the pid the user started: podman
# unshare passes no signal on, podman-disk outside hands it to the one
# inside, which stops its server.
as_user "$PODMAN_DISK" serve localhost/locked --foreground > "$tmpdir/fg.out" 2> "$tmpdir/fg.err" &
fg=$!
wait_until test -s "$tmpdir/fg.out" || fail "--foreground printed no URI: $(cat "$tmpdir/fg.err")"
uri=$(head -n1 "$tmpdir/fg.out")
as_user nbdinfo --size "$uri" > /dev/null || fail "--foreground: no export"
# The podman-disk the user started: runuser's child (the one inside is
# podman's; by its parent, as under valgrind it has another name).
pd=
for p in $(ps -u "$user" -o pid=); do
    [ "$(ps -o comm= -p "$(ps -o ppid= -p "$p" | tr -d ' ')")" = runuser ] && pd=$p
done
[ -n "$pd" ] || fail "no podman-disk under runuser: $(pgrep -a -u "$user")"
as_user kill -TERM "$pd"
rc=0; wait "$fg" || rc=$?
[ "$rc" = 0 ] || fail "--foreground exited $rc after SIGTERM: $(cat "$tmpdir/fg.err")"
wait_until path_gone "$(socket_of "$uri")" || fail "--foreground: socket left after SIGTERM"
users_servers () { ps -u "$user" -o pid=,comm= | grep -E ' (nbdkit|qemu-nbd|podman-disk)$' || true; }
users_servers_gone () { [ -z "$(users_servers)" ]; }
wait_until users_servers_gone || fail "left running after SIGTERM: $(users_servers)"

# --run too, from outside, with the client inside the command.
as_user "$PODMAN_DISK" serve localhost/locked --run 'nbdcopy "$uri" '"$run/run.img"
cmp "$tmpdir/locked.img" "$run/run.img" || fail "--run copy differs"
[ -z "$(ls "$run/podman-disk")" ] || fail "sockets left: $(ls "$run/podman-disk")"
echo PASS
