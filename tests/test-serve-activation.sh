#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve by systemd socket activation: nbdinfo, nbdcopy and nbdfuse start it
# as '[ podman-disk serve IMAGE ]' (LISTEN_PID, LISTEN_FDS=1, the listening
# socket as fd 3).  The clients read the right bytes, nothing reaches
# nbdcopy's stdout but the disk, and no podman-disk, nbdkit or qemu-nbd is
# left once the client is done.  The shipped systemd unit pair runs under
# systemd-socket-activate, and a wrong activation is one clear error.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires qemu-img --version
requires python3 --version
setup_store

# A tag of this run's own: pgrep finds this test's podman-disk processes
# by it, and no other's.
tag=t$$
raw=localhost/activation/raw:$tag
qcow2=localhost/activation/qcow2:$tag

make_raw_disk "$tmpdir/disk.img" 8
size=$(stat -c %s "$tmpdir/disk.img")
serve_image "$raw" "$tmpdir/disk.img"
raw_backing=$backing
make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
vsize=$(qemu-img info --output=json "$tmpdir/disk.qcow2" | jq -r '.["virtual-size"]')
serve_image "$qcow2" "$tmpdir/disk.qcow2"
qcow2_backing=$backing
cleanup_fn "pkill -KILL -f 'podman-disk serve .*:$tag'"

# nothing_left BACKING: no podman-disk of this test and no server holding
# BACKING is left (libnbd reaps the pid it started; its server is our child).
# serve-lib's holders, in one find: it runs after every client here.
ours_gone () { ! pgrep -f "serve .*:$tag" >/dev/null; }
fast_holders () {
    find /proc/[0-9]*/fd -maxdepth 1 -lname "$(readlink -m "$1")" 2>/dev/null |
        cut -d/ -f3 | sort -u | grep -vx "$$" || :
}
none_hold () { [ -z "$(fast_holders "$1")" ]; }
nothing_left () {
    wait_until ours_gone || fail "podman-disk left: $(pgrep -af "serve .*:$tag")"
    wait_until none_hold "$1" || fail "a server is left: $(fast_holders "$1")"
}

# check_image IMAGE BACKING SIZE GUEST-BYTES [SERVE-OPTIONS]
check_image () {
    local image=$1 backing=$2 want_size=$3 bytes=$4
    shift 4
    local got
    got=$(nbdinfo --size -- [ "$PODMAN_DISK" serve "$@" "$image" ])
    [ "$got" = "$want_size" ] || fail "$image: nbdinfo --size says '$got', not $want_size"
    nothing_left "$backing"

    rm -f "$tmpdir/out.raw"
    nbdcopy -- [ "$PODMAN_DISK" serve "$@" "$image" ] "$tmpdir/out.raw"
    cmp "$bytes" "$tmpdir/out.raw" || fail "$image: nbdcopy to a file differs"
    nothing_left "$backing"

    # Only the disk's bytes on stdout: serve prints no URI there.
    nbdcopy -- [ "$PODMAN_DISK" serve "$@" "$image" ] - | cmp - "$bytes" ||
        fail "$image: nbdcopy to stdout is not exactly the disk"
    nothing_left "$backing"
}

check_image "$raw" "$raw_backing" "$size" "$tmpdir/disk.img"
check_image "$qcow2" "$qcow2_backing" "$vsize" "$tmpdir/guest.raw"
qemu-img compare -q -f raw -F raw "$tmpdir/guest.raw" "$tmpdir/out.raw" ||
    fail "qemu-img compare: the qcow2's guest view differs"
# The stored qcow2 bytes, through nbdkit, the same way.
check_image "$qcow2" "$qcow2_backing" "$(stat -c %s "$tmpdir/disk.qcow2")" \
    "$tmpdir/disk.qcow2" --no-decode

# A failing serve (no such image) is a client error, and leaves nothing.
if nbdinfo --size -- [ "$PODMAN_DISK" serve --pull=never "localhost/nothing:$tag" ] \
       >"$tmpdir/out" 2>"$tmpdir/err"; then
    fail "nbdinfo on a missing image succeeded"
fi
grep -q "podman-disk: .*nothing:$tag" "$tmpdir/err" || {
    cat "$tmpdir/err" >&2; fail "serve's error does not reach the client's stderr"; }
wait_until ours_gone || fail "podman-disk left after a failure"

# --- Wrong activations: one line, exit 2, nothing started. ----------------
# activate N ARGS...: podman-disk with N listening Unix sockets from fd 3
# on, LISTEN_FDS=N and LISTEN_PID its own pid (python3 binds them and execs).
activate () {
    local n=$1
    shift
    python3 - "$tmpdir/act" "$n" "$PODMAN_DISK" "$@" <<'EOP'
import os, socket, sys
path, n, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
socks = []                              # kept open until exec
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    p = "%s%d.sock" % (path, i)
    if os.path.exists(p):
        os.unlink(p)
    s.bind(p)
    s.listen(4)
    socks.append(s)
    if s.fileno() != 3 + i:
        os.dup2(s.fileno(), 3 + i)
    os.set_inheritable(3 + i, True)     # dup2 onto itself leaves it CLOEXEC
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = str(n)
os.execv(argv[0], argv)
EOP
}
expect_error 2 "^podman-disk: socket activation: LISTEN_FDS=2, but serve takes exactly one listening socket" \
    activate 2 serve "$raw"
for opt in "--socket $tmpdir/x.sock" "--port 10809" "--run true" "--pidfile $tmpdir/pid"; do
    # shellcheck disable=SC2086 # the option and its value
    expect_error 2 "^podman-disk: ${opt%% *} cannot be used with socket activation" \
        activate 1 serve $opt "$raw"
done
expect_error 2 "^podman-disk: --format json cannot be used with socket activation" \
    activate 1 serve --format json "$raw"
[ ! -e "$tmpdir/x.sock" ] && [ ! -e "$tmpdir/pid" ] || fail "a conflicting option was acted on"
# fd 3 that is no socket, and one that is not listening.
expect_error 2 "^podman-disk: socket activation: fd 3 is not a socket" \
    sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" serve "$1" 3</dev/null' "$PODMAN_DISK" "$raw"
expect_error 2 "^podman-disk: socket activation: fd 3 is not a listening socket" \
    python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
os.execv(sys.argv[1], sys.argv[1:])' "$PODMAN_DISK" serve "$raw"
# LISTEN_PID of another process: not activated, serve as usual.
LISTEN_PID=1 LISTEN_FDS=1 podman_disk serve "$raw" --run 'test -z "${LISTEN_PID-}${LISTEN_FDS-}" && nbdinfo --size "$uri"' \
    > "$tmpdir/out" || fail "serve with another process's LISTEN_PID failed"
[ "$(cat "$tmpdir/out")" = "$size" ] || fail "LISTEN_PID of another process: $(cat "$tmpdir/out")"
nothing_left "$raw_backing"

# --- The shipped unit pair ------------------------------------------------
socket_unit=$top_srcdir/systemd/podman-disk-serve@.socket
service_unit=$top_srcdir/systemd/podman-disk-serve@.service
instance=$(systemd-escape "$raw" 2>/dev/null) || skip "everything else passed; no systemd-escape to run the unit pair"
[ "$(systemd-escape -u "$instance")" = "$raw" ] || fail "systemd-escape does not round-trip $raw"

# systemd-analyze verify parses both (an instance of each, the binary the
# one under test: verify checks ExecStart's is executable).
if command -v systemd-analyze >/dev/null; then
    mkdir "$tmpdir/units"
    sed "s|/usr/bin/podman-disk|$PODMAN_DISK|" "$service_unit" > "$tmpdir/units/podman-disk-serve@$tag.service"
    cp "$socket_unit" "$tmpdir/units/podman-disk-serve@$tag.socket"
    if (cd "$tmpdir/units" && systemd-analyze verify --man=no "podman-disk-serve@$tag.socket" \
            "podman-disk-serve@$tag.service") > "$tmpdir/verify" 2>&1; then
        ! grep -v '^$' "$tmpdir/verify" || fail "systemd-analyze verify complains about the units"
    elif grep -qi 'bus\|not booted\|permission' "$tmpdir/verify"; then
        echo "systemd-analyze verify cannot run here: $(head -1 "$tmpdir/verify")"
    else
        cat "$tmpdir/verify" >&2
        fail "systemd-analyze verify rejects the units"
    fi
else
    echo "no systemd-analyze: the units' syntax is unchecked"
fi

# The service's command and the socket's path, as systemd expands them
# (%I the unescaped instance, %i the escaped one), under $tmpdir.
exec_start=$(sed -n 's/^ExecStart=//p' "$service_unit")
listen=$(sed -n 's/^ListenStream=//p' "$socket_unit")
[ -n "$exec_start" ] && [ -n "$listen" ] || fail "no ExecStart= or ListenStream= in the units"
exec_start=${exec_start//%I/$raw}
exec_start=${exec_start/\/usr\/bin\/podman-disk/$PODMAN_DISK}
sock=$tmpdir/run/$(basename "${listen//%i/$instance}")
mkdir -m 0700 "$tmpdir/run"
sa=$(command -v systemd-socket-activate || echo /usr/lib/systemd/systemd-socket-activate)
[ -x "$sa" ] || skip "everything else passed; no systemd-socket-activate to run the unit pair"
# shellcheck disable=SC2086 # ExecStart's words
# systemd-socket-activate passes no environment but what -E names: the
# private store's configuration, as a unit would set Environment=.
"$sa" -E PATH -E CONTAINERS_STORAGE_CONF -E CONTAINERS_CONF -E XDG_CACHE_HOME \
    -l "$sock" -- $exec_start 2>"$tmpdir/sa.err" &
sa_pid=$!
cleanup_fn "kill -9 $sa_pid"
wait_until test -S "$sock" || fail "systemd-socket-activate did not listen on $sock"
uri="nbd+unix:///?socket=$sock"
# The first connection starts the service (systemd-socket-activate execs
# it, same pid), the second finds it serving.
[ "$(nbdinfo --size "$uri")" = "$size" ] || fail "unit pair: first client's size"
kill -0 "$sa_pid" || fail "the service exited after its first client"
nbdcopy "$uri" "$tmpdir/out.raw"
cmp "$tmpdir/disk.img" "$tmpdir/out.raw" || fail "unit pair: the second client's bytes differ"
# (under make check-valgrind the program is valgrind's tool, running it)
case $(cat /proc/"$sa_pid"/comm) in
    podman-disk) ;;
    memcheck-*) [ -n "${PODMAN_DISK_REAL:-}" ] || fail "pid $sa_pid is not podman-disk" ;;
    *) fail "pid $sa_pid is not podman-disk: $(cat /proc/"$sa_pid"/comm)" ;;
esac
[ -n "$(fast_holders "$raw_backing")" ] || fail "no server holds the disk"
# systemctl stop: SIGTERM to the main process (KillMode=mixed).
kill -TERM "$sa_pid"
rc=0; wait "$sa_pid" || rc=$?
[ "$rc" = 0 ] || { cat "$tmpdir/sa.err" >&2; fail "the service exited $rc on SIGTERM"; }
nothing_left "$raw_backing"
[ -S "$sock" ] || fail "the socket file, systemd's, was removed by serve"
! grep -q '^podman-disk:' "$tmpdir/sa.err" || { cat "$tmpdir/sa.err" >&2; fail "serve complained"; }
echo "PASS"
