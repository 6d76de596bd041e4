#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Stale exports from a previous boot (issue 7): records whose server pid
# now belongs to another process (pid 1 after a reboot, any pid with
# another start time) or to none, with their sockets left on disk as
# sockets nobody listens on, logs, and a socket in a shared volume.
# exports reports them dead; --prune removes exactly their files, prints
# their ids, kills nothing, leaves a live export and anything that is not
# a socket alone; a second --prune has nothing to do.
source "$(dirname "$0")/functions.sh"
requires jq --version
requires python3 --version
statedir=$tmpdir/state
volume=$tmpdir/volume
mkdir -p "$statedir" "$volume"
chmod 700 "$statedir"
exports () { podman_disk exports --state-dir "$statedir" "$@"; }

# mksock PATH: a Unix socket file nobody listens on (as a crash leaves it).
mksock () {
    python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' "$1"
}
# record ID PID START [VOLUME-SOCKET]: a record as the hook writes it.
record () {
    jq -n --arg id "$1" --argjson pid "$2" --argjson start "$3" \
          --arg dir "$statedir" --arg vol "${4:-}" '{
        container: $id, name: "disk", image: "localhost/x:latest",
        disk: "/disk/x.img", format: "raw", size: 1048576, server: "nbdkit",
        pid: $pid, pid_start: $start, watcher_pid: $pid, watcher_start: $start,
        container_pid: $pid,
        uri: ("nbd+unix:///?socket=" + $dir + "/" + $id + ".sock"),
        socket: ($dir + "/" + $id + ".sock") }
        + (if $vol == "" then {} else {volume_socket: $vol} end)' \
        > "$statedir/$1.json"
}

# A live export: a sleep called nbdkit (liveness also checks the server's
# name in its command line), its real start time, a socket.
bash -c 'exec -a nbdkit-live sleep 1000' &
live=$!
cleanup_fn "kill $live"
start=$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$live/stat)
L=111111111111aaaa
record $L "$live" "$start"; mksock "$statedir/$L.sock"; touch "$statedir/$L.log"

# Previous boot: pid 1 is init now (start time differs).
A=222222222222bbbb
record $A 1 999999999; mksock "$statedir/$A.sock"; echo "nbdkit: serving" > "$statedir/$A.log"
# A pid nobody has, with a socket in a shared volume (symlinked from
# the state directory, as the hook makes it).
B=333333333333cccc
record $B 2147483646 0 "$volume/disk.sock"; mksock "$volume/disk.sock"
ln -s "$volume/disk.sock" "$statedir/$B.sock"
# The live sleep's pid with another start time: a reused pid, not ours.
C=444444444444dddd
record $C "$live" $((start + 7)); mksock "$statedir/$C.sock"
# A stale record whose volume socket is now a user's regular file: kept.
D=555555555555eeee
echo "user data" > "$volume/data.sock"
record $D 2147483645 0 "$volume/data.sock"

exports --format json > "$tmpdir/list"
[ "$(jq -r 'map(.container + "=" + (.alive|tostring)) | join(" ")' "$tmpdir/list")" = \
  "$L=true $A=false $B=false $C=false $D=false" ] ||
    { cat "$tmpdir/list"; fail "liveness of stale records"; }

rc=0
exports --prune > "$tmpdir/pruned" 2> "$tmpdir/err" || rc=$?
sort "$tmpdir/pruned" > "$tmpdir/pruned.sorted"
printf '%s\n' $A $B $C > "$tmpdir/want"
# D's volume file is refused (not a socket): said so, its record may stay.
grep -q "$volume/data.sock is not the socket podman-disk made: left alone" "$tmpdir/err" ||
    { cat "$tmpdir/err"; fail "--prune did not say why it left $volume/data.sock"; }
grep -v "^$D\$" "$tmpdir/pruned.sorted" | cmp -s - "$tmpdir/want" ||
    { cat "$tmpdir/pruned"; fail "--prune named other exports"; }
for id in $A $B $C; do
    for suffix in json sock log; do
        [ ! -e "$statedir/$id.$suffix" ] && [ ! -L "$statedir/$id.$suffix" ] ||
            fail "--prune left $id.$suffix"
    done
done
[ ! -e "$volume/disk.sock" ] || fail "--prune left the stale socket in the volume"
[ "$(cat "$volume/data.sock")" = "user data" ] || fail "--prune removed a user's file"
[ -f "$statedir/$L.json" ] && [ -S "$statedir/$L.sock" ] && [ -f "$statedir/$L.log" ] ||
    fail "--prune touched the live export"
kill -0 "$live" || fail "--prune killed a process that was not an export's"
kill -0 1 || fail "pid 1?"

# Prune again: only D's refusal remains, nothing else to do.
exports --prune > "$tmpdir/pruned2" 2> "$tmpdir/err2" || true
grep -v "^$D\$" "$tmpdir/pruned2" | grep -q . && fail "a second --prune found more: $(cat "$tmpdir/pruned2")"
[ "$(ls "$statedir" | grep -v "^$D" | sort | tr '\n' ' ')" = "$L.json $L.log $L.sock " ] ||
    { ls -la "$statedir"; fail "the state directory holds more than the live export"; }
echo "ok - $(wc -l < "$tmpdir/want") stale exports pruned (exit $rc), the live one and a user's file kept"
