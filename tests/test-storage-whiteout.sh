#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Multi-layer images, in an overlay and in a vfs store: an upper layer
# that deletes the lower layer's disk (a .wh. whiteout) and adds another,
# and one that hides the lower /disk/ with an opaque directory.  The OCI
# layouts are written by hand (tar, json, sha256) and copied in by skopeo,
# as a registry pull would store them.  Proved by the bytes qemu reads.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires skopeo --version
requires qemu-img --version
requires python3 --version
requires jq --version
requires_root

# make_oci DIR LAYER... : an OCI layout of one image, tagged latest.  Each
# LAYER is a comma-separated list of tar members: NAME/ (a directory),
# NAME=FILE (a regular file with FILE's bytes) or NAME= (an empty file).
make_oci () {
    python3 - "$@" <<'EOP'
import hashlib, io, json, os, sys, tarfile
out, layers = sys.argv[1], sys.argv[2:]
os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)

def blob(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", h), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + h, "size": len(data)}

def layer(spec):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for m in spec.split(","):
            if m.endswith("/"):
                ti = tarfile.TarInfo(m.rstrip("/"))
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
                continue
            name, src = m.split("=", 1)
            data = open(src, "rb").read() if src else b""
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o444
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()

tars = [layer(s) for s in layers]
config = {"architecture": "amd64", "os": "linux", "config": {},
          "rootfs": {"type": "layers",
                     "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]}}
manifest = {"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(mediaType="application/vnd.oci.image.config.v1+json",
                           **blob(json.dumps(config).encode())),
            "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar", **blob(t))
                       for t in tars]}
index = {"schemaVersion": 2,
         "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json",
                            annotations={"org.opencontainers.image.ref.name": "latest"},
                            **blob(json.dumps(manifest).encode()))]}
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
EOP
}

# top_layer NAME: the image's top layer, as containers/storage records it.
top_layer () {
    jq -r --arg n "$1" '.[] | select(.names[]? == $n) | .layer' \
        "$store/root/$driver-images/images.json"
}

cat > "$tmpdir/policy.json" <<'EOJ'
{ "default": [ { "type": "insecureAcceptAnything" } ] }
EOJ

make_raw_disk "$tmpdir/lower.img" 2
make_raw_disk "$tmpdir/upper.img" 1
make_raw_disk "$tmpdir/opaque.img" 1
make_oci "$tmpdir/oci-wh" "disk/,disk/disk.img=$tmpdir/lower.img" \
    "disk/,disk/.wh.disk.img=,disk/new.img=$tmpdir/upper.img"
make_oci "$tmpdir/oci-opq" "disk/,disk/disk.img=$tmpdir/lower.img,disk/keep.img=$tmpdir/upper.img" \
    "disk/,disk/.wh..wh..opq=,disk/other.img=$tmpdir/opaque.img"
make_oci "$tmpdir/oci-flat" "disk/,disk/disk.img=$tmpdir/lower.img" "etc/,etc/motd=$tmpdir/policy.json"

for driver in overlay vfs; do
    echo "=== $driver"
    setup_store "$driver"
    spec="[$driver@$store/root+$store/runroot]"
    for i in wh opq flat; do
        skopeo --policy "$tmpdir/policy.json" copy -q "oci:$tmpdir/oci-$i:latest" \
            "containers-storage:${spec}localhost/$i:latest"
    done
    podman images
    before=$(store_fingerprint)

    # The upper layer's whiteout deletes disk.img and adds new.img.
    podman_disk locate wh > "$tmpdir/loc"
    cat "$tmpdir/loc"
    [ "$(field member < "$tmpdir/loc")" = /disk/new.img ] || fail "$driver: wh member"
    top=$(top_layer localhost/wh:latest)
    [ "$(field layer < "$tmpdir/loc")" = "$top" ] || fail "$driver: not the top layer"
    qemu-img compare -f raw "$tmpdir/upper.img" "$(podman_disk json wh)"
    expect_error 1 "^podman-disk: wh: /disk/disk.img: .*not found" \
        podman_disk locate --disk /disk/disk.img wh
    # The deleted disk is still in the lower layer's directory: proof that
    # the whiteout, not its absence, hid it (overlay keeps each layer).
    if [ "$driver" = overlay ]; then
        find "$store/root/overlay" -path '*/diff/disk/disk.img' | grep . >/dev/null ||
            fail "the lower disk is not in a lower layer"
    fi

    # An opaque /disk/ hides both lower disks.
    podman_disk locate opq > "$tmpdir/loc"
    [ "$(field member < "$tmpdir/loc")" = /disk/other.img ] || fail "$driver: opq member"
    qemu-img compare -f raw "$tmpdir/opaque.img" "$(podman_disk json opq)"
    expect_error 1 "^podman-disk: opq: /disk/keep.img: .*not found" \
        podman_disk locate --disk /disk/keep.img opq

    # A disk in the lower layer, an unrelated upper layer: found below.
    podman_disk locate flat > "$tmpdir/loc"
    [ "$(field member < "$tmpdir/loc")" = /disk/disk.img ] || fail "$driver: flat member"
    if [ "$driver" = overlay ]; then
        [ "$(field layer < "$tmpdir/loc")" != "$(top_layer localhost/flat:latest)" ] ||
            fail "overlay: the disk is said to be in the top layer"
    fi
    qemu-img compare -f raw "$tmpdir/lower.img" "$(podman_disk json flat)"

    podman_disk list > "$tmpdir/list"
    cat "$tmpdir/list"
    [ "$(grep -c '^localhost/' "$tmpdir/list")" = 3 ] || fail "$driver: list"

    [ "$(store_fingerprint)" = "$before" ] || fail "$driver: podman-disk changed the store"
    teardown_store
    rm -rf "$store"
done
