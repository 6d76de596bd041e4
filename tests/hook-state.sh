# SPDX-License-Identifier: Apache-2.0
# The hook's state directory in a test, sourced after functions.sh by the
# hook tests (tests/hook-functions.sh, which runs it through podman, and
# tests/test-hook-direct.sh, which runs it by hand): $statedir, exports on
# it, what a failing test leaves there stopped, and waiting for processes.

statedir=$tmpdir/run
exports () { podman_disk exports --state-dir "$statedir" "$@"; }

# Whatever a failing test leaves: stop every export it started, by the
# pids its records name (ours only), before the store goes.
_stop_exports () {
    local f
    for f in "$statedir"/*.json; do
        [ -f "$f" ] || continue
        kill "$(jq -r .watcher_pid "$f")" "$(jq -r .pid "$f")" 2>/dev/null
    done
}
cleanup_fn _stop_exports

# watcher_running: the /proc/PID/cmdline of a watcher of $statedir that
# still runs (it names the directory), or nothing.
watcher_running () {
    local p
    for p in /proc/[0-9]*/cmdline; do
        if { tr '\0' ' ' < "$p"; } 2>/dev/null | grep -qF -- "--state-dir $statedir "; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s; false after SECONDS.
# A bound against hangs, not a timing assertion.
wait_until () {
    local secs=$1 i
    shift
    for (( i = 0; i < secs * 10; i++ )); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
pid_gone () { ! kill -0 "$1" 2>/dev/null; }
