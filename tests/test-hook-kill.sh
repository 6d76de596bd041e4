#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The export ends with the container's process even when poststop never
# runs: conmon is killed first (so nobody runs the cleanup), then the
# container's process with SIGKILL; the watcher sees the process go and
# stops the server, removing socket and record.  Also: a killed watcher
# takes its server with it, and exports --prune removes what is left.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"

make_raw_disk "$tmpdir/raw.img" 4
build_hook_image localhost/hook-raw "$tmpdir/raw.img"

start () {
    hpodman run -d --annotation io.podman-disk.export=true \
        localhost/hook-raw /bin/busybox sleep 1000
}

# ---- SIGKILL of the container, no poststop ----
id=$(start)
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
ctr=$(podman inspect -f '{{.State.Pid}}' "$id")
conmon=$(podman inspect -f '{{.State.ConmonPid}}' "$id")
nbdinfo --size "$(record_field "$id" uri)" >/dev/null || fail "not serving"
kill -KILL "$conmon"
kill -KILL "$ctr"
# A bound against a hang, not a timing assertion: it takes milliseconds.
assert_export_gone "$id" "$watcher" "$server"
assert_statedir_empty
hpodman rm -f -t 0 "$id" >/dev/null 2>&1 || true

# ---- SIGKILL through podman: poststop and the watcher race, both fine ----
id=$(start)
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman kill -s KILL "$id" >/dev/null
assert_export_gone "$id" "$watcher" "$server"
hpodman rm -f -t 0 "$id" >/dev/null

# ---- the watcher killed: the server follows (PR_SET_PDEATHSIG) ----
id=$(start)
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
kill -KILL "$watcher"
wait_until 30 pid_gone "$server" || fail "the server outlived its watcher"
# Its record stays, stale: exports says so, --prune removes it.
[ "$(exports --format json | jq -r '.[0].alive')" = false ] ||
    fail "exports: a dead export is alive"
exports --prune > "$tmpdir/pruned"
[ "$(cat "$tmpdir/pruned")" = "$id" ] || fail "--prune did not name $id"
assert_export_gone "$id" "$watcher" "$server"
# poststop after the prune has nothing to do, and says nothing.
hpodman rm -f -t 0 "$id" >/dev/null

# ---- --prune keeps live exports and cleans orphans ----
id=$(start)
touch "$statedir/0123456789ab.log" "$statedir/.0123456789ab.json.tmp"
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" \
    "$statedir/0123456789ab.sock"
[ -z "$(exports --prune)" ] || fail "--prune removed a live export"
[ -f "$statedir/$id.json" ] && [ -S "$statedir/$id.sock" ] || fail "--prune broke a live export"
for f in 0123456789ab.log .0123456789ab.json.tmp 0123456789ab.sock; do
    [ ! -e "$statedir/$f" ] || fail "--prune left $f"
done
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
hpodman rm -f -t 0 "$id" >/dev/null
assert_export_gone "$id" "$watcher" "$server"
assert_statedir_empty
exit 0
