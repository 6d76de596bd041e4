#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Pull on demand (--pull) from a real registry on loopback, over plain
# HTTP (insecure in the test's own registries.conf): serve pulls a missing
# image and serves the registry's bytes; --pull never fails with one clear
# line; --pull newer picks up a re-pushed tag; NAME@DIGEST pulls that
# manifest and locate shows it; short names resolve as podman's own
# lookup does (podman image inspect, same store, same registries.conf); a
# multi-arch index gives the host's image and --platform another; an
# ORAS-style artifact is copied into the artifact cache and served in
# place; --disktype picks podman machine's disk from an index.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires nbdcopy --version
requires_root
source "$(dirname "$0")/pull-functions.sh"

setup_store overlay
start_registry plain
reg=127.0.0.1:$plain_port
write_registries_conf "$plain_port"
export PODMAN_DISK_CACHE_DIR=$tmpdir/pd-cache

for x in a b c arm; do make_raw_disk "$tmpdir/$x.img" 1; done
push_disk_image "$reg/disk:v1" "$tmpdir/a.img"
digest_a=$(skopeo inspect --format '{{.Digest}}' "docker://$reg/disk:v1")

# serve_copy OUT ARGS...: serve ARGS and copy the disk to OUT.
serve_copy () {
    local out=$1
    shift
    rm -f "$out"
    podman_disk serve "$@" --run "nbdcopy \"\$uri\" '$out'"
}
# expect_pull_error REGEX CMD...: CMD fails (exit 1) with exactly one line
# of its own on stderr, matching REGEX, and none of podman's "Error:".
expect_pull_error () {
    local regex=$1 rc=0
    shift
    "$@" > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
    [ "$rc" = 1 ] || { cat "$tmpdir/err" >&2; fail "'$*' exited $rc, expected 1"; }
    [ "$(grep -c '^podman-disk:' "$tmpdir/err")" = 1 ] &&
        grep -Eq -- "$regex" "$tmpdir/err" && ! grep -q '^Error' "$tmpdir/err" ||
        { cat "$tmpdir/err" >&2; fail "'$*': not one line matching /$regex/"; }
    [ ! -s "$tmpdir/out" ] || fail "'$*' printed on stdout while failing"
}

# serve's default is missing: the image is pulled (podman's progress on
# stderr), then its disk served from the store.
serve_copy "$tmpdir/got" disk:v1 2> "$tmpdir/progress" || { cat "$tmpdir/progress"; fail "serve did not pull"; }
grep -q "^Copying blob" "$tmpdir/progress" || fail "podman's progress is not on stderr"
cmp "$tmpdir/a.img" "$tmpdir/got" || fail "the pulled disk differs"
podman image exists "$reg/disk:v1" || fail "the pulled image is not in the store"

# The short name resolves as podman's local lookup: the search registry's
# image, then localhost/ first once there is one, then an alias first.
same_pick () {
    local want got
    want=$(podman image inspect --format '{{.Id}}' "$1") || fail "podman: no $1"
    got=$(podman_disk locate "$1" | field image) || fail "locate $1"
    [ "$got" = "$want" ] || fail "$1: podman-disk picks $got, podman $want"
}
same_pick disk:v1
build_disk_image localhost/disk:v1 "$tmpdir/b.img"
same_pick disk:v1
cp "$tmpdir/registries.conf" "$tmpdir/registries.conf.orig"
printf '[aliases]\n"disk" = "%s/disk"\n' "$reg" >> "$tmpdir/registries.conf"
same_pick disk:v1
cp "$tmpdir/registries.conf.orig" "$tmpdir/registries.conf"
podman rmi -f localhost/disk:v1 >/dev/null

# locate and json never pull by default: the clear line of a missing
# image; nor does serve with --pull never.
expect_error 1 "^podman-disk: $reg/disk:v2: image not known in $store/root \(driver overlay\): pull or build it first" \
    podman_disk locate "$reg/disk:v2"
expect_error 1 "^podman-disk: nothere:v1: image not known in " \
    podman_disk serve --pull never nothere:v1 --run true
# localhost/ names are local builds: never pulled.
expect_error 1 "^podman-disk: localhost/nothere: image not known in " \
    podman_disk serve localhost/nothere --run true
# A name the registry does not have: one line, the registry and why.
expect_pull_error "^podman-disk: $reg/nothere:v1: pulling from $reg failed: not found \(manifest unknown\)$" \
    podman_disk json --pull missing "$reg/nothere:v1"
expect_pull_error "^podman-disk: 127.0.0.1:1/x:v1: pulling from 127.0.0.1:1 failed: no network: the registry refused the connection" \
    podman_disk locate --pull always 127.0.0.1:1/x:v1 --tls-verify=false
# --pull is for names only; its value is checked (usage errors, exit 2).
expect_usage () {
    local regex=$1 rc=0
    shift
    "$@" > /dev/null 2> "$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] && head -1 "$tmpdir/err" | grep -Eq -- "$regex" ||
        { cat "$tmpdir/err" >&2; fail "'$*': exit $rc, not the usage error /$regex/"; }
}
expect_usage "^podman-disk locate: --pull always applies to image names in containers-storage, not to 'oci:$tmpdir'" \
    podman_disk locate --pull always "oci:$tmpdir"
expect_usage "^podman-disk serve: --pull must be always, missing, never or newer, not 'sometimes'" \
    podman_disk serve --pull sometimes disk:v1

# The tag pushed again: missing keeps the stored image, newer pulls.
push_disk_image "$reg/disk:v1" "$tmpdir/b.img"
serve_copy "$tmpdir/got" disk:v1 2>/dev/null
cmp "$tmpdir/a.img" "$tmpdir/got" || fail "--pull missing pulled again"
serve_copy "$tmpdir/got" --pull newer disk:v1 2>/dev/null
cmp "$tmpdir/b.img" "$tmpdir/got" || fail "--pull newer did not pick up the new tag"

# NAME@DIGEST: that manifest (the first push), and locate says so.
podman_disk locate --pull missing "$reg/disk@$digest_a" > "$tmpdir/loc" 2>/dev/null ||
    fail "locate --pull missing NAME@DIGEST failed"
[ "$(field digest < "$tmpdir/loc")" = "$digest_a" ] || fail "locate: digest is not $digest_a"
serve_copy "$tmpdir/got" "$reg/disk@$digest_a" 2>/dev/null
cmp "$tmpdir/a.img" "$tmpdir/got" || fail "NAME@DIGEST served another disk"

# A multi-arch index (podman manifest) of two images FROM scratch: the
# host's platform by default, --platform for the other (pulled, as the
# stored one is of the host's platform).
case $(uname -m) in
    x86_64) host=amd64 other=arm64 ;;
    aarch64) host=arm64 other=amd64 ;;
    *) skip "no second architecture known for $(uname -m)" ;;
esac
for p in host other; do
    ctx=$tmpdir/ctx-$p
    mkdir -p "$ctx"
    if [ $p = host ]; then cp "$tmpdir/c.img" "$ctx/disk.img"; else cp "$tmpdir/arm.img" "$ctx/disk.img"; fi
    printf 'FROM scratch\nCOPY disk.img /disk/\n' > "$ctx/Containerfile"
    podman build -q --platform "linux/${!p}" -t "localhost/multi-$p" "$ctx" >/dev/null
done
podman manifest create "$reg/multi:1" >/dev/null
podman manifest add "$reg/multi:1" containers-storage:localhost/multi-host >/dev/null
podman manifest add "$reg/multi:1" containers-storage:localhost/multi-other >/dev/null
podman manifest push -q --all "$reg/multi:1" "docker://$reg/multi:1" >/dev/null
podman manifest rm "$reg/multi:1" >/dev/null
podman rmi -f localhost/multi-host localhost/multi-other >/dev/null
serve_copy "$tmpdir/got" "$reg/multi:1" 2>/dev/null
cmp "$tmpdir/c.img" "$tmpdir/got" || fail "the index did not give the host's image"
serve_copy "$tmpdir/got" --platform "linux/$other" "$reg/multi:1" 2> "$tmpdir/err" ||
    { cat "$tmpdir/err" >&2; fail "--platform linux/$other: serve failed"; }
cmp "$tmpdir/arm.img" "$tmpdir/got" || fail "--platform linux/$other did not give its image"

# mk_artifacts DIR: an OCI layout of disk artifacts as ORAS pushes them
# (an empty config, the disk one raw blob titled by its name): "art" of
# c.img; and "machine", podman machine's kind of index: one disk per
# hypervisor, the "disktype" annotation on the index entry, the
# architecture spelled x86_64.
mk_artifacts () {
    python3 - "$1" "$tmpdir" "$(uname -m)" <<'EOPY'
import hashlib, json, os, sys
d, tmp, arch = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(os.path.join(d, "blobs", "sha256"), exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(os.path.join(d, "blobs", "sha256", h), "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
def artifact(path, media):
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "artifactType": "application/vnd.kubevirt.disk",
         "config": dict(mediaType="application/vnd.oci.empty.v1+json", **put(b"{}")),
         "layers": [dict(mediaType=media, annotations={
             "org.opencontainers.image.title": os.path.basename(path)},
             **put(open(path, "rb").read()))]}
    return dict(mediaType=m["mediaType"], **put(json.dumps(m).encode()))
art = artifact(os.path.join(tmp, "c.img"), "application/vnd.kubevirt.disk.raw")
art["annotations"] = {"org.opencontainers.image.ref.name": "art"}
entries = []
for disktype, img in (("qemu", "a.img"), ("hyperv", "b.img")):
    e = artifact(os.path.join(tmp, img), "application/octet-stream")
    e["platform"] = {"os": "linux", "architecture": arch}
    e["annotations"] = {"disktype": disktype}
    entries.append(e)
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": entries}
machine = dict(mediaType=index["mediaType"], **put(json.dumps(index).encode()))
machine["annotations"] = {"org.opencontainers.image.ref.name": "machine"}
json.dump({"schemaVersion": 2, "manifests": [art, machine]},
          open(os.path.join(d, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(d, "oci-layout"), "w"))
EOPY
}
mk_artifacts "$tmpdir/artifacts"
# In a layout, --disktype picks the entry.
podman_disk locate --disktype hyperv "oci:$tmpdir/artifacts:machine" > "$tmpdir/loc"
cmp "$tmpdir/b.img" "$(field file < "$tmpdir/loc")" || fail "--disktype hyperv: not the hyperv disk"
expect_error 1 "no disk of disktype 'wsl' in this index" \
    podman_disk locate --disktype wsl "oci:$tmpdir/artifacts:machine"
skopeo copy -q "oci:$tmpdir/artifacts:art" "docker://$reg/art:1"
skopeo copy -q --all "oci:$tmpdir/artifacts:machine" "docker://$reg/machine:1"

# The artifact: no image for podman 4.3, so skopeo copies it into the
# artifact cache (never the store), and the blob is served in place.
before=$(images_state)
serve_copy "$tmpdir/got" "$reg/art:1" 2> "$tmpdir/progress" ||
    { cat "$tmpdir/progress"; fail "serve of an artifact failed"; }
cmp "$tmpdir/c.img" "$tmpdir/got" || fail "the artifact's disk differs"
podman_disk locate --pull missing "$reg/art:1" > "$tmpdir/loc"
[ "$(field transport < "$tmpdir/loc")" = oci ] || fail "artifact: transport"
case $(field file < "$tmpdir/loc") in
    "$PODMAN_DISK_CACHE_DIR/artifacts/blobs/sha256/"*) ;;
    *) fail "the artifact is not served from the cache: $(field file < "$tmpdir/loc")" ;;
esac
[ "$(stat -c %a "$PODMAN_DISK_CACHE_DIR/artifacts")" = 700 ] || fail "the artifact cache is not 0700"
[ "$(images_state)" = "$before" ] || fail "the artifact pull wrote into the store"
# podman machine's disk for a hypervisor, pulled from the index.
serve_copy "$tmpdir/got" --disktype qemu "$reg/machine:1" 2>/dev/null
cmp "$tmpdir/a.img" "$tmpdir/got" || fail "--disktype qemu: not the qemu disk"
serve_copy "$tmpdir/got" --disktype hyperv "$reg/machine:1" 2>/dev/null
cmp "$tmpdir/b.img" "$tmpdir/got" || fail "--disktype hyperv: not the hyperv disk"
echo "$testname: ok"
