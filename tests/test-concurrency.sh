#!/bin/bash
# podman-disk against a store that podman changes under it: for a bounded
# time (CONCURRENCY_SECONDS, default 20), one process builds, tags and
# removes images in the private store (among them "victim", rebuilt in
# turn from two different disks) while this one runs locate and json in a
# loop.  Every answer must be right (the bytes read where it points are
# exactly one of the disks the image ever had) or one clear line of error;
# never a crash, a hang, or other bytes.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires qemu-img --version
storage_implemented || skip "containers/storage is not implemented yet"
setup_store
seconds=${CONCURRENCY_SECONDS:-20}

make_raw_disk "$tmpdir/stable.raw" 1
make_raw_disk "$tmpdir/v1.raw" 1
make_raw_disk "$tmpdir/v2.raw" 1
make_raw_disk "$tmpdir/other.raw" 1
mkdir -p "$tmpdir/v1" "$tmpdir/v2"
cp "$tmpdir/v1.raw" "$tmpdir/v1/disk.img"
cp "$tmpdir/v2.raw" "$tmpdir/v2/disk.img"
build_disk_image stable "$tmpdir/stable.raw"
build_disk_image victim "$tmpdir/v1/disk.img"
stable=$(md5sum < "$tmpdir/stable.raw")
v1=$(md5sum < "$tmpdir/v1.raw") v2=$(md5sum < "$tmpdir/v2.raw")

# The churn: build, tag, untag, remove, in a loop until told to stop.
churn () {
    local i=0
    while [ ! -e "$tmpdir/stop" ]; do
        i=$((i + 1))
        build_disk_image "victim" "$tmpdir/v$((i % 2 + 1))/disk.img" || return 1
        podman tag stable "localhost/stable-tag-$i" || return 1
        build_disk_image "other-$i" "$tmpdir/other.raw" || return 1
        podman rmi -f "localhost/other-$i" >/dev/null || return 1
        podman untag stable "localhost/stable-tag-$i" || return 1
        [ $((i % 3)) = 0 ] && { podman rmi -f victim >/dev/null || return 1; }
        podman image prune -f >/dev/null || return 1
    done
    echo "$i" > "$tmpdir/churn-rounds"
}
churn > "$tmpdir/churn.log" 2>&1 &
churn_pid=$!
cleanup_fn "touch '$tmpdir/stop'; wait $churn_pid"

# check_answer NAME SUMS...: locate NAME once; right bytes or one error line.
right=0 errors=0 vanished=0
check_answer () {
    local name=$1 rc=0 text file offset size sum
    shift
    podman_disk locate "$(storage_ref "$name")" >"$tmpdir/loc" 2>"$tmpdir/lerr" || rc=$?
    if [ $rc != 0 ]; then
        [ $rc = 1 ] || { cat "$tmpdir/lerr"; fail "locate $name exited $rc"; }
        [ "$(wc -l < "$tmpdir/lerr")" = 1 ] && [ ! -s "$tmpdir/loc" ] ||
            { cat "$tmpdir/lerr"; fail "locate $name: not one line of error"; }
        grep -Eq '^podman-disk: .+' "$tmpdir/lerr" || fail "locate $name: bad message"
        errors=$((errors + 1))
        sort -u "$tmpdir/lerr" >> "$tmpdir/error-kinds"
        return
    fi
    file=$(field file < "$tmpdir/loc") offset=$(field offset < "$tmpdir/loc")
    size=$(field size < "$tmpdir/loc")
    # The file may be removed between locate and this read: that is the
    # race of a command line tool, not a wrong answer.
    if ! sum=$(dd if="$file" iflag=skip_bytes,count_bytes skip="$offset" \
                  count="$size" status=none 2>/dev/null | md5sum) ||
       [ ! -e "$file" ]; then
        vanished=$((vanished + 1))
        return
    fi
    local s
    for s in "$@"; do
        if [ "$sum" = "$s" ]; then right=$((right + 1)); return; fi
    done
    [ -e "$file" ] || { vanished=$((vanished + 1)); return; }
    fail "locate $name: the bytes at $file+$offset ($size) are none of its disks"
}

iterations=0 json_ok=0
end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
    iterations=$((iterations + 1))
    check_answer stable "$stable"
    check_answer victim "$v1" "$v2"
    # json, read by qemu: the stable image's bytes, always.
    spec=$(podman_disk json "$(storage_ref stable)") || fail "json stable failed"
    qemu-img compare -q -f raw "$tmpdir/stable.raw" "$spec" ||
        fail "json stable: qemu reads other bytes"
    json_ok=$((json_ok + 1))
    kill -0 $churn_pid 2>/dev/null || break
done
touch "$tmpdir/stop"
wait $churn_pid || { cat "$tmpdir/churn.log"; fail "the podman churn failed"; }
rounds=$(cat "$tmpdir/churn-rounds")
[ "$rounds" -gt 0 ] || fail "podman did not change the store during the test"
[ "$right" -gt 0 ] || fail "no answer was checked"

echo "$testname: $iterations iterations in ${seconds}s against $rounds podman" \
     "build/tag/rmi rounds: $right right answers, $errors clear errors," \
     "$vanished removed between locate and read, $json_ok json+qemu-img compares"
[ -s "$tmpdir/error-kinds" ] && sed 's/^/  error seen: /' "$tmpdir/error-kinds" | sort | uniq -c | head
exit 0
