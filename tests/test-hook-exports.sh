#!/bin/bash
# podman-disk exports on hand-made records (no podman needed): listing,
# liveness (a pid that runs but is not the recorded process is dead), a
# corrupt record reported without hiding the others, --prune, usage.
source "$(dirname "$0")/functions.sh"
requires jq --version
statedir=$tmpdir/run
mkdir -p "$statedir"
exports () { podman_disk exports --state-dir "$statedir" "$@"; }

[ "$(exports --format json)" = "[]" ] || fail "empty: not []"
[ "$(podman_disk exports --state-dir "$tmpdir/none" --format json)" = "[]" ] ||
    fail "a missing directory is not an empty list"
exports | grep -q '^CONTAINER  *NAME  *IMAGE' || fail "no header"

# record ID PID START: a record naming server PID (started at START).
record () {
    jq -n --arg id "$1" --argjson pid "$2" --argjson start "$3" --arg dir "$statedir" '{
        container: $id, name: "disk", image: "localhost/x:latest", disk: "/disk/x.img",
        format: "raw", size: 1048576, server: "sleep", pid: $pid, pid_start: $start,
        watcher_pid: 0, uri: ("nbd+unix:///?socket=" + $dir + "/" + $id + ".sock"),
        socket: ($dir + "/" + $id + ".sock"), container_pid: $pid }' > "$statedir/$1.json"
}
# A live "server": this sleep, with its real start time.
sleep 1000 &
live=$!
cleanup_fn "kill $live"
start=$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$live/stat)
a=aaaaaaaaaaaa1111
b=bbbbbbbbbbbb2222
c=cccccccccccc3333
record $a "$live" "$start"
record $b "$live" $((start + 1))      # the pid was reused: not ours
record $c 2147483646 0                # gone
echo '{"container": 5' > "$statedir/dddddddddddd4444.json"
touch "$statedir/$b.log"

exports --format json > "$tmpdir/list" 2> "$tmpdir/err"
[ "$(jq -r 'map(.container + "=" + (.alive|tostring)) | join(" ")' "$tmpdir/list")" = \
  "$a=true $b=false $c=false" ] || { cat "$tmpdir/list"; fail "liveness"; }
grep -q "dddddddddddd4444.json is not valid JSON" "$tmpdir/err" ||
    fail "the corrupt record is not reported"
jq -e '.[0] | has("pid_start") | not' "$tmpdir/list" >/dev/null ||
    fail "internal fields shown"
exports > "$tmpdir/text" 2>/dev/null
awk -v a="${a:0:12}" '$1 == a && $7 == "yes"' "$tmpdir/text" | grep -q . || fail "text: $a alive"

exports --prune > "$tmpdir/pruned" 2>/dev/null
[ "$(cat "$tmpdir/pruned")" = "$b
$c" ] || { cat "$tmpdir/pruned"; fail "--prune output"; }
[ -f "$statedir/$a.json" ] || fail "--prune removed a live record"
[ ! -e "$statedir/$b.json" ] && [ ! -e "$statedir/$b.log" ] && [ ! -e "$statedir/$c.json" ] ||
    fail "--prune left stale files"
kill -0 "$live" || fail "--prune killed a process that was not the export's"

# Usage.
for args in "--format yaml" "extra" "--bogus"; do
    rc=0
    exports $args >/dev/null 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || fail "exports $args: exit $rc"
done
podman_disk exports --help | grep -q '^Usage: podman-disk exports' || fail "--help"
podman_disk --help | grep -q '^  exports ' || fail "exports not in --help"
podman_disk --help | grep -q '^  hook ' && fail "hook listed in --help"
exit 0
