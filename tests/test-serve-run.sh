#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve --run (captive, exits with the command's status) and --foreground
# (stops on SIGTERM/SIGINT; reports a server that died), with no process or
# socket left after any of them.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
setup_store

make_raw_disk "$tmpdir/disk.img" 8
serve_image localhost/run-disk "$tmpdir/disk.img"

# The one-liner extract, and $uri/$nbd/$unixsocket in the environment.
podman_disk serve localhost/run-disk --run 'nbdcopy "$uri" '"$tmpdir/copy.img"
cmp "$tmpdir/disk.img" "$tmpdir/copy.img" || fail "--run nbdcopy copy differs"
podman_disk serve localhost/run-disk --run 'echo "$uri $nbd $unixsocket"' > "$tmpdir/env"
read -r uri nbd sock < "$tmpdir/env"
[ "$uri" = "$nbd" ] && [ "$(socket_of "$uri")" = "$sock" ] || fail "--run environment: $(cat "$tmpdir/env")"
path_gone "$sock" || fail "--run left its socket"
check_no_leftovers localhost/run-disk

# The command's exit status is serve's.
rc=0
podman_disk serve localhost/run-disk --run 'nbdinfo --size "$uri" >/dev/null; exit 3' || rc=$?
[ "$rc" = 3 ] || fail "--run exit status $rc, expected 3"
rc=0
podman_disk serve localhost/run-disk --run 'kill -TERM $$' || rc=$?
[ "$rc" = 143 ] || fail "--run killed by SIGTERM: status $rc, expected 143"
check_no_leftovers localhost/run-disk

# --foreground: the URI, then stays; SIGTERM stops it cleanly.  Each run
# writes files of its own: a background job truncates its output file only
# when it gets to run, so a reused name could still show the last run's URI.
for sig in TERM INT; do
    "$PODMAN_DISK" serve localhost/run-disk --foreground > "$tmpdir/fg-$sig.out" 2>"$tmpdir/fg-$sig.err" &
    fg=$!
    wait_until test -s "$tmpdir/fg-$sig.out" || fail "--foreground printed no URI"
    uri=$(head -n1 "$tmpdir/fg-$sig.out")
    qemu-img compare -q -f raw "$tmpdir/disk.img" "$uri" || fail "--foreground export differs"
    kill -$sig "$fg"
    rc=0; wait "$fg" || rc=$?
    [ "$rc" = 0 ] || fail "--foreground exited $rc after SIG$sig: $(cat "$tmpdir/fg-$sig.err")"
    path_gone "$(socket_of "$uri")" || fail "--foreground left its socket after SIG$sig"
    check_no_leftovers localhost/run-disk
done

# --foreground, the server is killed: serve says so and cleans up.
"$PODMAN_DISK" serve localhost/run-disk --foreground --pidfile "$tmpdir/pid" > "$tmpdir/fg-kill.out" 2>"$tmpdir/fg.err" &
fg=$!
wait_until test -s "$tmpdir/fg-kill.out" || fail "--foreground printed no URI"
uri=$(head -n1 "$tmpdir/fg-kill.out")
kill -9 "$(cat "$tmpdir/pid")"
rc=0; wait "$fg" || rc=$?
[ "$rc" = 1 ] || fail "--foreground exited $rc when its server was killed"
grep -q '^podman-disk: nbdkit exited (killed by KILL)' "$tmpdir/fg.err" || fail "message: $(cat "$tmpdir/fg.err")"
path_gone "$(socket_of "$uri")" || fail "socket left after the server was killed"
path_gone "$tmpdir/pid" || fail "pidfile left after the server was killed"
check_no_leftovers localhost/run-disk

# Relative --socket and --pidfile: the URI names the socket absolutely
# (a client may run elsewhere), and the server keeps no directory busy.
mkdir "$tmpdir/cwd"
(cd "$tmpdir/cwd" && podman_disk serve localhost/run-disk --socket rel.sock \
     --run 'cd / && nbdinfo --size "$uri"') > "$tmpdir/size" ||
    fail "--run with a relative --socket, from another directory"
[ "$(cat "$tmpdir/size")" = "$(stat -c %s "$tmpdir/disk.img")" ] || fail "size: $(cat "$tmpdir/size")"
uri=$(cd "$tmpdir/cwd" && podman_disk serve localhost/run-disk --socket rel.sock --pidfile rel.pid)
[ "$uri" = "nbd+unix:///?socket=$tmpdir/cwd/rel.sock" ] || fail "relative --socket: URI $uri"
[ "$(readlink "/proc/$(cat "$tmpdir/cwd/rel.pid")/cwd")" = / ] ||
    fail "the server's directory: $(readlink "/proc/$(cat "$tmpdir/cwd/rel.pid")/cwd")"
kill "$(cat "$tmpdir/cwd/rel.pid")"
wait_until path_gone "$tmpdir/cwd/rel.sock" || fail "relative --socket left"
wait_until path_gone "$tmpdir/cwd/rel.pid" || fail "relative --pidfile left"
check_no_leftovers localhost/run-disk

# serve killed while its server starts (here an nbdkit that waits for the
# test's gate): nobody would know of the export, so none is left.
mkdir "$tmpdir/slow"
printf '#!/bin/sh\n[ "$1" = --version ] || until [ -e %s ]; do sleep 0.05; done\nexec %s "$@"\n' \
    "$tmpdir/slow/gate" "$(command -v nbdkit)" > "$tmpdir/slow/nbdkit"
chmod +x "$tmpdir/slow/nbdkit"
cleanup_fn "touch '$tmpdir/slow/gate'"
PATH="$tmpdir/slow:$PATH" "$PODMAN_DISK" serve localhost/run-disk > "$tmpdir/slow.out" 2>&1 &
caller=$!
# (the supervisor holds the disk while its server waits at the gate)
supervisor_started () { [ -n "$(holders "$backing" | grep -vx "$caller")" ]; }
wait_until supervisor_started || fail "no supervisor started: $(cat "$tmpdir/slow.out")"
kill -TERM "$caller"
wait "$caller" 2>/dev/null || true
touch "$tmpdir/slow/gate"
wait_until nothing_holds "$backing" || fail "serve killed while starting left $(holders "$backing")"
if grep -q nbd "$tmpdir/slow.out"; then fail "a URI was printed: $(cat "$tmpdir/slow.out")"; fi
check_no_leftovers localhost/run-disk

# serve itself killed with SIGKILL: its server goes too (the kernel's
# parent-death signal).  Nobody is left to remove the socket file then: the
# next serve does, as nothing listens on it.  The same for the supervisor
# of a background serve.
"$PODMAN_DISK" serve localhost/run-disk --foreground > "$tmpdir/fg-self.out" &
fg=$!
wait_until test -s "$tmpdir/fg-self.out" || fail "--foreground printed no URI"
kill -9 "$fg"
wait "$fg" 2>/dev/null || true
wait_until nothing_holds "$backing" || fail "the server outlived a killed serve"
stale=$(socket_of "$(head -n1 "$tmpdir/fg-self.out")")
uri=$(podman_disk serve localhost/run-disk --pidfile "$tmpdir/bg.pid")
supervisor=$(ps -o ppid= -p "$(cat "$tmpdir/bg.pid")" | tr -d ' ')
path_gone "$stale" || fail "the stale socket of a killed serve was kept: $stale"
kill -9 "$supervisor"
wait_until nothing_holds "$backing" || fail "the server outlived its killed supervisor"
stale=$(socket_of "$uri")
[ -S "$stale" ] || fail "the test proves nothing: the socket went with the supervisor"
podman_disk serve localhost/run-disk --run true
path_gone "$stale" || fail "the stale socket of a killed supervisor was kept: $stale"
rm -f "$tmpdir/bg.pid"
check_no_leftovers localhost/run-disk
echo PASS
