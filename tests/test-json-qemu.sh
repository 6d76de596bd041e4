#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# json --blockdev NODE and json --drive: the node tree of 'json' as one
# argument of qemu-system (whose QemuOpts split a json: filename at its
# commas).  A qcow2 disk (107:107 0444, as containerdisks ship it) and a
# raw one in the private store, each opened by a real qemu-system -S
# through the printed argument, attached to a virtio-blk device; by QMP:
#   - query-block: the node is read-only, its driver the disk's format
#     (never probed), its virtual size the disk's;
#   - the node exported by qemu's own NBD server and read by nbdcopy: the
#     guest's bytes, byte for byte (--no-decode: the stored qcow2 bytes);
#   - --drive --snapshot: writable through a temporary overlay, the
#     image's file unchanged.
# A 31-character node name works in qemu; a bad one (a comma, a leading
# digit, 32 characters) is refused by json, and so are --blockdev with
# --drive, and --snapshot without --drive.  The path check of json
# (common/pathtrust.c) refuses a swappable path for every form.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
regex_quote () { sed 's#[][\\.*^$+?(){}|]#\\&#g' <<<"$1"; }
requires command podman --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires qemu-io --version
requires nbdcopy --version
requires mkfs.ext4 -V
requires jq --version
requires_root

setup_store overlay
make_qcow2_disk "$tmpdir/q.qcow2"
build_disk_image localhost/json-qemu-qcow2 "$tmpdir/q.qcow2" "--chown=107:107 --chmod=0444"
make_raw_disk "$tmpdir/r.raw" 2
build_disk_image localhost/json-qemu-raw "$tmpdir/r.raw"
qemu-img convert -f qcow2 -O raw "$tmpdir/q.qcow2" "$tmpdir/q.guest.raw"
qfile=$(podman_disk locate localhost/json-qemu-qcow2 | field file)
before=$(store_fingerprint)

# ---- one qemu-system -S, driven by QMP on a fifo ----

sock=$tmpdir/nbd.sock
qmp_out=$tmpdir/qmp.out
qemu_pid=
qmp_replies () { grep -c '^{"return"\|^{"error"' "$qmp_out" || true; }
qmp_answered () { [ "$(qmp_replies)" -gt "$1" ] || ! kill -0 "$qemu_pid" 2>/dev/null; }
# qmp JSON: send one command, print its reply (a failure fails the test).
qmp () {
    local n reply
    n=$(qmp_replies)
    echo "$1" >&9
    wait_until qmp_answered "$n"
    reply=$(grep '^{"return"\|^{"error"' "$qmp_out" | sed -n "$((n + 1))p")
    [ -n "$reply" ] || fail "qemu-system ended: $(cat "$tmpdir/qemu.err")"
    case $reply in '{"error"'*) fail "QMP $1: $reply" ;; esac
    printf '%s\n' "$reply"
}
# qemu_start ARGS...: qemu-system -S with ARGS, QMP ready; its
# query-block's inserted node in $tmpdir/inserted.json.
qemu_start () {
    rm -f "$tmpdir/qmp.in" "$qmp_out" "$sock"
    mkfifo "$tmpdir/qmp.in"
    : > "$qmp_out"                      # before qemu's shell opens it
    qemu-system-x86_64 -S -nodefaults -display none -machine accel=tcg \
        -qmp stdio "$@" < "$tmpdir/qmp.in" > "$qmp_out" 2> "$tmpdir/qemu.err" &
    qemu_pid=$!
    exec 9> "$tmpdir/qmp.in"
    qmp '{"execute":"qmp_capabilities"}' >/dev/null
    qmp '{"execute":"query-block"}' | jq '[.return[] | select(.inserted)] |
        if length == 1 then .[0].inserted else error("not one disk") end' \
        > "$tmpdir/inserted.json" || fail "query-block: $(cat "$qmp_out")"
}
# qemu_export [WRITABLE]: qemu's NBD server exports the inserted node as
# "disk" on $sock.
qemu_export () {
    local node
    node=$(jq -r '."node-name"' "$tmpdir/inserted.json")
    qmp '{"execute":"nbd-server-start","arguments":{"addr":{"type":"unix","data":{"path":"'"$sock"'"}}}}' >/dev/null
    qmp '{"execute":"block-export-add","arguments":{"type":"nbd","id":"e","node-name":"'"$node"'","name":"disk","writable":'"${1:-false}"'}}' >/dev/null
}
uri="nbd+unix:///disk?socket=$sock"
qemu_stop () {
    qmp '{"execute":"quit"}' >/dev/null
    exec 9>&-
    wait "$qemu_pid" || fail "qemu-system exited $?: $(cat "$tmpdir/qemu.err")"
    qemu_pid=
    rm -f "$sock"                       # qemu leaves it
}
cleanup_fn '[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null'
# inserted JQ-TEST: the inserted node satisfies it.
inserted () {
    jq -e "$1" "$tmpdir/inserted.json" >/dev/null ||
        fail "query-block: not $1: $(cat "$tmpdir/inserted.json")"
}

qsize=$(stat -c %s "$tmpdir/q.guest.raw")
rsize=$(stat -c %s "$tmpdir/r.raw")
# check_open IMAGE FORMAT SIZE EXPECTED-BYTES ARGS...: qemu-system opens
# IMAGE's disk through ARGS read-only, as FORMAT of SIZE bytes, and reads
# the bytes of EXPECTED-BYTES.
check_open () {
    local image=$1 format=$2 size=$3 expected=$4
    shift 4
    qemu_start "$@"
    inserted ".ro == true and .drv == \"$format\" and .image.format == \"$format\"
              and .image.\"virtual-size\" == $size"
    qemu_export
    rm -f "$tmpdir/read.raw"
    nbdcopy "$uri" "$tmpdir/read.raw"
    qemu_stop
    cmp "$tmpdir/read.raw" "$expected" || fail "$image through $*: other bytes"
}

# ---- --blockdev ----

for image in qcow2 raw; do
    [ $image = qcow2 ] && set -- qcow2 "$qsize" "$tmpdir/q.guest.raw" || set -- raw "$rsize" "$tmpdir/r.raw"
    arg=$(podman_disk json --blockdev disk0 localhost/json-qemu-$image)
    jq -e '."node-name" == "disk0" and ."read-only" == true' <<< "$arg" >/dev/null ||
        fail "--blockdev printed $arg"
    case $arg in json:*) fail "--blockdev printed a json: prefix" ;; esac
    check_open $image "$@" -blockdev "$arg" -device virtio-blk-pci,drive=disk0
    inserted '."node-name" == "disk0"'
done
# The stored qcow2 bytes, as raw, under the longest name qemu takes.
name31=n.234567890-234567890_234567890
arg=$(podman_disk json --no-decode --blockdev $name31 localhost/json-qemu-qcow2)
check_open qcow2 raw "$(stat -c %s "$tmpdir/q.qcow2")" "$tmpdir/q.qcow2" \
    -blockdev "$arg" -device virtio-blk-pci,drive=$name31
echo "ok - --blockdev: read-only, the named format, the disk's bytes (qcow2, raw, --no-decode)"

# ---- --drive ----

for image in qcow2 raw; do
    [ $image = qcow2 ] && set -- qcow2 "$qsize" "$tmpdir/q.guest.raw" || set -- raw "$rsize" "$tmpdir/r.raw"
    arg=$(podman_disk json --drive localhost/json-qemu-$image)
    [[ $arg == file=json:\{*\},format=$image,readonly=on ]] || fail "--drive printed $arg"
    # Appended as the usage says: ",if=virtio", or a drive for a -device.
    if [ $image = qcow2 ]; then
        check_open $image "$@" -drive "$arg,if=virtio"
    else
        check_open $image "$@" -drive "$arg,if=none,id=d0" -device virtio-blk-pci,drive=d0
    fi
done

# --snapshot: the guest writes to qemu's temporary overlay, over the disk.
arg=$(podman_disk json --drive --snapshot localhost/json-qemu-qcow2)
[[ $arg == *,format=qcow2,snapshot=on ]] || fail "--drive --snapshot printed $arg"
# share-rw: the device lets the NBD export below write too.
qemu_start -drive "$arg,if=none,id=d0" -device virtio-blk-pci,drive=d0,share-rw=on
inserted ".ro == false and .image.\"backing-image\".format == \"qcow2\"
          and .image.\"backing-image\".\"virtual-size\" == $qsize"
qemu_export true
qemu-io -f raw "$uri" -c 'write -P 0x5a 1M 64k' -c 'read -P 0x5a 1M 64k' >/dev/null ||
    fail "--drive --snapshot: the overlay is not writable"
qemu_stop
cmp "$qfile" "$tmpdir/q.qcow2" || fail "--drive --snapshot: the image's file changed"
echo "ok - --drive: read-only (or --snapshot, a throw-away overlay), the named format, the disk's bytes"

# ---- refused ----

usage () {  # REGEX ARGS...: json ARGS is a usage error saying REGEX
    local regex=$1
    shift
    expect_usage "^podman-disk json: $regex\$" podman_disk json "$@"
}
for bad in a,b 0disk "${name31}x" "" -n d/0 'é'; do
    usage "--blockdev '$(regex_quote "$bad")' is not a qemu node name: a letter, then letters, digits, '-', '.' and '_', at most 31" \
        --blockdev="$bad" localhost/json-qemu-raw
done
usage "--blockdev and --drive exclude each other" --blockdev d --drive localhost/json-qemu-raw
usage "--snapshot needs --drive .*" --snapshot localhost/json-qemu-raw
usage "--snapshot needs --drive .*" --blockdev d --snapshot localhost/json-qemu-raw
echo "ok - bad node names, --blockdev with --drive, --snapshot alone: usage errors"

# Were overlay/ and the layer's directory open to everyone, uid 107 (the
# owner of /disk/) could swap the qcow2 file: every form is refused, as
# json is (test-secure-json.sh).
layer=${qfile%/diff/*}
modes=$(stat -c %a "$store/root/overlay" "$layer" | tr '\n' ' ')
if [ "$modes" != "700 700 " ]; then
    echo "ok - # SKIP the path check: podman made overlay/ and the layer's directory modes $modes, not 0700"
else
    cleanup_fn "chmod 0700 '$store/root/overlay' '$layer'"
    chmod 0755 "$store/root/overlay" "$layer"
    for form in "" "--blockdev disk0" "--drive" "--drive --snapshot"; do
        # shellcheck disable=SC2086
        expect_error 1 "^podman-disk: $(regex_quote "$qfile"): $(regex_quote "$(dirname "$qfile")") is owned by uid 107, neither root nor you: .* or pass --allow-foreign-path\$" \
            podman_disk json $form localhost/json-qemu-qcow2
        # shellcheck disable=SC2086
        podman_disk json --allow-foreign-path $form localhost/json-qemu-qcow2 >/dev/null ||
            fail "json --allow-foreign-path $form refused"
    done
    chmod 0700 "$store/root/overlay" "$layer"
    echo "ok - a path another user could swap: refused in every form"
fi

[ "$(store_fingerprint)" = "$before" ] || fail "podman-disk or qemu changed the store"
