#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write an OCI image layout by hand, for the hostile-image tests.

    mklayout.py DIR REFNAME LAYER.tar [LAYER.tar ...]

Each LAYER.tar (uncompressed, the bottom layer first) becomes a blob as is,
whatever it holds, with a config and a manifest; index.json names the
manifest with org.opencontainers.image.ref.name=REFNAME.  An existing
layout gets one more manifest in its index (replacing one of the same
REFNAME).  Nothing is validated: the
point is to hand hostile layers to the readers.
"""
import hashlib, json, os, sys


def put_blob(d, data):
    digest = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(d, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def main():
    d, ref, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(d, exist_ok=True)
    descs, diff_ids = [], []
    for path in layers:
        with open(path, "rb") as f:
            data = f.read()
        digest, size = put_blob(d, data)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                      "digest": digest, "size": size})
        diff_ids.append(digest)
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }).encode()
    cdigest, csize = put_blob(d, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdigest, "size": csize},
        "layers": descs,
    }).encode()
    mdigest, msize = put_blob(d, manifest)
    index_path = os.path.join(d, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    # The same REFNAME again replaces it (a layout names each image once).
    index["manifests"] = [
        m for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != ref]
    index["manifests"].append({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": mdigest, "size": msize,
        "annotations": {"org.opencontainers.image.ref.name": ref}})
    with open(index_path, "w") as f:
        json.dump(index, f)
    with open(os.path.join(d, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


if __name__ == "__main__":
    main()
