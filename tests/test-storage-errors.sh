#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bad inputs, each one stderr line and the documented exit code: unknown
# images, images without a disk or with two, damaged stores (truncated or
# mistyped JSON, a missing parent, an incomplete or missing layer, a
# composefs layer, a hostile layer id), a store the user may not read, and
# bad flags.  The damage is done to a copy; the real store is unchanged.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires jq --version
requires_root

setup_store overlay
make_raw_disk "$tmpdir/disk.img" 1
build_disk_image localhost/good "$tmpdir/disk.img"

# Images that are not containerDisks, built from their own contexts.
build_ctx () {
    local name=$1 ctx
    ctx=$(mktemp -d "$tmpdir/ctx.XXXXXX")
    shift
    (cd "$ctx" && "$@")
    podman build -q -t "$name" "$ctx" >/dev/null
}
build_ctx localhost/nodisk sh -c 'echo x > motd; printf "FROM scratch\nCOPY motd /etc/\n" > Containerfile'
build_ctx localhost/twodisks sh -c 'echo a > a.img; echo b > b.img; printf "FROM scratch\nCOPY a.img b.img /disk/\n" > Containerfile'
build_ctx localhost/dironly sh -c 'mkdir -p d/sub; echo x > d/sub/x; printf "FROM scratch\nCOPY d /disk/\n" > Containerfile'
before=$(store_fingerprint)

expect_error 1 '^podman-disk: nothere: image not known in .*/store/root \(driver overlay\): pull or build it first, or pass --root$' \
    podman_disk locate nothere
expect_error 1 '^podman-disk: nodisk: the image has no /disk/ directory: is it a containerDisk\? use --disk PATH$' \
    podman_disk locate nodisk
expect_error 1 '^podman-disk: twodisks: several disks under /disk/: a.img, b.img; pick one with --disk PATH$' \
    podman_disk json twodisks
podman_disk locate --disk /disk/b.img twodisks | grep -x 'member: /disk/b.img' >/dev/null ||
    fail "--disk picks one of two"
expect_error 1 '^podman-disk: dironly: no regular file under /disk/ \(found: sub/ .*\): is it a containerDisk\? use --disk PATH$' \
    podman_disk locate dironly
expect_error 1 '^podman-disk: nothere: image not known in /nonexistent/root \(driver overlay\)' \
    podman_disk locate --root /nonexistent/root nothere
[ ! -e /nonexistent ] || fail "a store was created"

# list names only the images with a disk; one whose disk cannot be served
# gets a warning that says why.
podman_disk list -q > "$tmpdir/list" 2>"$tmpdir/err"
[ "$(cat "$tmpdir/list")" = "localhost/good:latest" ] || fail "list -q: $(cat "$tmpdir/list")"
grep -q "^podman-disk: warning: image localhost/twodisks:latest [0-9a-f]\{12\}: several disks under /disk/" "$tmpdir/err" ||
    fail "list does not say why twodisks has no disk: $(cat "$tmpdir/err")"

# Damage, on a copy of the store.
copy () {
    rm -rf "$tmpdir/copy"
    cp -a "$store" "$tmpdir/copy"
    croot=$tmpdir/copy/root
    images=$croot/overlay-images/images.json
    layers=$croot/overlay-layers/layers.json
    top=$(jq -r '.[] | select(.names[]? == "localhost/good:latest") | .layer' "$images")
}
on_copy () { podman_disk --root "$croot" --runroot "$tmpdir/copy/runroot" "$@"; }
edit () { jq "$2" "$1" > "$1.new" && mv "$1.new" "$1"; }

copy
on_copy locate good >/dev/null || fail "the copy is not a good store"
head -c 100 "$images" > "$images.new" && mv "$images.new" "$images"
expect_error 1 "^podman-disk: $images: truncated JSON \(the file ends early\)$" \
    on_copy locate good
expect_error 1 "^podman-disk: $images: truncated JSON" on_copy list

copy
echo '[{"id": "x"}] trailing' > "$images"
expect_error 1 "^podman-disk: $images: not valid JSON: unexpected data at byte 14 after the array$" \
    on_copy locate good
copy
edit "$images" '.[0].names = "good"'
expect_error 1 "^podman-disk: $images: entry 0: \"names\" is not an array$" \
    on_copy locate good
copy
edit "$layers" 'map(.id |= "../../../etc")'
expect_error 1 "^podman-disk: $layers: entry 0: layer id '../../../etc' is not 64 hex digits$" \
    on_copy locate good
copy
edit "$layers" "map(select(.id != \"$top\"))"
expect_error 1 "^podman-disk: good: layer $top is not in the store's layers.json: the store is damaged, or the image is being removed$" \
    on_copy locate good
copy
edit "$layers" "map(if .id == \"$top\" then .flags = {\"incomplete\": true} else . end)"
expect_error 1 "^podman-disk: good: layer $top is incomplete \(an interrupted pull or build\): pull the image again$" \
    on_copy locate good
copy
edit "$layers" "map(if .id == \"$top\" then .parent = \"$top\" else . end)"
expect_error 1 "^podman-disk: good: layer $top is its own ancestor: the store's layers.json is damaged$" \
    on_copy locate good
copy
rm -rf "$croot/overlay/$top"
expect_error 1 "^podman-disk: good: layer $top has no directory \($croot/overlay/$top/diff\): is the store damaged, or its driver not overlay\?" \
    on_copy locate good
copy
mkdir "$croot/overlay/$top/composefs-data"
expect_error 1 "^podman-disk: good: layer $top is a composefs layer \(.*\): composefs layers are not supported yet$" \
    on_copy locate good

# A store the user may not read (podman keeps overlay-images 0700).
requires runuser -u nobody -- true
expect_error 1 "^podman-disk: $store/root/overlay-(layers/layers|images/images)\.(lock|json): permission denied: the store belongs to another user; run podman-disk as that user, or pass --root$" \
    runuser -u nobody -- "$PODMAN_DISK" --root "$store/root" --runroot "$store/runroot" locate good

# Bad flags: usage errors, exit 2 (two lines: the message and a hint).
for args in "locate --root" "locate --storage-driver" "json --disk" \
            "locate --format xml good" "list --bogus" "locate --no-such-flag good"; do
    rc=0
    podman_disk $args >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || fail "'$args' exited $rc, expected 2"
    [ "$(wc -l < "$tmpdir/err")" = 2 ] || fail "'$args': not message + hint"
    [ ! -s "$tmpdir/out" ] || fail "'$args' printed on stdout"
done

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"
