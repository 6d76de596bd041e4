#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The createRuntime hook killed at its timeout (issue 7): the server
# never becomes ready (an nbdkit first in the hook's PATH that only
# sleeps), the runtime kills the hook after the hooks.d timeout (10 s
# here), the container does not start, and nothing is left: the server,
# the watcher, the record, socket and log all go (the watcher gives up at
# its own readiness bound and finds the hook gone).  Bounded waits only.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"

make_raw_disk "$tmpdir/raw.img" 4
build_hook_image localhost/hook-timeout "$tmpdir/raw.img"

# The fake server: records its pid, then hangs without ever answering.
fakebin=$tmpdir/fakebin
mkdir -p "$fakebin"
cat > "$fakebin/nbdkit" <<EOS
#!/bin/sh
echo \$\$ >> "$tmpdir/fake.pids"
exec sleep 3600
EOS
chmod +x "$fakebin/nbdkit"
kill_fakes () {
    local p
    for p in $(cat "$tmpdir/fake.pids" 2>/dev/null); do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    return 0
}
cleanup_fn kill_fakes

# The hooks with a 10 s timeout (valgrind too must reach the server) and that PATH.
for f in "$hooksdir"/*.json; do
    jq --arg path "PATH=$fakebin:/usr/sbin:/usr/bin:/sbin:/bin" \
       '.hook.timeout = 10 | .hook.env = [$path]' "$f" > "$f.new"
    mv "$f.new" "$f"
done

rc=0
hpodman run -d --name hang --annotation io.podman-disk.export=true \
    localhost/hook-timeout /bin/busybox sleep 1000 > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
cleanup_fn "podman --hooks-dir '$hooksdir' rm -f -t 0 hang >/dev/null 2>&1"
[ "$rc" != 0 ] || fail "the container started although its hook was killed"
grep -qi 'hook' "$tmpdir/err" || { cat "$tmpdir/err"; fail "podman does not say the hook failed"; }
[ -s "$tmpdir/fake.pids" ] || fail "the fake nbdkit never ran: the case tested nothing"
echo "podman: $(tail -1 "$tmpdir/err" | cut -c1-240)"

# Nothing of the export may stay (bounds against a hang: the watcher's
# readiness limit is 30 s).
for p in $(cat "$tmpdir/fake.pids"); do
    wait_until 90 pid_gone "$p" || fail "the hung server $p still runs"
done
# Our podman-disk processes: those naming the private state directory.
ours () {
    local p
    for p in /proc/[0-9]*; do
        [ "$p" = "/proc/$$" ] && continue
        tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q "podman-disk.*$statedir" &&
            echo "${p#/proc/}"
    done
    return 0
}
none_ours () { [ -z "$(ours)" ]; }
statedir_empty () { [ -z "$(ls -A "$statedir" 2>/dev/null)" ]; }
wait_until 90 none_ours || fail "podman-disk processes left: $(ours)"
wait_until 30 statedir_empty || true
assert_statedir_empty
[ -z "$(exports --format json | jq -r '.[].container')" ] || fail "exports still lists an export"
echo "ok - hook killed at its 10 s timeout: container refused; server, watcher and state gone"
