#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook's cost: median 'podman run --rm IMG true' with the export
# annotation against the same without, same image, same run (goal: at most
# 50 ms added), and the hook's own time per stage; then the memory of one
# idle export (its server and its watcher), for a raw disk (nbdkit) and a
# qcow2 one (qemu-nbd).  The fixture helpers are the hook tests' (private
# store, hooks.d, cleanup).
source "$(dirname "$0")/../tests/functions.sh"
source "$testsdir/hook-functions.sh"
requires qemu-img --version

make_raw_disk "$tmpdir/disk.img" 256
build_hook_image localhost/bench-hook "$tmpdir/disk.img"
make_qcow2_disk "$tmpdir/disk.qcow2"
build_hook_image localhost/bench-hook-qcow2 "$tmpdir/disk.qcow2"

# The hook's own time, stage by stage: a wrapper around the binary in a
# second hooks.d.
timed=$tmpdir/timed-hooks.d
mkdir -p "$timed"
{
    echo '#!/bin/bash'
    echo 't0=$EPOCHREALTIME'
    printf '"%s" "$@"\n' "$PODMAN_DISK"
    echo 'rc=$?'
    printf 'echo "${@: -1} $t0 $EPOCHREALTIME" >> "%s"\n' "$tmpdir/hook-times"
    echo 'exit $rc'
} > "$tmpdir/timed-hook"
chmod +x "$tmpdir/timed-hook"
for f in "$hooksdir"/*.json; do
    jq --arg p "$tmpdir/timed-hook" '.hook.path = $p' "$f" > "$timed/${f##*/}"
done

# Pairs run back to back, so that the load of the machine (2 cores, other
# work) hits both alike; the median of the pairs' differences is the cost.
run () {
    command podman --root "$store/root" --runroot "$store/runroot" --hooks-dir "$timed" \
        run --rm "$@" localhost/bench-hook /bin/busybox true >/dev/null
}
ms () { echo "($2 - $1) * 1000" | bc -l; }
median () {
    sort -n | awk '{ v[NR] = $1 }
        END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
run
run --annotation io.podman-disk.export=true
: > "$tmpdir/hook-times"
for i in $(seq 30); do
    t0=$EPOCHREALTIME
    run
    t1=$EPOCHREALTIME
    run --annotation io.podman-disk.export=true
    t2=$EPOCHREALTIME
    echo "$(ms "$t0" "$t1") $(ms "$t1" "$t2")"
done > "$tmpdir/pairs"
without=$(awk '{ print $1 }' "$tmpdir/pairs" | median)
with=$(awk '{ print $2 }' "$tmpdir/pairs" | median)
added=$(awk '{ print $2 - $1 }' "$tmpdir/pairs" | median)
printf 'podman run --rm, 30 pairs: median %.1f ms without the annotation, %.1f ms with it; median added %.1f ms (goal <= 50 ms)\n' \
    "$without" "$with" "$added"
for stage in createRuntime poststop; do
    t=$(awk -v s="$stage" '$1 == s { print ($3 - $2) * 1000 }' "$tmpdir/hook-times" | median)
    printf '  the hook itself, %s: median %.1f ms\n' "$stage" "$t"
done
assert_statedir_empty

# KiB of FIELD in /proc/PID/FILE.
kib () { awk -v f="$3:" '$1 == f { print $2 }' "/proc/$1/$2"; }

idle_export () {
    local image=$1 id watcher server
    id=$(hpodman run -d --annotation io.podman-disk.export=true "$image" /bin/busybox sleep 1000)
    watcher=$(record_field "$id" watcher_pid)
    server=$(record_field "$id" pid)
    nbdinfo --size "$(record_field "$id" uri)" >/dev/null
    printf '%s idle export of %s: server RSS %d KiB (PSS %d KiB), watcher RSS %d KiB (PSS %d KiB)\n' \
        "$(record_field "$id" server)" "$image" \
        "$(kib "$server" status VmRSS)" "$(kib "$server" smaps_rollup Pss)" \
        "$(kib "$watcher" status VmRSS)" "$(kib "$watcher" smaps_rollup Pss)"
    hpodman rm -f -t 0 "$id" >/dev/null
}
idle_export localhost/bench-hook
idle_export localhost/bench-hook-qcow2
