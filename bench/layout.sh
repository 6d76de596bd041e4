#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk locate in an OCI layout against nbdkit's tar filter and
# tar tvf --block-number, same run: the disk is the last member of a layer
# tar after 10,000 small files, for a 256 MiB and a 2 GiB disk (time should
# not grow with the disk), and of a layer where one 1 GiB member stands
# before a 256 MiB disk (GNU tar seeks past it: few headers, so process
# start and loading decide).  Warm-cache means by hyperfine, then one
# cold-cache run each with the bytes it read from the block layer.
# locate is timed as it runs every time the layout has not changed since
# the last locate (its answer cache, common/cache.h: one header re-read),
# and as it runs the first time (PODMAN_DISK_CACHE=off: every header).
# Peak disk use: about 2.1 GiB, removed at exit.
source "$(dirname "$0")/../tests/functions.sh"
source "$(dirname "$0")/../tests/layout-functions.sh"
requires hyperfine --version
requires nbdkit --filter=tar file --version
requires nbdinfo --version
requires jq --version

src=$tmpdir/src
mkdir -p "$src/files" "$src/disk"
python3 - "$src/files" <<'EOPY'
import os, sys
for i in range(10000):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "wb") as f:
        f.write(os.urandom(100 + i % 3000))
EOPY

# mean COMMAND RUNS: "wall-seconds cpu-seconds" (user + system, the
# process tree), by hyperfine; CPU is what a loaded machine distorts least.
mean () {
    hyperfine -N --warmup 2 --min-runs "$2" --export-json "$tmpdir/h.json" "$1" >/dev/null 2>&1
    jq -r '.results[0] | "\(.mean) \(.user + .system)"' "$tmpdir/h.json"
}

# cold FILE CMD...: drop FILE from the page cache, run CMD once; prints
# "seconds bytes-read-from-the-block-layer" (its whole process tree).
cold () {
    python3 - "$@" <<'EOPY'
import os, resource, subprocess, sys, time
f = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(f)
os.posix_fadvise(f, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(f)
before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock
t = time.monotonic()
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, check=True)
t = time.monotonic() - t
print("%.4f %d" % (t, (resource.getrusage(resource.RUSAGE_CHILDREN).ru_inblock - before) * 512))
EOPY
}

ms () { echo "$1 * 1000" | bc -l; }

# The floor of any whole-process ratio: starting a process at all.
read -r t_true u_true < <(mean /bin/true 20)
printf 'process start alone (/bin/true): wall %.1f ms, CPU %.1f ms\n' "$(ms "$t_true")" "$(ms "$u_true")"

for layer in 256 2048 big; do
    rm -rf "$tmpdir/oci" "$tmpdir/layer.tar"
    # Without --sparse: the tar holds every byte of the disk.
    if [ "$layer" = big ]; then
        mkdir -p "$src/big"
        truncate -s 1G "$src/big/big.bin"
        truncate -s 256M "$src/disk/disk.img"
        tar -C "$src" -cf "$tmpdir/layer.tar" big disk
        rm -rf "$src/big"
        what="1 GiB member, then a 256 MiB disk"
    else
        truncate -s "${layer}M" "$src/disk/disk.img"
        tar -C "$src" -cf "$tmpdir/layer.tar" files disk
        what="$layer MiB disk after 10,000 files"
    fi
    mk_oci "$tmpdir/oci" <<< "{\"index\": [{\"layers\": [{\"file\": \"$tmpdir/layer.tar\", \"fakeDigest\": true}]}]}"
    blob=$(podman_disk locate "oci:$tmpdir/oci" | field file)
    size=$(stat -c %s "$blob")

    locate=("$PODMAN_DISK" locate "oci:$tmpdir/oci")
    nbdkit=(nbdkit -U - file "$blob" --filter=tar tar-entry=disk/disk.img --run 'nbdinfo --size "$uri"')
    tartv=(tar tvf "$blob" --block-number)
    # The cache keeps no answer from files changed in the last 2 s.
    sleep 3
    read -r t_pd u_pd < <(mean "${locate[*]}" 20)
    read -r t_first u_first < <(PODMAN_DISK_CACHE=off mean "${locate[*]}" 10)
    read -r t_nbd u_nbd < <(mean "nbdkit -U - file $blob --filter=tar tar-entry=disk/disk.img --run 'nbdinfo --size \"\$uri\"'" 5)
    read -r t_tar u_tar < <(mean "${tartv[*]}" 5)
    # A first locate must touch every page that holds a header: after
    # 10,000 small files, nearly all of the files' part of the layer.
    # Reading those bytes once, with nothing else done, bounds its ratios.
    if [ "$layer" != big ]; then
        files_bytes=$(( $(tar -tvf "$blob" --block-number | grep -m1 ' disk/disk.img$' | sed 's/^block \([0-9]*\):.*/\1/') * 512 ))
        read -r t_read u_read < <(mean "dd if=$blob of=/dev/null bs=1M count=$files_bytes iflag=count_bytes status=none" 10)
    fi
    read -r c_pd b_pd < <(cold "$blob" "${locate[@]}")
    read -r c_first b_first < <(PODMAN_DISK_CACHE=off cold "$blob" "${locate[@]}")
    read -r c_nbd b_nbd < <(cold "$blob" "${nbdkit[@]}")
    read -r c_tar b_tar < <(cold "$blob" "${tartv[@]}")

    printf '%s (layer tar %d bytes):\n' "$what" "$size"
    printf '  warm wall: locate %.1f ms; nbdkit tar filter %.1f ms (%.1fx); tar tvf --block-number %.1f ms (%.1fx)\n' \
        "$(ms "$t_pd")" "$(ms "$t_nbd")" "$(echo "$t_nbd / $t_pd" | bc -l)" \
        "$(ms "$t_tar")" "$(echo "$t_tar / $t_pd" | bc -l)"
    printf '  warm CPU:  locate %.1f ms; nbdkit tar filter %.1f ms (%.1fx); tar tvf --block-number %.1f ms (%.1fx)\n' \
        "$(ms "$u_pd")" "$(ms "$u_nbd")" "$(echo "$u_nbd / $u_pd" | bc -l)" \
        "$(ms "$u_tar")" "$(echo "$u_tar / $u_pd" | bc -l)"
    printf '  first locate (every header scanned): wall %.1f ms (%.1fx, %.1fx), CPU %.1f ms (%.1fx, %.1fx)\n' \
        "$(ms "$t_first")" "$(echo "$t_nbd / $t_first" | bc -l)" \
        "$(echo "$t_tar / $t_first" | bc -l)" "$(ms "$u_first")" \
        "$(echo "$u_nbd / $u_first" | bc -l)" "$(echo "$u_tar / $u_first" | bc -l)"
    [ "$layer" = big ] ||
        printf '  reading the %d bytes before the disk once (dd): %.1f ms, so at most %.1fx nbdkit and %.1fx tar for any first locate\n' \
            "$files_bytes" "$(ms "$t_read")" "$(echo "$t_nbd / $t_read" | bc -l)" "$(echo "$t_tar / $t_read" | bc -l)"
    printf '  cold:      locate %.1f ms, read %d bytes (first locate %.1f ms, read %d bytes); nbdkit %.1f ms, read %d bytes; tar %.1f ms, read %d bytes\n' \
        "$(ms "$c_pd")" "$b_pd" "$(ms "$c_first")" "$b_first" "$(ms "$c_nbd")" "$b_nbd" "$(ms "$c_tar")" "$b_tar"
done
