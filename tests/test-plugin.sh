#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# nbdkit podman-disk IMAGE: the plugin serves exactly the disk's stored
# bytes (a qcow2 as its qcow2 bytes) from containers/storage, OCI layouts
# and archives, read-only, from the fd it located (a swapped file changes
# nothing), with extents clipped to the disk; it composes with nbdkit's
# options and filters (-U -, --run, cow, exitwhen, TLS, socket activation);
# every error is one line.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
source "$testsdir/plugin-lib.sh"
requires_root
requires command podman --version
requires skopeo --version
requires qemu-img --version
requires qemu-io --version
requires jq --version
requires_plugin
setup_store

# 8 MiB raw: random, 4 MiB of zeros, random.
raw=$tmpdir/raw.img
head -c $((2 * 1024 * 1024)) /dev/urandom > "$raw"
head -c $((4 * 1024 * 1024)) /dev/zero >> "$raw"
head -c $((2 * 1024 * 1024)) /dev/urandom >> "$raw"
make_qcow2_disk "$tmpdir/q.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/q.qcow2" "$tmpdir/guest.raw"
build_disk_image localhost/praw "$raw"
build_disk_image localhost/pqcow2 "$tmpdir/q.qcow2"
locate_fields localhost/praw
cleanup_fn "kill_holders '$loc_file'"
rawsize=$(stat -c %s "$raw")

# --- raw from containers/storage: bytes, size, read-only, multi-conn ---
pd_nbdkit -U - "$plugin" localhost/praw --run '
    nbdinfo --json "$uri" > '"$tmpdir"'/info.json
    nbdcopy "$uri" '"$tmpdir"'/copy.raw
    qemu-img compare -q -f raw '"$raw"' "$uri"' ||
    fail "nbdkit -U - --run on localhost/praw failed"
cmp "$raw" "$tmpdir/copy.raw" || fail "raw: nbdcopy bytes differ"
info () { jq -r ".exports[0].\"$1\"" "$tmpdir/info.json"; }
[ "$(info export-size)" = "$rawsize" ] || fail "raw: size $(info export-size)"
[ "$(info is_read_only)" = true ] || fail "raw: not read-only"
[ "$(info can_multi_conn)" = true ] || fail "raw: no multi-conn"
[[ "$(info description)" == "raw, $rawsize bytes, image "* ]] ||
    fail "raw: description '$(info description)'"
echo "ok raw"

# A write is refused without a filter.
out=$(pd_nbdkit -U - "$plugin" localhost/praw --run \
      'qemu-io -f raw -c "write -P 0x55 0 4k" "$uri"' 2>&1) || :
grep -qi 'read-only\|permission\|not permitted' <<<"$out" ||
    fail "raw: a write to the plugin was not refused: $out"

# The store named by parameters rather than storage.conf.
(unset CONTAINERS_STORAGE_CONF
 pd_nbdkit -U - "$plugin" localhost/praw root="$store/root" \
     runroot="$store/runroot" driver=overlay \
     --run 'nbdcopy "$uri" '"$tmpdir"'/params.raw') ||
    fail "root= runroot= driver= failed"
cmp "$raw" "$tmpdir/params.raw" || fail "root=: bytes differ"
rm -f "$tmpdir"/*.raw.tmp "$tmpdir/params.raw" "$tmpdir/copy.raw"

# --- qcow2: the stored bytes; qemu-img reads the guest through them ---
pd_nbdkit -U - "$plugin" localhost/pqcow2 --run '
    nbdcopy "$uri" '"$tmpdir"'/stored.qcow2
    qemu-img info --output=json -f qcow2 "$uri" > '"$tmpdir"'/qinfo.json
    qemu-img convert -f qcow2 -O raw "$uri" '"$tmpdir"'/qguest.raw' ||
    fail "qcow2 over the plugin failed"
cmp "$tmpdir/q.qcow2" "$tmpdir/stored.qcow2" || fail "qcow2: stored bytes differ"
[ "$(jq -r '."virtual-size"' "$tmpdir/qinfo.json")" = "$(stat -c %s "$tmpdir/guest.raw")" ] ||
    fail "qcow2: qemu-img info virtual size over NBD"
cmp "$tmpdir/guest.raw" "$tmpdir/qguest.raw" || fail "qcow2: guest view through qemu-img differs"
echo "ok qcow2"

# The guest view with nbdkit's qcow2dec filter: nbdkit >= 1.36 only.
if nbdkit --filter=qcow2dec null --dump-plugin >/dev/null 2>&1; then
    pd_nbdkit -U - --filter=qcow2dec "$plugin" localhost/pqcow2 \
        --run 'nbdcopy "$uri" '"$tmpdir"'/dec.raw' || fail "--filter=qcow2dec failed"
    cmp "$tmpdir/guest.raw" "$tmpdir/dec.raw" || fail "--filter=qcow2dec: guest bytes differ"
    echo "ok qcow2dec"
else
    echo "not run: --filter=qcow2dec (the guest view of a qcow2): $(nbdkit --version) has no qcow2dec filter (nbdkit >= 1.36)"
fi

# --- layouts and archives: the disk is a tar member at an offset ---
podman save -q --uncompressed --format oci-dir -o "$tmpdir/oci" localhost/praw
podman save -q --uncompressed --format oci-dir -o "$tmpdir/ociq" localhost/pqcow2
podman save -q --format docker-archive -o "$tmpdir/docker.tar" localhost/praw
tar -C "$tmpdir/oci" -cf "$tmpdir/oci.tar" .
for ref in "oci:$tmpdir/oci" "oci-archive:$tmpdir/oci.tar" "docker-archive:$tmpdir/docker.tar"; do
    rm -f "$tmpdir/l.raw"
    pd_nbdkit -U - "$plugin" "$ref" --run 'nbdcopy "$uri" '"$tmpdir"'/l.raw' ||
        fail "$ref: failed"
    cmp "$raw" "$tmpdir/l.raw" || fail "$ref: bytes differ"
    echo "ok $ref"
done
pd_nbdkit -U - "$plugin" "oci:$tmpdir/ociq" verify=true platform=linux/amd64 \
    --run 'nbdcopy "$uri" '"$tmpdir"'/lq.qcow2' || fail "oci qcow2 verify=true failed"
cmp "$tmpdir/q.qcow2" "$tmpdir/lq.qcow2" || fail "oci qcow2: stored bytes differ"

# Extents from SEEK_DATA/SEEK_HOLE, clipped to the disk: holes dug in the
# layout's layer blob (its bytes, and so its digest, stay the same).
podman save -q --uncompressed --format oci-dir -o "$tmpdir/ocis" localhost/praw
for blob in "$tmpdir"/ocis/blobs/sha256/*; do
    [ "$(stat -c %s "$blob")" -gt $((1024 * 1024)) ] && fallocate --dig-holes "$blob"
done
pd_nbdkit -U - "$plugin" "oci:$tmpdir/ocis" verify=true --run \
    'nbdinfo --map --json "$uri" > '"$tmpdir"'/map.json
     nbdcopy "$uri" '"$tmpdir"'/s.raw' || fail "sparse layout failed"
cmp "$raw" "$tmpdir/s.raw" || fail "sparse layout: bytes differ"
# Contiguous from 0 to the disk's size, no more (the tar's own holes and
# headers around the member never show); the zeros are a hole; the rest
# data.
python3 - "$tmpdir/map.json" "$rawsize" <<'EOPY' || fail "extents: $(cat "$tmpdir/map.json")"
import json, sys
m, size = json.load(open(sys.argv[1])), int(sys.argv[2])
pos = 0
MiB = 1024 * 1024
for e in m:
    assert e["offset"] == pos, e
    end = pos + e["length"]
    hole = e["type"] & 1
    # a hole only inside [2, 6) MiB; data wherever random bytes are
    if hole:
        assert 2 * MiB <= pos and end <= 6 * MiB, e
    if pos < 2 * MiB or end > 6 * MiB:
        assert not hole, e
    pos = end
assert pos == size, (pos, size)
assert any(e["type"] & 1 for e in m), "no hole at all"
EOPY
echo "ok extents"

# --- the fd it located: a layout whose blob is swapped after nbdkit
# started still serves the located bytes ---
podman save -q --uncompressed --format oci-dir -o "$tmpdir/ociw" localhost/praw
start_plugin_server "$tmpdir/w.sock" "$tmpdir/w.log" "oci:$tmpdir/ociw"
for blob in "$tmpdir"/ociw/blobs/sha256/*; do
    [ "$(stat -c %s "$blob")" -gt $((1024 * 1024)) ] || continue
    mv "$blob" "$blob.old"
    head -c "$(stat -c %s "$blob.old")" /dev/zero > "$blob"
done
nbdcopy "$(unix_uri "$tmpdir/w.sock")" "$tmpdir/w.raw"
cmp "$raw" "$tmpdir/w.raw" || fail "swapped blob: the plugin read another file"
stop_plugin_server
echo "ok fd not path"

# --- composition: cow writes, the image untouched ---
before=$(sha256sum < "$loc_file")
pd_nbdkit -U - --filter=cow "$plugin" localhost/praw --run '
    qemu-io -f raw -c "write -P 0x55 0 1M" -c "read -P 0x55 0 1M" "$uri" >/dev/null &&
    nbdcopy "$uri" '"$tmpdir"'/cow.raw' || fail "--filter=cow: the write failed"
[ "$(head -c 1048576 "$tmpdir/cow.raw" | tr -d '\125' | wc -c)" = 0 ] ||
    fail "--filter=cow: the written bytes did not read back"
cmp -s "$raw" "$tmpdir/cow.raw" -i 1048576 || fail "--filter=cow: the rest differs"
[ "$(sha256sum < "$loc_file")" = "$before" ] || fail "--filter=cow: the layer file changed"
pd_nbdkit -U - "$plugin" localhost/praw --run 'nbdcopy "$uri" '"$tmpdir"'/after.raw'
cmp "$raw" "$tmpdir/after.raw" || fail "after cow: the image's disk changed"
echo "ok cow"

# exitwhen: the server goes when the file appears.
start_plugin_server "$tmpdir/e.sock" "$tmpdir/e.log" --filter=exitwhen \
    localhost/praw exit-when-file-created="$tmpdir/stop" exit-when-poll=1
[ "$(nbdinfo --size "$(unix_uri "$tmpdir/e.sock")")" = "$rawsize" ] || fail "exitwhen: size"
touch "$tmpdir/stop"
wait_until process_gone "$server_pid" || fail "exitwhen: nbdkit still running"
echo "ok exitwhen"

# TLS with a pre-shared key; a client without it is refused.
if command -v psktool >/dev/null; then
    psktool -u alice -p "$tmpdir/keys.psk" >/dev/null
    start_plugin_server "$tmpdir/t.sock" "$tmpdir/t.log" localhost/praw \
        --tls=require --tls-psk="$tmpdir/keys.psk"
    nbdcopy "nbds+unix://alice@/?socket=$tmpdir/t.sock&tls-psk-file=$tmpdir/keys.psk" \
        "$tmpdir/tls.raw" || fail "TLS: nbdcopy with the key failed"
    cmp "$raw" "$tmpdir/tls.raw" || fail "TLS: bytes differ"
    ! nbdinfo --size "$(unix_uri "$tmpdir/t.sock")" >/dev/null 2>&1 ||
        fail "TLS: a client without the key was served"
    stop_plugin_server
    echo "ok tls"
else
    echo "not run: TLS with a PSK: psktool is missing (Debian gnutls-bin, Fedora gnutls-utils)"
fi

# Socket activation, as nbdinfo and nbdcopy start a server.
[ "$(nbdinfo --size -- [ "$(command -v nbdkit)" "$plugin" localhost/praw ])" = "$rawsize" ] ||
    fail "socket activation: nbdinfo --size"
nbdcopy -- [ "$(command -v nbdkit)" "$plugin" "oci:$tmpdir/oci" ] "$tmpdir/sa1.raw" ||
    fail "socket activation: nbdcopy"
cmp "$raw" "$tmpdir/sa1.raw" || fail "socket activation: nbdcopy bytes differ"
# Under systemd's own activator (as a .socket unit would start it).
if command -v systemd-socket-activate >/dev/null; then
    systemd-socket-activate -l "$tmpdir/sa.sock" -E CONTAINERS_STORAGE_CONF \
        -E XDG_CACHE_HOME \
        "$(command -v nbdkit)" -f "$plugin" localhost/praw 2>"$tmpdir/sa.log" &
    sa_pid=$!
    cleanup_fn "kill $sa_pid"
    wait_until test -S "$tmpdir/sa.sock" || fail "systemd-socket-activate: no socket"
    nbdcopy "$(unix_uri "$tmpdir/sa.sock")" "$tmpdir/sa.raw" ||
        fail "systemd-socket-activate: nbdcopy failed: $(cat "$tmpdir/sa.log")"
    cmp "$raw" "$tmpdir/sa.raw" || fail "systemd-socket-activate: bytes differ"
    kill "$sa_pid"
    wait "$sa_pid" 2>/dev/null || :
else
    echo "not run: systemd-socket-activate (Debian's systemd package) is missing"
fi
echo "ok socket activation"

# --- fd=N offset= size=: bytes someone else located ---
pd_nbdkit -U - "$plugin" fd=3 offset="$loc_offset" size="$loc_size" \
    --run 'nbdcopy "$uri" '"$tmpdir"'/fd.raw' 3<"$loc_file" || fail "fd=3 failed"
cmp "$raw" "$tmpdir/fd.raw" || fail "fd=3: bytes differ"
expect_error 1 "^nbdkit: error: fd=3: offset $loc_offset \+ size $((loc_size + 1)) lie beyond the end of the file" \
    pd_nbdkit -U - "$plugin" fd=3 offset="$loc_offset" size="$((loc_size + 1))" --run true 3<"$loc_file"
echo "ok fd="

# --- podman-disk serve: its nbdkit loads this plugin on the located fd ---
# (beside the program, as in the build tree; else nbdkit's plugin
# directory; else nbdkit's file plugin and offset filter, run here by a
# copy of podman-disk with no plugin beside it.)
serve_log=$tmpdir/serve.log
if [ "$(dirname "$(readlink -f "$PODMAN_DISK")")" = "$(dirname "$(readlink -f "$plugin")")" ]; then
    podman_disk --log-level debug serve localhost/praw --writable \
        --run 'nbdcopy "$uri" '"$tmpdir"'/serve.raw &&
               qemu-io -f raw -c "write -P 0x5a 0 64k" "$uri" >/dev/null &&
               qemu-io -f raw -c "read -P 0x5a 0 64k" "$uri" >/dev/null' 2> "$serve_log" ||
        fail "serve --writable through the plugin failed: $(cat "$serve_log")"
    grep -q "starting .*nbdkit .*--filter=cow $(readlink -f "$plugin") fd=5 offset=$loc_offset size=$loc_size\$" "$serve_log" ||
        fail "serve did not start nbdkit on this plugin: $(grep starting "$serve_log")"
    cmp "$raw" "$tmpdir/serve.raw" || fail "serve through the plugin: bytes differ"
    cmp -n "$loc_size" -i "$loc_offset:0" "$loc_file" "$raw" || fail "serve --writable wrote into the image"
    echo "ok serve uses the plugin (cow filter over it; the image unchanged)"
    if [ -e "$(pkg-config --variable=plugindir nbdkit 2>/dev/null)/nbdkit-podman-disk-plugin.so" ]; then
        echo "not run: serve without the plugin (one is installed in nbdkit's plugin directory)"
    else
        mkdir "$tmpdir/bin"
        cp "$(readlink -f "$PODMAN_DISK")" "$tmpdir/bin/podman-disk"
        # serve_copy OUT: serve localhost/praw into OUT by that copy, its
        # debug log in $serve_log.
        serve_copy () {
            PODMAN_DISK=$tmpdir/bin/podman-disk podman_disk --log-level debug serve localhost/praw \
                --run 'nbdcopy "$uri" '"$1" 2> "$serve_log"
        }
        serve_copy "$tmpdir/file.raw" ||
            fail "serve without the plugin failed: $(cat "$serve_log")"
        grep -q "starting .*nbdkit .*--filter=offset file .*offset=$loc_offset range=$loc_size\$" "$serve_log" ||
            fail "serve without the plugin: not nbdkit's file plugin: $(grep starting "$serve_log")"
        cmp "$raw" "$tmpdir/file.raw" || fail "serve without the plugin: bytes differ"
        echo "ok serve without the plugin: nbdkit's file plugin"
        # Beside it, but in a directory anyone may change: not loaded.
        cp "$(readlink -f "$plugin")" "$tmpdir/bin/"
        chmod 0777 "$tmpdir/bin"
        serve_copy "$tmpdir/open.raw" ||
            fail "serve with a plugin others can swap failed: $(cat "$serve_log")"
        grep -q "starting .*nbdkit .*--filter=offset file " "$serve_log" ||
            fail "serve loaded a plugin others can swap: $(grep starting "$serve_log")"
        cmp "$raw" "$tmpdir/open.raw" || fail "serve beside an open plugin: bytes differ"
        chmod 0755 "$tmpdir/bin"
        echo "ok a plugin in a directory others can change is not loaded"
    fi
else
    echo "not run: serve through the plugin (podman-disk $PODMAN_DISK is not beside $plugin)"
fi

# --- errors: one line each, nbdkit exits 1 ---
nbdkit_error () { expect_error 1 "^nbdkit: error: $1\$" pd_nbdkit -U - "$plugin" "${@:2}" --run true; }
nbdkit_error "localhost/nosuch: image not known in .*" localhost/nosuch
nbdkit_error "verify= applies to oci:, oci-archive: and docker-archive: references, not to 'localhost/praw' .*" \
    localhost/praw verify=true
nbdkit_error "platform= applies to .*" localhost/praw platform=linux/amd64
nbdkit_error "platform must be OS/ARCH or OS/ARCH/VARIANT .*" "oci:$tmpdir/oci" platform=linux
nbdkit_error "driver must be overlay or vfs, not 'btrfs'" localhost/praw driver=btrfs
nbdkit_error "unknown parameter 'bogus'" localhost/praw bogus=1
nbdkit_error "root=, runroot= and driver= apply to containers-storage images, not to 'oci:.*'" \
    "oci:$tmpdir/oci" root=/nonexistent
nbdkit_error "disk= names the disk of one IMAGE.*" disk=/disk/x.img
nbdkit_error "docker://quay.io/x: the docker transport is not read in place.*" docker://quay.io/x
echo "ok errors"

wait_until nothing_holds "$loc_file" || fail "a process still holds the disk"
echo PASS
