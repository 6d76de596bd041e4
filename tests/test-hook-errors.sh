#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A requested export that cannot be made fails the container's start with
# the hook's one-line message (podman shows the hook's stderr), and leaves
# nothing: no process, socket, record or log, the container not running.
# Bad values of annotations meant for another container of a pod do not.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"
requires qemu-img --version

make_raw_disk "$tmpdir/a.img" 1
make_raw_disk "$tmpdir/b.img" 1
build_hook_image localhost/hook-one "$tmpdir/a.img"
build_hook_image localhost/hook-two "$tmpdir/a.img" "$tmpdir/b.img"
build_hook_image localhost/hook-none
qemu-img create -q -f qcow2 -b /etc/passwd -F raw "$tmpdir/backing.qcow2" 1M
build_hook_image localhost/hook-backing "$tmpdir/backing.qcow2"

e=io.podman-disk.export
expect_start_failure "annotation $e=\"yes\": the value must be true, false or an export name" \
    localhost/hook-one --annotation $e=yes
expect_start_failure "annotation $e=\"a/b\": the value must be true" \
    localhost/hook-one --annotation $e=a/b
expect_start_failure "annotation $e=\"\": the value must be true" \
    localhost/hook-one --annotation $e=
expect_start_failure "annotation $e/: \"\" is not a container name" \
    localhost/hook-one --annotation $e/=true
expect_start_failure "annotation $e/-x: \"-x\" is not a container name" \
    localhost/hook-one --annotation $e/-x=true
expect_start_failure "annotation io.podman-disk.writable=\"rw\": the value must be cow" \
    localhost/hook-one --annotation $e=true --annotation io.podman-disk.writable=rw
expect_start_failure "annotation io.podman-disk.disk=\"a.img\": the value must be the absolute path" \
    localhost/hook-one --annotation $e=true --annotation io.podman-disk.disk=a.img
expect_start_failure "unknown annotation io.podman-disk.disks: podman-disk knows" \
    localhost/hook-one --annotation $e=true --annotation io.podman-disk.disks=/disk/a.img
# The per-container form for this very container is checked too.
expect_start_failure "annotation $e/bad$((n + 1))=\"on\": the value must be true" \
    localhost/hook-one --annotation "$e/bad$((n + 1))=on"

# The disk itself.
expect_start_failure "container [0-9a-f]{12}: no disk to export \(the annotation io.podman-disk.disk=PATH picks one\): the image has no /disk/ directory" \
    localhost/hook-none --annotation $e=true
expect_start_failure "no disk to export .*: several disks under /disk/: .*a.img.*b.img" \
    localhost/hook-two --annotation $e=true
expect_start_failure "container [0-9a-f]{12}: io.podman-disk.disk=/disk/c.img: /disk/c.img: not found in the image" \
    localhost/hook-two --annotation $e=true --annotation io.podman-disk.disk=/disk/c.img
expect_start_failure "container [0-9a-f]{12}: /disk/backing.qcow2 in the container: qcow2 with a backing file \(/etc/passwd\) would open a host path" \
    localhost/hook-backing --annotation $e=true

# The server side: a socket path that cannot exist.
long=$tmpdir/$(printf 'v%.0s' $(seq 100))
mkdir -p "$long"
expect_start_failure "cannot export the disk /disk/a.img of container [0-9a-f]{12}: .*socket path too long" \
    localhost/hook-one --annotation $e=true -v "$long:/run/podman-disk"
[ -z "$(ls -A "$long")" ] || fail "something left in the volume"

# A bad value for another container (a pod's annotations reach all of
# its containers) is none of this one's business: it starts.
id=$(hpodman run -d --name good --annotation "$e/other=yes" --annotation io.podman-disk.disks=x \
         localhost/hook-one /bin/busybox sleep 1000)
[ "$(podman inspect -f '{{.State.Running}}' good)" = true ] || fail "good is not running"
assert_statedir_empty
hpodman rm -f -t 0 good >/dev/null

# The hook on its own: bad stdin, bad stage.
echo '{"id":"../x","status":"creating","pid":1,"bundle":"/b"}' > "$tmpdir/state"
expect_error 1 'the container id "\.\./x" is not a valid id' \
    podman_disk hook --state-dir "$statedir" createRuntime < "$tmpdir/state"
echo '{"id":"abc","status":"created","bundle":"/nonexistent"}' > "$tmpdir/state"
expect_error 1 'the OCI state of abc has no process id: is the hook configured for the createRuntime stage' \
    podman_disk hook --state-dir "$statedir" createRuntime < "$tmpdir/state"
# A stopped container, whatever the argument says: its export is stopped,
# none is started.
echo '{"id":"abc","status":"stopped","bundle":"/nonexistent"}' > "$tmpdir/state"
podman_disk hook --state-dir "$statedir" createRuntime < "$tmpdir/state" > "$tmpdir/out" 2>&1 ||
    fail "createRuntime for a stopped container: $(cat "$tmpdir/out")"
[ ! -s "$tmpdir/out" ] || fail "createRuntime for a stopped container said: $(cat "$tmpdir/out")"
# poststop of a container that has no export: nothing to do, quietly.
podman_disk hook --state-dir "$statedir" poststop < "$tmpdir/state" > "$tmpdir/out" 2>&1 ||
    fail "poststop without an export failed"
[ ! -s "$tmpdir/out" ] || fail "poststop without an export said something"
echo 'not json' | expect_error 1 'the OCI state on stdin is not valid JSON' \
    podman_disk hook --state-dir "$statedir" poststop
# The hook runs in the bundle's directory, its watcher in /.
echo '{"id":"abc","status":"stopped","bundle":"/nonexistent"}' > "$tmpdir/state"
rc=0
podman_disk hook --state-dir run poststop < "$tmpdir/state" 2>"$tmpdir/err" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--state-dir must be an absolute path, not 'run'" "$tmpdir/err" ||
    fail "a relative --state-dir: exit $rc, $(cat "$tmpdir/err")"
rc=0
podman_disk hook createContainer < /dev/null 2>"$tmpdir/err" || rc=$?
[ "$rc" = 2 ] && grep -q "unknown STAGE 'createContainer'" "$tmpdir/err" || fail "bad stage"
rc=0
podman_disk hook --state-dir "$statedir" _watch x < /dev/null 2>"$tmpdir/err" || rc=$?
[ "$rc" = 2 ] || fail "_watch with bad arguments: exit $rc"
# Without pidfds (old kernels, seccomp) the watcher gets -1 descriptors:
# arguments, not options, after the "--" that the hook puts first.
expect_error 1 '_watch: process 1 is not this watcher.s server' \
    podman_disk hook --state-dir "$statedir" -- _watch 0123abcd 1 -1 -1 1 "$statedir/x.sock" 1:1
assert_statedir_empty
exit 0
