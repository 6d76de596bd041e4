#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The answer cache (common/cache.h) for containers/storage: a repeated
# locate takes the image and its layers from the cache, and every change of
# the store's files (tag, rmi, a rebuilt image under the same name) makes it
# read them again, so the bytes found are always the current image's.  A
# damaged, foreign or disabled cache costs speed only.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires_root

setup_store overlay
cache=$XDG_CACHE_HOME/podman-disk/storage
make_raw_disk "$tmpdir/a.img" 2
make_raw_disk "$tmpdir/b.img" 2
build_disk_image localhost/cached "$tmpdir/a.img"

# locate_debug REF: locate's output in $tmpdir/out, its debug log in $tmpdir/log.
locate_debug () {
    podman_disk --log-level debug locate "$@" > "$tmpdir/out" 2> "$tmpdir/log" ||
        fail "locate $*: $(grep -v '^podman-disk: debug' "$tmpdir/log")"
}
logged () { grep -q "$1" "$tmpdir/log"; }
# same_bytes IMG: the disk json points at holds IMG's bytes.
same_bytes () { qemu-img compare -q -f raw "$1" "$(podman_disk json cached)" || fail "$2"; }

# Files changed in the last 2 s are not trusted: nothing stored.  (A
# modification time in the future keeps images.json "just changed" however
# slowly locate runs, as under valgrind.)
images_json=$store/root/overlay-images/images.json
touch -d '+1 hour' "$images_json"
locate_debug cached
logged "answer not stored" || fail "an answer from fresh files was stored"
[ -z "$(ls -A "$cache" 2>/dev/null)" ] || fail "cache written: $(ls "$cache")"
cp "$tmpdir/out" "$tmpdir/uncached"

touch -d '-1 hour' "$images_json"
sleep 3
locate_debug cached
logged "answer .* stored" || fail "answer not stored: $(cat "$tmpdir/log")"
[ "$(ls "$cache" | wc -l)" = 1 ] || fail "cache holds $(ls "$cache")"
[ "$(stat -c %a "$cache")" = 700 ] || fail "cache directory mode $(stat -c %a "$cache")"
locate_debug cached
logged "answer .* used" || fail "answer not used: $(cat "$tmpdir/log")"
logged "store .* images" && fail "images.json parsed although the answer was used"
cmp "$tmpdir/uncached" "$tmpdir/out" || fail "the cached answer locates differently"
same_bytes "$tmpdir/a.img" "cached: not the disk's bytes"

# A new tag rewrites images.json: the answer is out of date, then replaced.
podman tag localhost/cached localhost/other
locate_debug cached
logged "out of date" || fail "answer used after images.json changed"
grep -q "localhost/other:latest" "$tmpdir/out" || fail "new name missing: $(cat "$tmpdir/out")"

# The same name, another image: the new disk's bytes, never the old ones.
podman rmi -f localhost/cached localhost/other >/dev/null
build_disk_image localhost/cached "$tmpdir/b.img"
locate_debug cached
logged "answer .* used" && fail "answer used for a rebuilt image"
same_bytes "$tmpdir/b.img" "rebuilt: still the old disk's bytes"
cmp -s "$tmpdir/a.img" "$tmpdir/b.img" && fail "the two disks are the same"
sleep 3
locate_debug cached
locate_debug cached
logged "answer .* used" || fail "answer not used after the rebuild settled"
same_bytes "$tmpdir/b.img" "rebuilt, cached: not the new disk's bytes"

# A removed image is unknown at once, cache or not.
cp -a "$cache" "$tmpdir/saved-cache"
podman rmi -f localhost/cached >/dev/null
expect_error 1 "image not known" podman_disk locate cached

# Damage: garbage, an empty file, a symlink to elsewhere.  Each is ignored.
build_disk_image localhost/cached "$tmpdir/a.img"
sleep 3
locate_debug cached
for f in "$cache"/*; do printf '{"question": [' > "$f"; done
locate_debug cached
same_bytes "$tmpdir/a.img" "garbage in the cache"
for f in "$cache"/*; do : > "$f"; done
locate_debug cached
same_bytes "$tmpdir/a.img" "empty cache file"
for f in "$cache"/*; do rm "$f"; ln -s "$tmpdir/saved-cache/$(ls "$tmpdir/saved-cache" | head -1)" "$f"; done
locate_debug cached
same_bytes "$tmpdir/a.img" "symlinked cache file"

# A cache directory others may write is not believed, nor written.
rm -rf "$cache"; mkdir -p "$cache"; chmod 0777 "$cache"
locate_debug cached
logged "not a directory of this user's own" || fail "group/world-writable cache used"
[ -z "$(ls -A "$cache")" ] || fail "written into a world-writable cache"

# PODMAN_DISK_CACHE=off: nothing read or written.
rm -rf "$XDG_CACHE_HOME"
PODMAN_DISK_CACHE=off locate_debug cached
[ ! -e "$XDG_CACHE_HOME" ] || fail "PODMAN_DISK_CACHE=off still made $XDG_CACHE_HOME"
# An unwritable cache location is no error either.
XDG_CACHE_HOME=/proc/version locate_debug cached
same_bytes "$tmpdir/a.img" "with an unusable cache location"
