#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve a raw disk from containers/storage: real clients read exactly the
# disk's bytes, the export is read-only, many readers at once, and stopping
# it leaves nothing behind.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
setup_store

make_raw_disk "$tmpdir/disk.img" 32
serve_image localhost/raw-disk "$tmpdir/disk.img"
size=$(stat -c %s "$tmpdir/disk.img")

# Background mode: the URI on stdout, one line; the pid in --pidfile.
podman_disk serve localhost/raw-disk --pidfile "$tmpdir/pid" > "$tmpdir/uri"
[ "$(wc -l < "$tmpdir/uri")" = 1 ] || fail "serve printed more than the URI"
uri=$(cat "$tmpdir/uri")
sock=$(socket_of "$uri")
case "$uri" in nbd+unix:///\?socket=/run/podman-disk/*.sock) ;; *) fail "URI: $uri" ;; esac
[ -S "$sock" ] || fail "no socket $sock"
[ "$(stat -c %a /run/podman-disk)" = 700 ] || fail "/run/podman-disk is not private"
pid=$(cat "$tmpdir/pid")
kill -0 "$pid" || fail "no server with pid $pid"
# The server holds exactly the located file, not a copy.
holders "$backing" | grep -qx "$pid" || fail "the server does not hold $backing"

[ "$(nbdinfo_field "$uri" export-size)" = "$size" ] || fail "nbdinfo size"
[ "$(nbdinfo_field "$uri" is_read_only)" = true ] || fail "export not read-only"
nbdcopy "$uri" "$tmpdir/copy.img"
cmp "$tmpdir/disk.img" "$tmpdir/copy.img" || fail "nbdcopy copy differs"
qemu-img compare -q -f raw "$tmpdir/disk.img" "$uri" || fail "qemu-img compare"

# 8 readers at once, each gets every byte.
pids=()
for i in $(seq 1 8); do
    nbdcopy "$uri" "$tmpdir/reader$i.img" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent nbdcopy failed"; done
for i in $(seq 1 8); do
    cmp "$tmpdir/disk.img" "$tmpdir/reader$i.img" || fail "reader $i differs"
done
rm -f "$tmpdir"/reader*.img

# A write is refused.
if qemu-io -f raw -c 'write -P 0x55 0 4k' "$uri" > "$tmpdir/qemu-io" 2>&1 &&
   ! grep -qi 'read-only\|permission\|error' "$tmpdir/qemu-io"; then
    fail "a write to the read-only export succeeded"
fi

# SIGTERM to the server: its socket and pidfile go, nothing holds the disk.
kill "$pid"
wait_until process_gone "$pid" || fail "server still running"
wait_until path_gone "$sock" || fail "socket left after SIGTERM"
wait_until path_gone "$tmpdir/pid" || fail "pidfile left after SIGTERM"
check_no_leftovers localhost/raw-disk

# SIGKILL to the server: the supervisor still removes the socket.
uri=$(podman_disk serve localhost/raw-disk --pidfile "$tmpdir/pid")
sock=$(socket_of "$uri")
kill -9 "$(cat "$tmpdir/pid")"
wait_until path_gone "$sock" || fail "socket left after SIGKILL"
check_no_leftovers localhost/raw-disk

# An explicit socket and export name.
uri=$(podman_disk serve localhost/raw-disk --socket "$tmpdir/my.sock" \
      --export-name disk0 --pidfile "$tmpdir/pid")
[ "$uri" = "nbd+unix:///disk0?socket=$tmpdir/my.sock" ] || fail "URI: $uri"
nbdcopy "$uri" "$tmpdir/copy.img"
cmp "$tmpdir/disk.img" "$tmpdir/copy.img" || fail "copy via --socket differs"
# Only that name, as qemu-nbd would: not the default export, nor another.
for name in "" disk1; do
    nbdinfo --size "nbd+unix:///$name?socket=$tmpdir/my.sock" >/dev/null 2>&1 &&
        fail "--export-name disk0: export '$name' served too"
done
kill "$(cat "$tmpdir/pid")"
wait_until path_gone "$tmpdir/my.sock" || fail "--socket left"

# TCP, loopback; the same bytes through qemu-nbd.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
uri=$(podman_disk serve localhost/raw-disk --port "$port" --server qemu-nbd --pidfile "$tmpdir/pid")
[ "$uri" = "nbd://127.0.0.1:$port/" ] || fail "URI: $uri"
ss -ltn | grep -q "127.0.0.1:$port " || fail "not listening on loopback"
qemu-img compare -q -f raw "$tmpdir/disk.img" "$uri" || fail "qemu-img compare over TCP"
kill "$(cat "$tmpdir/pid")"
check_no_leftovers localhost/raw-disk
echo "PASS"
