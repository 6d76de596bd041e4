#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Additional image stores ([storage.options] additionalimagestores, or
# STORAGE_OPTS=overlay.imagestore=DIR) are searched after the main store,
# read-only under their own locks: locate finds their images, the main
# store's image wins a shared name, list shows both stores.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires qemu-img --version
requires_root

setup_store overlay
extra=$tmpdir/extra
mkdir -p "$extra/root" "$extra/runroot"
podman_extra () { command podman --root "$extra/root" --runroot "$extra/runroot" "$@"; }
cleanup_fn "podman_extra rm -a -f >/dev/null 2>&1"

make_raw_disk "$tmpdir/main.img" 1
make_raw_disk "$tmpdir/extra.img" 1
make_raw_disk "$tmpdir/shadowed.img" 1
build_disk_image localhost/shared:1 "$tmpdir/main.img"
# The extra store's images, built by podman on that store.
for pair in only-extra:1=extra.img shared:1=shadowed.img; do
    name=${pair%%=*} file=${pair#*=}
    ctx=$(mktemp -d "$tmpdir/ctx.XXXXXX")
    cp "$tmpdir/$file" "$ctx/"
    printf 'FROM scratch\nCOPY %s /disk/\n' "$file" > "$ctx/Containerfile"
    podman_extra build -q -t "localhost/$name" "$ctx" >/dev/null
done

cat >> "$store/storage.conf" <<EOC
[storage.options]
additionalimagestores = ["$extra/root"]
EOC
# podman itself sees them the same way (without --root, which drops them).
command podman images --format '{{.Repository}}:{{.Tag}}' | grep -x localhost/only-extra:1 >/dev/null ||
    fail "podman does not see the additional store: the fixture is wrong"
extra_shared=$(podman_extra image inspect --format '{{.Id}}' localhost/shared:1)
before=$(store_fingerprint)
before_extra=$(store_fingerprint "$extra")

qemu-img compare -f raw "$tmpdir/extra.img" "$(podman_disk json only-extra:1)"
podman_disk locate only-extra:1 | grep -x "file: $extra/root/overlay/.*/diff/disk/extra.img" >/dev/null ||
    fail "not the additional store's layer file"
qemu-img compare -f raw "$tmpdir/main.img" "$(podman_disk json shared:1)"
qemu-img compare -f raw "$tmpdir/shadowed.img" "$(podman_disk json "$extra_shared")"

podman_disk list > "$tmpdir/list"
cat "$tmpdir/list"
[ "$(grep -c '^localhost/' "$tmpdir/list")" = 3 ] || fail "list: 3 images from 2 stores"

# --root, --storage-driver and a store in the reference drop them, as in podman.
root=$store/root runroot=$store/runroot
expect_error 1 "^podman-disk: only-extra:1: image not known" \
    podman_disk --root "$root" locate only-extra:1
expect_error 1 "^podman-disk: only-extra:1: image not known" \
    podman_disk --storage-driver overlay locate only-extra:1
expect_error 1 "^podman-disk: only-extra:1: image not known" \
    podman_disk locate "containers-storage:[overlay@$root+$runroot]only-extra:1"
qemu-img compare -f raw "$tmpdir/extra.img" "$(podman_disk --runroot "$runroot" json only-extra:1)"

# The same through STORAGE_OPTS, which replaces the files' driver options.
sed -i '/^\[storage.options\]/,$d' "$store/storage.conf"
expect_error 1 "^podman-disk: only-extra:1: image not known" podman_disk locate only-extra:1
export STORAGE_OPTS="overlay.imagestore=$extra/root"
qemu-img compare -f raw "$tmpdir/extra.img" "$(podman_disk json only-extra:1)"
unset STORAGE_OPTS

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk changed the main store"
[ "$(store_fingerprint "$extra")" = "$before_extra" ] || fail "podman-disk changed the additional store"
