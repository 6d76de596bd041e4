#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# nbdkit podman-disk without IMAGE: one server for every disk of the
# store.  nbdinfo --list shows the images that hold a disk (each name an
# export, described), not the others; each export serves its own disk,
# also by image ID; an image built after the server started is served, a
# removed one is gone; unknown, diskless and hostile names, and names that
# would leave the store, are one clean error and never another image's
# bytes nor the host's.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
source "$testsdir/plugin-lib.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires command podman --version
requires jq --version
requires python3 -c 'import tarfile'
requires skopeo --version
requires qemu-img --version
requires_plugin
setup_store

# Three disk images (one with two names), two without a disk.
make_raw_disk "$tmpdir/a.img" 4
make_raw_disk "$tmpdir/c.img" 2
make_qcow2_disk "$tmpdir/b.qcow2"
build_disk_image localhost/disk-a "$tmpdir/a.img"
build_disk_image localhost/disk-b "$tmpdir/b.qcow2"
build_disk_image localhost/disk-c "$tmpdir/c.img"
podman tag localhost/disk-c localhost/disk-c:v2
nodisk_image () {
    local ctx
    ctx=$(mktemp -d "$tmpdir/ctx.XXXXXX")
    echo "$2" > "$ctx/file"
    printf 'FROM scratch\nCOPY file /etc/%s\n' "$1" > "$ctx/Containerfile"
    podman build -q -t "localhost/$1" "$ctx" >/dev/null
}
nodisk_image nodisk-x "no disk here"
nodisk_image nodisk-y "nor here"
id_of () { podman image inspect --format '{{.Id}}' "$1"; }

sock=$tmpdir/store.sock log=$tmpdir/store.log
start_plugin_server "$sock" "$log"

# The list: every name of a disk image, described; no diskless image.
nbdinfo --list --json "$(unix_uri "$sock")" > "$tmpdir/list.json"
jq -r '.exports[]["export-name"]' "$tmpdir/list.json" | sort > "$tmpdir/names"
printf '%s\n' localhost/disk-a:latest localhost/disk-b:latest \
    localhost/disk-c:latest localhost/disk-c:v2 | sort > "$tmpdir/want"
diff -u "$tmpdir/want" "$tmpdir/names" || fail "nbdinfo --list: other exports"
desc () { jq -r --arg n "$1" '.exports[] | select(.["export-name"] == $n) | .description' "$tmpdir/list.json"; }
[ "$(desc localhost/disk-a:latest)" = "raw, $(stat -c %s "$tmpdir/a.img") bytes, image $(id_of localhost/disk-a | cut -c1-12)" ] ||
    fail "description of disk-a: $(desc localhost/disk-a:latest)"
[ "$(desc localhost/disk-b:latest)" = "qcow2, $(stat -c %s "$tmpdir/b.qcow2") bytes, image $(id_of localhost/disk-b | cut -c1-12)" ] ||
    fail "description of disk-b: $(desc localhost/disk-b:latest)"
echo "ok list"

# Each export its own disk (the qcow2 as stored), by name and by ID.
check_export () {
    local name=$1 expected=$2
    rm -f "$tmpdir/got"
    nbdcopy "$(unix_uri "$sock" "$name")" "$tmpdir/got" || fail "export '$name': nbdcopy failed"
    cmp "$expected" "$tmpdir/got" || fail "export '$name': other bytes than $expected"
}
check_export localhost/disk-a:latest "$tmpdir/a.img"
check_export localhost/disk-b:latest "$tmpdir/b.qcow2"
check_export localhost/disk-c:latest "$tmpdir/c.img"
check_export localhost/disk-c:v2 "$tmpdir/c.img"
ida=$(id_of localhost/disk-a)
check_export "$ida" "$tmpdir/a.img"
check_export "sha256:$ida" "$tmpdir/a.img"
check_export "${ida:0:12}" "$tmpdir/a.img"
echo "ok exports"

# Refused, each with one error line in the server's log, nothing served:
# unknown, diskless, not an exact name (podman would resolve these), too
# short an ID, another store or a layout on the host, no name at all.
refused_export () {
    local name=$1 regex=$2 before
    before=$(wc -l < "$log")
    if nbdcopy "$(unix_uri "$sock" "$name")" "$tmpdir/refused" 2>"$tmpdir/client.err"; then
        fail "export '$name' was served"
    fi
    [ ! -s "$tmpdir/refused" ] || fail "export '$name': bytes were written"
    rm -f "$tmpdir/refused"
    tail -n +"$((before + 1))" "$log" > "$tmpdir/new"
    grep -Eq "^nbdkit: podman-disk\[[0-9]+\]: error: $regex\$" "$tmpdir/new" ||
        fail "export '$name': no error line /$regex/ in: $(cat "$tmpdir/new")"
    ! grep -v '^nbdkit: podman-disk\[[0-9]*\]: error: ' "$tmpdir/new" | grep -q . ||
        fail "export '$name': more than error lines: $(cat "$tmpdir/new")"
}
refused_export localhost/nosuch "localhost/nosuch: image not known in .*"
refused_export localhost/nodisk-x:latest "localhost/nodisk-x:latest: the image has no /disk/ directory.*"
refused_export disk-a "export 'disk-a': no image has exactly this name or ID .*"
refused_export localhost/disk-a "export 'localhost/disk-a': no image has exactly this name or ID .*"
refused_export "${ida:0:8}" "export '${ida:0:8}': no image has exactly this name or ID .*"
refused_export "oci:$tmpdir/oci" "oci:.*"
refused_export "containers-storage:[overlay@$store/root+$store/runroot]localhost/disk-a:latest" \
    "export 'containers-storage:.*': give an image name or ID, not a reference to another store"
refused_export "" "no export name: this server serves every disk of its store by image name or ID .*"
echo "ok refused"

# Built after the server started: listed and served; removed: gone.
make_raw_disk "$tmpdir/d.img" 3
build_disk_image localhost/disk-d "$tmpdir/d.img"
nbdinfo --list --json "$(unix_uri "$sock")" | jq -r '.exports[]["export-name"]' |
    grep -qx localhost/disk-d:latest || fail "an image built after start is not listed"
check_export localhost/disk-d:latest "$tmpdir/d.img"
podman rmi localhost/disk-c:v2 >/dev/null
nbdinfo --list --json "$(unix_uri "$sock")" | jq -r '.exports[]["export-name"]' |
    grep -qx localhost/disk-c:v2 && fail "a removed name is still listed"
refused_export localhost/disk-c:v2 "localhost/disk-c:v2: image not known in .*"
echo "ok changes"

# Hostile images: a qcow2 with a host backing file, /disk a symlink out of
# the image, the disk a symlink to /etc/shadow.  Not listed; opening them
# gives locate's refusal; no host byte anywhere.
dir='{"name":"disk","type":"dir"}'
qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$tmpdir/backing.qcow2" 1M
mktar "$tmpdir/backing.tar" "[$dir,"'{"name":"disk/disk.img","type":"file","from":"'"$tmpdir/backing.qcow2"'"}]'
mktar "$tmpdir/diskout.tar" '[{"name":"disk","type":"sym","target":"../../../../etc"}]'
mktar "$tmpdir/shadow.tar" "[$dir,"'{"name":"disk/disk.img","type":"sym","target":"/etc/shadow"}]'
for h in backing diskout shadow; do
    import_layers "h-$h" "$tmpdir/$h.tar" || fail "h-$h: skopeo copy failed"
done
nbdinfo --list --json "$(unix_uri "$sock")" | jq -r '.exports[]["export-name"]' > "$tmpdir/names"
! grep -q 'h-' "$tmpdir/names" || fail "a hostile image is listed: $(cat "$tmpdir/names")"
for h in backing diskout shadow; do
    name=localhost/h-$h:latest
    expect_error 1 . podman_disk locate "$name"
    line=$(sed 's/^podman-disk: //' "$tmpdir/err")
    refused_export "$name" "$(regex_quote "$line")"
    # One image as the plugin's IMAGE: the same refusal, at start.
    expect_error 1 "^nbdkit: error: $(regex_quote "$line")\$" \
        pd_nbdkit -U - "$plugin" "$name" --run 'nbdcopy "$uri" -'
done
not_host_secret "$log"
echo "ok hostile"

kill -0 "$server_pid" || fail "the server died: $(cat "$log")"
stop_plugin_server
echo PASS
