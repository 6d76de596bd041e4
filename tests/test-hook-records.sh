#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Records planted in the hook's state directory (issue 10, class 4).
# exports --prune and the hook's poststop kill the processes and remove the
# sockets a record names.  So:
#   - a state directory someone else could write (group- or world-writable,
#     or owned by another user) is refused, with one clear line, and
#     nothing it names is touched;
#   - in a good directory, a record is still not proof: a planted record
#     naming an unrelated process of root's (a sleep, with its real start
#     time, even one that calls itself nbdkit) and a live socket outside
#     the state directory gets neither killed nor unlinked.
source "$(dirname "$0")/functions.sh"
requires_root
requires jq --version
requires python3 --version
requires useradd --help
source "$testsdir/hook-state.sh"
mkdir -p "$statedir" "$tmpdir/elsewhere"
chmod 0700 "$statedir"

# Root's own processes that no record may have killed: a plain sleep and
# one that says it is nbdkit on its command line.
sleep 1000 &
victim=$!
bash -c 'exec -a nbdkit sleep 1000' &
named=$!
cleanup_fn "kill $victim $named 2>/dev/null"
start_of () { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat"; }
# A live socket outside the state directory (a service's).
live=$tmpdir/elsewhere/live.sock
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
time.sleep(1000)' "$live" &
listener=$!
cleanup_fn "kill $listener 2>/dev/null"
wait_until 30 test -S "$live" || fail "no live socket"

# plant ID PID: a record as the hook writes it, naming PID as server,
# watcher and container, and the live socket as its volume socket.
plant () {
    jq -n --arg id "$1" --argjson pid "$2" --argjson start "$(start_of "$2")" \
          --arg dir "$statedir" --arg vol "$live" '{
        container: $id, name: "disk", image: "localhost/x:latest",
        disk: "/disk/x.img", format: "raw", size: 1048576, server: "nbdkit",
        pid: $pid, pid_start: $start, watcher_pid: $pid, watcher_start: $start,
        container_pid: $pid, volume_socket: $vol,
        uri: ("nbd+unix:///?socket=" + $dir + "/" + $id + ".sock"),
        socket: ($dir + "/" + $id + ".sock") }' > "$statedir/$1.json"
}
poststop () {
    jq -n --arg id "$1" --arg b "$tmpdir" \
        '{ociVersion: "1.0.2", id: $id, status: "stopped", bundle: $b}' |
        podman_disk hook --state-dir "$statedir" poststop
}
# Nothing named was touched: both processes run, the socket is there and
# still answers.
untouched () {
    kill -0 "$victim" || fail "$1: root's sleep was killed"
    kill -0 "$named" || fail "$1: root's 'nbdkit' sleep was killed"
    [ -S "$live" ] || fail "$1: the live socket elsewhere was unlinked"
    python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$live" ||
        fail "$1: the live socket does not answer"
}

A=aaaaaaaaaaaa$$
B=bbbbbbbbbbbb$$

# ---- state directories others can write ----
for how in "chmod 0777" "chmod 0770" "chown pdrec$$"; do
    chmod 0700 "$statedir"
    if [ "$how" = "chown pdrec$$" ]; then
        useradd -M -s /bin/false "pdrec$$" || skip "useradd failed"
        cleanup_fn "userdel -f pdrec$$ 2>/dev/null"
        chown "pdrec$$" "$statedir"
        owner=$(id -u "pdrec$$") mode=0700
    else
        $how "$statedir"
        owner=0 mode=0${how#chmod 0}
    fi
    plant "$A" "$victim"
    plant "$B" "$named"
    line="$statedir is not a directory owned by uid 0 and writable by it only \\(owner $owner, mode $mode\\): its export records are not trusted; remove it or give another --state-dir"
    expect_error 1 "^podman-disk: $line\$" exports --prune
    expect_error 1 "^podman-disk: $line\$" exports
    expect_error 1 "^podman-disk: cannot stop the export of container ${A:0:12}: $line\$" poststop "$A"
    untouched "$how"
    [ -f "$statedir/$A.json" ] && [ -f "$statedir/$B.json" ] || fail "$how: records removed"
    echo "ok - a state directory after '$how': refused, nothing named touched"
done
chown 0 "$statedir"
chmod 0700 "$statedir"

# ---- a good directory, records that name what is not the export's ----
rc=0
exports --prune > "$tmpdir/pruned" 2> "$tmpdir/err" || rc=$?
untouched "exports --prune"
# A's 'server' is a plain sleep: not alive as an export, pruned, its
# volume socket refused; B's calls itself nbdkit: alive, left.
grep -qx "podman-disk: $live is served by a process podman-disk does not know: left alone" \
    "$tmpdir/err" || { cat "$tmpdir/err"; fail "--prune did not say why it left $live"; }
[ "$rc" = 1 ] || fail "--prune exit $rc"
[ -f "$statedir/$B.json" ] || fail "--prune removed a live-looking record"
poststop "$B" 2> "$tmpdir/err" || :
untouched "poststop"
grep -q "$live is served by a process podman-disk does not know: left alone" "$tmpdir/err" ||
    { cat "$tmpdir/err"; fail "poststop did not say why it left $live"; }
echo "ok - planted records in a good directory: no process killed, no live socket unlinked"
