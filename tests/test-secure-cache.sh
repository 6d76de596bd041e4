#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The answer cache (common/cache.h) under another user's control: root run
# with that user's HOME or XDG_CACHE_HOME (sudo without -H, a script) must
# not make or use podman-disk/ wherever the user's ~/.cache points, nor in
# the user's own directories.  The cache is then off (the debug log says
# why) and locate still answers.  Root's own cache, reached through root's
# own symlink, keeps working.
source "$(dirname "$0")/functions.sh"
source "$testsdir/secure-lib.sh"
requires command podman --version
requires qemu-img --version
requires_root
setup_attacker
setup_store overlay

make_raw_disk "$tmpdir/a.img" 1
build_disk_image localhost/secure-cache "$tmpdir/a.img"
PODMAN_DISK_CACHE=off podman_disk locate localhost/secure-cache > "$tmpdir/expected"
# Old enough for an answer to be stored (common/cache.c's settle time):
# an old mtime, and a change time (which touch sets to now) past the 2 s.
find "$store" -name 'images.json' -o -name '*layers.json' | xargs touch -d '-1 hour'
sleep 3

# A root-owned directory the user wants root to write into.
victim=$tmpdir/victim
mkdir -m 0755 "$victim"
before=$(tree_state "$victim")

# locate_as_root VAR=VALUE...: root's locate with that environment; its
# answer must be the right one, its debug log is in $tmpdir/log.
locate_as_root () {
    env -u XDG_CACHE_HOME -u PODMAN_DISK_CACHE_DIR "$@" \
        "$PODMAN_DISK" --log-level debug locate localhost/secure-cache \
        > "$tmpdir/out" 2> "$tmpdir/log" ||
        fail "locate with $*: $(grep -v '^podman-disk: debug' "$tmpdir/log")"
    cmp -s "$tmpdir/expected" "$tmpdir/out" || fail "locate with $* answered: $(cat "$tmpdir/out")"
}
# cache_off WHY: the debug log says the cache is off, and why.
cache_off () {
    grep -q "cache: .*$1.*: off" "$tmpdir/log" ||
        fail "cache not refused for '$1': $(grep 'cache' "$tmpdir/log")"
}
victim_unchanged () {
    [ "$(tree_state "$victim")" = "$before" ] ||
        fail "$1: root's directory changed: $(ls -la "$victim")"
}

# 1. ~/.cache is the user's symlink to root's directory.
as_attacker ln -s "$victim" "$attacker_home/.cache"
locate_as_root HOME="$attacker_home"
cache_off "owned by uid $(id -u "$attacker")"
victim_unchanged "HOME with ~/.cache a symlink"
locate_as_root HOME=/nonexistent XDG_CACHE_HOME="$attacker_home/.cache"
cache_off "owned by uid"
victim_unchanged "XDG_CACHE_HOME a symlink"

# 2. The symlink higher up: XDG_CACHE_HOME=~/link/cache, ~/link -> root's.
mkdir -m 0755 "$victim/cache"
chown root: "$victim/cache"
before=$(tree_state "$victim")
as_attacker ln -s "$victim" "$attacker_home/link"
locate_as_root HOME=/nonexistent XDG_CACHE_HOME="$attacker_home/link/cache"
cache_off "link', owned by uid"
victim_unchanged "a symlinked parent"

# 3. Dangling: ~/.cache -> a name in root's directory: not created.
as_attacker rm "$attacker_home/.cache"
as_attacker ln -s "$victim/made-by-root" "$attacker_home/.cache"
locate_as_root HOME="$attacker_home"
cache_off "dangling symlink"
[ ! -e "$victim/made-by-root" ] || fail "root made $victim/made-by-root"
victim_unchanged "a dangling ~/.cache"

# 4. The user's own real ~/.cache: root makes nothing in it.
as_attacker rm "$attacker_home/.cache"
as_attacker mkdir -m 0700 "$attacker_home/.cache"
locate_as_root HOME="$attacker_home"
cache_off "podman-disk"
[ -z "$(ls -A "$attacker_home/.cache")" ] ||
    fail "root wrote in the user's ~/.cache: $(ls -la "$attacker_home/.cache")"
# Nor a missing ~/.cache in the user's home.
as_attacker rmdir "$attacker_home/.cache"
locate_as_root HOME="$attacker_home"
[ ! -e "$attacker_home/.cache" ] || fail "root made the user's ~/.cache"

# 5. Root's own cache, reached through root's own symlink, works: made
# 0700, the answer stored, then used.
mkdir -m 0700 "$tmpdir/rootcache"
ln -s "$tmpdir/rootcache" "$tmpdir/rootlink"
locate_as_root XDG_CACHE_HOME="$tmpdir/rootlink"
grep -q "cache: storage answer .* stored" "$tmpdir/log" ||
    fail "root's own cache not written: $(grep cache "$tmpdir/log")"
[ "$(stat -c '%a %U' "$tmpdir/rootcache/podman-disk/storage")" = "700 root" ] ||
    fail "cache directory: $(stat -c '%a %U' "$tmpdir/rootcache/podman-disk/storage")"
locate_as_root XDG_CACHE_HOME="$tmpdir/rootlink"
grep -q "cache: storage answer .* used" "$tmpdir/log" ||
    fail "root's own cache not used: $(grep cache "$tmpdir/log")"
# ... but a cache directory swapped for a symlink, even root's, is not
# followed.
rm -rf "$tmpdir/rootcache/podman-disk/storage"
ln -s "$victim" "$tmpdir/rootcache/podman-disk/storage"
locate_as_root XDG_CACHE_HOME="$tmpdir/rootlink"
cache_off "storage is a symlink"
victim_unchanged "a swapped kind directory"
echo PASS
