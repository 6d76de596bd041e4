#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The nbdkit plugin, same run, same bytes:
# - read throughput of 'nbdkit podman-disk oci:DIR' against nbdkit's file
#   plugin + offset filter on the layer blob at the disk's offset (goal:
#   the plugin >= 0.95x the file plugin), nbdcopy to null: each time;
# - memory (PSS, /proc/PID/smaps_rollup) of one store server that has
#   served 1, 10 and 100 disks, against 1, 10 and 100 single-disk servers;
# - the time to list the exports of a 500-image store (nbdinfo --list,
#   which also opens each export for its size), beside podman-disk list.
# The 500 images are built as bench/locate.sh builds its store: one disk
# image and 499 more FROM it, each a LABEL apart (one shared disk layer).
source "$(dirname "$0")/../tests/functions.sh"
source "$(dirname "$0")/../tests/serve-lib.sh"
source "$(dirname "$0")/../tests/plugin-lib.sh"
requires hyperfine --version
requires_plugin
setup_store

mib=${PLUGIN_BENCH_MIB:-1024}
make_raw_disk "$tmpdir/disk.img" "$mib"
build_disk_image localhost/bench-0 "$tmpdir/disk.img"
rm -f "$tmpdir/disk.img"
podman save -q --uncompressed --format oci-dir -o "$tmpdir/oci" localhost/bench-0
loc=$(podman_disk locate "oci:$tmpdir/oci")
file=$(field file <<<"$loc") offset=$(field offset <<<"$loc") size=$(field size <<<"$loc")

mean () {
    hyperfine -N --warmup 2 --min-runs "${2:-10}" --export-json "$tmpdir/h.json" "$1" >/dev/null 2>&1 ||
        { echo "bench: '$1' failed" >&2; return 1; }
    jq -r '.results[0].mean' "$tmpdir/h.json"
}
ms () { printf '%.1f' "$(echo "$1 * 1000" | bc -l)"; }
nbdkit_bin=$(command -v nbdkit)

# --- throughput ---
t_plugin=$(mean "$nbdkit_bin -U - $plugin oci:$tmpdir/oci --run 'nbdcopy \"\$uri\" null:'")
t_file=$(mean "$nbdkit_bin -U - --filter=offset file $file offset=$offset range=$size --run 'nbdcopy \"\$uri\" null:'")
printf 'read %d MiB (page cache warm): plugin %s ms (%.0f MiB/s), file plugin + offset filter %s ms (%.0f MiB/s): plugin %.2fx the file plugin (goal >= 0.95x)\n' \
    "$mib" "$(ms "$t_plugin")" "$(echo "$mib / $t_plugin" | bc -l)" \
    "$(ms "$t_file")" "$(echo "$mib / $t_file" | bc -l)" "$(echo "$t_file / $t_plugin" | bc -l)"

# --- memory ---
pss () { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
build_more () {         # images localhost/bench-1 .. bench-N
    local i
    for i in $(seq "$1" "$2"); do
        printf 'FROM localhost/bench-0\nLABEL n=%d\n' "$i" |
            podman build -q -t "localhost/bench-$i" -f - "$tmpdir" >/dev/null
    done
}
# server PIDFILE SOCK ARGS: a daemonised nbdkit with the plugin.
server () {
    local pidfile=$1 sock=$2
    shift 2
    pd_nbdkit -U "$sock" -P "$pidfile" "$plugin" "$@"
    wait_until test -s "$pidfile"
    cleanup_fn "kill $(cat "$pidfile")"
}
built=0
for n in 1 10 100; do
    [ "$built" -ge "$((n - 1))" ] || { build_more "$((built + 1))" "$((n - 1))"; built=$((n - 1)); }
    # One server for the store, each of the n exports opened once.
    server "$tmpdir/store$n.pid" "$tmpdir/store$n.sock"
    for i in $(seq 0 $((n - 1))); do
        nbdinfo --size "$(unix_uri "$tmpdir/store$n.sock" "localhost/bench-$i:latest")" >/dev/null
    done
    one=$(pss "$(cat "$tmpdir/store$n.pid")")
    kill "$(cat "$tmpdir/store$n.pid")"
    # n servers, one disk each, each opened once.
    total=0 pids=()
    for i in $(seq 0 $((n - 1))); do
        server "$tmpdir/s$n-$i.pid" "$tmpdir/s$n-$i.sock" "localhost/bench-$i"
        nbdinfo --size "$(unix_uri "$tmpdir/s$n-$i.sock")" >/dev/null
        pids+=("$(cat "$tmpdir/s$n-$i.pid")")
    done
    for p in "${pids[@]}"; do total=$((total + $(pss "$p"))); done
    kill "${pids[@]}"
    printf '%3d disks: one store server %d KiB PSS; %d single-disk servers %d KiB PSS in all (%.1fx the one server)\n' \
        "$n" "$one" "$n" "$total" "$(echo "$total / $one" | bc -l)"
done

# --- listing 500 images ---
build_more "$((built + 1))" 499
server "$tmpdir/store.pid" "$tmpdir/store.sock"
uri=$(unix_uri "$tmpdir/store.sock")
[ "$(nbdinfo --list --json "$uri" | jq '.exports | length')" = 500 ] ||
    echo "bench: the store server does not list 500 exports" >&2
t_list=$(mean "nbdinfo --list --json $uri" 5)
t_cli=$(mean "$PODMAN_DISK list" 5)
printf '500 images: nbdinfo --list (every export listed and opened) %s ms; podman-disk list %s ms\n' \
    "$(ms "$t_list")" "$(ms "$t_cli")"
kill "$(cat "$tmpdir/store.pid")"
