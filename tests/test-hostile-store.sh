#!/bin/bash
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

# store_case DESCRIPTION REGEX: after the damage, refused with REGEX.
store_case () {
    hostile_case "$ref" "$2"
    restore
}

# Truncated, empty, not JSON.
head -c "$(( $(stat -c %s "$images") / 2 ))" "$tmpdir/images.json.orig" > "$images"
store_case "images.json truncated" 'images.json: truncated JSON'
head -c "$(( $(stat -c %s "$layers") / 2 ))" "$tmpdir/layers.json.orig" > "$layers"
store_case "layers.json truncated" 'layers.json: truncated JSON'
: > "$images"
store_case "images.json empty" 'images.json: truncated|image not known in'
echo null > "$layers"
store_case "layers.json null" 'layers.json: not a JSON array'
printf '\x89PNG\r\n\x1a\n\0\0' > "$images"
store_case "images.json binary" 'images.json: not valid JSON at byte 0'

# Deeply nested: 10^5 levels of arrays, then of objects.
python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000)' > "$images"
store_case "images.json nested 10^5 arrays" 'images.json: not valid JSON at byte [0-9]+: nesting too deep'
python3 -c 'import sys; sys.stdout.write("{\"a\":" * 100000 + "1" + "}" * 100000)' > "$layers"
store_case "layers.json nested 10^5 objects" 'layers.json: not valid JSON at byte [0-9]+: nesting too deep'
edit_json "$images" 'v[0]["names"] = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
store_case "images.json nested names" 'images.json: (not valid JSON at byte [0-9]+: nesting too deep|entry 0: "names" holds a non-string)'

# Wrong types.
echo '{"id": "x"}' > "$images"
store_case "images.json an object" 'images.json: not a JSON array'
edit_json "$images" 'v[0]["id"] = 12345'
store_case "image id a number" 'images.json: entry 0: "id" is not a string'
edit_json "$images" 'v[0]["names"] = "localhost/hostile-store:latest"'
store_case "names a string" 'images.json: entry 0: "names" is not an array'
edit_json "$images" 'v[0]["layer"] = ["a"]'
store_case "layer an array" 'images.json: entry 0: "layer" is not a string'
edit_json "$layers" 'v[0]["id"] = None'
store_case "layers.json id null" 'layers.json: entry 0: (layer id .* is not 64 hex digits|"id" is not a string)'
edit_json "$layers" 'v[0]["parent"] = {"id": 1}'
store_case "layers.json parent an object" 'layers.json: entry 0: "parent" is not a string'
edit_json "$images" 'v[0]["names"] = ["localhost/hostile-store:latest", 7]'
store_case "a name a number" 'images.json: entry 0: "names" holds a non-string'

# Layer ids that would be paths.
edit_json "$images" 'v[0]["layer"] = "../../../../etc"'
store_case "image layer ../../../../etc" "layer id '\\.\\./\\.\\./\\.\\./\\.\\./etc' is not 64 hex digits"
edit_json "$images" 'v[0]["layer"] = "/etc"'
store_case "image layer /etc" "layer id '/etc' is not 64 hex digits"
edit_json "$images" 'v[0]["layer"] = "a" * 64 + "/../../etc"'
store_case "image layer with /.." "layer id 'a{64}/\\.\\./\\.\\./etc' is not 64 hex digits"
edit_json "$layers" 'v[0]["id"] = "../../../../etc"' &&
    edit_json "$images" 'v[0]["layer"] = "../../../../etc"'
store_case "both: layer ../../../../etc" "layer id '\\.\\./\\.\\./\\.\\./\\.\\./etc' is not 64 hex digits"
edit_json "$layers" 'v[0]["parent"] = "../" * 10 + "etc"'
store_case "parent ../../etc" "layers.json: entry 0: parent layer id '(\\.\\./)+etc' is not 64 hex digits"

# A missing layer, a parent that does not exist, a parent cycle.
edit_json "$layers" 'v.clear()'
store_case "top layer not in layers.json" "layer [0-9a-f]{64} is not in the store's layers.json"
edit_json "$layers" 'v[0]["parent"] = "b" * 64'
store_case "missing parent" "layer b{64} is not in the store's layers.json"
edit_json "$layers" 'v[0]["parent"] = v[0]["id"]'
store_case "layer its own parent" "layer [0-9a-f]{64} is its own ancestor"
# (c's directory made, so the walk gets as far as the cycle)
mkdir -p "$store/root/overlay/$(printf 'c%.0s' {1..64})/diff"
edit_json "$layers" 'v.append(dict(v[0], id="c"*64, parent=v[0]["id"])); v[0]["parent"] = "c"*64'
store_case "two-layer parent cycle" "layer [0-9a-f]{64} is its own ancestor"
edit_json "$layers" 'v[:] = [dict(id="%064x" % i, parent="%064x" % (i + 1)) for i in range(5000)]; v[0]["id"] = v[0]["id"]' &&
    edit_json "$images" 'v[0]["layer"] = "%064x" % 0'
store_case "a chain of 5000 missing layers" "layer 0{64} has no directory"

# A valid id whose directory is not there.
top=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["layer"])' "$images")
mv "$store/root/overlay/$top" "$store/root/overlay/$top.away"
store_case "layer directory missing" "layer $top has no directory"
mv "$store/root/overlay/$top.away" "$store/root/overlay/$top"

# Stored names that are not valid references (no domain, not parseable)
# next to the one matched by repository suffix: skipped, never a crash.
edit_json "$images" 'v[0]["names"] = ["noslash", "UPPER/case", "", "quay.io/x/by-suffix:latest"]'
hostile_cases=$((hostile_cases + 1))
expect_served "containers-storage:[overlay@$store/root+$store/runroot]x/by-suffix" "$tmpdir/disk.raw"
echo "ok $hostile_cases - odd stored names next to a name matched by suffix: served"
restore

# After all that, the undamaged store still serves the right bytes.
expect_served "$ref" "$tmpdir/disk.raw"
hostile_done
