#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Faults while serving (issue 7), with real nbdkit / qemu-nbd and nbdcopy:
# - the server killed with SIGKILL in the middle of an nbdcopy of a
#   256 MiB disk: the client errors out (bounded by timeout: no hang), the
#   bytes it did write are the disk's, and the serve supervisor removes
#   the socket and exits;
# - the image removed (podman rmi -f) while served: a client already
#   connected keeps reading the original bytes to the end, and so does a
#   new connection (the server holds the disk's fd, not its path), while
#   locate says the image is gone.
# "Mid-way" is made by flow control, not timing: nbdcopy writes into a
# fifo the test stops reading after 16 MiB.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires timeout --version
setup_store

make_raw_disk "$tmpdir/disk.img" 256
serve_image localhost/fault-disk "$tmpdir/disk.img"
cases=0

# start_copy URI: nbdcopy URI into a fifo, the test reading its first
# 16 MiB; nbdcopy then blocks with the rest unread.  Sets $cpid, fd 3.
start_copy () {
    rm -f "$tmpdir/fifo" "$tmpdir/part" "$tmpdir/rest"
    mkfifo "$tmpdir/fifo"
    timeout 120 nbdcopy "$1" - > "$tmpdir/fifo" 2> "$tmpdir/copy.err" &
    cpid=$!
    exec 3< "$tmpdir/fifo"
    head -c 16M <&3 > "$tmpdir/part"
    [ "$(stat -c %s "$tmpdir/part")" = $((16 << 20)) ] || fail "nbdcopy gave no 16 MiB"
    kill -0 "$cpid" 2>/dev/null || fail "nbdcopy finished before the fault"
}
# finish_copy: read the rest (bounded), close fd 3, $crc = nbdcopy's status.
finish_copy () {
    timeout 120 cat <&3 > "$tmpdir/rest" || fail "reading nbdcopy's output hung"
    exec 3<&-
    crc=0
    wait "$cpid" || crc=$?
    [ "$crc" != 124 ] || fail "nbdcopy hung after the fault (killed by timeout)"
    cat "$tmpdir/part" "$tmpdir/rest" > "$tmpdir/got"
}

# ---- the server killed mid-copy ----
for server in nbdkit qemu-nbd; do
    uri=$(podman_disk serve --server "$server" localhost/fault-disk --pidfile "$tmpdir/pid")
    sock=$(socket_of "$uri")
    spid=$(cat "$tmpdir/pid")
    super=$(awk '{print $4}' "/proc/$spid/stat")     # serve's supervisor
    [ -S "$sock" ] || fail "$server: no socket $sock"
    start_copy "$uri"
    kill -KILL "$spid"
    finish_copy
    [ "$crc" != 0 ] || fail "$server killed: nbdcopy exited 0"
    got=$(stat -c %s "$tmpdir/got")
    [ "$got" -lt $((256 << 20)) ] || fail "$server killed: nbdcopy delivered all 256 MiB"
    cmp -n "$got" "$tmpdir/got" "$tmpdir/disk.img" ||
        fail "$server killed: the bytes delivered before the error are wrong"
    # A bound against a hang, not a timing check.
    wait_until path_gone "$sock" || fail "$server killed: socket $sock left"
    wait_until process_gone "$super" || fail "$server killed: supervisor $super still runs"
    path_gone "$tmpdir/pid" || fail "$server killed: pidfile left"
    cases=$((cases + 1))
    echo "ok $cases - $server killed after $((got >> 20)) MiB: nbdcopy exit $crc ($(tail -1 "$tmpdir/copy.err"))"
done
check_no_leftovers localhost/fault-disk

# ---- the image removed while served ----
# (its own bytes: a layer it shared with fault-disk would stay.)
podman rmi localhost/fault-disk > /dev/null
make_raw_disk "$tmpdir/disk.img" 256
for server in nbdkit qemu-nbd; do
    serve_image localhost/fault-rmi "$tmpdir/disk.img"
    uri=$(podman_disk serve --server "$server" localhost/fault-rmi --pidfile "$tmpdir/pid")
    spid=$(cat "$tmpdir/pid")
    start_copy "$uri"
    podman rmi -f localhost/fault-rmi > /dev/null
    path_gone "$backing" || fail "rmi -f left the layer file $backing"
    expect_error 1 'fault-rmi' podman_disk locate localhost/fault-rmi
    # A new connection, while the first one is still open: served the
    # original bytes by both.  qemu-nbd opened the disk once; nbdkit 1.32's
    # file plugin opens its file= per connection, a name bound to the
    # very file (serve/pin.h); nbdkit >= 1.34 serves fd=.
    rm -f "$tmpdir/new.img"
    rc=0
    timeout 120 nbdcopy "$uri" "$tmpdir/new.img" 2> "$tmpdir/new.err" || rc=$?
    [ "$rc" != 124 ] || fail "$server: a new connection after rmi hung"
    [ "$rc" = 0 ] || fail "$server: a new connection after rmi failed: $(cat "$tmpdir/new.err")"
    cmp "$tmpdir/new.img" "$tmpdir/disk.img" || fail "$server: new connection after rmi: other bytes"
    new="served the original bytes"
    finish_copy
    [ "$crc" = 0 ] || fail "$server: the connected client failed after rmi: $(cat "$tmpdir/copy.err")"
    cmp "$tmpdir/got" "$tmpdir/disk.img" || fail "$server: the connected client read other bytes after rmi"
    kill -TERM "$spid"
    wait_until process_gone "$spid" || fail "$server did not stop"
    wait_until path_gone "$(socket_of "$uri")" || fail "$server: socket left after stop"
    cases=$((cases + 1))
    echo "ok $cases - image removed while $server served: the open connection read the original 256 MiB; a new one: $new"
done
echo "$testname: $cases fault cases"
