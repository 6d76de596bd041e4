#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Image references resolved like podman's local lookup, each proved by the
# bytes qemu reads: names short and long, localhost/ first, the repository
# suffix match, IDs and ID prefixes, sha256:ID, NAME@DIGEST,
# containers-storage:[DRIVER@ROOT+RUNROOT]REF, the global flags and
# STORAGE_DRIVER; ambiguous and unknown names are errors that say why.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires_root

setup_store overlay
for n in fedora prio-local prio-quay amb-a amb-b; do
    make_raw_disk "$tmpdir/$n.img" 1
done
build_disk_image quay.io/containerdisks/fedora:41 "$tmpdir/fedora.img"
build_disk_image localhost/prio:1 "$tmpdir/prio-local.img"
build_disk_image quay.io/x/prio:1 "$tmpdir/prio-quay.img"
build_disk_image quay.io/a/amb:1 "$tmpdir/amb-a.img"
build_disk_image quay.io/b/amb:1 "$tmpdir/amb-b.img"
id=$(podman image inspect --format '{{.Id}}' quay.io/containerdisks/fedora:41)
digest=$(podman image inspect --format '{{.Digest}}' quay.io/containerdisks/fedora:41)
[[ $digest == sha256:* ]] || fail "no digest from podman: $digest"
root=$store/root runroot=$store/runroot
before=$(store_fingerprint)

# is_disk ORIGINAL ARGS...: podman-disk json ARGS opens ORIGINAL's bytes.
is_disk () {
    local orig=$1 spec
    shift
    spec=$(podman_disk json "$@") || fail "json $*"
    qemu-img compare -q -f raw "$orig" "$spec" || fail "json $*: not $orig's bytes"
    echo "ok: $* is $(basename "$orig")"
}

for ref in fedora:41 containerdisks/fedora:41 quay.io/containerdisks/fedora:41 \
           "$id" "${id:0:12}" "${id:0:6}" "sha256:$id" \
           "quay.io/containerdisks/fedora@$digest" "fedora@$digest" \
           "fedora:41@$digest" \
           "containers-storage:fedora:41" \
           "containers-storage:[overlay@$root+$runroot]fedora:41" \
           "containers-storage:[$root]quay.io/containerdisks/fedora:41" \
           "containers-storage:[overlay@$root+$runroot]$id" \
           "containers-storage:quay.io/containerdisks/fedora:41@$id"; do
    is_disk "$tmpdir/fedora.img" "$ref"
done

# localhost/ comes before the repository suffix match.
is_disk "$tmpdir/prio-local.img" prio:1
is_disk "$tmpdir/prio-quay.img" x/prio:1
is_disk "$tmpdir/prio-quay.img" quay.io/x/prio:1

# Ambiguous and unknown names.
expect_error 1 "^podman-disk: amb:1: ambiguous name: it matches 2 images: quay.io/a/amb:1 \([0-9a-f]{12}\), quay.io/b/amb:1 \([0-9a-f]{12}\)$" \
    podman_disk locate amb:1
is_disk "$tmpdir/amb-b.img" b/amb:1
expect_error 1 "^podman-disk: fedora:40: image not known in $root \(driver overlay\): pull or build it first, or pass --root$" \
    podman_disk locate fedora:40
expect_error 1 "^podman-disk: edora:41: image not known" podman_disk locate edora:41
expect_error 1 "^podman-disk: quay.io/containerdisks/fedora: image not known" \
    podman_disk locate quay.io/containerdisks/fedora
expect_error 1 "^podman-disk: sha256:${id:0:12}: an image ID after sha256: must be 64 hex digits$" \
    podman_disk locate "sha256:${id:0:12}"
expect_error 1 "^podman-disk: other@$digest: image not known" \
    podman_disk locate "other@$digest"

# The store, found without CONTAINERS_STORAGE_CONF: global flags (before
# or after the command) and the reference's store specifier override it.
mkdir -p "$tmpdir/empty/root" "$tmpdir/empty/runroot"
cat > "$tmpdir/empty.conf" <<EOC
[storage]
driver = "overlay"
graphroot = "$tmpdir/empty/root"
runroot = "$tmpdir/empty/runroot"
EOC
export CONTAINERS_STORAGE_CONF=$tmpdir/empty.conf
expect_error 1 "^podman-disk: fedora:41: image not known in $tmpdir/empty/root \(driver overlay\)" \
    podman_disk locate fedora:41
is_disk "$tmpdir/fedora.img" --root "$root" --runroot "$runroot" fedora:41
podman_disk --root "$root" locate fedora:41 | grep -x "file: $root/overlay/.*" >/dev/null ||
    fail "--root before the command"
is_disk "$tmpdir/fedora.img" "containers-storage:[overlay@$root+$runroot]fedora:41"
# The driver: --storage-driver, STORAGE_DRIVER, the reference's DRIVER@.
expect_error 1 "^podman-disk: fedora:41: image not known in $root \(driver vfs\)" \
    podman_disk locate --root "$root" --storage-driver vfs fedora:41
expect_error 1 "^podman-disk: fedora:41: image not known in $root \(driver vfs\)" \
    env STORAGE_DRIVER=vfs "$PODMAN_DISK" locate --root "$root" fedora:41
expect_error 1 "^podman-disk: fedora:41: image not known in $root \(driver vfs\)" \
    podman_disk locate "containers-storage:[vfs@$root]fedora:41"
expect_error 1 "^podman-disk: storage driver 'btrfs' is not supported: podman-disk reads overlay and vfs stores$" \
    podman_disk locate --root "$root" --storage-driver btrfs fedora:41
is_disk "$tmpdir/fedora.img" --root "$root" --storage-driver overlay2 fedora:41
expect_error 1 "^podman-disk: containers-storage:\[overlay@relative\]x: the store's root and run root must be absolute paths$" \
    podman_disk locate "containers-storage:[overlay@relative]x"
expect_error 1 "^podman-disk: CONTAINERS_STORAGE_CONF=$tmpdir/nope.conf: No such file or directory$" \
    env CONTAINERS_STORAGE_CONF="$tmpdir/nope.conf" "$PODMAN_DISK" locate fedora:41

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the store"
