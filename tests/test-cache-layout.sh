#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The answer cache (common/cache.h) for layouts: a repeated locate skips
# the scan of the layer tars, but only while every layer file keeps its
# identity and the member's own tar header, read again, still says the
# same.  A layer rewritten in place, or a kept answer that no longer
# matches its header, sends locate back to the scan: the bytes are always
# the current ones.
source "$(dirname "$0")/functions.sh"
source "$(dirname "$0")/layout-functions.sh"
requires qemu-img --version
requires tar --version
requires jq --version

cache=$XDG_CACHE_HOME/podman-disk/layout
make_raw_disk "$tmpdir/a.img" 2
make_raw_disk "$tmpdir/b.img" 2
mkdir -p "$tmpdir/src/disk" "$tmpdir/src/etc"
for i in $(seq 1 50); do echo "$i" > "$tmpdir/src/etc/f$i"; done
cp "$tmpdir/a.img" "$tmpdir/src/disk/disk.img"
mk_layer "$tmpdir/layer.tar" "$tmpdir/src" --format=pax
one_layer_oci "$tmpdir/oci" "$tmpdir/layer.tar"
ref=oci:$tmpdir/oci

locate_debug () {
    podman_disk --log-level debug locate "$@" > "$tmpdir/out" 2> "$tmpdir/log" ||
        fail "locate $*: $(grep -v '^podman-disk: debug' "$tmpdir/log")"
}
logged () { grep -q "$1" "$tmpdir/log"; }
scanned () { grep -q "entries in the image so far" "$tmpdir/log"; }

# Fresh files: scanned, not kept.  (A modification time in the future
# keeps the layer "just changed" however slowly locate runs.)
touch -d '+1 hour' "$tmpdir/layer.tar"
locate_debug "$ref"
scanned || fail "not scanned"
logged "answer not stored" || fail "an answer from fresh files was kept"
cp "$tmpdir/out" "$tmpdir/scanned"

touch -d '-1 hour' "$tmpdir/layer.tar"
sleep 3
locate_debug "$ref"
logged "answer .* stored" || fail "answer not stored: $(cat "$tmpdir/log")"
locate_debug "$ref"
logged "answer .* used" || fail "answer not used: $(cat "$tmpdir/log")"
scanned && fail "scanned although the answer was used"
cmp "$tmpdir/scanned" "$tmpdir/out" || fail "the cached answer locates differently"
same_disk "$tmpdir/a.img" "$ref"

# --verify reads everything anyway: it scans.
locate_debug --verify "$ref"
scanned || fail "--verify used the cache"

# Another --disk is another question.
locate_debug --disk /etc/f7 "$ref"
scanned || fail "--disk /etc/f7 answered from /disk's answer"
[ "$(field member < "$tmpdir/out")" = /etc/f7 ] || fail "member $(field member < "$tmpdir/out")"

# A kept answer that no longer matches the member's header (here: moved
# by one block) is not used: the header check catches it.
f=$(grep -l '"disk":null' "$cache"/* | head -1)
[ -n "$f" ] || fail "no kept answer for the /disk/ rule: $(cat "$cache"/*)"
jq -c '.answer.header_offset += 512 | .answer.offset += 512' "$f" > "$f.new" && mv "$f.new" "$f"
locate_debug "$ref"
logged "no longer matches" || fail "a moved answer was not caught: $(cat "$tmpdir/log")"
scanned || fail "not scanned after a bad answer"
cmp "$tmpdir/scanned" "$tmpdir/out" || fail "a bad kept answer changed the result"

# The layer rewritten in place (same inode and size, the disk member now
# holding other bytes at another offset): its identity changed, so it is
# scanned again and the new bytes are found.
sleep 3
locate_debug "$ref"
locate_debug "$ref"
logged "answer .* used" || fail "answer not used before the rewrite"
blob=$(field file < "$tmpdir/out")
rm "$tmpdir/src/etc/f1"
echo "one more block of text to keep the size" > "$tmpdir/src/etc/a-new-file-first"
cp "$tmpdir/b.img" "$tmpdir/src/disk/disk.img"
mk_layer "$tmpdir/layer2.tar" "$tmpdir/src" --format=pax
truncate -s "$(stat -c %s "$blob")" "$tmpdir/layer2.tar"
ino=$(stat -c %i "$blob")
dd if="$tmpdir/layer2.tar" of="$blob" conv=notrunc status=none
[ "$(stat -c %i "$blob")" = "$ino" ] || fail "the blob was replaced, not rewritten"
locate_debug "$ref"
logged "answer .* used" && fail "answer used after the layer was rewritten"
same_disk "$tmpdir/b.img" "$ref"

# oci-archive: the archive file is the source.
tar -C "$tmpdir/oci" -cf "$tmpdir/image.tar" .
sleep 3
locate_debug "oci-archive:$tmpdir/image.tar"
locate_debug "oci-archive:$tmpdir/image.tar"
logged "answer .* used" || fail "oci-archive: answer not used"
same_disk "$tmpdir/b.img" "oci-archive:$tmpdir/image.tar"
touch "$tmpdir/image.tar"
locate_debug "oci-archive:$tmpdir/image.tar"
logged "answer .* used" && fail "oci-archive: answer used after the archive changed"
true
