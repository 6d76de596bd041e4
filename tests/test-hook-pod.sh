#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The OCI hook in a pod (podman kube play): the pod-level annotation
# io.podman-disk.export/disk marks the container named disk only (podman
# 4.3 gives pod annotations to every container), its socket appears in the
# volume shared at /run/podman-disk, and a consumer container of the pod
# reads the disk through it.  Removing the pod leaves nothing.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"
[ -x /usr/libexec/podman/catatonit ] || requires command -v catatonit

make_raw_disk "$tmpdir/raw.img" 8
build_hook_image localhost/hook-raw "$tmpdir/raw.img"

# The consumer runs the host's nbdcopy: its image is the usual merged-/usr
# symlinks, and the host's /usr is mounted read-only.  A pod starts its
# containers concurrently, so it waits for the socket (bounded) first.
build_host_tools_image localhost/hook-consumer

vol=$tmpdir/vol
out=$tmpdir/out
mkdir -p "$vol" "$out"
chmod 0777 "$out"
cat > "$tmpdir/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: diskpod
  annotations:
    io.podman-disk.export/disk: "true"
spec:
  restartPolicy: Never
  containers:
  - name: disk
    image: localhost/hook-raw
    command: ["/bin/busybox", "sleep", "1000"]
    volumeMounts:
    - name: sock
      mountPath: /run/podman-disk
  - name: consumer
    image: localhost/hook-consumer
    securityContext:
      runAsUser: 107
    command: ["/usr/bin/busybox", "sh", "-c",
              "for i in \$(seq 600); do [ -S /run/podman-disk/disk.sock ] && break; sleep 0.1; done;
               exec nbdcopy nbd+unix:///?socket=/run/podman-disk/disk.sock /out/disk.raw"]
    volumeMounts:
    - name: sock
      mountPath: /run/podman-disk
    - name: usr
      mountPath: /usr
      readOnly: true
    - name: out
      mountPath: /out
  volumes:
  - name: sock
    hostPath:
      path: $vol
      type: Directory
  - name: usr
    hostPath:
      path: /usr
      type: Directory
  - name: out
    hostPath:
      path: $out
      type: Directory
EOF
cleanup_fn "podman pod rm -f -t 0 diskpod"
hpodman kube play "$tmpdir/pod.yaml" >/dev/null

# Only the disk container is exported.
id=$(podman inspect -f '{{.Id}}' diskpod-disk)
[ "$(ls "$statedir"/*.json | wc -l)" = 1 ] || fail "more than one export in the pod"
[ -f "$statedir/$id.json" ] || fail "the disk container is not exported"
[ "$(record_field "$id" name)" = disk ] || fail "export name"
[ -S "$vol/disk.sock" ] || fail "no socket in the shared volume"
[ "$(stat -c %A "$vol/disk.sock")" = srw-rw-rw- ] ||
    fail "the pod's socket is $(stat -c %A "$vol/disk.sock"): not for every user of the pod"
# The host's endpoint is a socket of its own in the registry, not a link
# into the volume (test-secure-pod replaces the volume's).
[ -S "$statedir/$id.sock" ] && [ ! -L "$statedir/$id.sock" ] ||
    fail "the host socket is not a socket of the registry's own"
[ "$(record_field "$id" volume_socket)" = "$vol/disk.sock" ] || fail "record volume_socket"
[ "$(record_field "$id" container_uri)" = \
  "nbd+unix:///?socket=/run/podman-disk/disk.sock" ] || fail "record container_uri"

# The consumer (uid 107, as KubeVirt's qemu) read the disk through the
# socket from inside the pod.
[ "$(podman wait diskpod-consumer)" = 0 ] ||
    { podman logs diskpod-consumer >&2; fail "the consumer failed"; }
cmp "$tmpdir/raw.img" "$out/disk.raw" || fail "the consumer read other bytes"
[ "$(stat -c %u "$out/disk.raw")" = 107 ] || fail "the consumer did not run as uid 107"

# And the host reads it through the registry's socket.
uri=$(record_field "$id" uri)
nbdinfo --is read-only "$uri" || fail "not read-only"
nbdcopy "$uri" "$tmpdir/host.raw"
cmp "$tmpdir/raw.img" "$tmpdir/host.raw" || fail "host read other bytes"

watcher=$(record_field "$id" watcher_pid)
server=$(record_field "$id" pid)
file=$(record_field "$id" file)
hpodman pod rm -f -t 0 diskpod >/dev/null
assert_export_gone "$id" "$watcher" "$server"
[ -z "$(ls -A "$vol")" ] || { ls -la "$vol" >&2; fail "the volume is not empty"; }
assert_not_open "$file"
assert_statedir_empty

# A stale socket in the volume (a crash) does not block the next start,
# while a file that is not a socket is never removed: the start fails.
python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" "$vol/disk.sock"
hpodman kube play "$tmpdir/pod.yaml" >/dev/null
id=$(podman inspect -f '{{.Id}}' diskpod-disk)
nbdinfo --size "$(record_field "$id" uri)" >/dev/null || fail "over a stale socket"
hpodman pod rm -f -t 0 diskpod >/dev/null
wait_until 30 test ! -e "$vol/disk.sock" || fail "volume socket left"
echo "user data" > "$vol/disk.sock"
hpodman kube play "$tmpdir/pod.yaml" >"$tmpdir/out.txt" 2>&1 &&
    fail "started over a regular file named disk.sock"
grep -q "disk.sock exists and is not a socket" "$tmpdir/out.txt" ||
    { cat "$tmpdir/out.txt" >&2; fail "no clear message for a non-socket"; }
[ "$(cat "$vol/disk.sock")" = "user data" ] || fail "the user's file was touched"
hpodman pod rm -f -t 0 diskpod >/dev/null
assert_statedir_empty
exit 0
