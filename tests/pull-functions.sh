# SPDX-License-Identifier: Apache-2.0
# Helpers of the tests/test-pull*.sh: a real registry (the CNCF
# distribution registry: Debian's docker-registry, Fedora's
# docker-distribution) on 127.0.0.1 with a private config, storage under
# $tmpdir, stopped by its pid at exit; the tests' own registries.conf.
# Sourced after functions.sh.

registry_bin=$(command -v docker-registry || command -v registry || true)
[ -n "$registry_bin" ] || skip "no distribution registry (apt-get install docker-registry)"
requires skopeo --version
requires curl --version
requires python3 --version

# free_port: a TCP port nobody listens on, on loopback.
free_port () {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for CMD...: until CMD succeeds, 20 s at most.
wait_for () {
    local i
    for ((i = 0; i < 200; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# start_registry NAME [tls] [htpasswd-file]: a registry on a free port;
# sets ${NAME}_port and ${NAME}_pid.  With tls, its certificate is signed
# by the tests' CA ($tmpdir/certs/ca.crt, made by make_ca).
start_registry () {
    local name=$1 tls=${2:-} htpasswd=${3:-} port dir
    port=$(free_port)
    dir=$tmpdir/registry-$name
    mkdir -p "$dir/data"
    {
        echo "version: 0.1"
        echo "log: {level: error, accesslog: {disabled: true}}"
        echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
        echo "http:"
        echo "  addr: 127.0.0.1:$port"
        [ "$tls" = tls ] &&
            echo "  tls: {certificate: $tmpdir/certs/server.crt, key: $tmpdir/certs/server.key}"
        [ -n "$htpasswd" ] &&
            echo "auth: {htpasswd: {realm: test, path: $htpasswd}}"
    } > "$dir/config.yml"
    "$registry_bin" serve "$dir/config.yml" > "$dir/log" 2>&1 &
    local pid=$!
    cleanup_fn "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
    local scheme=http curlopt=()
    [ "$tls" = tls ] && scheme=https curlopt=(--cacert "$tmpdir/certs/ca.crt")
    # Up when it answers /v2/ (401 with auth counts).
    wait_for sh -c "curl -s -o /dev/null -w '%{http_code}' ${curlopt[*]} $scheme://127.0.0.1:$port/v2/ | grep -qE '200|401'" ||
        { cat "$dir/log" >&2; fail "registry $name did not start"; }
    printf -v "${name}_port" %s "$port"
    printf -v "${name}_pid" %s "$pid"
}

# make_ca: a CA and a server certificate for 127.0.0.1, by certtool
# (gnutls-bin) or openssl; $tmpdir/certs/ca.crt is the --cert-dir's.
make_ca () {
    local c=$tmpdir/certs
    mkdir -p "$c" "$tmpdir/cert-dir"
    if command -v certtool >/dev/null; then
        printf 'cn = "podman-disk test CA"\nca\ncert_signing_key\nexpiration_days = 2\n' > "$c/ca.tmpl"
        printf 'cn = "127.0.0.1"\nip_address = "127.0.0.1"\ntls_www_server\nexpiration_days = 2\n' > "$c/server.tmpl"
        certtool -p --outfile "$c/ca.key" 2>/dev/null
        certtool -s --load-privkey "$c/ca.key" --template "$c/ca.tmpl" --outfile "$c/ca.crt" 2>/dev/null
        certtool -p --outfile "$c/server.key" 2>/dev/null
        certtool -c --load-privkey "$c/server.key" --load-ca-certificate "$c/ca.crt" \
            --load-ca-privkey "$c/ca.key" --template "$c/server.tmpl" --outfile "$c/server.crt" 2>/dev/null
    elif command -v openssl >/dev/null; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=podman-disk test CA" \
            -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
            -keyout "$c/server.key" -out "$c/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\n' > "$c/ext"
        openssl x509 -req -in "$c/server.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" \
            -CAcreateserial -days 2 -extfile "$c/ext" -out "$c/server.crt" 2>/dev/null
    else
        skip "neither certtool (gnutls-bin) nor openssl"
    fi
    [ -s "$c/server.crt" ] || fail "no test certificate"
    cp "$c/ca.crt" "$tmpdir/cert-dir/ca.crt"
}

# write_registries_conf [PORT...]: the tests' own registries.conf, with
# each plain-HTTP registry insecure; the first is the unqualified-search
# one.  podman, skopeo and podman-disk read it (CONTAINERS_REGISTRIES_CONF),
# and HOME is the test's so that no user's file or alias cache counts.
write_registries_conf () {
    local p
    {
        [ $# -gt 0 ] && echo "unqualified-search-registries = [\"127.0.0.1:$1\"]"
        for p in "$@"; do
            printf '[[registry]]\nlocation = "127.0.0.1:%s"\ninsecure = true\n' "$p"
        done
    } > "$tmpdir/registries.conf"
    export CONTAINERS_REGISTRIES_CONF=$tmpdir/registries.conf
    export HOME=$tmpdir/home
    mkdir -p "$HOME"
}

# images_state: what 'podman images' shows, and the store's layers, to
# compare before and after a failed pull.
images_state () {
    { podman images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}'
      ls "$store/root/overlay-layers" "$store/root/vfs-layers" 2>/dev/null || true
    } | sort
}

# push_disk_image REF FILE: an image FROM scratch holding FILE as
# /disk/BASENAME, pushed to REF (a plain-HTTP registry of the
# registries.conf), built under another name that is removed again: the
# store's own REF, if any, stays as it is.
push_disk_image () {
    local ref=$1 file=$2
    build_disk_image localhost/podman-disk-push "$file"
    podman push -q localhost/podman-disk-push "docker://$ref" >/dev/null
    podman rmi -f localhost/podman-disk-push >/dev/null
}

# skopeo reads no CONTAINERS_REGISTRIES_CONF of its own (podman-disk
# hands it on as --registries-conf, as here).
skopeo () {
    command skopeo ${CONTAINERS_REGISTRIES_CONF:+--registries-conf "$CONTAINERS_REGISTRIES_CONF"} "$@"
}
