#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk serve --pull missing on an absent image, against the copy
# route, on the same local registry (plain HTTP on loopback), for a 256 MiB
# and a 1 GiB raw disk (the copy route grows with the disk, serve should not):
#   podman-disk serve --pull missing REF --run 'nbdinfo --size "$uri"'
#   podman pull REF + podman save + untar the archive and the layer
# and podman pull REF alone.  The pull is the same in both, so what counts
# is everything after it.  For podman-disk that is its whole run minus the
# podman pull it runs, timed by a wrapper on PATH (which adds a bash start
# to podman-disk's share); for the copy route, save and extract timed right
# after a pull.  The totals minus a separate pull are shown too, but at
# 1 GiB they are within the pull's own noise (about 0.5 s here).  Best of
# 3, the image removed from the store before each.  Prints ratios; no
# assertions.
source "$(dirname "$0")/../tests/functions.sh"
requires command podman --version
requires nbdinfo --version
source "$testsdir/pull-functions.sh"
setup_store
start_registry bench
reg=127.0.0.1:$bench_port
write_registries_conf "$bench_port"
export PODMAN_DISK_CACHE_DIR=$tmpdir/pd-cache

now () { echo "$EPOCHREALTIME"; }
absent () { podman rmi -f "$ref" >/dev/null 2>&1 || true; rm -rf "$tmpdir/x"; }
timed () {   # timed CMD: seconds, after making the image absent
    local t0 t1
    absent
    t0=$(now); eval "$1" >/dev/null 2>&1 || echo "(failed: $1)" >&2; t1=$(now)
    awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}'
}
# A podman that notes when its pulls start and end, for podman-disk's own
# share of serve --pull missing.
mkdir -p "$tmpdir/wrap"
real_podman=$(type -P podman)
cat > "$tmpdir/wrap/podman" <<EOS
#!/bin/bash
for a; do [ "\$a" = pull ] && echo "start \$EPOCHREALTIME" >> "$tmpdir/pulls" && break; done
"$real_podman" "\$@"
rc=\$?
for a; do [ "\$a" = pull ] && echo "end \$EPOCHREALTIME" >> "$tmpdir/pulls" && break; done
exit \$rc
EOS
chmod +x "$tmpdir/wrap/podman"
# timed_own CMD: seconds of CMD minus those of the podman pulls it ran.
timed_own () {
    local t0 t1
    absent
    rm -f "$tmpdir/pulls"
    t0=$(now); PATH=$tmpdir/wrap:$PATH eval "$1" >/dev/null 2>&1 || echo "(failed: $1)" >&2; t1=$(now)
    grep -q '^end' "$tmpdir/pulls" 2>/dev/null || echo "(no pull seen: $1)" >&2
    awk -v a="$t0" -v z="$t1" '$1 == "start" { s = $2 } $1 == "end" { p += $2 - s }
                               END { print z - a - p }' "$tmpdir/pulls"
}
timed_present () {   # timed_present CMD: seconds, the image left as it is
    local t0 t1
    rm -rf "$tmpdir/x"
    t0=$(now); eval "$1" >/dev/null 2>&1 || echo "(failed: $1)" >&2; t1=$(now)
    rm -rf "$tmpdir/x"
    awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}'
}
min () { awk -v a="$1" -v b="$2" 'BEGIN {print (b == "" || a < b) ? a : b}'; }

for mib in 256 1024; do
    ref=$reg/bench:$mib
    make_raw_disk "$tmpdir/disk.img" "$mib"
    push_disk_image "$ref" "$tmpdir/disk.img"
    rm -f "$tmpdir/disk.img"
    pd="podman_disk serve --pull missing $ref --run 'nbdinfo --size \"\$uri\"'"
    pull="podman pull -q $ref"
    save="podman save -q -o $tmpdir/x.tar $ref &&
          mkdir -p $tmpdir/x && tar -xf $tmpdir/x.tar -C $tmpdir/x &&
          for l in \$(find $tmpdir/x -name '*.tar' ! -name x.tar); do tar -xf \$l -C $tmpdir/x; done &&
          rm -f $tmpdir/x.tar && test -s $tmpdir/x/disk/disk.img"
    copy="$pull && $save"
    best_pd= best_copy= best_pull= best_pd_own= best_save_after=
    for i in 1 2 3; do
        best_pd=$(min "$(timed "$pd")" "$best_pd")
        best_copy=$(min "$(timed "$copy")" "$best_copy")
        best_pull=$(min "$(timed "$pull")" "$best_pull")
        # The image is there now, as right after the pull of the copy route.
        best_save_after=$(min "$(timed_present "$save")" "$best_save_after")
        best_pd_own=$(min "$(timed_own "$pd")" "$best_pd_own")
    done
    absent
    awk -v pd="$best_pd" -v cp="$best_copy" -v pl="$best_pull" -v mib="$mib" \
        -v pdo="$best_pd_own" -v cpa="$best_save_after" 'BEGIN {
        printf "%d MiB disk:\n", mib
        a = pd - pl; b = cp - pl; if (a < 0.001) a = 0.001
        printf "  podman pull alone:                          %8.1f ms\n", pl * 1000
        printf "  podman-disk serve --pull missing + nbdinfo: %8.1f ms (minus the pull: %.1f ms)\n", pd * 1000, a * 1000
        printf "  podman pull + save + extract:               %8.1f ms (minus the pull: %.1f ms)\n", cp * 1000, b * 1000
        printf "  besides the pull, timed: podman-disk %.1f ms, save + extract %.1f ms: %.1fx faster\n", pdo * 1000, cpa * 1000, cpa / pdo
        printf "  after the pull, by the totals: podman-disk is %.1fx faster\n", b / a
    }'
done
