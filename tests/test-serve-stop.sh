#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Background serves are recorded with the hook's exports (issue 12):
# exports lists them (kind serve, the right URI: the bytes read through it
# are the disk's), stop stops one by image, socket or id, or --all; after
# it no server, no supervisor, no socket, no record, no pid file.  A
# supervisor killed by SIGKILL leaves a dead record and its pid file:
# exports --prune, or the next serve, removes them.  A name that matches
# nothing or several exports stops nothing, in one line.
#
# /run/podman-disk is shared with whatever else runs: only our own exports
# (by id) are looked at there, and --all runs on a private --state-dir.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires jq --version
setup_store

raw=localhost/stop-raw-$$
qcow=localhost/stop-qcow2-$$
make_raw_disk "$tmpdir/disk.img" 8
make_qcow2_disk "$tmpdir/disk.qcow2"
build_disk_image "$qcow" "$tmpdir/disk.qcow2"
qcow_backing=$(podman_disk locate "$qcow" | field file)
cleanup_fn "kill_holders '$qcow_backing'"
serve_image "$raw" "$tmpdir/disk.img"

statedir=$tmpdir/state      # private, for --all and the killed supervisors
ids=()
stop_ours () {
    local id
    for id in "${ids[@]}"; do podman_disk stop "$id" >/dev/null 2>&1 || true; done
    podman_disk stop --state-dir "$statedir" --all >/dev/null 2>&1 || true
}
cleanup_fn stop_ours

# serve ... --format json: its id.
serve_json () {
    local out
    out=$(podman_disk serve --format json "$@") || fail "serve $*"
    ids+=("$(jq -r .id <<< "$out")")
    echo "$out"
}
# record ID [DIR]: the record of ID as exports --format json shows it.
record () {
    podman_disk exports --format json ${2:+--state-dir "$2"} |
        jq -c --arg id "$1" '.[] | select(.id == $id)'
}
# gone ID JSON: none of what the export of JSON (its record) had is left.
gone () {
    local id=$1 rec=$2 dir=${3:-/run/podman-disk} pid watcher sock
    pid=$(jq -r .pid <<< "$rec")
    watcher=$(jq -r .watcher_pid <<< "$rec")
    sock=$(jq -r .socket <<< "$rec")
    wait_until process_gone "$pid" || fail "$id: server $pid still runs"
    process_gone "$watcher" || fail "$id: supervisor $watcher still runs"
    path_gone "$sock" || fail "$id: socket $sock left"
    path_gone "$dir/$id.json" || fail "$id: record left"
    [ -z "$(record "$id" "${3:-}")" ] || fail "$id: exports still lists it"
}

# ---- three background serves: nbdkit and qemu-nbd, raw and qcow2 ----
a=$(serve_json "$raw" --server nbdkit --pidfile "$tmpdir/a.pid")
b=$(serve_json "$qcow")
c=$(serve_json "$raw" --server qemu-nbd --socket "$tmpdir/c.sock")
ida=$(jq -r .id <<< "$a"); idb=$(jq -r .id <<< "$b"); idc=$(jq -r .id <<< "$c")
for id in "$ida" "$idb" "$idc"; do
    [[ $id =~ ^serve-[a-z0-9]{6}$ ]] || fail "serve's id: '$id'"
done

ra=$(record "$ida"); rb=$(record "$idb"); rc=$(record "$idc")
[ "$(jq -r '[.kind, .server, .image, .disk, .alive, .uri, .pid, .pidfile] | @tsv' <<< "$ra")" = \
  "$(printf 'serve\tnbdkit\t%s\t/disk/disk.img\ttrue\t%s\t%s\t%s' "$raw" \
     "$(jq -r .uri <<< "$a")" "$(jq -r .pid <<< "$a")" "$tmpdir/a.pid")" ] ||
    fail "exports: the raw nbdkit serve: $ra"
[ "$(cat "$tmpdir/a.pid")" = "$(jq -r .pid <<< "$ra")" ] || fail "--pidfile is not the server's pid"
[ "$(jq -r '[.kind, .server, .image, .disk, .format, .container] | @tsv' <<< "$rb")" = \
  "$(printf 'serve\tqemu-nbd\t%s\t/disk/disk.qcow2\tqcow2\t' "$qcow")" ] ||
    fail "exports: the qcow2 serve: $rb"
[ "$(jq -r '[.kind, .server, .socket, .uri] | @tsv' <<< "$rc")" = \
  "$(printf 'serve\tqemu-nbd\t%s\tnbd+unix:///?socket=%s' "$tmpdir/c.sock" "$tmpdir/c.sock")" ] ||
    fail "exports: the --socket serve: $rc"
jq -e '.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' <<< "$ra" >/dev/null ||
    fail "exports: started"
# The table: KIND serve on the id's line.
podman_disk exports > "$tmpdir/table"
head -1 "$tmpdir/table" | grep -q '^ID  *NAME  *IMAGE  *DISK  *SERVER  *PID  *ALIVE  *URI  *FILE  *KIND  *STARTED$' ||
    fail "exports: header $(head -1 "$tmpdir/table")"
awk -v id="$ida" '$1 == id && $7 == "yes" && $10 == "serve"' "$tmpdir/table" | grep -q . ||
    { cat "$tmpdir/table"; fail "exports: no line of $ida"; }

# The URIs that exports gives serve the disks' bytes.
nbdcopy "$(jq -r .uri <<< "$ra")" "$tmpdir/a.img"
cmp "$tmpdir/disk.img" "$tmpdir/a.img" || fail "bytes through $ida differ"
nbdcopy "$(jq -r .uri <<< "$rc")" "$tmpdir/c.img"
cmp "$tmpdir/disk.img" "$tmpdir/c.img" || fail "bytes through $idc differ"
qemu-img compare -q -f qcow2 "$tmpdir/disk.qcow2" "$(jq -r .uri <<< "$rb")" ||
    fail "the guest view through $idb differs"

# ---- names that stop nothing ----
expect_error 1 "^podman-disk: no export matches 'nosuch-$$' .*nothing stopped$" \
    podman_disk stop nosuch-$$
# Two serves of the raw image: by its name, ambiguous; nothing stopped,
# even with a good name beside it.
expect_error 1 "'$raw' matches 2 exports \\(.*$ida.*\\): name one by its id; nothing stopped$" \
    podman_disk stop "$idb" "$raw"
[ "$(record "$ida" | jq -r .alive)$(record "$idb" | jq -r .alive)$(record "$idc" | jq -r .alive)" = \
  truetruetrue ] || fail "an ambiguous stop stopped something"
# A bad command line: exit 2, and the usage hint.
usage_error () {
    local rc=0
    local want=$1; shift
    podman_disk stop "$@" > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] && grep -q "$want" "$tmpdir/err" && [ ! -s "$tmpdir/out" ] ||
        { cat "$tmpdir/err"; fail "stop $*: exit $rc"; }
}
usage_error "name an EXPORT"
usage_error "exclude each other" --all "$ida"
usage_error "empty EXPORT" ""

# ---- stop by socket, by image, by id ----
[ "$(podman_disk stop "$tmpdir/c.sock")" = "$idc" ] || fail "stop by socket"
gone "$idc" "$rc"
[ "$(podman_disk stop "$qcow")" = "$idb" ] || fail "stop by image"
gone "$idb" "$rb"
# (the raw image has one export left: its name is no longer ambiguous)
[ "$(podman_disk stop "$ida")" = "$ida" ] || fail "stop by id"
gone "$ida" "$ra"
path_gone "$tmpdir/a.pid" || fail "stop left the pid file"
check_no_leftovers "$raw"
expect_error 1 "no export matches '$ida'" podman_disk stop "$ida"

# ---- a supervisor killed by SIGKILL; --all (private state directory) ----
s1=$(serve_json "$raw" --state-dir "$statedir" --pidfile "$tmpdir/s1.pid")
s2=$(serve_json "$qcow" --state-dir "$statedir" --server qemu-nbd)
id1=$(jq -r .id <<< "$s1"); id2=$(jq -r .id <<< "$s2")
[ "$(stat -c %a "$statedir")" = 700 ] || fail "--state-dir is not private"
r1=$(record "$id1" "$statedir")
kill -9 "$(jq -r .watcher_pid <<< "$r1")"
# Its server goes with it (PDEATHSIG); the record and pid file stay, dead.
wait_until process_gone "$(jq -r .pid <<< "$r1")" || fail "the server outlived its supervisor"
[ "$(record "$id1" "$statedir" | jq -r .alive)" = false ] || fail "exports: the dead serve is alive"
[ -f "$tmpdir/s1.pid" ] || fail "no pid file left to prune (test broken)"
[ "$(podman_disk exports --state-dir "$statedir" --prune)" = "$id1" ] || fail "--prune: not $id1 alone"
path_gone "$statedir/$id1.json" || fail "--prune left the record"
path_gone "$tmpdir/s1.pid" || fail "--prune left the pid file"
path_gone "$(jq -r .socket <<< "$r1")" || fail "--prune left the socket"
[ "$(record "$id2" "$statedir" | jq -r .alive)" = true ] || fail "--prune touched a live serve"

# The next serve removes a dead one too.
s3=$(serve_json "$raw" --state-dir "$statedir" --pidfile "$tmpdir/s3.pid")
id3=$(jq -r .id <<< "$s3"); r3=$(record "$id3" "$statedir")
kill -9 "$(jq -r .watcher_pid <<< "$r3")"
wait_until process_gone "$(jq -r .pid <<< "$r3")" || fail "the server outlived its supervisor"
s4=$(serve_json "$raw" --state-dir "$statedir")
id4=$(jq -r .id <<< "$s4")
path_gone "$statedir/$id3.json" || fail "the next serve left the dead record"
path_gone "$tmpdir/s3.pid" || fail "the next serve left the dead pid file"

r2=$(record "$id2" "$statedir"); r4=$(record "$id4" "$statedir")
podman_disk stop --state-dir "$statedir" --all | sort > "$tmpdir/stopped"
printf '%s\n' "$id2" "$id4" | sort | cmp -s - "$tmpdir/stopped" ||
    { cat "$tmpdir/stopped"; fail "--all did not stop exactly $id2 $id4"; }
gone "$id2" "$r2" "$statedir"
gone "$id4" "$r4" "$statedir"
[ "$(podman_disk exports --state-dir "$statedir" --format json)" = "[]" ] ||
    fail "exports after --all"
[ -z "$(ls -A "$statedir")" ] || fail "files left in the state directory: $(ls -A "$statedir")"
check_no_leftovers "$raw"
wait_until nothing_holds "$qcow_backing" || fail "a process still holds the qcow2 disk"

echo "ok - background serves listed, stopped by socket, image, id and --all; dead ones pruned"
