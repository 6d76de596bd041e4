#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve's errors: one clear line each, and no process or socket left.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
setup_store

# 1 MiB + 100 bytes: fine for nbdkit, refused by qemu's raw driver.
head -c $((1024 * 1024 + 100)) /dev/urandom > "$tmpdir/odd.img"
serve_image localhost/err-disk "$tmpdir/odd.img"
# A qcow2 header that podman-disk's checks let through (refcount_order, at
# byte 96 of a v3 header, is qemu's business) but qemu-nbd refuses.
qemu-img create -q -f qcow2 "$tmpdir/bad.qcow2" 1M
printf '\x00\x00\x00\x07' | dd of="$tmpdir/bad.qcow2" bs=1 seek=96 conv=notrunc status=none
serve_image localhost/err-qcow2 "$tmpdir/bad.qcow2"

# Bad command lines: usage, exit 2, nothing started.
for args in "--socket $tmpdir/s --port 10809" "--address 127.0.0.1" \
            "--foreground --run true" "--port 0" "--port 70000" "--port x" \
            "--server qemu" "--socket ''" "--bogus"; do
    rc=0
    eval podman_disk serve localhost/err-disk "$args" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || fail "serve $args exited $rc, expected 2"
    grep -q "Try 'podman-disk serve --help'" "$tmpdir/err" || fail "serve $args: no hint"
    [ ! -s "$tmpdir/out" ] || fail "serve $args printed on stdout"
done
rc=0; podman_disk serve >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "serve without IMAGE exited $rc"
check_no_leftovers localhost/err-disk

# The socket path exists.
touch "$tmpdir/taken.sock"
expect_error 1 "$tmpdir/taken.sock: socket path exists" \
    podman_disk serve localhost/err-disk --socket "$tmpdir/taken.sock"
[ -f "$tmpdir/taken.sock" ] || fail "an existing file was removed"
expect_error 1 "cannot create the socket $tmpdir/nodir/x.sock: No such file or directory" \
    podman_disk serve localhost/err-disk --socket "$tmpdir/nodir/x.sock"

# The port is in use.
podman_disk serve localhost/err-disk --port 0 >/dev/null 2>&1 && fail "port 0 accepted"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(3600)' > "$tmpdir/port" &
listener=$!
cleanup_fn "kill $listener"
wait_until test -s "$tmpdir/port"
port=$(cat "$tmpdir/port")
expect_error 1 "port $port on 127.0.0.1 is in use" \
    podman_disk serve localhost/err-disk --port "$port"
kill $listener

# The server program is missing: which package to install.
mkdir "$tmpdir/bin"
expect_error 1 '^podman-disk: nbdkit not found: install nbdkit \(Debian: nbdkit, Fedora: nbdkit nbdkit-basic-filters\)$' \
    env PATH="$tmpdir/bin" "$PODMAN_DISK" serve localhost/err-disk
expect_error 1 '^podman-disk: qemu-nbd not found: install qemu-utils \(Debian\) or qemu-img \(Fedora\)$' \
    env PATH="$tmpdir/bin" "$PODMAN_DISK" serve localhost/err-qcow2

# qemu counts in 512-byte sectors: an odd-sized raw disk is refused before
# anything starts, rather than exported with bytes that are not the disk's.
expect_error 1 '^podman-disk: qemu-nbd cannot export 1048676 bytes exactly \(not a multiple of 512\): use --server nbdkit$' \
    podman_disk serve localhost/err-disk --server qemu-nbd
check_no_leftovers localhost/err-disk

# The server dies before it is ready: its own words.
for mode in "" "--foreground" "--run true"; do
    expect_error 1 '^podman-disk: qemu-nbd exited before it was ready \(status 1\): .*Reference count entry width too large' \
        podman_disk serve localhost/err-qcow2 $mode
done
check_no_leftovers localhost/err-qcow2

# Clients that fail their handshake, again and again: the server logs a
# line for each, and what it may keep of them is bounded (64 KiB more than
# when it was ready, server.h), while it goes on serving.
make_raw_disk "$tmpdir/flood.img" 1
serve_image localhost/flood "$tmpdir/flood.img"
for server in nbdkit qemu-nbd; do
    uri=$(podman_disk serve localhost/flood --server "$server" --pidfile "$tmpdir/pid")
    spid=$(cat "$tmpdir/pid")
    python3 - "$(socket_of "$uri")" <<'EOP'
import socket, sys
for i in range(3000):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.recv(18)
    s.sendall(b"garbage!" * 8)
    s.close()
EOP
    # The memfd: its size is fixed, and no more of it is in memory.
    size=$(stat -L -c %s "/proc/$spid/fd/2")
    [ "$size" -le $((80 * 1024)) ] || fail "$server: its stderr grew to $size bytes"
    used=$(( $(stat -L -c %b "/proc/$spid/fd/2") * 512 ))
    [ "$used" -le $((80 * 1024)) ] || fail "$server: its stderr takes $used bytes"
    nbdcopy "$uri" - | cmp - "$tmpdir/flood.img" || fail "$server: export broken after the flood"
    kill "$spid"
done
check_no_leftovers localhost/flood

# An image without a disk, a missing image: the locate errors.
expect_error 1 'podman-disk: .*no-such-image' podman_disk serve localhost/no-such-image
check_no_leftovers localhost/err-disk
echo PASS
