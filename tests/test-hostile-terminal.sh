#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Text an image controls never reaches the terminal raw.  A disk member
# whose name holds ESC[2J, CR, a newline, the C1 CSI in UTF-8 (0xc2 0x9b)
# and as a raw byte, a bidi override; a layout whose ref name holds an
# OSC title sequence, BEL, CR, a newline and C1; export records naming
# them: list, list -q, list oci:DIR, locate, json, exports and every error
# or warning line show each such character as '?' (common/text.h), one
# line per field, while --format json keeps the exact string (jq reads it
# back) and json's qemu filename opens the very file.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires jq --version
hostile_setup

# terminal_safe WHAT FILE: FILE holds no character the rule of
# common/text.h replaces: no C0 control but the newline that ends a line,
# no DEL, no C1 control (UTF-8 or raw byte), nothing that is not UTF-8,
# no bidi override or line separator.
terminal_safe () {
    python3 - "$2" <<'EOPY' || { cat -A "$2" | head -20 >&2; fail "$1: raw control in the output"; }
import sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8", "surrogateescape")
bad = [(i, hex(ord(c))) for i, c in enumerate(text)
       if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f
       or 0xdc80 <= ord(c) <= 0xdcff            # a byte that is not UTF-8
       or 0x2028 <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
if bad:
    print("unsafe characters (index, code point):", bad[:10], file=sys.stderr)
    sys.exit(1)
EOPY
    # The same, byte by byte, the way a reviewer would check it.
    ! LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$2" ||
        fail "$1: a C0 or C1 control in the output"
}

# contains WHAT FILE TEXT: FILE has TEXT (fixed string) on one line.
contains () {
    grep -qF -- "$3" "$2" || { cat -A "$2" >&2; fail "$1: '$3' not shown"; }
}

L=$tmpdir/layers
mkdir -p "$L"
head -c 1M /dev/urandom > "$tmpdir/disk.raw"

# The member name (valid UTF-8: it round-trips through JSON), and how
# text shows it.  é and 磁 are kept.
evil=$'a\e[2J\rb\nc\xc2\x9bd\xe2\x80\xaee\xc3\xa9\xe7\xa3\x81.img'
evil_shown='a?[2J?b?c?d?eé磁.img'
# A raw 0x9b (the 8-bit CSI, not UTF-8): "\udc9b" makes mktar write the
# byte itself.
raw_shown='x?[2Jy.img'
# The layout's ref name: an OSC that sets the window title, BEL, CR, a
# newline, the C1 CSI.
ref=$'term\e]0;pwned\a\r\nx\xc2\x9b31m'
ref_shown='term?]0;pwned???x?31m'

dir='{"name":"disk","type":"dir"}'
member () {     # member NAME-AS-JSON-STRING
    echo '{"name":"disk/'"$1"'","type":"file","from":"'"$tmpdir/disk.raw"'"}'
}
evil_json=$(jq -n --arg n "$evil" '$n' | sed 's/^"//; s/"$//')
mktar "$L/evil.tar" "[$dir,$(member "$evil_json")]"
mktar "$L/raw.tar" "[$dir,$(member 'x\udc9b[2Jy.img')]"
mktar "$L/two.tar" "[$dir,$(member "$evil_json"),$(member disk.img)]"

# -- In the store: names cannot hold controls (podman refuses them), the
# member names can.
import_layers term-evil "$L/evil.tar" || fail "skopeo copy of term-evil"
import_layers term-raw "$L/raw.tar" || fail "skopeo copy of term-raw"
import_layers term-two "$L/two.tar" || fail "skopeo copy of term-two"

podman_disk list > "$tmpdir/list" 2> "$tmpdir/list.err"
terminal_safe "list" "$tmpdir/list"
terminal_safe "list's warnings" "$tmpdir/list.err"
contains list "$tmpdir/list" "/disk/$evil_shown"
contains list "$tmpdir/list" "/disk/$raw_shown"
[ "$(grep -c localhost/term- "$tmpdir/list")" = 2 ] ||
    { cat -A "$tmpdir/list"; fail "list: not one line per image"; }
contains "list's warning" "$tmpdir/list.err" "$evil_shown, disk.img; pick one"
podman_disk list -q > "$tmpdir/list-q" 2> "$tmpdir/list.err"
terminal_safe "list -q" "$tmpdir/list-q"
terminal_safe "list -q's warnings" "$tmpdir/list.err"
podman_disk list --format json > "$tmpdir/list.json" 2>/dev/null
terminal_safe "list --format json" "$tmpdir/list.json"
[ "$(jq -j '.[] | select(.member | startswith("/disk/a")) | .member' "$tmpdir/list.json")" \
  = "/disk/$evil" ] || fail "list --format json: the member name is not exact"

img=$(storage_ref term-evil)
podman_disk locate "$img" > "$tmpdir/locate"
terminal_safe "locate" "$tmpdir/locate"
grep -qxF "member: /disk/$evil_shown" "$tmpdir/locate" ||
    { cat -A "$tmpdir/locate"; fail "locate: member not shown"; }
# The file is the member in the layer's directory: its name, too.
contains "locate's file" "$tmpdir/locate" "/diff/disk/$evil_shown"
podman_disk locate --format json "$img" > "$tmpdir/locate.json"
terminal_safe "locate --format json" "$tmpdir/locate.json"
[ "$(jq -j .member "$tmpdir/locate.json")" = "/disk/$evil" ] ||
    fail "locate --format json: member not exact"
[ -f "$(jq -j .file "$tmpdir/locate.json")" ] ||
    fail "locate --format json: the file it names is not there"
podman_disk locate --format json "$(storage_ref term-raw)" > "$tmpdir/raw.json"
terminal_safe "locate --format json of a raw 0x9b" "$tmpdir/raw.json"

# json: the path holds the member name; \u-escaped, qemu opens it.
podman_disk json --no-decode "$img" > "$tmpdir/json"
terminal_safe "json" "$tmpdir/json"
qemu-img compare -q -f raw "$tmpdir/disk.raw" "$(cat "$tmpdir/json")" ||
    fail "json: qemu-img does not read the disk through the escaped name"

# Errors: several disks, the hostile name among them; locate, json,
# serve and cp say the same one line.
e="$(regex_quote "$(shown_ref "$(storage_ref term-two)")"): several disks under /disk/: $(regex_quote "$evil_shown"), disk\\.img; pick one with --disk PATH"
expect_error 1 "^podman-disk: $e\$" podman_disk locate "$(storage_ref term-two)"
terminal_safe "locate's error" "$tmpdir/err"
refused_alike "$(storage_ref term-two)"
for c in json serve cp; do terminal_safe "$c's error" "$tmpdir/$c.err"; done
expect_error 1 "^podman-disk: .*: /disk/$(regex_quote "$evil_shown")x: not found in the image\$" \
    podman_disk locate --disk "/disk/${evil}x" "$img"
terminal_safe "locate --disk's error" "$tmpdir/err"
echo "ok - containers-storage"

# -- In a layout, the ref names too.
O=$tmpdir/oci
mklayout "$O" "$ref" "$L/evil.tar"
mklayout "$O" "two$ref" "$L/two.tar"
podman_disk list "oci:$O" > "$tmpdir/list" 2> "$tmpdir/list.err"
terminal_safe "list oci:" "$tmpdir/list"
terminal_safe "list oci:'s warning" "$tmpdir/list.err"
[ "$(wc -l < "$tmpdir/list")" = 2 ] || { cat -A "$tmpdir/list"; fail "list oci: more lines than images"; }
contains "list oci:" "$tmpdir/list" "$ref_shown"
contains "list oci:" "$tmpdir/list" "/disk/$evil_shown"
[ "$(wc -l < "$tmpdir/list.err")" = 1 ] || { cat -A "$tmpdir/list.err"; fail "list oci: warning not one line"; }
contains "list oci:'s warning" "$tmpdir/list.err" "podman-disk: warning: image two$ref_shown "
podman_disk list -q "oci:$O" > "$tmpdir/list-q" 2>/dev/null
terminal_safe "list -q oci:" "$tmpdir/list-q"
[ "$(cat "$tmpdir/list-q")" = "$ref_shown" ] || { cat -A "$tmpdir/list-q"; fail "list -q oci:"; }
podman_disk list --format json "oci:$O" > "$tmpdir/list.json" 2>/dev/null
terminal_safe "list --format json oci:" "$tmpdir/list.json"
[ "$(jq -j '.[0].names[0]' "$tmpdir/list.json")" = "$ref" ] ||
    { cat "$tmpdir/list.json"; fail "list --format json oci: the ref name is not exact"; }
podman_disk locate "oci:$O:@0" > "$tmpdir/locate"
terminal_safe "locate oci:" "$tmpdir/locate"
podman_disk json "oci:$O:@0" > "$tmpdir/json"
terminal_safe "json oci:" "$tmpdir/json"
expect_error 1 "several disks under /disk/: $(regex_quote "$evil_shown"), disk\\.img" \
    podman_disk locate "oci:$O:@1"
terminal_safe "locate oci:'s error" "$tmpdir/err"
echo "ok - OCI layout"

# -- exports: records name the image, the disk and the export as the
# hook found them.
statedir=$tmpdir/run
mkdir -p "$statedir"
id=aaaaaaaaaaaa1111
jq -n --arg id "$id" --arg dir "$statedir" --arg ref "$ref" --arg disk "/disk/$evil" '{
    container: $id, name: $ref, image: $ref, disk: $disk,
    format: "raw", size: 1048576, server: "nbdkit", pid: 2147483646, pid_start: 0,
    watcher_pid: 0, uri: ("nbd+unix:///?socket=" + $dir + "/" + $id + ".sock"),
    socket: ($dir + "/" + $id + ".sock"), container_pid: 2147483646 }' > "$statedir/$id.json"
podman_disk exports --state-dir "$statedir" > "$tmpdir/exports"
terminal_safe "exports" "$tmpdir/exports"
[ "$(wc -l < "$tmpdir/exports")" = 2 ] || { cat -A "$tmpdir/exports"; fail "exports: more lines than records"; }
contains exports "$tmpdir/exports" "$ref_shown  $ref_shown"
contains exports "$tmpdir/exports" "/disk/$evil_shown"
podman_disk exports --state-dir "$statedir" --format json > "$tmpdir/exports.json"
terminal_safe "exports --format json" "$tmpdir/exports.json"
[ "$(jq -j '.[0].image' "$tmpdir/exports.json")" = "$ref" ] &&
[ "$(jq -j '.[0].disk' "$tmpdir/exports.json")" = "/disk/$evil" ] ||
    fail "exports --format json: not exact"
echo "ok - exports"
