#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write a containers/storage overlay store by hand, for the size tests.

    mkstore.py ROOT NAME LAYERS DISK

One image NAME whose chain has LAYERS layers: each a directory
overlay/ID/diff holding one small file of its own, the top one holding
DISK as /disk/disk.img.  The metadata is what containers/storage writes
(overlay-layers/layers.json, overlay-images/images.json, their lock
files, overlay/ mode 0700).  skopeo copy makes a 2,000-layer image too,
but rewrites layers.json for every layer: about 600 layers in ten minutes
on a test machine, where this takes a second.
"""
import hashlib, json, os, shutil, sys


def main():
    root, name, n, disk = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    overlay = os.path.join(root, "overlay")
    for d in ("overlay-layers", "overlay-images"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.makedirs(overlay, exist_ok=True)
    os.chmod(overlay, 0o700)
    layers, parent = [], None
    for i in range(n):
        lid = hashlib.sha256(b"%s layer %d" % (name.encode(), i)).hexdigest()
        diff = os.path.join(overlay, lid, "diff")
        os.makedirs(diff)
        with open(os.path.join(diff, "layer-%d" % i), "w") as f:
            f.write("%d\n" % i)
        entry = {"id": lid, "created": "2024-01-01T00:00:00Z",
                 "diff-digest": "sha256:" + lid, "diff-size": 1024}
        if parent:
            entry["parent"] = parent
        layers.append(entry)
        parent = lid
    os.makedirs(os.path.join(diff, "disk"))
    shutil.copyfile(disk, os.path.join(diff, "disk", "disk.img"))
    iid = hashlib.sha256(b"image " + name.encode()).hexdigest()
    image = {"id": iid, "digest": "sha256:" + iid, "names": [name],
             "layer": parent, "metadata": "{}",
             "created": "2024-01-01T00:00:00Z"}
    with open(os.path.join(root, "overlay-layers", "layers.json"), "w") as f:
        json.dump(layers, f)
    with open(os.path.join(root, "overlay-images", "images.json"), "w") as f:
        json.dump([image], f)
    for lock in ("overlay-layers/layers.lock", "overlay-images/images.lock"):
        open(os.path.join(root, lock), "a").close()


if __name__ == "__main__":
    main()
