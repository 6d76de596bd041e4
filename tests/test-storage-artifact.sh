#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# podman artifacts (podman artifact add, podman 5.4 and later): the store
# keeps them as an OCI layout at <graphroot>/artifacts, the disk a whole
# blob.  This machine's podman predates artifacts, so the store is written
# here exactly as podman's pkg/libartifact/store writes it: index.json
# naming each artifact's manifest by org.opencontainers.image.ref.name
# (":latest" added), an empty-JSON config, one blob per file titled by
# org.opencontainers.image.title, and index.lock beside them.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires mkfs.ext4 -V
requires_root

setup_store overlay
# A real image too, so the store is podman's own and images come first.
make_raw_disk "$tmpdir/raw.img" 1
build_disk_image localhost/an-image "$tmpdir/raw.img"
make_qcow2_disk "$tmpdir/disk.qcow2"
make_raw_disk "$tmpdir/seed.img" 1

# add_artifact NAME FILE...: what 'podman artifact add NAME FILE...' leaves.
add_artifact () {
    python3 - "$store/root/artifacts" "$@" <<'EOPY'
import hashlib, json, os, sys
store, name, files = sys.argv[1], sys.argv[2], sys.argv[3:]
if ":" not in name.rsplit("/", 1)[-1] and "@" not in name:
    name += ":latest"
blobs = os.path.join(store, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d
layers = []
for path in files:
    data = open(path, "rb").read()
    layers.append({"mediaType": "application/octet-stream", "digest": put(data),
                   "size": len(data), "annotations": {
                       "org.opencontainers.image.title": os.path.basename(path)}})
put(b"{}")
manifest = {"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                       "size": 2, "data": "e30="},
            "layers": layers}
raw = json.dumps(manifest).encode()
index_path = os.path.join(store, "index.json")
index = json.load(open(index_path)) if os.path.exists(index_path) else {
    "schemaVersion": 2, "manifests": []}
index["manifests"].append({"mediaType": manifest["mediaType"], "digest": put(raw),
                           "size": len(raw),
                           "annotations": {"org.opencontainers.image.ref.name": name}})
json.dump(index, open(index_path, "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(store, "oci-layout"), "w"))
open(os.path.join(store, "index.lock"), "a").close()
EOPY
}

add_artifact quay.io/example/disk "$tmpdir/disk.qcow2"
add_artifact quay.io/example/two:v1 "$tmpdir/disk.qcow2" "$tmpdir/seed.img"
before=$(store_fingerprint)

# Found by its name, ":latest" implied; the blob is the disk, at offset 0.
podman_disk locate quay.io/example/disk > "$tmpdir/loc"
cat "$tmpdir/loc"
[ "$(field transport < "$tmpdir/loc")" = containers-storage ] || fail "transport"
[ "$(field format < "$tmpdir/loc")" = qcow2 ] || fail "format"
[ "$(field offset < "$tmpdir/loc")" = 0 ] || fail "offset"
[ "$(field member < "$tmpdir/loc")" = disk.qcow2 ] || fail "member"
file=$(field file < "$tmpdir/loc")
case $file in "$store/root/artifacts/blobs/sha256/"*) ;; *) fail "file $file" ;; esac
cmp "$tmpdir/disk.qcow2" "$file" || fail "the blob is not the disk"
qemu-img compare -q -f qcow2 "$tmpdir/disk.qcow2" "$(podman_disk json quay.io/example/disk)" ||
    fail "json: not the artifact's guest disk"
podman_disk locate containers-storage:quay.io/example/disk:latest > "$tmpdir/loc2"
cmp "$tmpdir/loc" "$tmpdir/loc2" || fail "containers-storage: prefix locates differently"

# Two files: --disk TITLE picks one; without it, a clear error.
expect_error 1 "holds 2 blobs: pick one with --disk TITLE .*disk.qcow2, seed.img" \
    podman_disk locate quay.io/example/two:v1
qemu-img compare -q -f raw "$tmpdir/seed.img" \
    "$(podman_disk json --disk seed.img quay.io/example/two:v1)" || fail "--disk seed.img"
expect_error 1 "no blob titled 'nope'" podman_disk locate --disk nope quay.io/example/two:v1

# Images still come first, and what is neither is unknown as before.
[ "$(podman_disk locate an-image | field member)" = /disk/raw.img ] || fail "image lookup"
expect_error 1 "quay.io/example/two: image not known in" podman_disk locate quay.io/example/two
expect_error 1 "nothing: image not known in" podman_disk locate nothing
[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"

# A damaged artifact index says so.
echo '{"manifests": 7}' > "$store/root/artifacts/index.json"
expect_error 1 "artifacts/index.json: no \"manifests\" array" podman_disk locate quay.io/example/disk
echo '{"manifests": [' > "$store/root/artifacts/index.json"
expect_error 1 "artifacts/index.json: not valid JSON" podman_disk locate quay.io/example/disk
