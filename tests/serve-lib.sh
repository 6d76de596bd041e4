# SPDX-License-Identifier: Apache-2.0
# Helpers of the serve and cp tests (sourced after functions.sh).

# holders FILE: the pids of the processes that have FILE open: a server of
# the disk shows up here, whatever its name or arguments.
holders () {
    local f p
    # -m: the file may be gone (image removed), its directory too; an
    # empty name would match every process's fds.
    f=$(readlink -m "$1")
    [ -n "$f" ] || return 0
    for p in /proc/[0-9]*; do
        [ "$p" = "/proc/$$" ] && continue
        if ls -l "$p/fd" 2>/dev/null | grep -qF -- "-> $f"; then
            echo "${p#/proc/}"
        fi
    done
}

# wait_until CMD...: poll CMD until it holds: an event, not a timing
# check.  The bound (60 s of wall time, however slow CMD itself is) is
# only against a hang: a loaded machine may take long to get there.
wait_until () {
    local end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ]; do
        "$@" && return 0
        sleep 0.02
    done
    "$@"
}
process_gone () { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
nothing_holds () { [ -z "$(holders "$1")" ]; }
path_gone () { [ ! -e "$1" ] && [ ! -L "$1" ]; }

# socket_of URI: the socket path of an nbd+unix URI (no escapes in ours).
socket_of () { sed -n 's/^nbd+unix:.*[?&]socket=\([^&]*\).*/\1/p' <<< "$1"; }

# serve_image NAME FILE: build the image, remember its backing file in
# $backing and make sure no server of it survives the test.
serve_image () {
    build_disk_image "$1" "$2"
    backing=$(podman_disk locate "$1" | field file)
    [ -f "$backing" ] || fail "locate $1 gave no file"
    cleanup_fn "kill_holders '$backing'"
}
kill_holders () {
    local p
    for p in $(holders "$1"); do kill -9 "$p"; done
}

# check_no_leftovers IMAGE: no process holds the disk and no socket of
# the image is left in the private directory.
check_no_leftovers () {
    local id
    wait_until nothing_holds "$backing" || fail "a process still holds the disk: $(holders "$backing")"
    id=$(podman image inspect --format '{{.Id}}' "$1")
    if ls /run/podman-disk/"${id:0:12}"-* >/dev/null 2>&1; then
        fail "sockets left: $(ls /run/podman-disk/"${id:0:12}"-*)"
    fi
}

# nbdinfo_field URI KEY: a field of nbdinfo --json.
nbdinfo_field () { nbdinfo --json "$1" | jq -r ".exports[0].\"$2\""; }

requires_serve () {
    requires_root
    requires command podman --version
    requires nbdkit --version
    requires qemu-nbd --version
    requires nbdinfo --version
    requires nbdcopy --version
}
