#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk against a store that podman changes under it.  For a bounded
# time (CONCURRENCY_SECONDS, default 60) one process builds, tags and
# removes images in the private store: among them "victim", rebuilt in turn
# from two different disks and removed every third round, its old images
# pruned.  Meanwhile this one runs, in a loop:
#
#   locate stable, locate victim   the bytes read where the answer points
#   json stable                    read by qemu-img compare
#   serve victim --run nbdcopy     the bytes through NBD
#   now and then, serve victim across the removal of what it serves:
#                                  read, wait until the layer file the
#                                  server holds is gone from the store,
#                                  read again: the same bytes
#
# Every answer must be right or one clear line of error; never a crash, a
# hang, or other bytes.  "Right" is strict: the churn keeps a journal
# ("begin X" before, "end X" after each change of victim's disk X: v1, v2
# or none), and an answer must be a disk that victim had at some moment
# while the command ran; "image not known" only when "none" was one of
# them, and never for stable.  A locate answer whose file is gone when it
# is read may be the race of any command-line tool (removed after the
# answer), but then a locate started after the file was seen gone must not
# point at it again: it must give a clear error or a right answer.
#
# At the end: the figures (iterations and outcomes per kind, errors by
# message, churn rounds); no timing assertion.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires qemu-img --version
requires nbdkit --version
requires nbdcopy --version
requires pgrep --version
storage_implemented || skip "containers/storage is not implemented yet"
setup_store
seconds=${CONCURRENCY_SECONDS:-60}

make_raw_disk "$tmpdir/stable.raw" 1
make_raw_disk "$tmpdir/v1.raw" 1
make_raw_disk "$tmpdir/v2.raw" 1
make_raw_disk "$tmpdir/other.raw" 1
mkdir -p "$tmpdir/v1" "$tmpdir/v2"
cp "$tmpdir/v1.raw" "$tmpdir/v1/disk.img"
cp "$tmpdir/v2.raw" "$tmpdir/v2/disk.img"
build_disk_image stable "$tmpdir/stable.raw"
build_disk_image victim "$tmpdir/v1/disk.img"
sum_stable=$(md5sum < "$tmpdir/stable.raw")
sum_v1=$(md5sum < "$tmpdir/v1.raw")
sum_v2=$(md5sum < "$tmpdir/v2.raw")

journal=$tmpdir/journal
echo "end v1" > "$journal"

# The churn: build, tag, untag, remove, in a loop until told to stop.
churn () {
    local i=0 v
    while [ ! -e "$tmpdir/stop" ]; do
        i=$((i + 1))
        v=v$((i % 2 + 1))
        echo "begin $v" >> "$journal"
        build_disk_image "victim" "$tmpdir/$v/disk.img" || return 1
        echo "end $v" >> "$journal"
        podman tag stable "localhost/stable-tag-$i" || return 1
        build_disk_image "other-$i" "$tmpdir/other.raw" || return 1
        podman rmi -f "localhost/other-$i" >/dev/null || return 1
        podman untag stable "localhost/stable-tag-$i" || return 1
        if [ $((i % 3)) = 0 ]; then
            echo "begin none" >> "$journal"
            podman rmi -f victim >/dev/null || return 1
            echo "end none" >> "$journal"
        fi
        podman image prune -f >/dev/null || return 1
        echo "$i" > "$tmpdir/churn-rounds"
    done
}
churn > "$tmpdir/churn.log" 2>&1 &
churn_pid=$!
cleanup_fn "touch '$tmpdir/stop'; wait $churn_pid"

jlines () { wc -l < "$journal"; }

# states NAME N0 N1: the disks NAME may have had between journal lines N0
# and N1: its state at N0, a change begun before N0 and not ended, every
# change begun after.
states () {
    [ "$1" = stable ] && { echo stable; return; }
    awk -v n0="$2" -v n1="$3" '
        NR <= n0 && $1 == "end" { state = $2; pending = "" }
        NR <= n0 && $1 == "begin" { pending = $2 }
        NR > n0 && NR <= n1 && $1 == "begin" { s[$2] = 1 }
        END { s[state] = 1; if (pending != "") s[pending] = 1
              for (k in s) print k }' "$journal" | sort | tr '\n' ' '
}
sum_of () { case $1 in stable) echo "$sum_stable";; v1) echo "$sum_v1";; v2) echo "$sum_v2";; esac; }
# right SUM STATES: SUM is the disk of one of STATES (printed).
right () {
    local s
    for s in $2; do
        [ "$s" != none ] && [ "$1" = "$(sum_of "$s")" ] && { echo "$s"; return 0; }
    done
    return 1
}

# Figures: one line per event, counted at the end.
event () { echo "$*" >> "$tmpdir/events"; }

# clear_error WHAT RC NAME STATES: the failed command's ($tmpdir/out,
# $tmpdir/err) exit RC is one clear error, allowed for NAME's STATES.
clear_error () {
    local what=$1 rc=$2 name=$3 states=$4 msg
    [ "$rc" = 1 ] || { cat "$tmpdir/err"; fail "$what exited $rc"; }
    [ "$(wc -l < "$tmpdir/err")" = 1 ] && [ ! -s "$tmpdir/out" ] ||
        { cat "$tmpdir/err"; fail "$what: not one line of error"; }
    msg=$(cat "$tmpdir/err")
    [[ $msg == "podman-disk: "?* ]] || fail "$what: not our message: $msg"
    if [[ $msg == *": image not known in "* ]] && [[ " $states " != *" none "* ]]; then
        fail "$what: '$msg' while $name was always there ($states)"
    fi
    # By message: the test's paths and the store's ids left out.
    sed -e "s|$tmpdir|TMP|g" -e 's/[0-9a-f]\{12,64\}/ID/g' \
        -e "s/^/$what: /" "$tmpdir/err" >> "$tmpdir/error-kinds"
}

# locate_once NAME: one locate, its answer checked.  Sets answer to
# "right", "error" or "gone FILE" (the file was not there to read).
locate_once () {
    local name=$1 rc=0 n0 n1 st file offset size sum
    n0=$(jlines)
    podman_disk locate "$(storage_ref "$name")" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    n1=$(jlines)
    st=$(states "$name" "$n0" "$n1")
    if [ $rc != 0 ]; then
        clear_error "locate $name" "$rc" "$name" "$st"
        answer=error
        return
    fi
    file=$(field file < "$tmpdir/out") offset=$(field offset < "$tmpdir/out")
    size=$(field size < "$tmpdir/out")
    [ -n "$file" ] && [ -n "$offset" ] && [ -n "$size" ] ||
        { cat "$tmpdir/out"; fail "locate $name: no file, offset, size"; }
    # A file that could be opened is read whole, whatever happens to its
    # path meanwhile: those bytes are checked.  One that could not is gone
    # (and must not be there).
    if ! sum=$(dd if="$file" iflag=skip_bytes,count_bytes skip="$offset" \
                  count="$size" status=none 2>/dev/null | md5sum); then
        [ ! -e "$file" ] || fail "locate $name: $file could not be read, yet it is there"
        answer="gone $file"
        return
    fi
    right "$sum" "$st" >/dev/null ||
        fail "locate $name: the bytes at $file+$offset ($size) are none of its disks then ($st)"
    answer=right
}

# check_locate NAME: locate_once, and after an answer whose file was gone,
# locate again (at most 3 times): never the same gone file again.
check_locate () {
    local name=$1 tries gone
    locate_once "$name"
    event "locate $name: ${answer%% *}"
    # stable's layer is never removed.
    [ "$name" != stable ] || [[ $answer != gone* ]] ||
        fail "locate stable: pointed at ${answer#gone }, which is not there"
    for (( tries = 0; tries < 3; tries++ )); do
        [[ $answer == gone* ]] || return 0
        gone=${answer#gone }
        locate_once "$name"
        [ "$answer" = "gone $gone" ] &&
            fail "locate $name: answered $gone again, which was gone before it started: a stale answer"
        event "locate $name after a gone file: ${answer%% *}"
    done
    fail "locate $name: $tries answers in a row pointed at files that were gone"
}

# serve_victim COMMAND: serve victim --run COMMAND; sets rc (its exit
# status), n0 and n1 (the journal's lines before and after) and st
# (victim's states meanwhile).
serve_victim () {
    rc=0
    n0=$(jlines)
    podman_disk serve "$(storage_ref victim)" --run "$1" \
        >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    n1=$(jlines)
    st=$(states victim "$n0" "$n1")
}

# check_serve: serve victim, the bytes through nbdcopy.
check_serve () {
    local rc n0 n1 st sum
    rm -f "$tmpdir/served"
    serve_victim "nbdcopy \"\$uri\" '$tmpdir/served'"
    if [ $rc != 0 ]; then
        clear_error "serve victim" "$rc" victim "$st"
        event "serve victim: error"
        return
    fi
    sum=$(md5sum < "$tmpdir/served")
    right "$sum" "$st" >/dev/null ||
        fail "serve victim: nbdcopy read none of its disks then ($st)"
    event "serve victim: right"
}

# check_hold: serve victim and, inside --run, read, wait (at most 20 s)
# until the layer file the server holds (its fd 5, see serve/server.h) is
# gone from its path, read again.  The two reads must be the same bytes,
# one of victim's disks.
cat > "$tmpdir/hold.sh" <<'EOS'
set -e
nbdcopy "$uri" "$HOLD/first"
server=$(pgrep -P "$PPID" -x nbdkit | head -1)
file=$(readlink "/proc/$server/fd/4")
i=0
while [ -e "$file" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
readlink "/proc/$server/fd/4" > "$HOLD/after"
nbdcopy "$uri" "$HOLD/second"
EOS
export HOLD=$tmpdir/hold
check_hold () {
    local rc n0 n1 st sum
    rm -f "$tmpdir/hold/"*
    mkdir -p "$tmpdir/hold"
    serve_victim ". '$tmpdir/hold.sh'"
    if [ $rc != 0 ] && [ ! -e "$tmpdir/hold/first" ]; then
        clear_error "serve victim (held)" "$rc" victim "$st"
        event "serve victim across a removal: error before serving"
        return
    fi
    [ $rc = 0 ] || { cat "$tmpdir/err"; fail "serve victim (held): exit $rc after the first read"; }
    sum=$(md5sum < "$tmpdir/hold/first")
    right "$sum" "$st" >/dev/null ||
        fail "serve victim (held): the first read is none of its disks then ($st)"
    cmp -s "$tmpdir/hold/first" "$tmpdir/hold/second" ||
        fail "serve victim (held): the second read differs from the first ($(cat "$tmpdir/hold/after"))"
    if [[ $(cat "$tmpdir/hold/after") == *" (deleted)" ]]; then
        event "serve victim across a removal: the file removed, the same bytes"
    else
        event "serve victim across a removal: not removed within 20 s, the same bytes"
        { echo "not removed within 20 s: $(cat "$tmpdir/hold/after"), victim's changes meanwhile:"
          sed -n "$((n0 + 1)),${n1}p" "$journal" | tr '\n' ' '; echo; } >> "$tmpdir/notes"
    fi
}

iterations=0 next_hold=$((SECONDS + 3))
end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ]; do
    iterations=$((iterations + 1))
    check_locate stable
    check_locate victim
    # json, read by qemu: the stable image's bytes, always.
    spec=$(podman_disk json "$(storage_ref stable)") || fail "json stable failed"
    qemu-img compare -q -f raw "$tmpdir/stable.raw" "$spec" ||
        fail "json stable: qemu reads other bytes"
    event "json stable + qemu-img compare: right"
    check_serve
    if [ $SECONDS -ge $next_hold ]; then
        check_hold
        next_hold=$((SECONDS + 5))
    fi
    kill -0 $churn_pid 2>/dev/null || break
done
touch "$tmpdir/stop"
wait $churn_pid || { cat "$tmpdir/churn.log"; fail "the podman churn failed"; }
rounds=$(cat "$tmpdir/churn-rounds" 2>/dev/null || echo 0)
[ "$rounds" -gt 0 ] || fail "podman did not change the store during the test"
grep -q ": right$" "$tmpdir/events" || fail "no answer was checked"

echo "$testname: $iterations iterations in ${seconds}s against $rounds podman" \
     "build/tag/rmi/prune rounds ($(grep -c '^begin' "$journal") changes of victim):"
sort "$tmpdir/events" | uniq -c | sed 's/^/  /'
if [ -s "$tmpdir/error-kinds" ]; then
    echo "errors by message:"
    sort "$tmpdir/error-kinds" | uniq -c | sort -rn | sed 's/^/  /'
fi
[ ! -s "$tmpdir/notes" ] || cat "$tmpdir/notes"
exit 0
