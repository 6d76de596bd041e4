# SPDX-License-Identifier: Apache-2.0
# podman-disk OCI hook test helpers, sourced by tests/test-hook-*.sh after
# functions.sh.  The hook runs for real: podman (runc) on a private store,
# --hooks-dir pointing at hooks.d files generated from hooks/*.json.in with
# this build's binary, and a private state directory (--state-dir) so that
# nothing touches /run/podman-disk.

requires_root
requires command podman --version
requires runc --version
requires nbdkit --version
requires nbdinfo --version
requires nbdcopy --version
requires jq --version
busybox=$(command -v busybox) || skip "busybox not installed (Debian: busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && skip "$busybox is not static (Debian: busybox-static)"

setup_store "${hook_store_driver:-overlay}"
source "$testsdir/hook-state.sh"
hooksdir=$tmpdir/hooks.d
mkdir -p "$hooksdir"
for f in "$top_srcdir"/hooks/*.json.in; do
    sed "s|@BINDIR@/podman-disk|$PODMAN_DISK|" "$f" |
        jq --arg dir "$statedir" \
           '.hook.args |= (.[0:2] + ["--state-dir", $dir] + .[2:])' \
           > "$hooksdir/$(basename "$f" .in)"
done

# podman with the hooks of this build.
hpodman () { podman --hooks-dir "$hooksdir" "$@"; }

# build_hook_image NAME DISK-FILE...: FROM scratch, a static busybox for a
# process that sleeps, and each file under /disk/.
build_hook_image () {
    local name=$1 ctx f
    shift
    ctx=$(mktemp -d "$tmpdir/ctx.XXXXXX")
    cp "$busybox" "$ctx/busybox"
    {
        echo "FROM scratch"
        echo "COPY busybox /bin/busybox"
        for f in "$@"; do
            cp "$f" "$ctx/"
            echo "COPY $(basename "$f") /disk/"
        done
    } > "$ctx/Containerfile"
    podman build -q -t "$name" "$ctx" >/dev/null
}

# The record of container ID (full id), as JSON on stdout.
record () { cat "$statedir/$1.json"; }
record_field () { jq -r ".$2" "$statedir/$1.json"; }


# Nothing of the export of container ID is left: no record, socket or
# log, and neither of the pids WATCHER SERVER runs.
assert_export_gone () {
    local id=$1 watcher=$2 server=$3
    wait_until 30 pid_gone "$server" || fail "$id: server $server still runs"
    wait_until 30 pid_gone "$watcher" || fail "$id: watcher $watcher still runs"
    for suffix in json sock log; do
        [ ! -e "$statedir/$id.$suffix" ] && [ ! -L "$statedir/$id.$suffix" ] ||
            fail "$id: $statedir/$id.$suffix left behind"
    done
}

# The state directory holds nothing (apart from the directory itself).
assert_statedir_empty () {
    if [ -d "$statedir" ] && [ -n "$(ls -A "$statedir")" ]; then
        ls -la "$statedir" >&2
        fail "the state directory is not empty"
    fi
}

# No process of ours holds FILE open (the disk's layer file).
assert_not_open () {
    local file=$1 p
    for p in /proc/[0-9]*/fd/*; do
        [ "$(readlink "$p" 2>/dev/null)" = "$file" ] &&
            fail "$file is still open: $p"
    done
    return 0
}

# build_host_tools_image NAME: an image of the merged-/usr symlinks only,
# for a container that runs the host's tools with the host's /usr mounted
# read-only (-v /usr:/usr:ro, or a hostPath volume in a pod).
build_host_tools_image () {
    local ctx d
    ctx=$(mktemp -d "$tmpdir/ctx.XXXXXX")
    for d in bin lib lib64 sbin; do ln -s "usr/$d" "$ctx/$d"; done
    printf 'FROM scratch\nCOPY . /\n' > "$ctx/Containerfile"
    podman build -q -t "$1" "$ctx" >/dev/null
}

# No process mentions our state directory (watchers name it).
assert_no_watcher () {
    local w
    if w=$(watcher_running); then
        fail "a watcher still runs: $w"
    fi
}

# expect_start_failure REGEX IMAGE [PODMAN-RUN-OPTIONS...]: the container
# (bad1, bad2, ...) does not start, podman shows the hook's one line, which
# matches REGEX, and nothing is left: no record, no watcher.
n=0
expect_start_failure () {
    local regex=$1 image=$2 rc=0
    shift 2
    n=$((n + 1))
    hpodman run -d --name "bad$n" "$@" "$image" /bin/busybox sleep 1000 \
        >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" != 0 ] || fail "bad$n ($*) started"
    # podman quotes the hook's stderr: our one line.
    grep -q -- "stderr: podman-disk: " "$tmpdir/err" ||
        { cat "$tmpdir/err" >&2; fail "bad$n: the hook's message is not shown"; }
    [ "$(grep -c 'podman-disk: ' "$tmpdir/err")" = 1 ] ||
        { cat "$tmpdir/err" >&2; fail "bad$n: not one message"; }
    sed -n 's/.*stderr: //p' "$tmpdir/err" | grep -Eq -- "$regex" ||
        { cat "$tmpdir/err" >&2; fail "bad$n: message does not match /$regex/"; }
    [ "$(podman inspect -f '{{.State.Running}}' "bad$n")" = false ] ||
        fail "bad$n is running"
    assert_statedir_empty
    assert_no_watcher
    podman rm -f "bad$n" >/dev/null
}
