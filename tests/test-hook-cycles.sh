#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# 20 start/stop cycles of an exported container: every cycle serves the
# right bytes, the watcher and server hold the same few descriptors each
# time (none of the hook's pipes, the disk only in the server), and at the
# end no process, socket, record, log or open disk file is left.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"

make_raw_disk "$tmpdir/raw.img" 2
build_hook_image localhost/hook-raw "$tmpdir/raw.img"
sum=$(sha256sum < "$tmpdir/raw.img")

# The descriptors of PID as "fd -> target" lines, anonymous inodes and
# pipes without their numbers.
fds () {
    local p
    for p in /proc/"$1"/fd/*; do
        echo "${p##*/} -> $(readlink "$p" | sed 's/\[[0-9]*\]//')"
    done
}

pids=()
hpodman create --name cyc --annotation io.podman-disk.export=true \
    localhost/hook-raw /bin/busybox sleep 1000 >/dev/null
id=$(podman inspect -f '{{.Id}}' cyc)
for i in $(seq 20); do
    hpodman start cyc >/dev/null
    [ "$(nbdcopy "$(record_field "$id" uri)" - | sha256sum)" = "$sum" ] ||
        fail "cycle $i: bytes differ"
    watcher=$(record_field "$id" watcher_pid)
    server=$(record_field "$id" pid)
    file=$(record_field "$id" file)
    pids+=("$watcher" "$server")
    fds "$watcher" > "$tmpdir/wfds.$i"
    fds "$server" | grep -v -- '-> /dev/fd\|socket:' > "$tmpdir/sfds.$i"
    if [ "$i" = 1 ]; then
        # The watcher keeps stdio (the log), the container's pidfd, the
        # server's stderr (a memfd), its signalfd and the server's pidfd:
        # nothing else.
        grep -q "$file" "$tmpdir/wfds.1" && fail "the watcher holds the disk open"
        grep -q 'pipe:' "$tmpdir/wfds.1" && fail "the watcher holds a pipe (the hook's?)"
        [ "$(grep -c 'anon_inode:\[pidfd\]' "$tmpdir/wfds.1")" = 2 ] ||
            { cat "$tmpdir/wfds.1" >&2; fail "the watcher has no pidfd of the container"; }
        [ "$(wc -l < "$tmpdir/wfds.1")" -le 7 ] ||
            { cat "$tmpdir/wfds.1" >&2; fail "the watcher holds more than 7 descriptors"; }
    else
        cmp -s "$tmpdir/wfds.1" "$tmpdir/wfds.$i" ||
            { diff "$tmpdir/wfds.1" "$tmpdir/wfds.$i" >&2; fail "cycle $i: watcher descriptors changed"; }
        cmp -s "$tmpdir/sfds.1" "$tmpdir/sfds.$i" ||
            { diff "$tmpdir/sfds.1" "$tmpdir/sfds.$i" >&2; fail "cycle $i: server descriptors changed"; }
    fi
    hpodman stop -t 0 cyc >/dev/null
    assert_export_gone "$id" "$watcher" "$server"
done
hpodman rm cyc >/dev/null
for p in "${pids[@]}"; do
    pid_gone "$p" || fail "process $p still runs"
done
assert_not_open "$file"
assert_statedir_empty
exit 0
