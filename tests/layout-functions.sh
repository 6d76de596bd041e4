# SPDX-License-Identifier: Apache-2.0
# Helpers of the tests/test-layout-*.sh: OCI layouts made by hand around
# layer tars made by the tests, so that every tar format and every odd
# case can be put in a layout.  Sourced after functions.sh.

# mk_oci DIR < SPEC: write an OCI image layout in DIR from a JSON spec:
#   {"index": [ENTRY, ...]}              what index.json lists
#   ENTRY: {"ref": NAME?, "platform": "os/arch[/variant]"?,
#           "layers": [LAYER, ...]}       an image manifest
#       or {"ref": NAME?, "platform": ...?, "index": [ENTRY, ...]}
#                                          a nested image index
#   LAYER: {"file": PATH, "mediaType": TYPE?, "title": TITLE?,
#           "fakeDigest": true?}          (a fake digest skips hashing a
#                                          huge file: --verify must fail)
# Layer files are hard-linked into blobs/, never copied.
mk_oci () {
    local spec
    spec=$(cat)
    python3 - "$1" "$spec" <<'EOPY'
import hashlib, json, os, sys

out = sys.argv[1]
spec = json.loads(sys.argv[2])
os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

def put_bytes(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}

def put_file(path, fake):
    if fake:
        d = hashlib.sha256(os.path.abspath(path).encode()).hexdigest()
    else:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        d = h.hexdigest()
    dst = os.path.join(out, "blobs", "sha256", d)
    if not os.path.exists(dst):
        os.link(path, dst)
    return {"digest": "sha256:" + d, "size": os.path.getsize(path)}

def platform(entry):
    p = entry.get("platform", "linux/amd64").split("/")
    r = {"os": p[0], "architecture": p[1]}
    if len(p) > 2:
        r["variant"] = p[2]
    return r

def descriptor(entry):
    if "index" in entry:
        idx = {"schemaVersion": 2,
               "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [descriptor(e) for e in entry["index"]]}
        d = put_bytes(json.dumps(idx).encode())
        d["mediaType"] = idx["mediaType"]
    else:
        layers = []
        for l in entry["layers"]:
            d = put_file(l["file"], l.get("fakeDigest", False))
            d["mediaType"] = l.get("mediaType", "application/vnd.oci.image.layer.v1.tar")
            if "title" in l:
                d["annotations"] = {"org.opencontainers.image.title": l["title"]}
            layers.append(d)
        p = platform(entry)
        config = dict(p, rootfs={"type": "layers",
                                 "diff_ids": [l["digest"] for l in layers]})
        c = put_bytes(json.dumps(config).encode())
        c["mediaType"] = "application/vnd.oci.image.config.v1+json"
        m = {"schemaVersion": 2,
             "mediaType": "application/vnd.oci.image.manifest.v1+json",
             "config": c, "layers": layers}
        d = put_bytes(json.dumps(m).encode())
        d["mediaType"] = m["mediaType"]
    if "platform" in entry:
        d["platform"] = platform(entry)
    if "ref" in entry:
        d["annotations"] = {"org.opencontainers.image.ref.name": entry["ref"]}
    return d

index = {"schemaVersion": 2,
         "manifests": [descriptor(e) for e in spec["index"]]}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
EOPY
}

# mk_layer OUT DIR [TAR-OPTIONS]: a layer tar (GNU tar) of DIR's contents.
mk_layer () {
    local out=$1 dir=$2
    shift 2
    tar "$@" -C "$dir" -cf "$out" .
}

# one_layer_oci DIR LAYER-TAR [MEDIA-TYPE]: a layout of one single-layer image.
one_layer_oci () {
    mk_oci "$1" <<EOJ
{"index": [{"layers": [{"file": "$2", "mediaType": "${3:-application/vnd.oci.image.layer.v1.tar}"}]}]}
EOJ
}

# same_disk ORIG REF [FMT]: the disk REF locates has ORIG's bytes (or
# ORIG's guest content, for FMT qcow2), read in place through qemu.
same_disk () {
    local orig=$1 ref=$2 fmt=${3:-raw} json
    shift 3 || shift $#
    json=$(podman_disk json "$@" "$ref") || fail "json $ref failed"
    qemu-img compare -q -f "$fmt" "$orig" "$json" ||
        fail "$ref: the located disk differs from $orig"
}

# mk_tar OUT ENTRY...: a pax tar (Python's tarfile) of exactly these
# members, in this order:
#   f:NAME=FILE  a regular file with FILE's bytes    d:NAME  a directory
#   l:NAME=TO    a symlink                            e:NAME  an empty file
#   h:NAME=TO    a hard link to member TO             (whiteouts are e:)
mk_tar () {
    python3 - "$@" <<'EOPY'
import sys, tarfile
out, entries = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for e in entries:
        kind, rest = e.split(":", 1)
        name, _, arg = rest.partition("=")
        ti = tarfile.TarInfo(name)
        ti.mode = 0o755 if kind == "d" else 0o644
        if kind == "f":
            with open(arg, "rb") as f:
                data = f.read()
            ti.size = len(data)
            import io
            t.addfile(ti, io.BytesIO(data))
            continue
        if kind == "d":
            ti.type = tarfile.DIRTYPE
        elif kind == "l":
            ti.type, ti.linkname = tarfile.SYMTYPE, arg
        elif kind == "h":
            ti.type, ti.linkname = tarfile.LNKTYPE, arg
        t.addfile(ti)
EOPY
}
