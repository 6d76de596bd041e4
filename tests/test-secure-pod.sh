#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A pod's export under attack by a neighbour container of the same pod:
# the shared volume at /run/podman-disk is writable by every container of
# the pod, so a neighbour can remove the disk's socket there and serve its
# own bytes in its place.  The host's endpoint (the registry's socket,
# the uri that 'exports' advertises) must still be the real server's: it
# is a second listening socket of the same server, not a link into the
# volume.  The disk is a qcow2, so the guest view (qemu-nbd, which takes
# one socket only) is served through nbdkit's nbd plugin on both.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"
[ -x /usr/libexec/podman/catatonit ] || requires command -v catatonit
requires qemu-nbd --version

make_qcow2_disk "$tmpdir/disk.qcow2"
qemu-img convert -f qcow2 -O raw "$tmpdir/disk.qcow2" "$tmpdir/guest.raw"
build_hook_image localhost/hook-qcow2 "$tmpdir/disk.qcow2"

# The neighbour runs the host's nbdkit: an image of merged-/usr symlinks,
# the host's /usr mounted read-only.
build_host_tools_image localhost/hook-neighbour

vol=$tmpdir/vol
mkdir -p "$vol"
cat > "$tmpdir/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: securepod
  annotations:
    io.podman-disk.export/disk: "true"
spec:
  restartPolicy: Never
  containers:
  - name: disk
    image: localhost/hook-qcow2
    command: ["/bin/busybox", "sleep", "1000"]
    volumeMounts:
    - name: sock
      mountPath: /run/podman-disk
  volumes:
  - name: sock
    hostPath:
      path: $vol
      type: Directory
EOF
cleanup_fn "podman pod rm -f -t 0 securepod"
hpodman kube play "$tmpdir/pod.yaml" >/dev/null
id=$(podman inspect -f '{{.Id}}' securepod-disk)
[ -f "$statedir/$id.json" ] || fail "the disk container is not exported"
uri=$(record_field "$id" uri)
vuri="nbd+unix:///?socket=$vol/disk.sock"
size=$(stat -c %s "$tmpdir/guest.raw")

# Both endpoints serve the guest view, read-only.
for u in "$uri" "$vuri"; do
    [ "$(nbdinfo --size "$u")" = "$size" ] || fail "$u: not the virtual size"
    nbdinfo --is read-only "$u" || fail "$u: not read-only"
    nbdcopy "$u" "$tmpdir/copy.raw"
    cmp "$tmpdir/guest.raw" "$tmpdir/copy.raw" || fail "$u: not the guest view"
done

# The neighbour, in the pod with the same volume, takes the pod's socket.
hpodman run -d --name securepod-neighbour --pod securepod \
    -v "$vol:/run/podman-disk" -v /usr:/usr:ro localhost/hook-neighbour \
    /bin/sh -c 'rm -f /run/podman-disk/disk.sock &&
                exec nbdkit -f -U /run/podman-disk/disk.sock memory 1M' >/dev/null
cleanup_fn "podman rm -f -t 0 securepod-neighbour"
wait_until 60 eval '[ "$(nbdinfo --size "$vuri" 2>/dev/null)" = 1048576 ]' ||
    fail "the neighbour did not take the pod's socket: $(podman logs securepod-neighbour 2>&1)"

# The host's clients still read the disk, from the real server.
[ "$(nbdinfo --size "$uri")" = "$size" ] || fail "host endpoint: size changed"
nbdcopy "$uri" "$tmpdir/host.raw"
cmp "$tmpdir/guest.raw" "$tmpdir/host.raw" ||
    fail "the host's endpoint served the neighbour's bytes"

# Stopping leaves the neighbour's socket alone (it is not ours) and
# removes everything that is.
watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
# (qemu-nbd runs behind nbdkit, its child: it goes too)
decoder=$(awk '{print $1}' "/proc/$server/task/$server/children")
[ "$(cat "/proc/$decoder/comm" 2>/dev/null)" = qemu-nbd ] ||
    fail "no qemu-nbd behind the pod's nbdkit: $(ps -o pid,args --ppid "$server")"
podman rm -f -t 0 securepod-neighbour >/dev/null
hpodman pod rm -f -t 0 securepod >/dev/null
assert_export_gone "$id" "$watcher" "$server"
wait_until 30 pid_gone "$decoder" || fail "qemu-nbd $decoder still runs"
assert_statedir_empty
echo PASS
