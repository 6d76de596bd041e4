#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk serve --pull missing on an absent image, against the copy
# route, on the same local registry (plain HTTP on loopback) and a 256 MiB
# raw disk:
#   podman-disk serve --pull missing REF --run 'nbdinfo --size "$uri"'
#   podman pull REF + podman save + untar the archive and the layer
# and podman pull REF alone: the pull is the same in both, so what counts
# is everything after it (the totals minus the pull).  Best of 3, the
# image removed from the store before each.  Prints ratios; no assertions.
source "$(dirname "$0")/../tests/functions.sh"
requires command podman --version
requires nbdinfo --version
source "$testsdir/pull-functions.sh"
setup_store
start_registry bench
reg=127.0.0.1:$bench_port
write_registries_conf "$bench_port"
export PODMAN_DISK_CACHE_DIR=$tmpdir/pd-cache

make_raw_disk "$tmpdir/disk.img" 256
push_disk_image "$reg/bench:1" "$tmpdir/disk.img"
ref=$reg/bench:1

now () { echo "$EPOCHREALTIME"; }
absent () { podman rmi -f "$ref" >/dev/null 2>&1 || true; rm -rf "$tmpdir/x"; }
timed () {   # timed CMD: seconds, after making the image absent
    local t0 t1
    absent
    t0=$(now); eval "$1" >/dev/null 2>&1 || echo "(failed: $1)" >&2; t1=$(now)
    awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}'
}
min () { awk -v a="$1" -v b="$2" 'BEGIN {print (b == "" || a < b) ? a : b}'; }

pd="podman_disk serve --pull missing $ref --run 'nbdinfo --size \"\$uri\"'"
copy="podman pull -q $ref && podman save -q -o $tmpdir/x.tar $ref &&
      mkdir -p $tmpdir/x && tar -xf $tmpdir/x.tar -C $tmpdir/x &&
      for l in \$(find $tmpdir/x -name '*.tar' ! -name x.tar); do tar -xf \$l -C $tmpdir/x; done &&
      rm -f $tmpdir/x.tar && test -s $tmpdir/x/disk/disk.img"
pull="podman pull -q $ref"
best_pd= best_copy= best_pull=
for i in 1 2 3; do
    best_pd=$(min "$(timed "$pd")" "$best_pd")
    best_copy=$(min "$(timed "$copy")" "$best_copy")
    best_pull=$(min "$(timed "$pull")" "$best_pull")
done
absent
awk -v pd="$best_pd" -v cp="$best_copy" -v pl="$best_pull" 'BEGIN {
    a = pd - pl; b = cp - pl; if (a < 0.001) a = 0.001
    printf "podman pull alone:                      %8.1f ms\n", pl * 1000
    printf "podman-disk serve --pull missing + nbdinfo: %8.1f ms (after the pull: %.1f ms)\n", pd * 1000, a * 1000
    printf "podman pull + save + extract:           %8.1f ms (after the pull: %.1f ms)\n", cp * 1000, b * 1000
    printf "after the pull, podman-disk is %.1fx faster\n", b / a
}'
