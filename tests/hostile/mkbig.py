#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Layouts and archives with very many entries, for the size tests.

    mkbig.py index DIR N DISK       oci:DIR, index.json of N entries named
                                    img0 ... img(N-1), over 3 images
    mkbig.py platforms DIR N DISK   oci:DIR, N entries all named "multi",
                                    each for platform linux/aI; prints the
                                    manifest digest of linux/a(N-1)
    mkbig.py docker FILE N DISK     docker-archive FILE, manifest.json of N
                                    entries tagged img0:latest ..., one image

Each image is one layer holding DISK as /disk/disk.img.  An attacker
needs no more blobs than that for an index of any length.
"""
import hashlib, io, json, os, sys, tarfile


def layer_tar(disk, extra):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("disk")
        ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        t.addfile(ti)
        data = open(disk, "rb").read()
        ti = tarfile.TarInfo("disk/disk.img")
        ti.size, ti.mode = len(data), 0o644
        t.addfile(ti, io.BytesIO(data))
        ti = tarfile.TarInfo("extra")
        ti.size = len(extra)
        t.addfile(ti, io.BytesIO(extra))
    return buf.getvalue()


class Layout:
    def __init__(self, out):
        self.out = out
        os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

    def put(self, data, media_type):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.out, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + d,
                "size": len(data)}

    def image(self, disk, i, arch="amd64"):
        layer = self.put(layer_tar(disk, b"%d" % i),
                         "application/vnd.oci.image.layer.v1.tar")
        config = self.put(json.dumps({
            "os": "linux", "architecture": arch,
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode(),
            "application/vnd.oci.image.config.v1+json")
        return self.put(json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": [layer]}).encode(),
            "application/vnd.oci.image.manifest.v1+json")

    def finish(self, manifests):
        with open(os.path.join(self.out, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": manifests}, f)
        with open(os.path.join(self.out, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)


def ref(desc, name):
    d = dict(desc)
    d["annotations"] = {"org.opencontainers.image.ref.name": name}
    return d


def index(out, n, disk):
    lay = Layout(out)
    images = [lay.image(disk, i) for i in range(3)]
    lay.finish([ref(images[i % 3], "img%d" % i) for i in range(n)])


def platforms(out, n, disk):
    lay = Layout(out)
    image = lay.image(disk, 0)
    manifests = []
    for i in range(n):
        d = ref(image, "multi")
        d["platform"] = {"os": "linux", "architecture": "a%d" % i}
        manifests.append(d)
    # The last platform's own image, so that picking it is seen.
    last = lay.image(disk, 1, "a%d" % (n - 1))
    manifests[-1] = ref(last, "multi")
    manifests[-1]["platform"] = {"os": "linux", "architecture": "a%d" % (n - 1)}
    lay.finish(manifests)
    print(last["digest"])


def docker(out, n, disk):
    layer = layer_tar(disk, b"0")
    ldigest = hashlib.sha256(layer).hexdigest()
    config = json.dumps({"os": "linux", "architecture": "amd64",
                         "rootfs": {"type": "layers",
                                    "diff_ids": ["sha256:" + ldigest]}}).encode()
    cname = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cname, "RepoTags": ["img%d:latest" % i],
                            "Layers": [ldigest + "/layer.tar"]}
                           for i in range(n)]).encode()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in ((cname, config), (ldigest + "/layer.tar", layer),
                           ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))


if __name__ == "__main__":
    {"index": index, "platforms": platforms, "docker": docker}[sys.argv[1]](
        sys.argv[2], int(sys.argv[3]), sys.argv[4])
