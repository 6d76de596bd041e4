#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A registry that dies in the middle of a pull: a proxy in front of the
# real one sends half of the big layer blob, then exits.  The pull fails
# with one line naming the registry and why, and leaves no partial image
# in the store.
source "$(dirname "$0")/functions.sh"
requires command podman --version
requires_root
source "$(dirname "$0")/pull-functions.sh"

setup_store overlay
start_registry real
proxy_port=$(free_port)
write_registries_conf "$real_port" "$proxy_port"

make_raw_disk "$tmpdir/big.img" 24
build_disk_image localhost/podman-disk-push "$tmpdir/big.img"
podman push -q localhost/podman-disk-push "docker://127.0.0.1:$real_port/big:1" >/dev/null
podman rmi -f localhost/podman-disk-push >/dev/null

# The proxy: HTTP/1.0 to the registry, one request per connection; a blob
# larger than 1 MiB is cut at half and the proxy dies with it.
python3 - "$proxy_port" "$real_port" > "$tmpdir/proxy.log" 2>&1 <<'EOPY' &
import http.client, http.server, os, sys
listen, upstream = int(sys.argv[1]), int(sys.argv[2])
class Proxy(http.server.BaseHTTPRequestHandler):
    def do_GET(self): self.forward()
    def do_HEAD(self): self.forward()
    def forward(self):
        c = http.client.HTTPConnection("127.0.0.1", upstream)
        c.request(self.command, self.path, headers=dict(self.headers))
        r = c.getresponse()
        body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        self.end_headers()
        if self.command == "GET" and "/blobs/" in self.path and len(body) > 1 << 20:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            os._exit(0)          # dies mid-transfer
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", listen), Proxy).serve_forever()
EOPY
proxy_pid=$!
cleanup_fn "kill $proxy_pid 2>/dev/null"
wait_for curl -sf "http://127.0.0.1:$proxy_port/v2/" || fail "the proxy did not start"

before=$(images_state)
rc=0
podman_disk serve --pull missing "127.0.0.1:$proxy_port/big:1" --run true \
    > "$tmpdir/out" 2> "$tmpdir/err" || rc=$?
[ "$rc" = 1 ] || { cat "$tmpdir/err"; fail "serve exited $rc, expected 1"; }
[ "$(grep -c '^podman-disk:' "$tmpdir/err")" = 1 ] && ! grep -q '^Error' "$tmpdir/err" &&
    grep -Eq "^podman-disk: 127.0.0.1:$proxy_port/big:1: pulling from 127.0.0.1:$proxy_port failed: (the connection to the registry broke during the pull|no network: the registry refused the connection)" "$tmpdir/err" ||
    { cat "$tmpdir/err"; fail "not one clear line"; }
! kill -0 "$proxy_pid" 2>/dev/null || fail "the proxy did not die mid-pull"
[ "$(images_state)" = "$before" ] || fail "the failed pull left something in the store"
[ -z "$(podman images -a -q)" ] || fail "a partial image is in the store"
echo "$testname: ok"
