# SPDX-License-Identifier: Apache-2.0
# Helpers of the nbdkit plugin tests (tests/test-plugin*.sh), sourced after
# functions.sh and serve-lib.sh.  The plugin is the one make built for this
# run (PODMAN_DISK_PLUGIN), loaded by path: 'nbdkit podman-disk' finds the
# installed one only.

plugin=${PODMAN_DISK_PLUGIN:-}

# A sanitizer build's plugin needs its runtime loaded before nbdkit's
# libraries (LD_PRELOAD), and nbdkit 1.32 then deadlocks in glibc's
# locale lock at the first newlocale (json-c's parser): those runs would
# measure that, not the plugin.  Its C is checked under valgrind instead
# (test-plugin-valgrind), and the same sources under ASan by the CLI's.
_asan_runtime=
if [ -n "$plugin" ] && [ -f "$plugin" ]; then
    _asan_runtime=$(ldd "$plugin" 2>/dev/null | awk '/libasan/ {print $3}')
fi
requires_plugin () {
    requires nbdkit --version
    requires nbdinfo --version
    requires nbdcopy --version
    [ -n "$plugin" ] && [ -f "$plugin" ] ||
        skip "the nbdkit plugin is not built (it needs nbdkit's plugin header: Debian nbdkit-plugin-dev, Fedora nbdkit-devel)"
    [ -z "$_asan_runtime" ] ||
        skip "the plugin is a sanitizer build: nbdkit with the ASan runtime preloaded deadlocks in glibc's locale lock (newlocale); test-plugin-valgrind checks the plugin's memory"
}

# pd_nbdkit ARGS: nbdkit as the tests run it, with the plugin as $plugin.
pd_nbdkit () { nbdkit "$@"; }

# start_plugin_server SOCK LOG ARGS...: nbdkit -f on unix socket SOCK in
# the background with ARGS after the plugin, its stderr in LOG, stopped at
# exit; waits until it listens.  $server_pid is its pid.
start_plugin_server () {
    local sock=$1 log=$2
    shift 2
    pd_nbdkit -f -U "$sock" "$plugin" "$@" 2>"$log" &
    server_pid=$!
    cleanup_fn "kill $server_pid; wait $server_pid"
    wait_until plugin_server_up "$sock" "$server_pid" ||
        fail "nbdkit did not start: $(cat "$log")"
    kill -0 "$server_pid" || fail "nbdkit exited: $(cat "$log")"
}
plugin_server_up () { [ -S "$1" ] || ! kill -0 "$2" 2>/dev/null; }

# stop_plugin_server: SIGTERM, and wait until it is gone.
stop_plugin_server () {
    kill "$server_pid" 2>/dev/null || :
    wait "$server_pid" 2>/dev/null || :
}

# unix_uri SOCK [EXPORT]: the URI of EXPORT (default "") on SOCK, the name
# percent-encoded as nbd URIs want it.
unix_uri () {
    local name
    name=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "${2:-}")
    echo "nbd+unix:///$name?socket=$1"
}

# locate_fields IMAGE: $loc_file, $loc_offset, $loc_size of podman-disk
# locate IMAGE: where the plugin must read.
locate_fields () {
    local text
    text=$(podman_disk locate "$1")
    loc_file=$(field file <<<"$text")
    loc_offset=$(field offset <<<"$text")
    loc_size=$(field size <<<"$text")
}
