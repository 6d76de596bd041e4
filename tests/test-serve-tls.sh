#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# serve --tls: real keys made here (psktool, certtool), a raw disk (nbdkit)
# and a qcow2 disk (qemu-nbd, decoded) read back over TLS, PSK and x509,
# on TCP and Unix sockets; the printed URI is nbds with the PSK's username
# and no key; a client without TLS is refused; nothing is left behind.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires psktool --version
requires certtool --version
requires python3 --version
nbdinfo --version | grep -q 'libnbd.*' || skip "nbdinfo has no libnbd version"
setup_store

# The keys: a PSK for alice; a CA, a server certificate for localhost and
# 127.0.0.1, and a client directory holding the CA (and a client cert).
psktool -u alice -p "$tmpdir/keys.psk" >/dev/null 2>&1
pki=$tmpdir/pki client=$tmpdir/client
mkdir -m 0700 "$pki" "$client"
cert () { certtool "$@" >/dev/null 2>&1; }
certtool --generate-privkey > "$pki/ca-key.pem" 2>/dev/null
printf 'cn = podman-disk test CA\nca\ncert_signing_key\nexpiration_days = 2\n' > "$tmpdir/ca.info"
cert --generate-self-signed --load-privkey "$pki/ca-key.pem" \
     --template "$tmpdir/ca.info" --outfile "$pki/ca-cert.pem"
certtool --generate-privkey > "$pki/server-key.pem" 2>/dev/null
printf 'organization = podman-disk\ncn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 2\n' > "$tmpdir/server.info"
cert --generate-certificate --load-ca-certificate "$pki/ca-cert.pem" \
     --load-ca-privkey "$pki/ca-key.pem" --load-privkey "$pki/server-key.pem" \
     --template "$tmpdir/server.info" --outfile "$pki/server-cert.pem"
certtool --generate-privkey > "$client/client-key.pem" 2>/dev/null
printf 'organization = podman-disk\ncn = client\ntls_www_client\nencryption_key\nsigning_key\nexpiration_days = 2\n' > "$tmpdir/client.info"
cert --generate-certificate --load-ca-certificate "$pki/ca-cert.pem" \
     --load-ca-privkey "$pki/ca-key.pem" --load-privkey "$client/client-key.pem" \
     --template "$tmpdir/client.info" --outfile "$client/client-cert.pem"
cp "$pki/ca-cert.pem" "$client/"
# A client that checks the server but has no certificate of its own.
anon=$tmpdir/anon
mkdir -m 0700 "$anon"
cp "$pki/ca-cert.pem" "$anon/"
[ -s "$pki/server-cert.pem" ] && [ -s "$client/client-cert.pem" ] || fail "certtool made no certificates"

make_raw_disk "$tmpdir/disk.img" 4
serve_image localhost/tls-raw "$tmpdir/disk.img"
raw_backing=$backing
make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
serve_image localhost/tls-qcow2 "$tmpdir/disk.qcow2"
qcow2_backing=$backing

# A TCP port free now (the kernel's choice); serve retries on "in use".
free_port () {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# serve_tcp IMAGE ARGS... -- CMD: serve IMAGE on a free port with --run CMD,
# again with another port when it was taken meanwhile.
serve_tcp () {
    local image=$1 try rc; shift
    for try in 1 2 3 4 5; do
        port=$(free_port)
        rc=0
        podman_disk serve "$image" --port "$port" "$@" 2>"$tmpdir/serve.err" || rc=$?
        grep -q 'is in use' "$tmpdir/serve.err" || { cat "$tmpdir/serve.err" >&2; return $rc; }
    done
    return $rc
}

# Each image over PSK and x509, on TCP, read back with nbdcopy.
for kind in raw qcow2; do
    if [ $kind = raw ]; then want=$tmpdir/disk.img; else want=$tmpdir/guest.raw; fi
    image=localhost/tls-$kind

    serve_tcp "$image" --tls require --tls-psk "$tmpdir/keys.psk" \
        --run 'echo "$uri $tls" > '"$tmpdir/env"'; nbdcopy "$uri?tls-psk-file='"$tmpdir/keys.psk"'" '"$tmpdir/copy"' && ! nbdinfo "nbd://127.0.0.1:$port/" >/dev/null 2>&1' ||
        fail "$kind: PSK over TCP: read, or a client without TLS was not refused"
    read -r uri tls < "$tmpdir/env"
    [ "$uri" = "nbds://alice@127.0.0.1:$port/" ] || fail "$kind: PSK URI $uri"
    [ "$tls" = require ] || fail "$kind: \$tls=$tls"
    cmp "$want" "$tmpdir/copy" || fail "$kind: PSK copy differs"
    grep -q "$(cut -d: -f2 "$tmpdir/keys.psk")" "$tmpdir/env" && fail "$kind: the key is in the URI"
    rm -f "$tmpdir/copy"

    serve_tcp "$image" --tls require --tls-certificates "$pki" \
        --run 'echo "$uri" > '"$tmpdir/env"'; nbdcopy "$uri?tls-certificates='"$client"'" '"$tmpdir/copy" ||
        fail "$kind: x509 over TCP"
    [ "$(cat "$tmpdir/env")" = "nbds://127.0.0.1:$port/" ] || fail "$kind: x509 URI $(cat "$tmpdir/env")"
    cmp "$want" "$tmpdir/copy" || fail "$kind: x509 copy differs"
    rm -f "$tmpdir/copy"

    # Without --tls-verify-peer a client without a certificate is served;
    # with it, only the client whose certificate the CA signed.
    serve_tcp "$image" --tls require --tls-certificates "$pki" \
        --run 'nbdinfo --size "$uri?tls-certificates='"$anon"'"' >/dev/null ||
        fail "$kind: a client without a certificate refused without --tls-verify-peer"
    serve_tcp "$image" --tls require --tls-certificates "$pki" --tls-verify-peer \
        --run '! nbdinfo --size "$uri?tls-certificates='"$anon"'" >/dev/null 2>&1 && nbdcopy "$uri?tls-certificates='"$client"'" '"$tmpdir/copy" ||
        fail "$kind: --tls-verify-peer: a client without a certificate served, or the client with one refused"
    cmp "$want" "$tmpdir/copy" || fail "$kind: --tls-verify-peer copy differs"
    # The readiness probe showed the server's certificate from a private
    # directory of links: gone with the probe.
    for l in /run/podman-disk/tls-*/client-cert.pem; do
        [ "$(readlink "$l")" != "$pki/server-cert.pem" ] || fail "probe directory left: ${l%/*}"
    done
    rm -f "$tmpdir/copy"
    check_no_leftovers "$image"
done

# Unix socket, in the background: nbds+unix with alice@, an export name;
# refused without TLS; the server (qemu-nbd) and its PSK directory go.
uri=$(podman_disk serve localhost/tls-qcow2 --tls require --tls-psk "$tmpdir/keys.psk" \
          --export-name disk --pidfile "$tmpdir/pid")
case $uri in
    "nbds+unix://alice@/disk?socket="/*) ;;
    *) fail "Unix PSK URI $uri" ;;
esac
sock=${uri#*socket=}
pid=$(cat "$tmpdir/pid")
[ "$(cat /proc/"$pid"/comm)" = qemu-nbd ] || fail "not served by qemu-nbd"
pskdir=$(tr '\0' '\n' < /proc/"$pid"/cmdline | sed -n 's/^tls-creds-psk,id=tls0,dir=\([^,]*\),.*/\1/p')
[ -L "$pskdir/keys.psk" ] && [ "$(stat -c %a "$pskdir")" = 700 ] || fail "qemu-nbd's PSK directory: '$pskdir'"
nbdcopy "$uri&tls-psk-file=$tmpdir/keys.psk" "$tmpdir/copy" || fail "Unix PSK read"
cmp "$tmpdir/guest.raw" "$tmpdir/copy" || fail "Unix PSK copy differs"
! nbdinfo "nbd+unix:///disk?socket=$sock" >/dev/null 2>&1 || fail "plain client served by --tls require"
kill "$pid"
wait_until process_gone "$pid" || fail "qemu-nbd did not stop"
wait_until path_gone "$pskdir" || fail "PSK directory left: $pskdir"
wait_until path_gone "$sock" || fail "socket left: $sock"
check_no_leftovers localhost/tls-qcow2

# Its supervisor killed by SIGKILL: qemu-nbd goes with it (PDEATHSIG) but
# cannot remove the PSK directory; the next PSK export removes it.
podman_disk serve localhost/tls-qcow2 --tls require --tls-psk "$tmpdir/keys.psk" \
    --pidfile "$tmpdir/pid" >/dev/null || fail "serve for SIGKILL"
pid=$(cat "$tmpdir/pid")
pskdir=$(tr '\0' '\n' < /proc/"$pid"/cmdline | sed -n 's/^tls-creds-psk,id=tls0,dir=\([^,]*\),.*/\1/p')
supervisor=$(awk '{print $4}' /proc/"$pid"/stat)
[ -d "$pskdir" ] && [ "$supervisor" -gt 1 ] || fail "PSK directory '$pskdir', supervisor '$supervisor'"
kill -KILL "$supervisor"
wait_until process_gone "$pid" || fail "qemu-nbd outlived its supervisor"
[ -d "$pskdir" ] || fail "the PSK directory went without a sweep: the test proves nothing"
podman_disk serve localhost/tls-qcow2 --tls require --tls-psk "$tmpdir/keys.psk" \
    --run 'true' || fail "the next PSK export"
[ ! -e "$pskdir" ] || fail "PSK directory of a SIGKILLed supervisor left: $pskdir"
rm -f "$tmpdir/pid"
check_no_leftovers localhost/tls-qcow2

# --tls on (nbdkit): TLS or not, the URI is the secure form; $tls is on.
# qemu-nbd has no optional TLS: it requires it, and $tls says so.
podman_disk serve localhost/tls-raw --tls on --tls-psk "$tmpdir/keys.psk" \
    --run 'echo "$uri $tls" > '"$tmpdir/env"'; nbdinfo --size "$(echo "$uri" | sed "s/^nbds/nbd/; s/alice@//")" > '"$tmpdir/size" ||
    fail "--tls on: a plain client"
read -r uri tls < "$tmpdir/env"
[ "$tls" = on ] && [ "${uri#nbds+unix://alice@/?socket=}" != "$uri" ] || fail "--tls on: $uri $tls"
[ "$(cat "$tmpdir/size")" = "$(stat -c %s "$tmpdir/disk.img")" ] || fail "--tls on: size $(cat "$tmpdir/size")"
podman_disk serve localhost/tls-qcow2 --tls on --tls-certificates "$pki" --run 'echo $tls' > "$tmpdir/env" ||
    fail "--tls on with qemu-nbd"
[ "$(cat "$tmpdir/env")" = require ] || fail "qemu-nbd --tls on: \$tls=$(cat "$tmpdir/env")"

# The any address: the URI names the host (no client can use 0.0.0.0),
# and the export is there on loopback.
serve_tcp localhost/tls-raw --address 0.0.0.0 \
    --run 'echo "$uri" > '"$tmpdir/env"'; nbdinfo --size "nbd://127.0.0.1:$port/"' > "$tmpdir/size" ||
    fail "--address 0.0.0.0"
[ "$(cat "$tmpdir/env")" = "nbd://$(hostname):$port/" ] || fail "--address 0.0.0.0: URI $(cat "$tmpdir/env")"
[ "$(cat "$tmpdir/size")" = "$(stat -c %s "$tmpdir/disk.img")" ] || fail "--address 0.0.0.0: size"

# What is wrong is said in one line (and the usage hint), before anything
# starts; a missing or wrong file in exactly one.
usage () {
    local why=$1 rc=0; shift
    podman_disk serve localhost/tls-raw "$@" --run true >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ $rc = 2 ] && head -1 "$tmpdir/err" | grep -qF -- "podman-disk serve: $why" ||
        fail "serve $*: exit $rc: $(cat "$tmpdir/err")"
    [ ! -s "$tmpdir/out" ] || fail "serve $*: printed $(cat "$tmpdir/out")"
}
usage "--tls-psk needs --tls on or --tls require" --tls-psk "$tmpdir/keys.psk"
usage "--tls-certificates needs --tls on or --tls require" --tls off --tls-certificates "$pki"
usage "--tls require needs --tls-certificates DIR or --tls-psk FILE" --tls require
usage "--tls-verify-peer needs --tls-certificates" --tls require \
    --tls-psk "$tmpdir/keys.psk" --tls-verify-peer
usage "--tls-certificates and --tls-psk exclude each other" \
    --tls on --tls-psk "$tmpdir/keys.psk" --tls-certificates "$pki"
usage "--tls must be off, on or require, not 'yes'" --tls yes
expect_error 1 "--tls-psk $tmpdir/nokeys.psk: No such file or directory" \
    podman_disk serve localhost/tls-raw --tls require --tls-psk "$tmpdir/nokeys.psk"
expect_error 1 "--tls-certificates $tmpdir/keys.psk is not a directory" \
    podman_disk serve localhost/tls-raw --tls require --tls-certificates "$tmpdir/keys.psk"
: > "$tmpdir/empty.psk"
expect_error 1 "no key in the PSK file" \
    podman_disk serve localhost/tls-raw --tls require --tls-psk "$tmpdir/empty.psk"

backing=$raw_backing; check_no_leftovers localhost/tls-raw
backing=$qcow2_backing; check_no_leftovers localhost/tls-qcow2
echo PASS
