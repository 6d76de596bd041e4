#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook run by hand, as a runtime runs it: the state JSON on stdin,
# a bundle whose config.json has the annotations and a root.path that is a
# plain directory holding disk/disk.img (as a vfs container's, or one given
# with --rootfs), a sleep for the container's process.  No podman, no runc:
# so that 'make check-valgrind' runs the hook too.
#
#   - bad annotations, states and root filesystems: exit 1, one line,
#     nothing left (no state directory, record or process);
#   - no export asked: exit 0, silent, no state directory;
#   - createRuntime: the record, the socket, the bytes through nbdinfo and
#     nbdcopy; a second start stage for the same process keeps the export;
#     the disk removed from the root filesystem: still the same bytes, and
#     exports says the file is gone;
#   - poststop stops it and removes everything; so does the container's
#     process exiting; a writable (cow) export with a name; podman-disk
#     stop (by a prefix of the container's id) stops the export and leaves
#     the container's process running, and poststop then finds nothing;
#   - the watcher's own stage (hook _watch), driven by hand with a server
#     of its own, stopped by the container's exit and by SIGTERM.
#
# Under valgrind (make check-valgrind: PODMAN_DISK runs podman-disk under
# memcheck, PODMAN_DISK_REAL is the binary itself) every step runs under
# valgrind but two, which run PODMAN_DISK_REAL: the start of a live
# export, and the start refused for a process that is gone.  The watcher
# re-executes /proc/self/exe, which under valgrind is valgrind's tool
# binary: it refuses to run ("You cannot run ... directly") and the export
# dies with it.  So under valgrind the start is checked once for what the
# hook itself does (the record, exit 0) and for that death being reported
# and cleaned up (exports: not alive; poststop); the live exports then come
# from the real binary, and valgrind checks exports, poststop, the kept
# export and the _watch stage against them.  valgrind 3.19 also does not
# know pidfd_open: the hook falls back to polling, and a dead container
# process is not seen at start.
source "$(dirname "$0")/functions.sh"
requires_root
requires nbdkit --version
requires nbdinfo --version
requires nbdcopy --version
requires jq --version

if [ -n "${VALGRIND_LOGDIR:-}" ] && [ -n "${PODMAN_DISK_REAL:-}" ]; then
    under_valgrind=yes
    real=$PODMAN_DISK_REAL
else
    under_valgrind=
    real=$PODMAN_DISK
fi

source "$testsdir/hook-state.sh"
bundle=$tmpdir/bundle
rootfs=$bundle/rootfs
mkdir -p "$rootfs/disk"
make_raw_disk "$tmpdir/orig.img" 2
cp "$tmpdir/orig.img" "$rootfs/disk/disk.img"
size=$((2 * 1024 * 1024))
disk=$(realpath "$rootfs/disk/disk.img")


# A container id (64 characters, as runc makes them), new for each start.
n=0
new_id () { n=$((n + 1)); id=$(printf 'd1ec7%059d' $n); }

# container: a sleep for the container's process, in $cpid.
container () {
    sleep 1000 &
    cpid=$!
    cleanup_fn "kill $cpid"
}

# config ANNOTATIONS-JSON [ROOT]: BUNDLE/config.json, root.path ROOT
# (default "rootfs", relative to the bundle as runc allows).
config () {
    jq -n --argjson a "$1" --arg root "${2:-rootfs}" '{
        ociVersion: "1.0.2", root: {path: $root, readonly: true},
        process: {args: ["/bin/sleep"], env: ["HOSTNAME=direct"]},
        hostname: "direct", annotations: $a, mounts: [] }' > "$bundle/config.json"
}

# state STATUS [PID]: the state the runtime writes on the hook's stdin
# ($id, the bundle, the annotations of config.json).
state () {
    jq -n --arg id "$id" --arg status "$1" --arg bundle "$bundle" \
          --argjson pid "${2:-null}" --slurpfile cfg "$bundle/config.json" '{
        ociVersion: "1.0.2", id: $id, status: $status, bundle: $bundle,
        annotations: $cfg[0].annotations } + (if $pid then {pid: $pid} else {} end)' \
        > "$tmpdir/state"
}

# hook BINARY STAGE: the hook, as hooks.d runs it, on $tmpdir/state.
hook () { "$1" hook --state-dir "$statedir" "$2" < "$tmpdir/state"; }

# Nothing is left: no state directory (or an empty one), no watcher.
assert_nothing_left () {
    if [ -d "$statedir" ] && [ -n "$(ls -A "$statedir")" ]; then
        ls -la "$statedir" >&2
        fail "$1: the state directory is not empty"
    fi
    local w
    if w=$(watcher_running); then
        fail "$1: a watcher still runs: $w"
    fi
}

rec () { jq -r ".$1" "$statedir/$id.json"; }

# ---- refused: exit 1, one line, nothing left ----

e=io.podman-disk.export
container
# expect_refused REGEX ANNOTATIONS-JSON [ROOT]
expect_refused () {
    new_id
    config "$2" "${3:-rootfs}"
    state creating "$cpid"
    expect_error 1 "^podman-disk: $1" hook "$PODMAN_DISK" createRuntime
    assert_nothing_left "$2"
}
expect_refused "annotation $e=\"yes\": the value must be true, false or an export name" \
    "{\"$e\": \"yes\"}"
expect_refused "annotation $e=\"a/b\": the value must be true" "{\"$e\": \"a/b\"}"
expect_refused "annotation $e/-x: \"-x\" is not a container name" "{\"$e/-x\": \"true\"}"
expect_refused "annotation io.podman-disk.writable=\"rw\": the value must be cow" \
    "{\"$e\": \"true\", \"io.podman-disk.writable\": \"rw\"}"
expect_refused "annotation io.podman-disk.disk=\"disk/disk.img\": the value must be the absolute path" \
    "{\"$e\": \"true\", \"io.podman-disk.disk\": \"disk/disk.img\"}"
expect_refused "unknown annotation io.podman-disk.disks: podman-disk knows" \
    "{\"$e\": \"true\", \"io.podman-disk.disks\": \"/disk/disk.img\"}"
expect_refused "container [0-9a-f]{12}: io.podman-disk.disk=/disk/none.img: /disk/none.img: not found" \
    "{\"$e\": \"true\", \"io.podman-disk.disk\": \"/disk/none.img\"}"
expect_refused "container [0-9a-f]{12}: the container's root filesystem $tmpdir/nowhere: No such file or directory" \
    "{\"$e\": \"true\"}" "$tmpdir/nowhere"
mkdir -p "$tmpdir/empty-root/etc"
expect_refused "container [0-9a-f]{12}: no disk to export \(the annotation io.podman-disk.disk=PATH picks one\)" \
    "{\"$e\": \"true\"}" "$tmpdir/empty-root"
mkdir -p "$tmpdir/two-root/disk"
touch "$tmpdir/two-root/disk/a.img" "$tmpdir/two-root/disk/b.img"
expect_refused "container [0-9a-f]{12}: no disk to export .*: several disks under /disk/" \
    "{\"$e\": \"true\"}" "$tmpdir/two-root"
# A state without the process: the hook is configured for a wrong stage.
new_id
config "{\"$e\": \"true\"}"
state created
expect_error 1 "has no process id: is the hook configured for the createRuntime stage" \
    hook "$PODMAN_DISK" createRuntime
echo '{"ociVersion": "1.0.2", "id": "x", "status": "creating", "pid": 1' > "$tmpdir/state"
expect_error 1 "the OCI state on stdin is not valid JSON" hook "$PODMAN_DISK" createRuntime
# ---- nothing asked: exit 0, silent, not even a state directory ----

for a in '{}' "{\"$e\": \"false\"}" "{\"$e/other\": \"true\", \"$e/other2\": \"yes\"}"; do
    new_id
    config "$a"
    state creating "$cpid"
    hook "$PODMAN_DISK" createRuntime > "$tmpdir/out" 2>&1 || fail "$a: the hook failed"
    [ ! -s "$tmpdir/out" ] || { cat "$tmpdir/out"; fail "$a: the hook said something"; }
    [ ! -e "$statedir" ] || fail "$a: a state directory for nothing"
done

# ---- refused: the container's process already gone (seen through a pidfd, which
# valgrind 3.19 does not know: the real binary then).
sleep 0 &
gone=$!
wait $gone
new_id
config "{\"$e\": \"true\"}"
state creating "$gone"
expect_error 1 "the container's process $gone is gone" hook "$real" createRuntime
assert_nothing_left "a process that is gone"


# ---- under valgrind: the start itself, and its watcher's death ----

if [ -n "$under_valgrind" ]; then
    new_id
    state creating "$cpid"
    hook "$PODMAN_DISK" createRuntime > "$tmpdir/out" 2>&1 ||
        { cat "$tmpdir/out"; fail "createRuntime under valgrind failed"; }
    [ "$(rec container)" = "$id" ] && [ "$(rec file)" = "$disk" ] ||
        fail "under valgrind: not the record of $id and $disk"
    # The server goes with the watcher that could not re-execute itself;
    # should a valgrind ever follow that exec, the export lives: either
    # way exports must say which, and poststop must clean up.
    server=$(rec pid)
    if wait_until 20 pid_gone "$server"; then
        want="[false,null]" how="its watcher died at re-exec, as expected"
    else
        want="[true,true]" how="its watcher survived the re-exec under valgrind"
    fi
    [ "$(exports --format json | jq -c --arg id "$id" '.[] | select(.container == $id) |
          [.alive, .file_present]')" = "$want" ] ||
        fail "under valgrind: exports does not say $want ($how)"
    state stopped
    hook "$PODMAN_DISK" poststop || fail "poststop under valgrind failed"
    assert_nothing_left "poststop under valgrind"
    echo "under valgrind: createRuntime ran; $how"
fi

# ---- a live export: record, bytes, exports ----

new_id
state creating "$cpid"
hook "$real" createRuntime > "$tmpdir/out" 2>&1 || { cat "$tmpdir/out"; fail "createRuntime failed"; }
[ ! -s "$tmpdir/out" ] || { cat "$tmpdir/out"; fail "createRuntime said something"; }
[ "$(stat -c %a "$statedir")" = 700 ] || fail "the state directory is not 0700"
[ -S "$statedir/$id.sock" ] || fail "no socket"
[ -f "$statedir/$id.log" ] || fail "no log"
uri=$(rec uri)
[ "$uri" = "nbd+unix:///?socket=$statedir/$id.sock" ] || fail "uri: $uri"
jq -e --arg id "$id" --arg file "$disk" --argjson cpid "$cpid" --argjson size $size \
      --arg sock "$statedir/$id.sock" '
    .container == $id and .name == $id[0:12] and .image == null and
    .disk == "/disk/disk.img" and .file == $file and .format == "raw" and
    .size == $size and .writable == false and .server == "nbdkit" and
    .socket == $sock and .volume_socket == null and .container_pid == $cpid and
    .pid > 0 and .watcher_pid > 0 and .pid != .watcher_pid' \
    "$statedir/$id.json" >/dev/null || { cat "$statedir/$id.json"; fail "the record"; }
server=$(rec pid) watcher=$(rec watcher_pid)
tr '\0' ' ' < "/proc/$watcher/cmdline" | grep -q " hook --state-dir $statedir -- _watch $id " ||
    fail "the watcher is not the re-executed _watch stage"
[ "$(nbdinfo --size "$uri")" = $size ] || fail "nbdinfo --size"
nbdinfo --is read-only "$uri" || fail "not read-only"
nbdcopy "$uri" "$tmpdir/copy.img"
cmp "$tmpdir/orig.img" "$tmpdir/copy.img" || fail "nbdcopy: other bytes"

exports --format json > "$tmpdir/list"
[ "$(jq -c '.[] | [.container, .alive, .file_present]' "$tmpdir/list")" = \
  "[\"$id\",true,true]" ] || { cat "$tmpdir/list"; fail "exports: not alive and in place"; }
exports > "$tmpdir/list.txt"
awk -v id="${id:0:12}" -v uri="$uri" -v pid="$server" '$1 == id && $4 == "/disk/disk.img" &&
     $5 == "nbdkit" && $6 == pid && $7 == "yes" && $8 == uri && $9 == "yes" { f = 1 }
     END { exit !f }' "$tmpdir/list.txt" || { cat "$tmpdir/list.txt"; fail "exports: the line"; }

# The hook configured for two start stages: the second one, for the same
# process, keeps the export (no new watcher: valgrind sees it all).
hook "$PODMAN_DISK" prestart || fail "prestart after createRuntime failed"
[ "$(rec pid)" = "$server" ] && [ "$(rec watcher_pid)" = "$watcher" ] ||
    fail "prestart replaced the export"

# The disk removed from the root filesystem: the server keeps reading the
# file it holds open, and exports says that the file is gone.
mv "$rootfs/disk/disk.img" "$tmpdir/moved.img"
[ "$(exports --format json | jq -c '.[0].file_present')" = false ] ||
    fail "exports: the removed file is not reported"
exports | awk -v id="${id:0:12}" '$1 == id && $9 == "gone" { f = 1 } END { exit !f }' ||
    fail "exports: no FILE gone"
rm "$tmpdir/moved.img"
nbdcopy "$uri" "$tmpdir/copy.img"
cmp "$tmpdir/orig.img" "$tmpdir/copy.img" || fail "nbdcopy after the removal: other bytes"
cp "$tmpdir/orig.img" "$rootfs/disk/disk.img"

# poststop: podman's own, with status "stopped" and no pid.
state stopped
hook "$PODMAN_DISK" poststop > "$tmpdir/out" 2>&1 || { cat "$tmpdir/out"; fail "poststop failed"; }
[ ! -s "$tmpdir/out" ] || { cat "$tmpdir/out"; fail "poststop said something"; }
pid_gone "$server" || fail "poststop left the server"
wait_until 30 pid_gone "$watcher" || fail "poststop left the watcher"
assert_nothing_left "poststop"
# Again: nothing to stop, quietly.
hook "$PODMAN_DISK" poststop > "$tmpdir/out" 2>&1 && [ ! -s "$tmpdir/out" ] ||
    fail "a second poststop"

# ---- the container's process exits: the watcher stops the export ----

new_id
state creating "$cpid"
hook "$real" createRuntime || fail "createRuntime failed"
server=$(rec pid) watcher=$(rec watcher_pid)
kill "$cpid"
wait "$cpid" 2>/dev/null || :
wait_until 30 pid_gone "$server" || fail "the container exited, the server still runs"
wait_until 30 pid_gone "$watcher" || fail "the container exited, the watcher still runs"
wait_until 30 eval '[ -z "$(ls -A "$statedir")" ]' || assert_nothing_left "the container's exit"
state stopped
hook "$PODMAN_DISK" poststop || fail "poststop after the watcher's cleanup"

# ---- writable (cow) and named ----

container
new_id
config "{\"$e\": \"vm-disk\", \"io.podman-disk.writable\": \"cow\"}"
state creating "$cpid"
hook "$real" createRuntime || fail "createRuntime (cow) failed"
[ "$(rec name) $(rec writable)" = "vm-disk true" ] || fail "cow: name and writable"
uri=$(rec uri)
nbdinfo --can write "$uri" || fail "cow: not writable"
head -c 65536 /dev/urandom > "$tmpdir/patch"
nbdcopy "$tmpdir/patch" "$uri"
nbdcopy "$uri" "$tmpdir/copy.img"
cmp -n 65536 "$tmpdir/patch" "$tmpdir/copy.img" || fail "cow: the write is not read back"
cmp "$tmpdir/orig.img" "$rootfs/disk/disk.img" || fail "cow: the disk file was written"
state stopped
hook "$PODMAN_DISK" poststop || fail "poststop (cow) failed"
assert_nothing_left "poststop (cow)"

# ---- stop: the export goes, the container's process stays ----

new_id
state creating "$cpid"
hook "$real" createRuntime || fail "createRuntime (stop) failed"
server=$(rec pid) watcher=$(rec watcher_pid)
[ "$(podman_disk stop --state-dir "$statedir" "${id:0:12}")" = "$id" ] ||
    fail "stop by a prefix of the container's id"
pid_gone "$server" || fail "stop left the server"
wait_until 30 pid_gone "$watcher" || fail "stop left the watcher"
assert_nothing_left "stop"
kill -0 "$cpid" || fail "stop ended the container's process"
state stopped
hook "$PODMAN_DISK" poststop > "$tmpdir/out" 2>&1 && [ ! -s "$tmpdir/out" ] ||
    { cat "$tmpdir/out"; fail "poststop after stop"; }

# ---- the watcher's stage, by hand ----

# start_watch: a server (nbdkit on the disk, holding it as fd 5 as the
# hook's do) started by a shell that then becomes 'podman-disk hook _watch'
# (exec: the server is its child, as the stage checks), and the record
# that names them.  $watcher, $server, $sock.
start_watch () {
    new_id
    container
    sock=$statedir/$id.sock
    mkdir -p "$statedir"
    rm -f "$tmpdir/server.pid"
    (
        nbdkit --foreground --readonly --unix "$sock" file "$disk" 5<"$disk" &
        echo $! > "$tmpdir/server.pid"
        wait_until 30 test -S "$sock" || exit 1
        # No pidfd, no memfd from a shell: fd 5 is neither, which the stage
        # must see and not use (it polls).  Not "-1": the hook's option
        # parser takes it for an option and refuses the stage.
        exec 5</dev/null
        exec "$PODMAN_DISK" hook --state-dir "$statedir" _watch "$id" "$cpid" 5 5 \
            "$(cat "$tmpdir/server.pid")" "$sock" "$(stat -c %d:%i "$sock")"
    ) > "$tmpdir/watch.log" 2>&1 &
    watcher=$!
    wait_until 30 test -s "$tmpdir/server.pid" || fail "_watch: no server started"
    server=$(cat "$tmpdir/server.pid")
    wait_until 30 test -S "$sock" || fail "_watch: no socket"
    local start wstart
    start=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$server/stat")
    wstart=$(awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$watcher/stat")
    jq -n --arg id "$id" --arg sock "$sock" --arg file "$disk" --argjson pid "$server" \
          --argjson start "$start" --argjson w "$watcher" --argjson ws "$wstart" \
          --argjson cpid "$cpid" '{
        container: $id, name: $id[0:12], disk: "/disk/disk.img", file: $file,
        format: "raw", size: 0, server: "nbdkit", pid: $pid, pid_start: $start,
        watcher_pid: $w, watcher_start: $ws, socket: $sock, container_pid: $cpid,
        uri: ("nbd+unix:///?socket=" + $sock) }' > "$statedir/$id.json"
    : > "$statedir/$id.log"
    # Watching: the exec'd stage runs (under valgrind, valgrind does).
    wait_until 60 eval 'tr "\0" " " < /proc/$watcher/cmdline | grep -q "_watch $id "' ||
        fail "_watch did not start"
    nbdcopy "nbd+unix:///?socket=$sock" "$tmpdir/copy.img"
    cmp "$tmpdir/orig.img" "$tmpdir/copy.img" || fail "_watch: the server's bytes"
    [ "$(exports --format json | jq -c '.[0] | [.alive, .file_present]')" = "[true,true]" ] ||
        fail "_watch: exports"
}
# end_watch WHY: the watcher stopped the server, removed the socket and the
# record, said WHY in its log and exited 0 (under valgrind: no error).
end_watch () {
    local rc=0
    wait "$watcher" || rc=$?
    [ "$rc" = 0 ] || { cat "$tmpdir/watch.log"; fail "_watch exited $rc"; }
    pid_gone "$server" || fail "_watch left the server"
    grep -q "^stopping: $1" "$tmpdir/watch.log" || { cat "$tmpdir/watch.log"; fail "_watch: $1"; }
    assert_nothing_left "_watch ($1)"
}

start_watch
# Not its server: refused, whatever the pid.
rc=0
"$PODMAN_DISK" hook --state-dir "$statedir" _watch "$id" "$cpid" 5 5 "$server" "$sock" 1:1 \
    > "$tmpdir/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "process $server is not this watcher's server" "$tmpdir/out" ||
    { cat "$tmpdir/out"; fail "_watch of another's server: exit $rc"; }
kill "$cpid"
wait "$cpid" 2>/dev/null || :
end_watch "the container's process exited"

start_watch
kill -TERM "$watcher"
end_watch "stop signal"
kill "$cpid"

echo "$testname: ok${under_valgrind:+ (under valgrind: the live starts ran $real)}"
exit 0
