#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk serve and cp against the alternatives, same run, same 1 GiB
# disk in the page cache:
#   read it all: nbdcopy through podman-disk serve, through a plain nbdkit
#                on an extracted copy, and cat (the page-cache limit);
#   time from the command to a ready URI, and to the first byte against
#                the copy route (podman save + untar + qemu-img convert);
#   cp raw->raw against cp --reflink=auto --sparse=always of the extracted file.
# Prints ratios; no assertions.
source "$(dirname "$0")/../tests/functions.sh"
source "$testsdir/serve-lib.sh"
requires nbdkit --version
requires nbdcopy --version
requires command podman --version
setup_store

make_raw_disk "$tmpdir/disk.img" 1024
serve_image localhost/bench-serve "$tmpdir/disk.img"
cat "$backing" "$tmpdir/disk.img" > /dev/null      # both in the page cache

now () { echo "$EPOCHREALTIME"; }
# best_of N CMD...: the best time in seconds of each shell command, run in
# turns N times (interleaved, so that a busy moment hits them all alike);
# one line, the times in the order of the commands.
best_of () {
    local n=$1 i j t0 t1
    shift
    local -a best=()
    for i in $(seq 1 "$n"); do
        for j in $(seq 1 $#); do
            t0=$(now); eval "${!j}" >/dev/null; t1=$(now)
            best[j]=$(awk -v a="$t0" -v z="$t1" -v b="${best[j]:-}" \
                      'BEGIN {t = z - a; if (b == "" || t < b) b = t; print b}')
        done
    done
    echo "${best[@]}"
}
ratio () { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
ms () { awk -v a="$1" 'BEGIN {printf "%.1f ms", a * 1000}'; }
gibs () { awk -v a="$1" 'BEGIN {printf "%.2f GiB/s", 1 / a}'; }

# --- Reading the whole disk ---------------------------------------------------
# Like with like: a background server has its own session, and the kernel's
# scheduler autogroups (sched_autogroup_enabled) treat a session apart, which
# shows on a busy machine; so the background serve is compared with a plain
# nbdkit in its own session too, and serve --foreground with a plain nbdkit
# in the client's session.
uri=$(podman_disk serve localhost/bench-serve --pidfile "$tmpdir/pd.pid")
"$PODMAN_DISK" serve localhost/bench-serve --foreground > "$tmpdir/fg.uri" &
fg_pid=$!
setsid nbdkit -r -U "$tmpdir/bg.sock" -P "$tmpdir/bg.pid" file "$tmpdir/disk.img"
nbdkit -r -U "$tmpdir/plain.sock" -P "$tmpdir/plain.pid" file "$tmpdir/disk.img"
cleanup_fn "kill \$(cat '$tmpdir/plain.pid') \$(cat '$tmpdir/bg.pid') $fg_pid"
wait_until test -s "$tmpdir/fg.uri"
wait_until test -S "$tmpdir/plain.sock"
wait_until test -S "$tmpdir/bg.sock"
fg_uri=$(cat "$tmpdir/fg.uri")
plain="nbd+unix:///?socket=$tmpdir/plain.sock"
bg="nbd+unix:///?socket=$tmpdir/bg.sock"

read -r t_pd t_bg t_fg t_plain t_cat < <(best_of 7 "nbdcopy '$uri' null:" "nbdcopy '$bg' null:" \
                                        "nbdcopy '$fg_uri' null:" "nbdcopy '$plain' null:" \
                                        "cat '$backing' > /dev/null")
echo "read 1 GiB (best of 7): serve $(gibs "$t_pd"), plain nbdkit file in its own session $(gibs "$t_bg");"
echo "  serve --foreground $(gibs "$t_fg"), plain nbdkit file in the client's session $(gibs "$t_plain"); cat $(gibs "$t_cat")"
echo "  serve / plain nbdkit: background $(ratio "$t_bg" "$t_pd")x, foreground $(ratio "$t_plain" "$t_fg")x (goal >= 0.95);" \
     "serve / cat: $(ratio "$t_cat" "$t_pd")x"
kill "$(cat "$tmpdir/pd.pid")" "$fg_pid" "$(cat "$tmpdir/plain.pid")" "$(cat "$tmpdir/bg.pid")"
wait

# --- Time to a ready URI --------------------------------------------------------
ready () {
    local t0 t1 uri
    t0=$(now)
    uri=$(podman_disk serve "$@" localhost/bench-serve --pidfile "$tmpdir/r.pid")
    t1=$(now)
    kill "$(cat "$tmpdir/r.pid")"
    wait_until path_gone "$tmpdir/r.pid"
    awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}'
}
median () { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
t_ready=$(for i in $(seq 1 15); do ready; done | median)
t_ready_q=$(for i in $(seq 1 15); do ready --server qemu-nbd; done | median)
t_nbdkit=$(for i in $(seq 1 15); do
    rm -f "$tmpdir/n.sock"
    t0=$(now); nbdkit -r -U "$tmpdir/n.sock" file "$tmpdir/disk.img" --run 'nbdinfo --size "$uri"' >/dev/null; t1=$(now)
    awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}'
done | median)
echo "command to ready URI (median of 15): nbdkit $(ms "$t_ready") (goal <= 50 ms), qemu-nbd $(ms "$t_ready_q");"
echo "  for scale, plain nbdkit --run 'nbdinfo --size' on a file: $(ms "$t_nbdkit")"

# --- Time to the first byte, against the copy route ---------------------------------
t0=$(now)
uri=$(podman_disk serve localhost/bench-serve --pidfile "$tmpdir/f.pid")
{ nbdcopy "$uri" - 2>/dev/null || true; } | head -c 512 > /dev/null
t1=$(now)
kill "$(cat "$tmpdir/f.pid")"
t_first=$(awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}')
t0=$(now)
mkdir "$tmpdir/route"
podman save -q -o "$tmpdir/route/image.tar" localhost/bench-serve
tar -C "$tmpdir/route" -xf "$tmpdir/route/image.tar"
layer=$(tar -tf "$tmpdir/route/image.tar" | grep -E '(layer|[0-9a-f]{64})\.tar$' | sed -n 1p)
tar -C "$tmpdir/route" -xf "$tmpdir/route/$layer"
qemu-img convert -f raw -O raw "$tmpdir/route/disk/disk.img" "$tmpdir/route/out.raw"
head -c 512 "$tmpdir/route/out.raw" > /dev/null
t1=$(now)
t_route=$(awk -v a="$t0" -v z="$t1" 'BEGIN {print z - a}')
rm -rf "$tmpdir/route"
echo "first byte: serve $(ms "$t_first"), podman save + untar + qemu-img convert $(ms "$t_route"):" \
     "$(ratio "$t_route" "$t_first")x faster (goal >= 100)"

# --- cp raw->raw ------------------------------------------------------------------
# Each copy starts from a clean slate: no file, nothing dirty to write back.
clean () { rm -f "$tmpdir/o1" "$tmpdir/o2"; sync -f "$tmpdir"; }
t_cp= t_coreutils=
for i in $(seq 1 5); do
    clean
    read -r t < <(best_of 1 "$PODMAN_DISK cp localhost/bench-serve '$tmpdir/o1'")
    t_cp=$(awk -v a="$t" -v b="$t_cp" 'BEGIN {print (b == "" || a < b) ? a : b}')
    clean
    read -r t < <(best_of 1 "cp --reflink=auto --sparse=always '$tmpdir/disk.img' '$tmpdir/o2'")
    t_coreutils=$(awk -v a="$t" -v b="$t_coreutils" 'BEGIN {print (b == "" || a < b) ? a : b}')
done
echo "cp 1 GiB raw: podman-disk cp $(gibs "$t_cp"), cp --reflink=auto --sparse=always $(gibs "$t_coreutils"):" \
     "$(ratio "$t_coreutils" "$t_cp")x (goal >= 0.9)"
rm -f "$tmpdir/o1" "$tmpdir/o2"
