#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The README's workflows, run as they are written: every ```sh block that
# follows a '<!-- test: NAME -->' line runs in a directory of its own, on
# the demo image built by scripts/demo.sh into a private store, with the
# hook of this build; then its results are checked against the disk that
# went into the image, byte for byte.  A block whose tools this machine
# lacks is reported and left out; the others still count.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hook-functions.sh"    # root, a private store, the hook
requires qemu-img --version
requires qemu-nbd --version
requires nbdfuse --version
requires debugfs -V
requires mkfs.ext4 -V

readme=$top_srcdir/README.md
image=localhost/podman-disk-demo

# What the blocks call by name: podman on the private store with this
# build's hooks, podman-disk this build (its exports those of the hook's
# private state directory, where serve records its background servers and
# stop finds them).
bin=$tmpdir/bin
mkdir -p "$bin"
cat > "$bin/podman" <<EOS
#!/bin/sh
exec $(type -P podman) --root '$store/root' --runroot '$store/runroot' --hooks-dir '$hooksdir' "\$@"
EOS
cat > "$bin/podman-disk" <<EOS
#!/bin/sh
case "\$1" in exports|stop|serve)
    cmd=\$1; shift; exec '$PODMAN_DISK' "\$cmd" --state-dir '$statedir' "\$@" ;;
esac
exec '$PODMAN_DISK' "\$@"
EOS
# nbdkit with the plugin of this build for 'podman-disk', the name by
# which the installed one is found.
cat > "$bin/nbdkit" <<EOS
#!/bin/bash
args=()
for a; do
    [ "\$a" = podman-disk ] && [ -n "${PODMAN_DISK_PLUGIN:-}" ] && a='${PODMAN_DISK_PLUGIN:-}'
    args+=("\$a")
done
exec $(type -P nbdkit) "\${args[@]}"
EOS
chmod +x "$bin/podman" "$bin/podman-disk" "$bin/nbdkit"
export PATH=$bin:$PATH

# The demo image, as 'make demo' builds it, and its guest disk as raw.
PODMAN_DISK=$bin/podman-disk "$top_srcdir/scripts/demo.sh" --build-only "$tmpdir"
qemu-img convert -f qcow2 -O raw "$tmpdir/original.qcow2" "$tmpdir/original.raw"
original_sum=$(sha256sum < "$tmpdir/original.raw" | cut -d' ' -f1)
hello="Hello from inside a containerDisk."

# block NAME: the text of the sh block marked NAME.
block () {
    awk -v marker="<!-- test: $1 -->" '
        $0 == marker { state = 1; next }
        state == 1 && $0 == "```sh" { state = 2; next }
        state == 1 { exit }             # the block must follow the marker
        state == 2 && $0 == "```" { exit }
        state == 2 { print }' "$readme"
}

# Every marked block is one that this test checks, and none is empty.
checked="nbdinfo activation cp-stdout tls nbdcopy qemu-img nbdfuse background virt-cat qemu-system qemu-system-blockdev pod clone plugin-copy plugin-cow plugin-store"
for name in $(sed -n 's/^<!-- test: \(.*\) -->$/\1/p' "$readme"); do
    case " $checked " in *" $name "*) ;; *) fail "README block '$name' is not checked here" ;; esac
done
for name in $checked; do
    [ -n "$(block "$name")" ] || fail "README has no sh block marked '$name'"
done

# run_block NAME: run it with bash -e in $tmpdir/wf-NAME (then $wf), its
# output in $out.  Bounded, so that a hang fails rather than blocks.
run_block () {
    wf=$tmpdir/wf-$1 out=$tmpdir/wf-$1.out
    mkdir -p "$wf"
    block "$1" > "$tmpdir/wf-$1.sh"
    if ! (cd "$wf" && timeout 600 bash -e -u -o pipefail "$tmpdir/wf-$1.sh") \
         > "$out" 2>&1 < /dev/null; then
        cat "$out" >&2
        fail "the README's '$1' workflow failed"
    fi
    sed "s/^/$1| /" "$out"      # for the log
}
expect_output () {
    grep -qF -- "$2" "$out" || { cat "$out" >&2; fail "'$1': no '$2' in its output"; }
}
left_out=()

run_block nbdinfo
expect_output nbdinfo "export-size: 33554432"
expect_output nbdinfo "is_read_only: true"

run_block nbdcopy
cmp "$tmpdir/original.raw" "$wf/disk.raw" || fail "nbdcopy copied other bytes"

run_block activation
expect_output activation "33554432"
cmp "$tmpdir/original.raw" "$wf/activated.raw" || fail "'activation': nbdcopy copied other bytes"

run_block cp-stdout
expect_output cp-stdout "$original_sum  -"

if command -v psktool >/dev/null; then
    run_block tls
    cmp "$tmpdir/original.raw" "$wf/tls.raw" || fail "'tls': nbdcopy copied other bytes"
else
    left_out+=("tls: psktool not installed (Debian: gnutls-bin)")
fi

run_block qemu-img
expect_output qemu-img "file format: qcow2"
qemu-img compare -f qcow2 -F qcow2 "$tmpdir/original.qcow2" "$wf/disk.qcow2" ||
    fail "qemu-img convert wrote another disk"

cleanup_fn "fusermount3 -u '$tmpdir/wf-nbdfuse/mnt'"
cleanup_fn "[ -s '$tmpdir/wf-nbdfuse/server.pid' ] && kill \$(cat '$tmpdir/wf-nbdfuse/server.pid')"
run_block nbdfuse
expect_output nbdfuse "$original_sum  mnt/disk.raw"
expect_output nbdfuse "$hello"
! mountpoint -q "$wf/mnt" || fail "nbdfuse is still mounted"
# The watcher removes the pid file when the server is gone.
wait_until 30 test ! -e "$wf/server.pid" || fail "the server was not stopped"

# In the background without a pid file: exports lists it (kind serve, the
# URI serve printed), stop by image stops it and prints its id; nothing of
# it is left.
run_block background
expect_output background "33554432"
bg_uri=$(cat "$wf/uri")
bg_id=$(awk '$1 ~ /^serve-/ && $10 == "serve" { print $1 }' "$out")
[ -n "$bg_id" ] && grep -qF -- "$bg_uri" "$out" ||
    fail "'background': exports does not list the serve with its URI"
grep -qx "$bg_id" "$out" || fail "'background': stop did not print $bg_id"
[ ! -e "$statedir/$bg_id.json" ] || fail "'background': the record is left"
bg_sock=${bg_uri#*socket=}
[ ! -e "$bg_sock" ] || fail "'background': the socket $bg_sock is left"

# libguestfs boots a small VM of its own: with a kernel of the host's,
# and without KVM only emulated (slow, but minutes at most).
if [ -n "${SKIP_ONCE_TESTS:-}" ]; then
    # (a build variant's run: libguestfs boots once per CI run, in the
    # plain make check, as the guest boots do)
    left_out+=("virt-cat: libguestfs runs once, in the plain 'make check'")
elif ! command -v virt-cat >/dev/null; then
    left_out+=("virt-cat: not installed (Debian: libguestfs-tools)")
elif ! compgen -G "/boot/vmlinuz-*" >/dev/null && ! compgen -G "/lib/modules/*/vmlinuz" >/dev/null; then
    left_out+=("virt-cat: no kernel for libguestfs's appliance (Debian: linux-image-cloud-amd64)")
else
    # A /dev/kvm may be there and still not work (nested, containers):
    # emulate always, unless told otherwise.
    export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
    run_block virt-cat
    expect_output virt-cat "$hello"
fi

if command -v qemu-system-x86_64 >/dev/null; then
    run_block qemu-system
    # The drive is the NBD export, under the throw-away overlay.
    expect_output qemu-system "virtio0"
    expect_output qemu-system '"driver": "nbd"'
    # The disk in place: -blockdev read-only, -drive --snapshot with the
    # disk under qemu's throw-away overlay; qcow2 named in both.
    run_block qemu-system-blockdev
    expect_output qemu-system-blockdev 'disk0: json:{"driver": "qcow2"'
    expect_output qemu-system-blockdev '(qcow2, read-only)'
    expect_output qemu-system-blockdev 'Backing file:     json:{"driver": "qcow2"'
    expect_output qemu-system-blockdev 'virtio0 (#block'
else
    left_out+=("qemu-system: not installed (Debian: qemu-system-x86)")
fi

# The nbdkit plugin's blocks: the stored qcow2, a write into the cow
# overlay, the store's list and an export of it.
if [ -n "${PODMAN_DISK_PLUGIN:-}" ] && [ -f "$PODMAN_DISK_PLUGIN" ] &&
       ldd "$PODMAN_DISK_PLUGIN" | grep -q libasan; then
    # (see plugin-lib.sh: nbdkit cannot load a sanitizer build's plugin)
    left_out+=("plugin-copy, plugin-cow, plugin-store: the plugin is a sanitizer build, which nbdkit cannot load")
elif [ -n "${PODMAN_DISK_PLUGIN:-}" ] && [ -f "$PODMAN_DISK_PLUGIN" ]; then
    run_block plugin-copy
    cmp "$tmpdir/original.qcow2" "$wf/disk.qcow2" || fail "'plugin-copy': other bytes than the stored qcow2"
    expect_output plugin-copy "file format: qcow2"
    run_block plugin-cow
    expect_output plugin-cow "read 65536/65536 bytes"
    run_block plugin-store
    expect_output plugin-store 'export="localhost/podman-disk-demo:latest":'
    cmp "$tmpdir/original.qcow2" "$wf/demo.qcow2" || fail "'plugin-store': other bytes than the stored qcow2"
else
    left_out+=("plugin-copy, plugin-cow, plugin-store: the nbdkit plugin is not built (nbdkit-plugin-dev)")
fi

cleanup_fn "hpodman pod rm -f -t 0 vm"
run_block pod
expect_output pod "$original_sum  -"
grep -qE '^[0-9a-f]{12} +disk +localhost/podman-disk-demo:latest .* yes +nbd\+unix:' "$out" ||
    fail "'pod': podman-disk exports does not list the live export of the container 'disk'"
# kube down stopped the export: its socket, record and log are gone.
wait_until 30 test -z "$(ls -A "$tmpdir/wf-pod/nbd")" || fail "'pod': the socket is left in the volume"
wait_until 30 test -z "$(ls -A "$statedir")" || assert_statedir_empty

if command -v qemu-system-x86_64 >/dev/null; then
    run_block clone
    expect_output clone "backing file format: qcow2"
    expect_output clone "virtual size: 64 MiB"
    expect_output clone "67108864"
    expect_output clone "virtio0"
    grep -qE "^$tmpdir/wf-clone/vm.qcow2 +localhost/podman-disk-demo:latest .* intact$" "$out" ||
        fail "'clone': podman-disk clones does not list the clone"
    qemu-img compare -f qcow2 "$tmpdir/original.qcow2" "$tmpdir/wf-clone/vm.qcow2" ||
        fail "'clone': the clone's guest sees another disk"
    [ -z "$(hpodman ps -a --filter label=io.podman-disk.clone -q)" ] ||
        fail "'clone': the hold was not released"
else
    left_out+=("clone: qemu-system-x86_64 not installed (Debian: qemu-system-x86)")
fi

for why in "${left_out[@]}"; do
    echo "$testname: left out: $why"
done
echo "README workflows OK"
