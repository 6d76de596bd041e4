#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve --run's variables, by nbdkit's names and values ($uri, $nbd,
# $unixsocket, $port, $exportname: nbdkit(1), CAPTIVE NBDKIT), and serve
# --format json, which prints every form of the URI; each form used by
# the client it is for: nbdinfo/nbdcopy on "uri", libguestfs (guestfish,
# one appliance launch) on "guestfs_uri" and on -a "nbd://?socket=$unixsocket".
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires jq --version
requires mkfs.ext4 -V
requires python3 --version
setup_store

# A raw disk that is a real ext4 filesystem (nbdkit serves it), and a
# qcow2 one (qemu-nbd, which checks export names), each with its own
# /hello.txt.
mkdir "$tmpdir/raw-content"
echo "hello from a raw disk" > "$tmpdir/raw-content/hello.txt"
mkfs.ext4 -q -F -d "$tmpdir/raw-content" "$tmpdir/fs.img" 16M
make_qcow2_disk "$tmpdir/fs.qcow2"
serve_image localhost/captive-qcow2 "$tmpdir/fs.qcow2"
qcow2_backing=$backing
serve_image localhost/captive-raw "$tmpdir/fs.img"

free_port () {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The variables as CMD sees them, one per line; UNSET when not set.
show_vars='for v in uri nbd unixsocket port exportname; do eval "printf \"%s=%s\n\" $v \"\${$v-UNSET}\""; done
[ -z "$unixsocket" ] || [ -S "$unixsocket" ] || echo "not-a-socket=$unixsocket"'
var () { sed -n "s/^$1=//p" "$tmpdir/vars"; }

# Unix socket, default export.  Values of our own environment are not
# passed on as the server's.
port=99 unixsocket=/nowhere exportname=x \
    podman_disk serve localhost/captive-raw --socket "$tmpdir/s.sock" --run "$show_vars" > "$tmpdir/vars"
[ "$(var uri)" = "nbd+unix:///?socket=$tmpdir/s.sock" ] || fail "\$uri: $(cat "$tmpdir/vars")"
[ "$(var nbd)" = "$(var uri)" ] || fail "\$nbd is not \$uri: $(cat "$tmpdir/vars")"
[ "$(var unixsocket)" = "$tmpdir/s.sock" ] || fail "\$unixsocket: $(cat "$tmpdir/vars")"
grep -qx "port=" "$tmpdir/vars" || fail "\$port is not set and empty on a Unix socket: $(cat "$tmpdir/vars")"
grep -qx "exportname=" "$tmpdir/vars" || fail "\$exportname is not set and empty: $(cat "$tmpdir/vars")"
! grep -q "^not-a-socket=" "$tmpdir/vars" || fail "\$unixsocket is no socket while CMD runs"
# $uri is what serve prints otherwise, for the same socket.
uri=$(podman_disk serve localhost/captive-raw --socket "$tmpdir/s.sock" --pidfile "$tmpdir/s.pid")
[ "$uri" = "$(var uri)" ] || fail "serve printed $uri, --run had $(var uri)"
kill "$(cat "$tmpdir/s.pid")"
wait_until path_gone "$tmpdir/s.sock" || fail "the background server left its socket"
check_no_leftovers localhost/captive-raw

# TCP: $port, and $unixsocket set and empty.
p=$(free_port)
podman_disk serve localhost/captive-raw --port "$p" --run "$show_vars"' && nbdinfo --size "$uri"' > "$tmpdir/vars"
[ "$(var port)" = "$p" ] || fail "\$port: $(cat "$tmpdir/vars")"
grep -qx "unixsocket=" "$tmpdir/vars" || fail "\$unixsocket is not set and empty on TCP: $(cat "$tmpdir/vars")"
[ "$(var uri)" = "nbd://127.0.0.1:$p/" ] && [ "$(var nbd)" = "$(var uri)" ] || fail "TCP \$uri/\$nbd: $(cat "$tmpdir/vars")"
grep -qx "$(stat -c %s "$tmpdir/fs.img")" "$tmpdir/vars" || fail "nbdinfo on the TCP \$uri: $(cat "$tmpdir/vars")"

# --export-name: $exportname, and $uri names it (qemu-nbd serves no other).
podman_disk serve localhost/captive-qcow2 --export-name 'vm disk' --run "$show_vars"' && nbdinfo --size "$uri"' > "$tmpdir/vars"
[ "$(var exportname)" = "vm disk" ] || fail "\$exportname: $(cat "$tmpdir/vars")"
case "$(var uri)" in "nbd+unix:///vm%20disk?socket=$(var unixsocket)") ;; *) fail "\$uri with an export name: $(cat "$tmpdir/vars")" ;; esac
grep -qx 16777216 "$tmpdir/vars" || fail "nbdinfo on \$uri with an export name: $(cat "$tmpdir/vars")"
check_no_leftovers localhost/captive-raw

# --format json: one line, one object; "uri" for libnbd's clients.
podman_disk serve localhost/captive-raw --format json --pidfile "$tmpdir/raw.pid" > "$tmpdir/raw.json"
cleanup_fn "kill \$(cat '$tmpdir/raw.pid')"
[ "$(wc -l < "$tmpdir/raw.json")" = 1 ] || fail "--format json is not one line: $(cat "$tmpdir/raw.json")"
j () { jq -er "$1" "$2"; }
raw_json=$tmpdir/raw.json
sock=$(j .socket "$raw_json")
[ -S "$sock" ] || fail "json: socket $sock is not a socket"
[ "$(j .uri "$raw_json")" = "nbd+unix:///?socket=$sock" ] || fail "json: uri $(cat "$raw_json")"
[ "$(j .guestfs_uri "$raw_json")" = "nbd://?socket=$sock" ] || fail "json: guestfs_uri $(cat "$raw_json")"
[ "$(jq -c .port "$raw_json")" = null ] || fail "json: port on a Unix socket $(cat "$raw_json")"
[ "$(jq -c .export_name "$raw_json")" = '""' ] || fail "json: export_name $(cat "$raw_json")"
[ "$(j .server "$raw_json")" = nbdkit ] || fail "json: server $(cat "$raw_json")"
[ "$(j .pid "$raw_json")" = "$(cat "$tmpdir/raw.pid")" ] || fail "json: pid is not the pidfile's: $(cat "$raw_json")"
nbdcopy "$(j .uri "$raw_json")" "$tmpdir/copy.img"
cmp "$tmpdir/fs.img" "$tmpdir/copy.img" || fail "nbdcopy on the json uri copied other bytes"

# TCP and an export name: the URI is libguestfs's too.
p=$(free_port)
podman_disk serve localhost/captive-qcow2 --port "$p" --export-name 'vm disk' \
    --format json --pidfile "$tmpdir/tcp.pid" > "$tmpdir/tcp.json"
cleanup_fn "kill \$(cat '$tmpdir/tcp.pid')"
[ "$(j .uri "$tmpdir/tcp.json")" = "nbd://127.0.0.1:$p/vm%20disk" ] || fail "json TCP: uri $(cat "$tmpdir/tcp.json")"
[ "$(j .guestfs_uri "$tmpdir/tcp.json")" = "$(j .uri "$tmpdir/tcp.json")" ] || fail "json TCP: guestfs_uri $(cat "$tmpdir/tcp.json")"
[ "$(jq -c .port "$tmpdir/tcp.json")" = "$p" ] && [ "$(jq -c .socket "$tmpdir/tcp.json")" = null ] ||
    fail "json TCP: port/socket $(cat "$tmpdir/tcp.json")"
[ "$(j .export_name "$tmpdir/tcp.json")" = "vm disk" ] && [ "$(j .server "$tmpdir/tcp.json")" = qemu-nbd ] ||
    fail "json TCP: export_name/server $(cat "$tmpdir/tcp.json")"
[ "$(nbdinfo --size "$(j .uri "$tmpdir/tcp.json")")" = 16777216 ] || fail "nbdinfo on the json TCP uri"

# IPv6: the address in brackets, for nbdinfo and libguestfs alike.
v6_uri=
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
    p6=$(free_port)
    podman_disk serve localhost/captive-raw --address ::1 --port "$p6" \
        --format json --pidfile "$tmpdir/v6.pid" > "$tmpdir/v6.json"
    cleanup_fn "kill \$(cat '$tmpdir/v6.pid')"
    [ "$(j .uri "$tmpdir/v6.json")" = "nbd://[::1]:$p6/" ] || fail "json IPv6: uri $(cat "$tmpdir/v6.json")"
    [ "$(j .guestfs_uri "$tmpdir/v6.json")" = "$(j .uri "$tmpdir/v6.json")" ] ||
        fail "json IPv6: guestfs_uri $(cat "$tmpdir/v6.json")"
    nbdcopy "$(j .uri "$tmpdir/v6.json")" "$tmpdir/v6.img"
    cmp "$tmpdir/fs.img" "$tmpdir/v6.img" || fail "nbdcopy on the IPv6 uri copied other bytes"
    v6_uri=$(j .guestfs_uri "$tmpdir/v6.json")
else
    echo "$testname: left out: IPv6 (no ::1 on lo)"
fi

# A Unix socket and an export name: libguestfs's own spelling of it.
podman_disk serve localhost/captive-qcow2 --export-name 'vm disk' \
    --format json --pidfile "$tmpdir/name.pid" > "$tmpdir/name.json"
cleanup_fn "kill \$(cat '$tmpdir/name.pid')"
sock=$(j .socket "$tmpdir/name.json")
[ "$(j .guestfs_uri "$tmpdir/name.json")" = "nbd:///vm%20disk?socket=$sock" ] ||
    fail "json: guestfs_uri with an export name $(cat "$tmpdir/name.json")"

# --foreground --format json: the one line, then it stays.
"$PODMAN_DISK" serve localhost/captive-raw --foreground --format json > "$tmpdir/fg.json" 2> "$tmpdir/fg.err" &
fg=$!
wait_until test -s "$tmpdir/fg.json" || fail "--foreground --format json printed nothing: $(cat "$tmpdir/fg.err")"
wait_until grep -q '}$' "$tmpdir/fg.json" || fail "--foreground --format json: $(cat "$tmpdir/fg.json")"
[ "$(nbdinfo --size "$(j .uri "$tmpdir/fg.json")")" = "$(stat -c %s "$tmpdir/fs.img")" ] ||
    fail "nbdinfo on --foreground's json uri"
kill -TERM "$fg"
rc=0; wait "$fg" || rc=$?
[ "$rc" = 0 ] || fail "--foreground --format json exited $rc: $(cat "$tmpdir/fg.err")"
path_gone "$(j .socket "$tmpdir/fg.json")" || fail "--foreground left its socket"

# --run prints nothing: --format with it is a usage error.
for args in "--format json --run true" "--format yaml"; do
    rc=0
    eval podman_disk serve localhost/captive-raw "$args" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || fail "serve $args exited $rc, expected 2"
    grep -q "Try 'podman-disk serve --help'" "$tmpdir/err" || fail "serve $args: no hint"
    [ ! -s "$tmpdir/out" ] || fail "serve $args printed on stdout"
done
grep -q "^podman-disk serve: --format must be text or json, not 'yaml'" "$tmpdir/err" ||
    fail "serve --format yaml: $(cat "$tmpdir/err")"

# libguestfs on every documented form, in one appliance: the --run one
# (-a "nbd://?socket=$unixsocket"), and guestfs_uri of a Unix socket with
# an export name, of TCP and of TCP over IPv6.  Without KVM it is emulated: slow, not long.
if [ -n "${SKIP_ONCE_TESTS:-}" ] || [ -n "${PODMAN_DISK_REAL:-}" ]; then
    # (a sanitizer or valgrind run: libguestfs boots once per CI run, in
    # the plain make check, as the guest boots do)
    echo "$testname: left out: guestfish: libguestfs runs once, in the plain 'make check'"
elif ! command -v guestfish > /dev/null; then
    echo "$testname: left out: guestfish: not installed (Debian: libguestfs-tools)"
elif ! compgen -G "/boot/vmlinuz-*" >/dev/null && ! compgen -G "/lib/modules/*/vmlinuz" >/dev/null; then
    echo "$testname: left out: guestfish: no kernel for libguestfs's appliance"
else
    export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
    export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
    export name_uri tcp_uri v6_uri
    name_uri=$(j .guestfs_uri "$tmpdir/name.json")
    tcp_uri=$(j .guestfs_uri "$tmpdir/tcp.json")
    # (the IPv6 form, when there is one, as a fourth disk: a raw one)
    timeout 600 "$PODMAN_DISK" serve localhost/captive-raw --run '
        guestfish --ro --format=raw -a "nbd://?socket=$unixsocket" -a "$name_uri" -a "$tcp_uri" \
            ${v6_uri:+-a "$v6_uri"} \
            run : mount-ro /dev/sda / : cat /hello.txt : umount / \
                : mount-ro /dev/sdb / : cat /hello.txt : umount / \
                : mount-ro /dev/sdc / : cat /hello.txt : umount / \
                ${v6_uri:+: mount-ro /dev/sdd / : cat /hello.txt}' > "$tmpdir/guestfish.out" 2> "$tmpdir/guestfish.err" ||
        { cat "$tmpdir/guestfish.err" >&2; fail "guestfish on the documented forms failed"; }
    # (guestfish's cat adds a newline to the file's own)
    printf '%s\n' "hello from a raw disk" "hello from podman-disk" "hello from podman-disk" \
        ${v6_uri:+"hello from a raw disk"} |
        cmp - <(grep -v '^$' "$tmpdir/guestfish.out") || fail "guestfish read: $(cat "$tmpdir/guestfish.out")"
fi

for f in raw tcp name ${v6_uri:+v6}; do
    kill "$(cat "$tmpdir/$f.pid")"
done
for f in raw tcp name ${v6_uri:+v6}; do
    wait_until path_gone "$tmpdir/$f.pid" || fail "the background server $f did not stop"
done
check_no_leftovers localhost/captive-raw
backing=$qcow2_backing
check_no_leftovers localhost/captive-qcow2
echo PASS
