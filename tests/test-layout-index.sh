#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Choosing the image in a layout: names, nested image indexes and
# platforms; hand-made archives (oci-archive of a layout, docker-archive
# whose layer is a symlink); and layouts whose JSON is wrong, each with an
# error naming the file and what is wrong in it.
source "$(dirname "$0")/functions.sh"
source "$(dirname "$0")/layout-functions.sh"
requires qemu-img --version
requires python3 --version

for x in A B C; do
    make_raw_disk "$tmpdir/$x.img" 1
    mkdir -p "$tmpdir/src$x/disk"
    cp "$tmpdir/$x.img" "$tmpdir/src$x/disk/"
    mk_layer "$tmpdir/$x.tar" "$tmpdir/src$x"
done
layers () { echo "\"layers\": [{\"file\": \"$tmpdir/$1.tar\"}]"; }

# A multi-platform image under one name, in a nested index.
d=$tmpdir/multi
mk_oci "$d" <<EOJ
{"index": [{"ref": "multi", "index": [
    {"platform": "linux/amd64", $(layers A)},
    {"platform": "linux/arm64/v8", $(layers B)},
    {"platform": "linux/arm/v7", $(layers C)}]}]}
EOJ
case $(uname -m) in
    x86_64) same_disk "$tmpdir/A.img" "oci:$d" ;;
    aarch64) same_disk "$tmpdir/B.img" "oci:$d" ;;
esac
same_disk "$tmpdir/A.img" "oci:$d:multi" raw --platform linux/amd64
same_disk "$tmpdir/B.img" "oci:$d" raw --platform linux/arm64
same_disk "$tmpdir/B.img" "oci:$d" raw --platform linux/arm64/v8
same_disk "$tmpdir/C.img" "oci:$d" raw --platform linux/arm/v7
expect_error 1 "$d/blobs/sha256/[0-9a-f]{64}: no image for platform linux/s390x \(it has: linux/amd64, linux/arm64/v8, linux/arm/v7\); pick one with --platform OS/ARCH" \
    podman_disk locate --platform linux/s390x "oci:$d"
expect_error 1 "no image for platform linux/arm/v6 " podman_disk locate --platform linux/arm/v6 "oci:$d"
# A malformed --platform is a usage error, found with the options; so is
# --platform or --verify for an image they cannot apply to.
long=$(printf 'x%.0s' {1..64})
for p in linux a/b/c/d "" linux/ /amd64 linux//v7 linux/amd64/ "linux/$long"; do
    for cmd in locate json; do
        expect_usage "^podman-disk $cmd: --platform must be OS/ARCH or OS/ARCH/VARIANT \(e\.g\. linux/arm64\), not '$p'\$" \
            podman_disk $cmd --platform "$p" "oci:$d"
    done
done
expect_usage "^podman-disk serve: --platform must be" podman_disk serve --platform linux "oci:$d"
expect_usage "^podman-disk cp: --platform must be" podman_disk cp --platform linux "oci:$d" "$tmpdir/x"
for ref in fedora:41 containers-storage:fedora docker://quay.io/x; do
    expect_usage "^podman-disk locate: --platform applies to oci:, oci-archive: and docker-archive: references, not to '$ref'\$" \
        podman_disk locate --platform linux/amd64 "$ref"
    expect_usage "^podman-disk json: --verify applies to oci:, oci-archive: and docker-archive: references, not to '$ref' \(containers-storage keeps no layer blobs to check\)\$" \
        podman_disk json --verify "$ref"
done
expect_usage "^podman-disk serve: --verify applies to" podman_disk serve --verify fedora
expect_usage "^podman-disk cp: --platform applies to" podman_disk cp --pull never --platform linux/amd64 fedora "$tmpdir/x"
[ ! -e "$tmpdir/x" ] || fail "cp wrote its destination after a usage error"
podman_disk locate --platform linux/arm64 "oci:$d" > "$tmpdir/loc"
[ "$(field names < "$tmpdir/loc")" = multi ] || fail "names of a nested image"
# The image is the platform's own manifest, the one index.json does not list.
grep -q "$(field image < "$tmpdir/loc")" "$d/index.json" && fail "image is the index, not the manifest"
grep -rq "$(field image < "$tmpdir/loc" | cut -d: -f2)" "$d/blobs" || fail "image digest"

# The platforms listed in index.json itself.
d=$tmpdir/flat
mk_oci "$d" <<EOJ
{"index": [{"platform": "linux/arm64", $(layers B)}, {"platform": "linux/amd64", $(layers A)}]}
EOJ
same_disk "$tmpdir/B.img" "oci:$d" raw --platform linux/arm64
[ "$(uname -m)" = x86_64 ] && same_disk "$tmpdir/A.img" "oci:$d"

# One image: its platform matters only when asked for.
d=$tmpdir/one
mk_oci "$d" <<EOJ
{"index": [{"platform": "linux/riscv64", $(layers A)}]}
EOJ
same_disk "$tmpdir/A.img" "oci:$d"
expect_error 1 "no image for platform linux/amd64 \(it has: linux/riscv64\)" \
    podman_disk locate --platform linux/amd64 "oci:$d"
d=$tmpdir/noplat
mk_oci "$d" <<EOJ
{"index": [{"ref": "x", $(layers A)}]}
EOJ
same_disk "$tmpdir/A.img" "oci:$d:x" raw --platform linux/amd64
expect_error 1 "the image is for linux/amd64, not linux/arm64" \
    podman_disk locate --platform linux/arm64 "oci:$d"

# Several images, some without a name: each is reached as @INDEX, its
# place in index.json (oci:DIR:@N and oci-archive:FILE:@N, as in
# containers-transports(5)), and the error for none says so.
d=$tmpdir/unnamed
mk_oci "$d" <<EOJ
{"index": [{$(layers A)}, {$(layers B)}, {"ref": "c", $(layers C)}]}
EOJ
expect_error 1 "^podman-disk: $d/index.json: the layout holds 3 images: pick one as oci:$d:NAME or oci:$d:@INDEX \(@0 \(unnamed\), @1 \(unnamed\), @2 c\)\$" \
    podman_disk locate "oci:$d"
same_disk "$tmpdir/A.img" "oci:$d:@0"
same_disk "$tmpdir/B.img" "oci:$d:@1"
same_disk "$tmpdir/C.img" "oci:$d:@2"
same_disk "$tmpdir/C.img" "oci:$d:c"
expect_error 1 "^podman-disk: oci:$d:@3: the layout has images @0 to @2\$" \
    podman_disk locate "oci:$d:@3"
for at in @ @x @-1 @1x @99999999999999999999; do
    expect_error 1 "^podman-disk: oci:$d:$at: '$at' is not an image index \(@0, @1, \.\.\.\)\$" \
        podman_disk locate "oci:$d:$at"
done
[ "$(podman_disk list -q "oci:$d:@2")" = c ] || fail "list of oci:DIR:@2"
podman_disk list --format json "oci:$d:@1" |
    python3 -c 'import json,sys; o=json.load(sys.stdin); assert len(o) == 1 and o[0]["names"] == [], o' ||
    fail "list of oci:DIR:@1"
tar -C "$d" -cf "$tmpdir/unnamed.tar" .
same_disk "$tmpdir/B.img" "oci-archive:$tmpdir/unnamed.tar:@1"
expect_error 1 "pick one as oci-archive:$tmpdir/unnamed.tar:NAME or oci-archive:$tmpdir/unnamed.tar:@INDEX" \
    podman_disk locate "oci-archive:$tmpdir/unnamed.tar"
# @INDEX may be a multi-platform index: the platform picks inside it.
same_disk "$tmpdir/B.img" "oci:$tmpdir/multi:@0" raw --platform linux/arm64

# An oci-archive made by hand with tar (member names start with ./), and
# a compressed one.
tar -C "$tmpdir/multi" -cf "$tmpdir/multi.tar" .
same_disk "$tmpdir/C.img" "oci-archive:$tmpdir/multi.tar:multi" raw --platform linux/arm/v7
podman_disk locate --platform linux/arm/v7 "oci-archive:$tmpdir/multi.tar" > "$tmpdir/loc"
[ "$(field file < "$tmpdir/loc")" = "$tmpdir/multi.tar" ] || fail "archive file"
podman_disk locate --verify --platform linux/arm/v7 "oci-archive:$tmpdir/multi.tar" > /dev/null
gzip -k "$tmpdir/multi.tar"
expect_error 1 "^podman-disk: oci-archive:$tmpdir/multi.tar.gz is gzip-compressed: its blobs cannot be served in place; decompress it first, or produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE\$" \
    podman_disk locate "oci-archive:$tmpdir/multi.tar.gz"

# A docker-archive made by hand: the layer listed is a symlink in the
# archive, resolved inside it.
da=$tmpdir/da
mkdir -p "$da/abc"
cp "$tmpdir/B.tar" "$da/L.tar"
ln -s ../L.tar "$da/abc/layer.tar"
diff_id=sha256:$(sha256sum < "$da/L.tar" | cut -d' ' -f1)
echo "{\"os\": \"linux\", \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"$diff_id\"]}}" > "$da/config.json"
echo '[{"Config": "config.json", "RepoTags": ["example.com/b:1"], "Layers": ["abc/layer.tar"]}]' > "$da/manifest.json"
tar -C "$da" -cf "$tmpdir/da.tar" manifest.json config.json abc L.tar
same_disk "$tmpdir/B.img" "docker-archive:$tmpdir/da.tar:example.com/b:1"
podman_disk locate --verify "docker-archive:$tmpdir/da.tar" > "$tmpdir/loc"
[ "$(field layer < "$tmpdir/loc")" = "$diff_id" ] || fail "docker-archive: layer is the diff_id"
[ "$(field image < "$tmpdir/loc")" = "sha256:$(sha256sum < "$da/config.json" | cut -d' ' -f1)" ] ||
    fail "docker-archive: image is the config digest"
echo '[{"Config": "config.json", "Layers": ["abc/layer.tar", "L.tar"]}]' > "$da/manifest.json"
tar -C "$da" -cf "$tmpdir/da2.tar" manifest.json config.json abc L.tar
expect_error 1 "manifest.json in $tmpdir/da2.tar: \[0\] has 2 layers but its config 1 diff_ids" \
    podman_disk locate "docker-archive:$tmpdir/da2.tar"
echo '{"Config": "config.json"}' > "$da/manifest.json"
tar -C "$da" -cf "$tmpdir/da3.tar" manifest.json
expect_error 1 "manifest.json in $tmpdir/da3.tar: not a JSON array" \
    podman_disk locate "docker-archive:$tmpdir/da3.tar"

# Broken JSON: each error names the file and the member.
bad () {   # bad FILE-CONTENT REGEX: index.json replaced by FILE-CONTENT
    local b=$tmpdir/bad
    rm -rf "$b"
    cp -a "$tmpdir/one" "$b"
    printf '%s' "$1" > "$b/index.json"
    expect_error 1 "$b/index.json: $2" podman_disk locate "oci:$b"
}
good=$(cat "$tmpdir/one/index.json")
bad "${good:0:40}" 'truncated JSON \(40 bytes\)'
bad '' 'truncated JSON \(0 bytes\)'
bad "$good}" 'invalid JSON: garbage after the value at byte'
bad '{"manifests": [1,}' 'invalid JSON near byte'
bad '[]' 'not a JSON object'
bad '{"schemaVersion": 2}' 'manifests is missing'
bad '{"manifests": {}}' 'manifests is an object, not an array'
bad '{"manifests": []}' 'lists no image'
bad '{"manifests": [7]}' 'manifests\[0\] is not an object'
bad '{"manifests": [{"size": 1}]}' 'manifests\[0\]\.digest is missing'
bad '{"manifests": [{"digest": 5, "size": 1}]}' 'manifests\[0\]\.digest is an integer, not a string'
bad '{"manifests": [{"digest": "sha256:00", "size": "1"}]}' 'manifests\[0\]\.size is a string, not an integer'
bad '{"manifests": [{"digest": "sha256:00", "size": -1}]}' 'manifests\[0\]\.size is out of range'
bad '{"manifests": [{"digest": "sha256:../../../../etc/passwd", "size": 1}]}' "'sha256:\.\./\.\./\.\./\.\./etc/passwd' is not a sha256 or sha512 digest"
bad '{"manifests": [{"digest": "md5:d41d8cd98f00b204e9800998ecf8427e", "size": 1}]}' "'md5:d41d8cd98f00b204e9800998ecf8427e' is not a sha256 or sha512 digest"
bad '{"manifests": [{"digest": "sha256:00", "size": 1, "platform": {"os": "linux"}}]}' 'manifests\[0\]\.platform\.architecture is missing'
bad '{"manifests": [{"digest": "sha256:00", "size": 1, "annotations": {"org.opencontainers.image.ref.name": []}}]}' \
    'manifests\[0\]\.annotations\.org\.opencontainers\.image\.ref\.name is an array, not a string'
bad "{\"manifests\": $(printf '[%.0s' $(seq 100))$(printf ']%.0s' $(seq 100))}" 'JSON nested more than 32 levels deep: refused'
# The manifest as index.json lists it, but not as it is.
manifest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$tmpdir/one/index.json")
size=$(stat -c %s "$tmpdir/one/blobs/sha256/${manifest#sha256:}")
b=$tmpdir/bad; rm -rf "$b"; cp -a "$tmpdir/one" "$b"
python3 - "$b/index.json" <<'EOPY'
import json, sys
o = json.load(open(sys.argv[1])); o["manifests"][0]["size"] += 1
json.dump(o, open(sys.argv[1], "w"))
EOPY
expect_error 1 "$b/blobs/sha256/${manifest#sha256:}: $size bytes, but $b/index.json says $((size + 1)): the layout is damaged" \
    podman_disk locate "oci:$b"
b=$tmpdir/bad; rm -rf "$b"; cp -a "$tmpdir/one" "$b"
sed -i 's/"schemaVersion": 2/"schemaVersion": 3/' "$b/blobs/sha256/${manifest#sha256:}"
expect_error 1 "$b/blobs/sha256/${manifest#sha256:}: the content's digest is sha256:[0-9a-f]{64}, not $manifest: the layout is damaged or was modified" \
    podman_disk locate "oci:$b"
# A manifest with bad layers.
manifest_bad () {   # manifest_bad MANIFEST-JSON REGEX
    local b=$tmpdir/bad m digest
    rm -rf "$b"
    cp -a "$tmpdir/one" "$b"
    m=$b/m.json
    printf '%s' "$1" > "$m"
    digest=$(sha256sum < "$m" | cut -d' ' -f1)
    mv "$m" "$b/blobs/sha256/$digest"
    echo "{\"manifests\": [{\"mediaType\": \"application/vnd.oci.image.manifest.v1+json\", \"digest\": \"sha256:$digest\", \"size\": ${#1}}]}" > "$b/index.json"
    expect_error 1 "$b/blobs/sha256/$digest: $2" podman_disk locate "oci:$b"
}
manifest_bad '{"schemaVersion": 2, "layers": "x"}' 'layers is a string, not an array'
manifest_bad '{"schemaVersion": 2, "layers": []}' 'the image has no layers'
manifest_bad '{"schemaVersion": 2, "layers": [{"digest": "sha256:00", "size": 1}]}' 'layers\[0\]\.mediaType is missing'
manifest_bad '{"schemaVersion": 1, "fsLayers": []}' 'a Docker schema 1 manifest: not supported'
b=$tmpdir/bad; rm -rf "$b"; cp -a "$tmpdir/one" "$b"; rm "$b/oci-layout"
expect_error 1 "oci:$b is not an OCI image layout: it has no oci-layout file" podman_disk locate "oci:$b"
echo '{"imageLayoutVersion": "2.0.0"}' > "$b/oci-layout"
expect_error 1 "$b/oci-layout: imageLayoutVersion 2.0.0 is not supported" podman_disk locate "oci:$b"
# A blob that is a symlink out of the layout is not followed out of it.
b=$tmpdir/bad; rm -rf "$b"; cp -a "$tmpdir/one" "$b"
layer=$(sha256sum < "$tmpdir/A.tar" | cut -d' ' -f1)
rm "$b/blobs/sha256/$layer"
ln -s "$tmpdir/A.tar" "$b/blobs/sha256/$layer"
expect_error 1 "layer sha256:$layer \(application/vnd.oci.image.layer.v1.tar\): $b/blobs/sha256/$layer: (No such file or directory|Too many levels of symbolic links)" \
    podman_disk locate "oci:$b"
# ... and an absolute one resolves inside the layout too; the location
# names the file it resolved to, so that qemu opens that one.
mkdir -p "$b$tmpdir"
cp "$tmpdir/A.tar" "$b$tmpdir/A.tar"
# (Without openat2 (kernels before 5.6, or under valgrind) every symlink
# in a layout is refused instead: stricter, never outside.)
if podman_disk locate "oci:$b" > /dev/null 2> "$tmpdir/err" ||
   ! grep -q 'Too many levels of symbolic links' "$tmpdir/err"; then
    same_disk "$tmpdir/A.img" "oci:$b"
    [ "$(podman_disk locate "oci:$b" | field file)" = "$b$tmpdir/A.tar" ] ||
        fail "a symlinked blob: file is not the file opened"
fi
echo "test-layout-index: ok"
