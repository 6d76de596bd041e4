#!/bin/bash
# serve as a rootless user, on the user's own store: a 0440 disk owned by a
# subordinate uid (readable only in podman's user namespace) is served by a
# server inside that namespace, through a socket the user reaches from
# outside; stopping it leaves nothing.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
requires_serve
requires useradd --help
requires runuser --help
requires test -u /usr/bin/newuidmap

user=pdserve$$
home=$tmpdir/home
run=$tmpdir/run
useradd -m -d "$home" -s /bin/sh "$user" || skip "useradd $user failed"
cleanup_fn "userdel -f $user; sed -i '/^$user:/d' /etc/subuid /etc/subgid"
for f in /etc/subuid /etc/subgid; do
    if ! grep -q "^$user:" "$f"; then
        echo "$user:$((300000 + $$ % 1000 * 65536)):65536" >> "$f"
    fi
done
mkdir -m 0700 "$run"
chown "$user:" "$run"
chmod 0755 "$tmpdir"
cleanup_fn 'p=$(cat "$run/libpod/tmp/pause.pid" 2>/dev/null) && kill "$p" && for w in $(seq 50); do kill -0 "$p" || break; sleep 0.1; done'
# A server of the test user's left by a failure (the user is this test's own).
cleanup_fn "ps -o pid= -u $user | xargs -r kill -9"

cat > "$tmpdir/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOC
as_user () {
    runuser -u "$user" -- env -u CONTAINERS_STORAGE_CONF HOME="$home" \
        XDG_RUNTIME_DIR="$run" CONTAINERS_CONF="$tmpdir/containers.conf" "$@"
}
as_user podman info >"$tmpdir/info" 2>&1 ||
    skip "rootless podman does not work here: $(grep -m1 -i error "$tmpdir/info")"

make_raw_disk "$tmpdir/locked.img" 4
chmod 0644 "$tmpdir/locked.img"
ctx=$tmpdir/ctx
mkdir -p "$ctx"
cp "$tmpdir/locked.img" "$ctx/"
printf 'FROM scratch\nCOPY --chown=107:107 --chmod=0440 locked.img /disk/\n' > "$ctx/Containerfile"
chmod -R a+rX "$ctx"
as_user podman build -q -t localhost/locked "$ctx" >/dev/null

# Really not readable by the user outside the namespace.
file=$(as_user podman unshare "$PODMAN_DISK" locate locked | field file)
if as_user cat "$file" >/dev/null 2>&1; then
    fail "the 0440 disk is readable outside the user namespace: the test proves nothing"
fi

as_user "$PODMAN_DISK" serve localhost/locked --pidfile "$run/serve.pid" > "$tmpdir/uri"
uri=$(cat "$tmpdir/uri")
sock=$(socket_of "$uri")
case $sock in "$run"/podman-disk/*.sock) ;; *) fail "socket not in the user's runtime dir: $uri" ;; esac
[ "$(stat -c %U "$sock")" = "$user" ] || fail "the socket is not the user's"
[ "$(as_user nbdinfo --json "$uri" | jq -r '.exports[0].is_read_only')" = true ] || fail "not read-only"
as_user nbdcopy "$uri" "$run/copy.img"
cmp "$tmpdir/locked.img" "$run/copy.img" || fail "bytes served to the user differ"

# The user stops it with the pid of the pidfile.
pid=$(cat "$run/serve.pid")
as_user kill "$pid"
wait_until process_gone "$pid" || fail "the server is still running"
wait_until path_gone "$sock" || fail "socket left"
wait_until path_gone "$run/serve.pid" || fail "pidfile left"

# --run too, from outside, with the client inside the command.
as_user "$PODMAN_DISK" serve localhost/locked --run 'nbdcopy "$uri" '"$run/run.img"
cmp "$tmpdir/locked.img" "$run/run.img" || fail "--run copy differs"
[ -z "$(ls "$run/podman-disk")" ] || fail "sockets left: $(ls "$run/podman-disk")"
echo PASS
