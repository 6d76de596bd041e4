#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpus of fuzz-oci (fuzz/corpus/oci/), in its input
format (see fuzz/fuzz-oci.c): index.json and blobs separated by "\\n--\\n",
"$N" / "#N" standing for the digest / size of part N.

    fuzz/oci-seeds.py fuzz/corpus/oci
"""
import io, json, os, sys, tarfile

SEP = "\n--\n"
TAR_MT = "application/vnd.oci.image.layer.v1.tar"
MANIFEST_MT = "application/vnd.oci.image.manifest.v1+json"
INDEX_MT = "application/vnd.oci.image.index.v1+json"
CONFIG_MT = "application/vnd.oci.image.config.v1+json"
REF = "org.opencontainers.image.ref.name"
TITLE = "org.opencontainers.image.title"


def layer_tar():
    """A small tar layer holding /disk/disk.img (512 bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        d = tarfile.TarInfo("disk")
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        t.addfile(d)
        data = b"a disk image, not a real one\n".ljust(512, b"\0")
        f = tarfile.TarInfo("disk/disk.img")
        f.size = len(data)
        t.addfile(f, io.BytesIO(data))
    raw = buf.getvalue()
    # Only what the disk needs: tarfile pads to 10 KiB records.
    raw = raw[:3 * 512] + b"\0" * 1024
    assert SEP.encode() not in raw and not raw.startswith((b"{", b"["))
    return raw


def js(v):
    return json.dumps(v, separators=(",", ":")).encode()


def desc(mt, n, **extra):
    d = {"mediaType": mt, "digest": "$%d" % n, "size": "#%d" % n}
    d.update(extra)
    return d


def fix_sizes(b):
    # "#N" is a number once substituted: drop the quotes json.dumps put.
    for n in range(1, 10):
        b = b.replace(b'"#%d"' % n, b"#%d" % n)
    return b


def seed(parts, platform=None):
    out = SEP.encode().join(fix_sizes(p) if p[:1] in (b"{", b"[") else p
                            for p in parts)
    return (("!%s\n" % platform).encode() if platform else b"") + out


def config(arch="amd64", variant=None):
    c = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    if variant:
        c["variant"] = variant
    return js(c)


def manifest(config_n, layer_ns, layer_mt=TAR_MT, key="layers", **extra):
    m = {"schemaVersion": 2, "mediaType": MANIFEST_MT,
         "config": desc(CONFIG_MT, config_n),
         key: [desc(layer_mt, n, **extra) for n in layer_ns]}
    return js(m)


def index(entries, mt=INDEX_MT):
    return js({"schemaVersion": 2, "mediaType": mt, "manifests": entries})


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tar = layer_tar()
    disk = b"QFI\xfb" + b"\0" * 508     # a qcow2 magic with nothing after
    raw = b"raw disk bytes\n".ljust(1024, b"\0")
    seeds = {
        # index.json -> manifest -> config, one tar layer.
        "one": [index([desc(MANIFEST_MT, 1, annotations={REF: "img"})]),
                manifest(2, [3]), config(), tar],
        # Two images by name, the second one's the same manifest.
        "named": [index([desc(MANIFEST_MT, 1, annotations={REF: "img"}),
                         desc(MANIFEST_MT, 1, annotations={REF: "other"})]),
                  manifest(2, [3]), config(), tar],
        # index.json -> nested index -> a manifest per platform.
        "multiarch": [index([desc(INDEX_MT, 1, annotations={REF: "img"})]),
                      index([desc(MANIFEST_MT, 2, platform={"os": "linux", "architecture": "amd64"}),
                             desc(MANIFEST_MT, 3, platform={"os": "linux", "architecture": "arm64", "variant": "v8"})]),
                      manifest(4, [6]), manifest(5, [6]),
                      config("amd64"), config("arm64", "v8"), tar],
        # A Docker manifest list nested, no media type on the entry.
        "dockerlist": [index([{"digest": "$1", "size": "#1", "annotations": {REF: "img"}}]),
                       index([desc(MANIFEST_MT, 2, platform={"os": "linux", "architecture": "amd64"})],
                             mt="application/vnd.docker.distribution.manifest.list.v2+json"),
                       manifest(3, [4]), config(), tar],
        # An ORAS artifact: the disk a whole blob, titled.
        "artifact": [index([desc(MANIFEST_MT, 1, annotations={REF: "img"})]),
                     manifest(2, [3], layer_mt="application/octet-stream",
                              annotations={TITLE: "disk.img"}),
                     config(), raw],
        # The short-lived artifact manifest ("blobs"), a qcow2 magic.
        "artifact-blobs": [index([desc(MANIFEST_MT, 1)]),
                           manifest(2, [3], layer_mt="application/octet-stream",
                                    key="blobs", annotations={TITLE: "disk.qcow2"}),
                           config(), disk],
        # Two layers, the second a whiteout of nothing.
        "two-layers": [index([desc(MANIFEST_MT, 1, annotations={REF: "img"})]),
                       manifest(2, [3, 3]), config(), tar],
    }
    plat = {
        # --platform given, index.json has none: the config decides.
        "config-platform": ("linux/arm64", [index([desc(MANIFEST_MT, 1)]),
                                            manifest(2, [3]), config("arm64"), tar]),
        "multiarch-arm64": ("linux/arm64", seeds["multiarch"]),
    }
    for name, parts in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed(parts))
    for name, (p, parts) in plat.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed(parts, p))
    # A Docker schema 1 manifest.
    with open(os.path.join(out, "schema1"), "wb") as f:
        f.write(seed([index([desc(MANIFEST_MT, 1)]),
                      js({"schemaVersion": 1, "name": "x", "fsLayers": []})]))


main()
