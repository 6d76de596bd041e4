# SPDX-License-Identifier: Apache-2.0
# podman-disk test functions, sourced by every tests/test-*.sh.
#
# A test exits 0 (pass), 77 (skip: it printed why) or anything else (fail).
# Everything a test makes lives under $tmpdir and is removed by the cleanup
# trap, including the private podman store and any process it started.

set -e -u -o pipefail

: "${PODMAN_DISK:?run the tests with 'make check' (PODMAN_DISK is not set)}"
testsdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=$(dirname "$testsdir")
testname=$(basename "$0" .sh)

skip () { echo "$testname: SKIP: $*"; exit 77; }
fail () { echo "$testname: FAIL: $*" >&2; exit 1; }

# requires CMD [ARGS]: skip the test unless CMD runs successfully.
requires () {
    "$@" </dev/null >/dev/null 2>&1 || skip "'$*' does not work here"
}
requires_root () {
    [ "$(id -u)" = 0 ] || skip "must run as root"
}

# Cleanup actions run in reverse order at exit, whatever the exit path.
_cleanups=()
cleanup_fn () { _cleanups+=("$*"); }
_run_cleanups () {
    local rc=$? _ci
    set +e
    # _ci: a cleanup's own loop over "i" must not end this one.
    for (( _ci=${#_cleanups[@]}-1; _ci>=0; _ci-- )); do
        eval "${_cleanups[_ci]}" >/dev/null 2>&1
    done
    exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

tmpdir=$(mktemp -d /var/tmp/podman-disk-test.XXXXXX)
chmod 0755 "$tmpdir"
cleanup_fn "rm -rf '$tmpdir'"
# podman-disk's answer cache (common/cache.h) goes with the test, never
# into the caller's ~/.cache.
export XDG_CACHE_HOME=$tmpdir/cache

# podman-disk as the tests run it (PODMAN_DISK may be a sanitizer build).
podman_disk () { "$PODMAN_DISK" "$@"; }

# write_containers_conf FILE [ENGINE-LINES]: the tests' own containers.conf:
# runc and lowered ulimits, as crun fails on these machines' hybrid cgroups.
write_containers_conf () {
    cat > "$1" <<EOC
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
${2:-}
EOC
}

# setup_rootless_user NAME [RUNDIR] [ENGINE-LINES]: a throw-away user NAME
# with subordinate id ranges, home $home, runtime dir $run (RUNDIR, or one
# under $tmpdir), removed with its processes at exit.  Defines as_user,
# which runs a command as that user with its default store and the tests'
# containers.conf.  Skips when rootless podman does not work here.
setup_rootless_user () {
    requires_root
    requires useradd --help
    requires runuser --help
    requires test -u /usr/bin/newuidmap
    user=$1
    home=$tmpdir/home
    run=${2:-$tmpdir/run}
    mkdir -p "$run"
    useradd -m -d "$home" -s /bin/sh "$user" || skip "useradd $user failed"
    cleanup_fn "userdel -f $user; sed -i '/^$user:/d' /etc/subuid /etc/subgid"
    # Debian's useradd adds subordinate ranges; add them where it does not.
    local f
    for f in /etc/subuid /etc/subgid; do
        grep -q "^$user:" "$f" ||
            echo "$user:$((300000 + $$ % 1000 * 65536)):65536" >> "$f"
    done
    chmod 0700 "$run"
    chown "$user:" "$run"
    chmod 0755 "$tmpdir"
    # Whatever the user left running (rootless podman's pause process, a
    # server after a failure) goes: the user is this test's own.
    cleanup_fn "ps -o pid= -u $user | xargs -r kill -9"
    write_containers_conf "$tmpdir/user-containers.conf" "${3:-}"
    chmod a+r "$tmpdir/user-containers.conf"
    as_user podman info >"$tmpdir/info" 2>&1 ||
        skip "rootless podman does not work here: $(grep -m1 -i error "$tmpdir/info")"
}
as_user () {
    runuser -u "$user" -- env -u CONTAINERS_STORAGE_CONF -u CONTAINERS_CONF \
        HOME="$home" XDG_RUNTIME_DIR="$run" XDG_CACHE_HOME="$home/.cache" \
        CONTAINERS_CONF="$tmpdir/user-containers.conf" "$@"
}

# setup_store [DRIVER]: a private podman store under $tmpdir with its own
# storage.conf and containers.conf; 'podman' then means podman on it, and
# podman-disk finds it through CONTAINERS_STORAGE_CONF like podman does.
setup_store () {
    local driver=${1:-overlay}
    store=$tmpdir/store
    mkdir -p "$store/root" "$store/runroot"
    cat > "$store/storage.conf" <<EOC
[storage]
driver = "$driver"
graphroot = "$store/root"
runroot = "$store/runroot"
EOC
    write_containers_conf "$store/containers.conf"
    export CONTAINERS_STORAGE_CONF=$store/storage.conf
    export CONTAINERS_CONF=$store/containers.conf
    cleanup_fn teardown_store
}
podman () { command podman --root "$store/root" --runroot "$store/runroot" "$@"; }
teardown_store () {
    podman rm -a -f -t 0 >/dev/null 2>&1 || true
    # Anything still mounted under the store (overlay, shm) goes first.
    awk -v d="$store" 'index($2, d) == 1 {print $2}' /proc/self/mounts |
        sort -r | xargs -r -n1 umount -l 2>/dev/null || true
}

# make_raw_disk FILE MIB: a raw disk of pseudo-random bytes.
make_raw_disk () {
    head -c "$(( $2 * 1024 * 1024 ))" /dev/urandom > "$1"
}

# make_qcow2_disk FILE: a real qcow2 holding an ext4 filesystem with a
# known file /hello.txt.
make_qcow2_disk () {
    local d=$tmpdir/ext4-content
    mkdir -p "$d"
    echo "hello from podman-disk" > "$d/hello.txt"
    mkfs.ext4 -q -F -d "$d" "$1.raw" 16M
    qemu-img convert -f raw -O qcow2 "$1.raw" "$1"
    rm -f "$1.raw"
}

# build_disk_image NAME FILE [COPY-FLAGS]: an image FROM scratch holding
# FILE as /disk/BASENAME, built by podman (no network needed).
build_disk_image () {
    local name=$1 file=$2 flags=${3:-}
    local ctx
    ctx=$(mktemp -d "$tmpdir/ctx.XXXXXX")
    cp "$file" "$ctx/"
    printf 'FROM scratch\nCOPY %s %s /disk/\n' "$flags" "$(basename "$file")" \
        > "$ctx/Containerfile"
    podman build -q -t "$name" "$ctx" >/dev/null
}

# clone_holds DEST: how many podman holds (io.podman-disk.clone=DEST) the
# clone DEST has in the test's store.
clone_holds () { podman ps -a -q --filter "label=io.podman-disk.clone=$1" | wc -l; }

# expect_usage REGEX podman_disk VERB ARGS...: a usage error: exit 2, the
# first of exactly two lines on stderr matching the extended regex REGEX,
# the second VERB's hint, and nothing on stdout.
expect_usage () {
    local regex=$1 rc=0
    shift
    "$@" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    [ "$rc" = 2 ] || { cat "$tmpdir/err" >&2; fail "'$*' exited $rc, expected 2"; }
    [ "$(wc -l < "$tmpdir/err")" = 2 ] && head -1 "$tmpdir/err" | grep -Eq -- "$regex" &&
        sed -n 2p "$tmpdir/err" | grep -q "^Try 'podman-disk $2 --help'" ||
        { cat "$tmpdir/err" >&2; fail "'$*': stderr is not /$regex/ and $2's hint"; }
    [ ! -s "$tmpdir/out" ] || fail "'$*' printed on stdout"
}

# expect_error CODE REGEX CMD...: CMD must exit CODE and print exactly one
# line on stderr, matching the extended regex REGEX, and nothing on stdout.
expect_error () {
    local code=$1 regex=$2 rc=0
    shift 2
    "$@" >"$tmpdir/out" 2>"$tmpdir/err" || rc=$?
    if [ "$rc" != "$code" ]; then
        cat "$tmpdir/err" >&2
        fail "'$*' exited $rc, expected $code"
    fi
    if [ "$(wc -l < "$tmpdir/err")" != 1 ] || ! grep -Eq -- "$regex" "$tmpdir/err"; then
        cat "$tmpdir/err" >&2
        fail "'$*': stderr is not one line matching /$regex/"
    fi
    if [ -s "$tmpdir/out" ]; then
        fail "'$*' printed on stdout while failing"
    fi
}

# field KEY < locate-text: the value of one 'key: value' line.
field () { sed -n "s/^$1: //p"; }

# store_fingerprint [DIR...]: names, types, sizes, modes, owners and
# mtimes of everything in the store (default the private one's root and
# runroot), to show that a podman-disk command wrote nothing there:
# compare before and after.
store_fingerprint () {
    [ $# -gt 0 ] || set -- "$store/root" "$store/runroot"
    find "$@" -printf '%p %y %s %m %U:%G %T@\n' | LC_ALL=C sort | sha256sum
}

# edit_json FILE PYTHON: rewrite FILE's JSON by the python statements
# PYTHON acting on v, the parsed JSON (e.g. 'v[0]["id"] = 12'); fails if
# they raise.  Needs python3 (requires python3 --version).
edit_json () {
    python3 - "$1" "$2" <<'EOP'
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    v = json.load(f)
exec(code)
with open(path, "w") as f:
    json.dump(v, f)
EOP
}
