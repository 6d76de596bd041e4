#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman-disk exports on hand-made records (no podman needed): listing,
# liveness (a pid that runs but is not the recorded process is dead),
# whether the served file is still in place (a "server" holding the file
# open, then the file removed or replaced), a corrupt record reported
# without hiding the others, --prune (a background serve's record too,
# with its pid file only if it is still the file serve wrote), usage.
source "$(dirname "$0")/functions.sh"
requires jq --version
statedir=$tmpdir/run
mkdir -p "$statedir"
exports () { podman_disk exports --state-dir "$statedir" "$@"; }

[ "$(exports --format json)" = "[]" ] || fail "empty: not []"
[ "$(podman_disk exports --state-dir "$tmpdir/none" --format json)" = "[]" ] ||
    fail "a missing directory is not an empty list"
exports | grep -q '^ID  *NAME  *IMAGE.*  FILE  *KIND  *STARTED$' || fail "no header"

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
# Records from before there were kinds: the hook's, id the container's.
[ "$(jq -r 'map(.id + ":" + .kind) | join(" ")' "$tmpdir/list")" = "$a:hook $b:hook $c:hook" ] ||
    { cat "$tmpdir/list"; fail "kinds of the hook's records"; }
grep -q "dddddddddddd4444.json is not valid JSON" "$tmpdir/err" ||
    fail "the corrupt record is not reported"
jq -e '.[0] | has("pid_start") | not' "$tmpdir/list" >/dev/null ||
    fail "internal fields shown"
exports > "$tmpdir/text" 2>/dev/null
awk -v a="${a:0:12}" '$1 == a && $7 == "yes"' "$tmpdir/text" | grep -q . || fail "text: $a alive"
# No file recorded, or no live server: whether it is in place is unknown.
[ "$(jq -c 'map(.file_present)' "$tmpdir/list")" = "[null,null,null]" ] ||
    { cat "$tmpdir/list"; fail "file_present without a file or a server"; }
awk -v a="${a:0:12}" '$1 == a && $9 == "-"' "$tmpdir/text" | grep -q . ||
    { cat "$tmpdir/text"; fail "text: FILE of $a is not -"; }

# The file in place: a live "server" that holds the recorded file open,
# as nbdkit and qemu-nbd hold the disk.
e=eeeeeeeeeeee5555
disk=$tmpdir/layer/disk.img
mkdir -p "$tmpdir/layer"
echo "the disk" > "$disk"
sleep 1000 4<"$disk" &
holder=$!
cleanup_fn "kill $holder"
record $e "$holder" "$(awk '{ sub(/.*\) /, ""); print $20 }' /proc/$holder/stat)"
edit_file () { jq --arg f "$1" '.file = $f' "$statedir/$e.json" > "$tmpdir/r" &&
               mv "$tmpdir/r" "$statedir/$e.json"; }
edit_file "$disk"
file_present () {
    exports --format json 2>/dev/null | jq -c --arg e $e '.[] | select(.container == $e) |
        [.alive, .file_present]'
}
file_column () {
    exports 2>/dev/null | awk -v e="${e:0:12}" '$1 == e { print $7, $9 }'
}
[ "$(file_present)" = "[true,true]" ] || fail "in place: $(file_present)"
[ "$(file_column)" = "yes yes" ] || fail "text: in place: $(file_column)"
# Another file at the recorded path: the server still reads the old one.
mv "$disk" "$disk.old"
echo "another disk" > "$disk"
[ "$(file_present)" = "[true,false]" ] || fail "replaced: $(file_present)"
# The path gone, and its directory (a removed layer goes whole).
rm -r "$tmpdir/layer"
[ "$(file_present)" = "[true,false]" ] || fail "removed: $(file_present)"
[ "$(file_column)" = "yes gone" ] || fail "text: removed: $(file_column)"
# A file the server never held (a pid reused by a process that opened
# nothing of ours): not in place either.
edit_file /etc/hostname
[ "$(file_present)" = "[true,false]" ] || fail "a file not held: $(file_present)"
kill $holder
wait $holder 2>/dev/null || :
[ "$(file_present)" = "[false,null]" ] || fail "a dead server: $(file_present)"
rm "$statedir/$e.json"

# Dead background serves: their records name their pid files by path,
# device and inode.  s1's is still that file; s2's was replaced since.
serve_record () {
    jq -n --arg id "$1" --arg pf "$2" --argjson dev "$(stat -c %d "$3")" \
          --argjson ino "$(stat -c %i "$3")" --arg dir "$statedir" '{
        id: $id, kind: "serve", image: "localhost/x:latest", disk: "/disk/x.img",
        format: "raw", server: "nbdkit", pid: 2147483646, pid_start: 0, watcher_pid: 0,
        uri: ("nbd+unix:///?socket=" + $dir + "/" + $id + ".sock"),
        socket: ($dir + "/" + $id + ".sock"), pidfile: $pf, pidfile_dev: $dev,
        pidfile_ino: $ino }' > "$statedir/$1.json"
}
s1=serve-aaaaaa s2=serve-bbbbbb
echo 123 > "$tmpdir/s1.pid"
echo 456 > "$tmpdir/s2.pid"
serve_record $s1 "$tmpdir/s1.pid" "$tmpdir/s1.pid"
serve_record $s2 "$tmpdir/s2.pid" "$tmpdir/text"
[ "$(exports --format json 2>/dev/null | jq -r --arg s $s1 '.[] | select(.id == $s) |
      [.kind, .container, .alive, .pidfile, has("pidfile_ino")] | @tsv')" = \
  "$(printf 'serve\t\tfalse\t%s\tfalse' "$tmpdir/s1.pid")" ] || fail "a serve's record"
exports 2>/dev/null | awk -v s=$s1 '$1 == s && $10 == "serve"' | grep -q . || fail "text: kind serve"

exports --prune > "$tmpdir/pruned" 2>/dev/null
[ "$(cat "$tmpdir/pruned")" = "$b
$c
$s1
$s2" ] || { cat "$tmpdir/pruned"; fail "--prune output"; }
[ ! -e "$tmpdir/s1.pid" ] || fail "--prune left a dead serve's pid file"
[ "$(cat "$tmpdir/s2.pid")" = 456 ] || fail "--prune removed a pid file that is not the serve's"
[ ! -e "$statedir/$s1.json" ] && [ ! -e "$statedir/$s2.json" ] || fail "--prune left a serve's record"
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
