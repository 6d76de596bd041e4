#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile OCI layouts read in place (oci:DIR): index.json truncated,
# nested 10^5 deep, with wrong types; digests that are paths; a missing
# blob; blobs that are symlinks to host files (as tar would extract them
# from a hostile download); an index that names itself; a blob changed
# after the fact under --verify.  Each one clear line; never host bytes.
# Every refusal is pinned to its whole line; the only alternation is
# $enoent, below.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires python3 --version
layout_implemented || skip "OCI layouts are not implemented yet"
have_storage=false have_layout=true

L=$tmpdir/layers O=$tmpdir/oci
mkdir -p "$L"
head -c 1M /dev/urandom > "$tmpdir/disk.raw"
mktar "$L/good.tar" '[{"name":"disk","type":"dir"},{"name":"disk/disk.img","type":"file","from":"'"$tmpdir/disk.raw"'"}]'

# fresh: a new layout holding the good image as "img".
fresh () { rm -rf "$O"; mklayout "$O" img "$L/good.tar"; }
# manifest_blob, layer_blob: the paths of the image's blobs.
blob_of () { echo "$O/blobs/sha256/${1#sha256:}"; }
manifest_blob () { blob_of "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$O/index.json")"; }
layer_blob () { blob_of "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' "$(manifest_blob)")"; }
img=oci:$O:img
# rehash_manifest: after the manifest was edited, its blob renamed to its
# new digest and the index updated, so only the edit is hostile.
rehash_manifest () {
python3 - "$O" <<'EOP'
import hashlib, json, os, sys
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
old = idx["manifests"][0]["digest"].split(":")[1]
data = open(os.path.join(d, "blobs", "sha256", old), "rb").read()
new = hashlib.sha256(data).hexdigest()
os.rename(os.path.join(d, "blobs", "sha256", old), os.path.join(d, "blobs", "sha256", new))
idx["manifests"][0].update(digest="sha256:" + new, size=len(data))
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOP
}

fresh
hostile_case "$img" "served:$tmpdir/disk.raw"
# The good layer is the same blob in every fresh layout: the lines that
# name it or its file name it exactly.
Oq=$(regex_quote "$O")
ld=$(basename "$(layer_blob)")
layer="layer sha256:$ld \\(application/vnd\\.oci\\.image\\.layer\\.v1\\.tar\\)"
lblob=$Oq/blobs/sha256/$ld
# A blob that is a symlink out of the layout is resolved inside it (openat2
# RESOLVE_IN_ROOT), where the host file is not.  Under valgrind, which does
# not know openat2, the reader falls back to O_NOFOLLOW, and the same blob
# is refused as "Too many levels of symbolic links" instead.
enoent='(No such file or directory|Too many levels of symbolic links)'

# index.json damaged.
fresh; head -c 100 "$O/index.json" > "$O/index.json.new"; mv "$O/index.json.new" "$O/index.json"
hostile_case "$img" "$Oq/index\\.json: truncated JSON \\(100 bytes\\)"
fresh; python3 -c 'import sys; sys.stdout.write("[" * 100000 + "]" * 100000)' > "$O/index.json"
hostile_case "$img" "$Oq/index\\.json: JSON nested more than 32 levels deep: refused"
fresh; python3 -c 'import sys; sys.stdout.write("{\"manifests\":" * 100000 + "[]" + "}" * 100000)' > "$O/index.json"
hostile_case "$img" "$Oq/index\\.json: JSON nested more than 32 levels deep: refused"
fresh; echo null > "$O/index.json"
hostile_case "$img" "$Oq/index\\.json: not a JSON object \\(it holds null\\)"
fresh; edit_json "$O/index.json" 'v["manifests"] = "img"'
hostile_case "$img" "$Oq/index\\.json: manifests is a string, not an array"
fresh; edit_json "$O/index.json" 'v["manifests"][0]["digest"] = 12'
hostile_case "$img" "$Oq/index\\.json: manifests\\[0\\]\\.digest is an integer, not a string"
fresh; edit_json "$O/index.json" 'v["manifests"][0]["annotations"] = ["img"]'
hostile_case "$img" "$Oq/index\\.json: manifests\\[0\\]\\.annotations is an array, not an object"

# Digests that are paths.
for d in 'sha256:../../../../etc/shadow' 'sha256:/etc/shadow' '../../../etc/shadow:x' \
         'sha256:0123/../../../etc/shadow' 'sha512:'"$(printf 'a%.0s' {1..128})"; do
    fresh; edit_json "$O/index.json" 'v["manifests"][0]["digest"] = "'"$d"'"'
    case $d in
    sha512:*) e="$Oq/blobs/sha512/a{128}: No such file or directory" ;;  # well-formed: looked up
    *) e="$Oq/index\\.json: '$(regex_quote "$d")' is not a sha256 or sha512 digest" ;;
    esac
    hostile_case "$img" "$e"
done
fresh; edit_json "$(manifest_blob)" 'v["layers"][0]["digest"] = "sha256:../../../../../etc/shadow"'
rehash_manifest
hostile_case "$img" "$(regex_quote "$(manifest_blob)"): 'sha256:\\.\\./\\.\\./\\.\\./\\.\\./\\.\\./etc/shadow' is not a sha256 or sha512 digest"

# A blob missing; blobs that are symlinks out of the layout.
fresh; rm "$(layer_blob)"
hostile_case "$img" "$layer: $lblob: No such file or directory"
# An empty layer blob, as the manifest says: not a tar, never skipped.
fresh; : > "$(layer_blob)"
edit_json "$(manifest_blob)" 'v["layers"][0]["size"] = 0'
rehash_manifest
hostile_case "$img" "$layer is empty: not a tar; produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE"
for target in /etc/shadow ../../../../../../etc/shadow; do
    fresh; ln -sf "$target" "$(layer_blob)"
    hostile_case "$img" "$layer: $lblob: $enoent"
    fresh; ln -sf "$target" "$(manifest_blob)"
    hostile_case "$img" "$(regex_quote "$(manifest_blob)"): $enoent"
done
# An artifact (the disk a whole blob, ORAS-style) whose blob is a symlink
# to the host's /etc/shadow: never served.
fresh
cp "$tmpdir/disk.raw" "$tmpdir/blob"
edit_json "$(manifest_blob)" 'v["layers"][0].update(mediaType="application/octet-stream", annotations={"org.opencontainers.image.title": "disk.img"})'
rehash_manifest
blob="blob sha256:$ld \\(application/octet-stream\\)"
ln -sf /etc/shadow "$(layer_blob)"
hostile_case "$img" "$blob: $lblob: $enoent"
ln -sf ../../../../../../../../etc/shadow "$(layer_blob)"
hostile_case "$img" "$blob: $lblob: $enoent"

# An index that names itself as an image index: no loop.
fresh
python3 - "$O" <<'EOP'
import json, os, sys
d = sys.argv[1]
# A nested index whose only entry is its own digest cannot be written (the
# digest would have to hash itself); two indexes naming each other can't
# either.  So: index.json names a nested index that names index.json's
# manifest list entry... as deep as 200 levels.
import hashlib
idx = json.load(open(os.path.join(d, "index.json")))
entry = idx["manifests"][0]
for i in range(200):
    nested = json.dumps({"schemaVersion": 2,
                         "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": [entry]}).encode()
    h = hashlib.sha256(nested).hexdigest()
    open(os.path.join(d, "blobs", "sha256", h), "wb").write(nested)
    entry = {"mediaType": "application/vnd.oci.image.index.v1+json",
             "digest": "sha256:" + h, "size": len(nested),
             "annotations": {"org.opencontainers.image.ref.name": "img"}}
idx["manifests"] = [entry]
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOP
hostile_case "$img" "$Oq/blobs/sha256/[0-9a-f]{64}: image indexes nested more than 4 deep"

# --verify: a layer blob changed after the fact: one byte of the disk's
# data flipped (not set: the random byte there may already be that value,
# and the blob would then be unchanged, 1 run in 256).
fresh
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(2000); b = f.read(1)[0];
f.seek(2000); f.write(bytes([b ^ 0xff]))' "$(layer_blob)"
hostile_case "$img" "$layer: the content's digest is sha256:$(sha256sum <"$(layer_blob)" | cut -c1-64), not sha256:$ld: the layout is damaged or was modified" --verify

hostile_done
