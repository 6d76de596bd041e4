#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Signals podman-disk inherits or gets at a bad moment (issue 11):
#   - started with SIGCHLD ignored (a parent that set SIG_IGN, which exec
#     keeps): the kernel would reap children by itself and every waitpid
#     fail with ECHILD.  cp --format qcow2 through qemu-img must finish
#     with the right bytes (it used to spin at 100% CPU for ever and then
#     ignore SIGTERM), serve --run and a background serve must work;
#   - SIGINT while serve --foreground is still locating (a slow --verify):
#     podman-disk ends at once, by SIGINT, and no server ever starts (it
#     used to hold the signal, start the server, then stop it).
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires qemu-img --version
requires perl -v
requires python3 --version
requires timeout --version
requires jq --version
setup_store

# sigchld_ignored CMD...: CMD with SIGCHLD ignored, as a careless parent
# leaves it; bounded, so that a spinning podman-disk fails the test.
sigchld_ignored () {
    timeout -k 5 60 perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"' -- "$@"
}

make_raw_disk "$tmpdir/disk.img" 8
serve_image localhost/signals "$tmpdir/disk.img"

# ---- cp through qemu-img with SIGCHLD ignored ----
rc=0
sigchld_ignored "$PODMAN_DISK" cp --format qcow2 localhost/signals "$tmpdir/out.qcow2" \
    2> "$tmpdir/cp.err" || rc=$?
[ "$rc" = 0 ] || { cat "$tmpdir/cp.err"; fail "cp --format qcow2 with SIGCHLD ignored: exit $rc"; }
[ "$(qemu-img info --output=json "$tmpdir/out.qcow2" | jq -r .format)" = qcow2 ] ||
    fail "cp --format qcow2 did not write a qcow2"
qemu-img compare -f raw -F qcow2 "$tmpdir/disk.img" "$tmpdir/out.qcow2" >/dev/null ||
    fail "cp --format qcow2 with SIGCHLD ignored: other bytes"
echo "ok 1 - cp --format qcow2 with SIGCHLD ignored: finished, same bytes"

# ---- serve --run and a background serve with SIGCHLD ignored ----
sigchld_ignored "$PODMAN_DISK" serve localhost/signals \
    --run "nbdcopy \"\$uri\" '$tmpdir/run.img'" 2> "$tmpdir/run.err" ||
    { cat "$tmpdir/run.err"; fail "serve --run with SIGCHLD ignored"; }
cmp "$tmpdir/disk.img" "$tmpdir/run.img" || fail "serve --run with SIGCHLD ignored: other bytes"
uri=$(sigchld_ignored "$PODMAN_DISK" serve --pidfile "$tmpdir/pid" localhost/signals) ||
    fail "serve in the background with SIGCHLD ignored"
nbdcopy "$uri" "$tmpdir/bg.img"
cmp "$tmpdir/disk.img" "$tmpdir/bg.img" || fail "background serve: other bytes"
kill "$(cat "$tmpdir/pid")"
wait_until path_gone "$(socket_of "$uri")" || fail "background serve: socket left"
check_no_leftovers localhost/signals
echo "ok 2 - serve --run and a background serve with SIGCHLD ignored"

# ---- SIGINT while locating ----
# Locating waits while podman (here a stand-in) holds the store's images
# lock for writing: a locate as slow as we like, without a fixed time.
lock=$store/root/overlay-images/images.lock
[ -f "$lock" ] || fail "no $lock"
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "r+"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(1000)' "$lock" "$tmpdir/locked" &
locker=$!
cleanup_fn "kill $locker 2>/dev/null"
wait_until test -e "$tmpdir/locked" || fail "the lock was not taken"
# (a background job of a script starts with SIGINT ignored: not this one)
PODMAN_DISK_CACHE=off perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' -- \
    "$PODMAN_DISK" serve --foreground localhost/signals \
    > "$tmpdir/int.out" 2> "$tmpdir/int.err" &
serve=$!
# waiting: a blocked lock request of serve's in /proc/locks
waits_for_lock () { grep -q -- "-> POSIX .* $serve " /proc/locks; }
wait_until waits_for_lock || fail "serve never waited for the store's lock"
kill -INT "$serve"
if ! wait_until process_gone "$serve"; then
    # Held back: let it go on, to see what it does with the signal.
    kill "$locker"
    wait_until process_gone "$serve" || kill -TERM "$serve"
fi
rc=0
wait "$serve" || rc=$?
kill "$locker" 2>/dev/null || :
[ "$rc" = 130 ] ||
    { cat "$tmpdir/int.out" "$tmpdir/int.err"; fail "SIGINT while locating: exit $rc, not 130 (ended by SIGINT)"; }
[ ! -s "$tmpdir/int.out" ] || fail "SIGINT while locating: a server was started: $(cat "$tmpdir/int.out")"
check_no_leftovers localhost/signals
echo "ok 3 - SIGINT while serve --foreground locates: ended at once, no server"
