#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A hostile or damaged containers/storage store: images.json and
# layers.json truncated, empty, nested 10^5 levels deep, with wrong types,
# a layer parent cycle, layer ids holding '/' or '..', a missing layer.
# The JSON files edited are this test's own private store's (never the
# host's).  Each case is one clear line naming the file; nothing is served
# from outside the store's layers.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires python3 --version
storage_implemented || skip "containers/storage is not implemented yet"
setup_store
have_storage=true have_layout=false

make_raw_disk "$tmpdir/disk.raw" 1
build_disk_image hostile-store "$tmpdir/disk.raw"
ref=$(storage_ref hostile-store)
expect_served "$ref" "$tmpdir/disk.raw"

images=$store/root/overlay-images/images.json
layers=$store/root/overlay-layers/layers.json
cp "$images" "$tmpdir/images.json.orig"
cp "$layers" "$tmpdir/layers.json.orig"
restore () {
    cp "$tmpdir/images.json.orig" "$images"
    cp "$tmpdir/layers.json.orig" "$layers"
}

# store_case DESCRIPTION REGEX: after the damage, refused with REGEX
# (see hostile_case: the whole line, after "podman-disk: ").
store_case () {
    hostile_case "$ref" "$2"
    restore
}
# The files' names as the lines give them, and the image's top layer.
ij="$(regex_quote "$images")"
lj="$(regex_quote "$layers")"
top=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["layer"])' "$images")
damaged='is not 64 hex digits: the store is damaged'
notin="is not in the store's layers\\.json: the store is damaged, or the image is being removed"
ancestor="is its own ancestor: the store's layers\\.json is damaged"
nodir () {
    echo "@REF@: layer $1 has no directory \\($(regex_quote "$store/root/overlay/$1/diff")\\): is the store damaged, or its driver not overlay\\?: No such file or directory"
}

# Truncated, empty, not JSON.
head -c "$(( $(stat -c %s "$images") / 2 ))" "$tmpdir/images.json.orig" > "$images"
store_case "images.json truncated" "$ij: truncated JSON \\(the file ends early\\)"
head -c "$(( $(stat -c %s "$layers") / 2 ))" "$tmpdir/layers.json.orig" > "$layers"
store_case "layers.json truncated" "$lj: truncated JSON \\(the file ends early\\)"
# (An empty images.json is an empty store, as for containers/storage.)
: > "$images"
store_case "images.json empty" "@REF@: image not known in $(regex_quote "$store/root") \\(driver overlay\\): pull or build it first, or pass --root"
echo null > "$layers"
store_case "layers.json null" "$lj: not a JSON array"
printf '\x89PNG\r\n\x1a\n\0\0' > "$images"
store_case "images.json binary" "$ij: not valid JSON at byte 0: unexpected character"

# Deeply nested: 10^5 levels of arrays, then of objects; refused where
# the 33rd level opens.
python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000)' > "$images"
store_case "images.json nested 10^5 arrays" "$ij: not valid JSON at byte 32: nesting too deep"
python3 -c 'import sys; sys.stdout.write("{\"a\":" * 100000 + "1" + "}" * 100000)' > "$layers"
store_case "layers.json nested 10^5 objects" "$lj: not valid JSON at byte 160: nesting too deep"
edit_json "$images" 'v[0]["names"] = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
# (names' first '[' is the 3rd level: the 33rd is 30 bytes further.)
at=$(( $(python3 -c 'import sys; print(open(sys.argv[1]).read().index("[[[["))' "$images") + 30 ))
store_case "images.json nested names" "$ij: not valid JSON at byte $at: nesting too deep"

# Wrong types.
echo '{"id": "x"}' > "$images"
store_case "images.json an object" "$ij: not a JSON array"
edit_json "$images" 'v[0]["id"] = 12345'
store_case "image id a number" "$ij: entry 0: \"id\" is not a string"
edit_json "$images" 'v[0]["names"] = "localhost/hostile-store:latest"'
store_case "names a string" "$ij: entry 0: \"names\" is not an array"
edit_json "$images" 'v[0]["layer"] = ["a"]'
store_case "layer an array" "$ij: entry 0: \"layer\" is not a string"
# (a null id is read as none: the empty string)
edit_json "$layers" 'v[0]["id"] = None'
store_case "layers.json id null" "$lj: entry 0: layer id '' is not 64 hex digits"
edit_json "$layers" 'v[0]["parent"] = {"id": 1}'
store_case "layers.json parent an object" "$lj: entry 0: \"parent\" is not a string"
edit_json "$images" 'v[0]["names"] = ["localhost/hostile-store:latest", 7]'
store_case "a name a number" "$ij: entry 0: \"names\" holds a non-string"

# Layer ids that would be paths.
edit_json "$images" 'v[0]["layer"] = "../../../../etc"'
store_case "image layer ../../../../etc" "@REF@: layer id '\\.\\./\\.\\./\\.\\./\\.\\./etc' $damaged"
edit_json "$images" 'v[0]["layer"] = "/etc"'
store_case "image layer /etc" "@REF@: layer id '/etc' $damaged"
edit_json "$images" 'v[0]["layer"] = "a" * 64 + "/../../etc"'
store_case "image layer with /.." "@REF@: layer id 'a{64}/\\.\\./\\.\\./etc' $damaged"
edit_json "$layers" 'v[0]["id"] = "../../../../etc"' &&
    edit_json "$images" 'v[0]["layer"] = "../../../../etc"'
store_case "both: layer ../../../../etc" "$lj: entry 0: layer id '\\.\\./\\.\\./\\.\\./\\.\\./etc' is not 64 hex digits"
edit_json "$layers" 'v[0]["parent"] = "../" * 10 + "etc"'
store_case "parent ../../etc" "$lj: entry 0: parent layer id '(\\.\\./){10}etc' is not 64 hex digits"

# A missing layer, a parent that does not exist, a parent cycle.
edit_json "$layers" 'v.clear()'
store_case "top layer not in layers.json" "@REF@: layer $top $notin"
edit_json "$layers" 'v[0]["parent"] = "b" * 64'
store_case "missing parent" "@REF@: layer b{64} $notin"
edit_json "$layers" 'v[0]["parent"] = v[0]["id"]'
store_case "layer its own parent" "@REF@: layer $top $ancestor"
# (c's directory made, so the walk gets as far as the cycle)
mkdir -p "$store/root/overlay/$(printf 'c%.0s' {1..64})/diff"
edit_json "$layers" 'v.append(dict(v[0], id="c"*64, parent=v[0]["id"])); v[0]["parent"] = "c"*64'
store_case "two-layer parent cycle" "@REF@: layer $top $ancestor"
edit_json "$layers" 'v[:] = [dict(id="%064x" % i, parent="%064x" % (i + 1)) for i in range(5000)]; v[0]["id"] = v[0]["id"]' &&
    edit_json "$images" 'v[0]["layer"] = "%064x" % 0'
store_case "a chain of 5000 missing layers" "$(nodir "$(printf '0%.0s' {1..64})")"

# A valid id whose directory is not there.
mv "$store/root/overlay/$top" "$store/root/overlay/$top.away"
store_case "layer directory missing" "$(nodir "$top")"
mv "$store/root/overlay/$top.away" "$store/root/overlay/$top"

# Stored names that are not valid references (no domain, not parseable)
# next to the one matched by repository suffix: skipped, never a crash.
edit_json "$images" 'v[0]["names"] = ["noslash", "UPPER/case", "", "quay.io/x/by-suffix:latest"]'
hostile_case "containers-storage:[overlay@$store/root+$store/runroot]x/by-suffix" \
    "served:$tmpdir/disk.raw"
restore

# After all that, the undamaged store still serves the right bytes.
hostile_case "$ref" "served:$tmpdir/disk.raw"
hostile_done
