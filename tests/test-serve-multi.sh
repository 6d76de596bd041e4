#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve IMAGE1 IMAGE2 ... and serve --all: one qemu-storage-daemon, one
# read-only export per disk under its image's name, each the guest view
# (or with --no-decode the bytes as stored), with --writable each on a
# throw-away overlay of its own; a hostile disk among them refuses the
# whole serve; stopping leaves no process or socket.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires qemu-img --version
requires qemu-io --version
requires qemu-storage-daemon --version
requires jq --version
setup_store

make_raw_disk "$tmpdir/a.img" 3
make_raw_disk "$tmpdir/b.img" 2
make_qcow2_disk "$tmpdir/c.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/c.qcow2" "$tmpdir/c.guest"
serve_image localhost/multi-a "$tmpdir/a.img"
backing_a=$backing
serve_image localhost/multi-b "$tmpdir/b.img"
backing_b=$backing
serve_image localhost/multi-c "$tmpdir/c.qcow2"
backing_c=$backing
id_a=$(podman image inspect --format '{{.Id}}' localhost/multi-a)

# No process holds any of the disks (one look at every process's fds, as
# holders does for one file), no socket named after the first.
disks=("$backing_a" "$backing_b" "$backing_c")
none_held () {
    local f patterns=()
    for f in "${disks[@]}"; do patterns+=(-e "-> $(readlink -m "$f")"); done
    # (ls fails on processes that went meanwhile: not the pipeline's status)
    ! { ls -l /proc/[0-9]*/fd 2>/dev/null || true; } | grep -qF "${patterns[@]}"
}
no_leftovers () {
    local f
    wait_until none_held ||
        fail "a process still holds a disk: $(for f in "${disks[@]}"; do holders "$f"; done)"
    if ls /run/podman-disk/"${id_a:0:12}"-* >/dev/null 2>&1; then
        fail "sockets left: $(ls /run/podman-disk/"${id_a:0:12}"-*)"
    fi
}
# export_list URI: the export names nbdinfo --list sees, sorted.
export_list () { nbdinfo --list --json "$1" | jq -r '.exports[]["export-name"]' | sort; }

# --- Three images, in the background: one URI a line, in order. -----------
podman_disk serve localhost/multi-a multi-b localhost/multi-c \
    --pidfile "$tmpdir/pid" > "$tmpdir/uris"
[ "$(wc -l < "$tmpdir/uris")" = 3 ] || fail "not three URIs: $(cat "$tmpdir/uris")"
uri_a=$(sed -n 1p "$tmpdir/uris"); uri_b=$(sed -n 2p "$tmpdir/uris"); uri_c=$(sed -n 3p "$tmpdir/uris")
sock=$(socket_of "$uri_a")
[ -S "$sock" ] || fail "no socket $sock"
[ "$uri_a" = "nbd+unix:///localhost/multi-a?socket=$sock" ] || fail "URI of a: $uri_a"
[ "$uri_b" = "nbd+unix:///multi-b?socket=$sock" ] || fail "URI of b: $uri_b"
pid=$(cat "$tmpdir/pid")
! none_held || fail "none_held does not see the server holding the disks"
[ "$(cat /proc/"$pid"/comm)" = qemu-storage-da ] || fail "not served by qemu-storage-daemon: $(cat /proc/"$pid"/comm)"
printf '%s\n' localhost/multi-a localhost/multi-c multi-b > "$tmpdir/want"
export_list "nbd+unix:///?socket=$sock" > "$tmpdir/names"
cmp "$tmpdir/want" "$tmpdir/names" || fail "nbdinfo --list: $(cat "$tmpdir/names")"
for u in "$uri_a" "$uri_b" "$uri_c"; do
    [ "$(nbdinfo_field "$u" is_read_only)" = true ] || fail "$u is not read-only"
done
nbdcopy "$uri_a" "$tmpdir/copy.a"; cmp "$tmpdir/a.img" "$tmpdir/copy.a" || fail "export a differs"
nbdcopy "$uri_b" "$tmpdir/copy.b"; cmp "$tmpdir/b.img" "$tmpdir/copy.b" || fail "export b differs"
nbdcopy "$uri_c" "$tmpdir/copy.c"; cmp "$tmpdir/c.guest" "$tmpdir/copy.c" || fail "export c is not the guest view"
qemu-img compare -q -f raw "$tmpdir/c.guest" "$uri_c" || fail "qemu-img compare of c"
# Nothing else answers.
if nbdinfo "nbd+unix:///multi-x?socket=$sock" >/dev/null 2>&1; then
    fail "an unknown export name answered"
fi
# Recorded as one export of kind serve, the three names as its image;
# stopped by its socket.
id=$(podman_disk exports --format json |
         jq -r --arg s "$sock" '.[] | select(.socket == $s and .kind == "serve") | .id')
[ -n "$id" ] || fail "exports does not list the server"
[ "$(podman_disk exports --format json | jq -r --arg i "$id" '.[] | select(.id == $i) | .image')" = \
  "localhost/multi-a multi-b localhost/multi-c" ] || fail "the record's image"
[ "$(podman_disk stop "$sock")" = "$id" ] || fail "stop by the socket"
wait_until process_gone "$pid" || fail "stop: the server is still there"
wait_until path_gone "$sock" || fail "socket $sock left"
wait_until path_gone "$tmpdir/pid" || fail "pidfile left"
no_leftovers

# --- --no-decode, --format json, in the foreground until SIGTERM. ----------
"$PODMAN_DISK" serve localhost/multi-a localhost/multi-c --no-decode --foreground \
    --format json > "$tmpdir/json" &
fg=$!
cleanup_fn "kill $fg"
wait_until test -s "$tmpdir/json" || fail "serve --foreground printed nothing"
[ "$(jq -r 'length' "$tmpdir/json")" = 2 ] || fail "json: $(cat "$tmpdir/json")"
[ "$(jq -r '.[1].export_name' "$tmpdir/json")" = localhost/multi-c ] || fail "json export_name"
[ "$(jq -r '.[0].server' "$tmpdir/json")" = qemu-storage-daemon ] || fail "json server"
uri_c=$(jq -r '.[1].uri' "$tmpdir/json")
sock=$(jq -r '.[0].socket' "$tmpdir/json")
[ "$(nbdinfo_field "$uri_c" export-size)" = "$(stat -c %s "$tmpdir/c.qcow2")" ] ||
    fail "--no-decode: not the stored size"
nbdcopy "$uri_c" "$tmpdir/copy.qcow2"
cmp "$tmpdir/c.qcow2" "$tmpdir/copy.qcow2" || fail "--no-decode bytes differ"
nbdcopy "$(jq -r '.[0].uri' "$tmpdir/json")" "$tmpdir/copy.a"
cmp "$tmpdir/a.img" "$tmpdir/copy.a" || fail "raw export differs with --no-decode"
kill "$fg"
wait "$fg" || fail "serve --foreground exited $? on SIGTERM"
path_gone "$sock" || fail "socket $sock left after --foreground"
no_leftovers

# --- --run: $uri is the server's, the exports listed by name. -------------
podman_disk serve localhost/multi-b localhost/multi-a \
    --run 'nbdinfo --list --json "$uri"' > "$tmpdir/list.json"
jq -r '.exports[]["export-name"]' "$tmpdir/list.json" | sort > "$tmpdir/names"
printf '%s\n' localhost/multi-a localhost/multi-b | cmp - "$tmpdir/names" ||
    fail "--run: $(cat "$tmpdir/names")"
no_leftovers

# --- TCP: one port, each export in its URI's path. -------------------------
if python3 --version >/dev/null 2>&1; then
    for try in 1 2 3 4 5; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        rc=0
        podman_disk serve localhost/multi-b localhost/multi-a --port "$port" \
            --run 'echo "$uri"; nbdinfo --list --json "$uri"' > "$tmpdir/tcp.out" \
            2> "$tmpdir/serve.err" || rc=$?
        grep -q 'is in use' "$tmpdir/serve.err" || break
    done
    [ "$rc" = 0 ] || { cat "$tmpdir/serve.err" >&2; fail "serve --port exited $rc"; }
    [ "$(head -n1 "$tmpdir/tcp.out")" = "nbd://127.0.0.1:$port/" ] ||
        fail "--port: \$uri is $(head -n1 "$tmpdir/tcp.out")"
    sed 1d "$tmpdir/tcp.out" | jq -r '.exports[] | .uri' | sort > "$tmpdir/names"
    printf '%s\n' "nbd://127.0.0.1:$port/localhost/multi-a" "nbd://127.0.0.1:$port/localhost/multi-b" |
        cmp - "$tmpdir/names" || fail "--port: $(cat "$tmpdir/names")"
    no_leftovers
fi

# --- TLS with a pre-shared key, required (qemu has no optional TLS). -----
if psktool --version >/dev/null 2>&1; then
    psktool -u alice -p "$tmpdir/keys.psk" >/dev/null 2>&1
    podman_disk serve localhost/multi-a localhost/multi-c --tls on \
        --tls-psk "$tmpdir/keys.psk" --pidfile "$tmpdir/pid" > "$tmpdir/uris"
    uri_c=$(sed -n 2p "$tmpdir/uris")
    sock=$(sed -n 's/.*[?&]socket=\([^&]*\).*/\1/p' <<< "$uri_c")
    [ "$uri_c" = "nbds+unix://alice@/localhost/multi-c?socket=$sock" ] || fail "TLS URI: $uri_c"
    nbdcopy "$uri_c&tls-psk-file=$tmpdir/keys.psk" "$tmpdir/copy.c"
    cmp "$tmpdir/c.guest" "$tmpdir/copy.c" || fail "TLS: export c is not the guest view"
    if nbdinfo "nbd+unix:///localhost/multi-c?socket=$sock" >/dev/null 2>&1; then
        fail "TLS: a client without TLS was served"
    fi
    # qemu's PSK credentials are a directory made for the server.
    pskdir=$(tr '\0' '\n' < /proc/"$(cat "$tmpdir/pid")"/cmdline |
                 sed -n 's/^tls-creds-psk,.*dir=\([^,]*\).*/\1/p')
    [ -e "$pskdir/keys.psk" ] || fail "TLS: no PSK directory in qemu-storage-daemon's command line"
    kill "$(cat "$tmpdir/pid")"
    wait_until path_gone "$sock" || fail "TLS: socket $sock left"
    wait_until path_gone "$pskdir" || fail "TLS: the PSK directory $pskdir left"
    no_leftovers
else
    echo "psktool not installed: TLS of several images not checked"
fi

# --- Socket activation: nbdinfo starts serve, which serves on its socket. --
# (libnbd removes the socket file as soon as its client is done: serve
# checks every export on a connection made before the server ran.)
nbdinfo --list --json -- [ "$PODMAN_DISK" serve localhost/multi-a localhost/multi-c ] \
    2> "$tmpdir/activation.err" | jq -r '.exports[]["export-name"]' | sort > "$tmpdir/names"
printf '%s\n' localhost/multi-a localhost/multi-c | cmp - "$tmpdir/names" ||
    fail "socket activation: $(cat "$tmpdir/names")"
[ ! -s "$tmpdir/activation.err" ] || fail "socket activation: $(cat "$tmpdir/activation.err")"
no_leftovers

# --- --all: every image with a disk, by its first name, else its ID. ------
ctx=$tmpdir/nodisk; mkdir -p "$ctx"
echo data > "$ctx/data.txt"
printf 'FROM scratch\nCOPY data.txt /data.txt\n' > "$ctx/Containerfile"
podman build -q -t localhost/multi-nodisk "$ctx" >/dev/null
ctx=$tmpdir/untagged; mkdir -p "$ctx"
make_raw_disk "$ctx/d.img" 1
printf 'FROM scratch\nCOPY d.img /disk/\n' > "$ctx/Containerfile"
id_d=$(podman build -q "$ctx" | tail -n1)
id_d=$(podman image inspect --format '{{.Id}}' "$id_d")
backing_d=$(podman_disk locate "$id_d" | field file)
cleanup_fn "kill_holders '$backing_d'"
disks+=("$backing_d")
podman_disk serve --all --pidfile "$tmpdir/pid" > "$tmpdir/uris"
[ "$(wc -l < "$tmpdir/uris")" = 4 ] || fail "--all: not four URIs: $(cat "$tmpdir/uris")"
sock=$(socket_of "$(head -n1 "$tmpdir/uris")")
export_list "nbd+unix:///?socket=$sock" > "$tmpdir/names"
printf '%s\n' "$id_d" localhost/multi-a:latest localhost/multi-b:latest localhost/multi-c:latest |
    sort | cmp - "$tmpdir/names" || fail "--all exports: $(cat "$tmpdir/names")"
nbdcopy "nbd+unix:///$id_d?socket=$sock" "$tmpdir/copy.d"
cmp "$ctx/d.img" "$tmpdir/copy.d" || fail "--all: the untagged image's export differs"
nbdcopy "nbd+unix:///localhost/multi-c:latest?socket=$sock" "$tmpdir/copy.c"
cmp "$tmpdir/c.guest" "$tmpdir/copy.c" || fail "--all: c is not the guest view"
# Stopped by its supervisor this time (the server's parent).
supervisor=$(awk '{print $4}' /proc/"$(cat "$tmpdir/pid")"/stat)
grep -q podman-disk /proc/"$supervisor"/cmdline || fail "the server's parent is no supervisor"
kill "$supervisor"
wait_until process_gone "$supervisor" || fail "--all: the supervisor is still there"
wait_until path_gone "$sock" || fail "--all: socket $sock left"
wait_until path_gone "$tmpdir/pid" || fail "--all: pidfile left"
no_leftovers

# --- --writable: each export its own throw-away overlay. -------------------
# Writes to a (raw) and c (qcow2, the guest view) read back, each only in
# its own export; b unchanged; the layers never written; nothing left.
sum_a=$(sha256sum < "$backing_a") sum_c=$(sha256sum < "$backing_c")
make_raw_disk "$tmpdir/w.img" 1
ls /var/tmp > "$tmpdir/vartmp.before"
podman_disk serve localhost/multi-a multi-b localhost/multi-c --writable \
    --run '
    set -e
    a="${uri%%\?*}localhost/multi-a?${uri#*\?}" b="${uri%%\?*}multi-b?${uri#*\?}"
    c="${uri%%\?*}localhost/multi-c?${uri#*\?}"
    for u in "$a" "$b" "$c"; do nbdinfo --is read-only "$u" && exit 11; done
    qemu-io -f raw -c "write -P 0x5a 1M 64k" "$a" > /dev/null
    qemu-io -f raw -c "write -P 0xa5 0 64k" "$c" > /dev/null
    qemu-io -f raw -c "read -P 0x5a 1M 64k" "$a" > /dev/null
    qemu-io -f raw -c "read -P 0xa5 0 64k" "$c" > /dev/null
    nbdcopy "$b" '"$tmpdir"'/w.b
    nbdcopy "$a" '"$tmpdir"'/w.a' 2> "$tmpdir/w.err" ||
    fail "serve --writable of three images: $(cat "$tmpdir/w.err")"
cmp "$tmpdir/b.img" "$tmpdir/w.b" || fail "--writable: b changed by writes to the others"
cmp -n $((1024 * 1024)) "$tmpdir/a.img" "$tmpdir/w.a" || fail "--writable: a's first MiB changed"
cmp -n $((64 * 1024)) -i 0:$((1024 * 1024)) <(head -c $((64 * 1024)) /dev/zero | tr '\0' '\132') "$tmpdir/w.a" ||
    fail "--writable: a's write is not there"
[ "$(sha256sum < "$backing_a")" = "$sum_a" ] && [ "$(sha256sum < "$backing_c")" = "$sum_c" ] ||
    fail "--writable wrote into an image's layer"
no_leftovers
ls /var/tmp | comm -13 "$tmpdir/vartmp.before" - | grep '^podman-disk-server\.' &&
    fail "a server's temporary directory is left in /var/tmp"

# --- Refusals, before anything runs. --------------------------------------
expect_usage "IMAGE 'multi-b' is given twice" \
    podman_disk serve multi-b localhost/multi-a multi-b
expect_usage '--export-name .* cannot be used with several images' \
    podman_disk serve multi-a multi-b --export-name x
expect_usage '--writable=persistent:DEST cannot be used with several images' \
    podman_disk serve multi-a multi-b --writable=persistent:$tmpdir/vm.qcow2
expect_usage '--server .* cannot be used with several images' \
    podman_disk serve multi-a multi-b --server qemu-nbd
expect_usage '--all .*no IMAGE with it' podman_disk serve --all multi-a
expect_usage "--server must be nbdkit or qemu-nbd, not 'qemu-storage-daemon'" \
    podman_disk serve multi-a --server qemu-storage-daemon
expect_error 1 'multi-nothere' podman_disk serve multi-a multi-nothere --pull never
no_leftovers

# A hostile qcow2 (a backing file) among them: the whole serve is refused,
# one line, nothing left.
qemu-img create -q -f qcow2 -b /etc/shadow -F raw "$tmpdir/hostile.qcow2" 1M
build_disk_image localhost/multi-hostile "$tmpdir/hostile.qcow2"
expect_error 1 'qcow2 with a backing file \(/etc/shadow\) would open a host path' \
    podman_disk serve multi-a multi-hostile multi-c --pidfile "$tmpdir/pid"
path_gone "$tmpdir/pid" || fail "pidfile written for a refused serve"
expect_error 1 'image localhost/multi-hostile:latest: .*qcow2 with a backing file' \
    podman_disk serve --all
no_leftovers

# qemu sees files in 512-byte sectors: a raw disk of 1000 bytes cannot be
# one of several (nbdkit serves it alone).
head -c 1000 /dev/urandom > "$tmpdir/odd.img"
build_disk_image localhost/multi-odd "$tmpdir/odd.img"
expect_error 1 'localhost/multi-odd: qemu-storage-daemon cannot export 1000 bytes exactly' \
    podman_disk serve localhost/multi-a localhost/multi-odd
no_leftovers

# The store with no disk at all: said so.
podman rmi -f localhost/multi-a localhost/multi-b localhost/multi-c \
    localhost/multi-hostile localhost/multi-odd "$id_d" >/dev/null
expect_error 1 'no image in the store holds a disk' podman_disk serve --all
echo PASS
