#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# json prints a path that qemu opens later, by name: a path another user
# could swap in between (for a symlink to a host file) is refused, with
# the fd-based alternative named; --allow-foreign-path prints it anyway.
# With a real second local user who owns a layout and an archive:
#   - root's json refuses them (the exact line), prints with the flag;
#   - the swap attack, for real: after json --allow-foreign-path the user
#     swaps the blob for a symlink to a root-only file and qemu-img reads
#     that file's bytes (what the refusal prevents); json without the flag
#     gave qemu nothing to open; serve --run, attacked the same way while
#     it runs, serves the disk's own bytes;
#   - the user's own json of its layout prints (the caller's own), and so
#     does one owned by its subordinate uids (only it can map them);
#   - root's layout in a directory anyone may write: refused; sticky: fine;
#   - a store whose disk file belongs to the image's uid (107) under
#     overlay/ 0700: fine (no one else can reach it).
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires python3 --version
requires qemu-img --version
requires nbdcopy --version
requires useradd --help
requires runuser --help
layout_implemented || skip "OCI layouts are not implemented yet"

user=pdjson$$
home=$tmpdir/home-$user
useradd -m -d "$home" -s /bin/sh "$user" || skip "useradd $user failed"
cleanup_fn "userdel -f $user; sed -i '/^$user:/d' /etc/subuid /etc/subgid"
cleanup_fn "ps -o pid= -u $user | xargs -r kill -9"
uid=$(id -u "$user")
chmod 0755 "$home"
as_user () {
    runuser -u "$user" -- env HOME="$home" XDG_CACHE_HOME="$home/.cache" "$@"
}

mkdir -p "$tmpdir/layers"
chmod 0755 "$tmpdir/layers"
head -c 1M /dev/urandom > "$tmpdir/disk.raw"
chmod 0644 "$tmpdir/disk.raw"
mktar "$tmpdir/layers/good.tar" '[{"name":"disk","type":"dir"},{"name":"disk/disk.img","type":"file","from":"'"$tmpdir/disk.raw"'"}]'
chmod 0644 "$tmpdir/layers/good.tar"
# A root-only host file, larger than the disk: what the attack reads.
head -c 4M /dev/urandom > "$tmpdir/secret"
chmod 0600 "$tmpdir/secret"

# The user's layout and archive, made by the user.
as_user python3 "$hostiledir/mklayout.py" "$home/layout" img "$tmpdir/layers/good.tar"
as_user tar -C "$home/layout" -cf "$home/img.tar" .
layout=oci:$home/layout:img
blob=$(podman_disk locate "$layout" | field file)
offset=$(podman_disk locate "$layout" | field offset)
[ "$(stat -c %U "$blob")" = "$user" ] || fail "the blob is not the user's"

tail_re="another user could make the path name other bytes before qemu opens it; use 'podman-disk serve IMAGE --run CMD', which hands the server the open file, or pass --allow-foreign-path"
refused () {  # FILE COMPONENT WHY IMAGE: json IMAGE refused, naming them
    expect_error 1 "^podman-disk: $(regex_quote "$1"): $(regex_quote "$2") $3: $(regex_quote "$tail_re")\$" \
        podman_disk json "$4"
}

# ---- another user's layout and archive: refused, printed with the flag ----

refused "$blob" "$home" "is owned by uid $uid, neither root nor you" "$layout"
refused "$home/img.tar" "$home" "is owned by uid $uid, neither root nor you" "oci-archive:$home/img.tar:img"
spec=$(podman_disk json --allow-foreign-path "$layout")
[[ $spec == json:* ]] || fail "json --allow-foreign-path printed '$spec'"
qemu-img compare -q -f raw "$tmpdir/disk.raw" "$spec" ||
    fail "json --allow-foreign-path: qemu-img reads other bytes than the disk"
podman_disk json --allow-foreign-path "oci-archive:$home/img.tar:img" | grep -q '^json:' ||
    fail "json --allow-foreign-path of the archive printed no spec"
echo "ok - another user's layout and archive: refused; printed with --allow-foreign-path"

# ---- the swap attack ----

# Default: json refuses, so there is no path for qemu to open later.
spec=$(podman_disk json "$layout" 2>/dev/null) && fail "json printed a spec: $spec"
[ -z "$spec" ] || fail "json printed '$spec' while refusing"
# With the flag, the path is the user's to swap: qemu then reads the
# root-only file (this is what the refusal is for).
spec=$(podman_disk json --allow-foreign-path --no-decode "$layout")
as_user mv "$blob" "$blob.orig"
as_user ln -s "$tmpdir/secret" "$blob"
qemu-img convert -f raw -O raw "$spec" "$tmpdir/attacked.raw"
dd if="$tmpdir/secret" of="$tmpdir/secret.part" iflag=skip_bytes,count_bytes \
   skip="$offset" count=$((1024 * 1024)) status=none
cmp -s "$tmpdir/attacked.raw" "$tmpdir/secret.part" ||
    fail "the swap after json --allow-foreign-path did not reach the host file: is the attack still real?"
as_user rm "$blob"
as_user mv "$blob.orig" "$blob"
echo "ok - the swap after json: qemu reads the host file, had json printed the path"
# serve --run: the blob is swapped while the server runs; it serves the
# file it opened, the disk.
export BLOB=$blob SECRET=$tmpdir/secret SWAP_USER=$user
podman_disk serve "$layout" --no-decode --run '
    runuser -u "$SWAP_USER" -- mv "$BLOB" "$BLOB.orig" &&
    runuser -u "$SWAP_USER" -- ln -s "$SECRET" "$BLOB" &&
    nbdcopy "$uri" "$HOSTILE_TMP/served.raw"' ||
    fail "serve --run with the swap failed"
[ -L "$blob" ] || fail "the blob was not swapped during serve --run"
cmp "$tmpdir/served.raw" "$tmpdir/disk.raw" ||
    fail "serve --run served other bytes than the disk after the swap"
not_host_secret "$tmpdir/served.raw"
as_user rm "$blob"
as_user mv "$blob.orig" "$blob"
echo "ok - the same swap during serve --run: the disk's own bytes served"

# ---- the caller's own, and its subordinate uids' ----

as_user "$PODMAN_DISK" json "$layout" | grep -q '^json:' ||
    fail "the user's json of its own layout printed no spec"
grep -q "^$user:" /etc/subuid || echo "$user:$((300000 + $$ % 1000 * 65536)):65536" >> /etc/subuid
sub=$(( $(sed -n "s/^$user:\([0-9]*\):.*/\1/p" /etc/subuid | head -1) + 1000 ))
cp -a "$home/layout" "$home/sublayout"
chown -R "$sub" "$home/sublayout"
chmod -R a+rX "$home/sublayout"
as_user "$PODMAN_DISK" json "oci:$home/sublayout:img" | grep -q '^json:' ||
    fail "the user's json of a layout of its subordinate uid $sub printed no spec"
sblob=$(podman_disk locate "oci:$home/sublayout:img" | field file)
refused "$sblob" "$home" "is owned by uid $uid, neither root nor you" "oci:$home/sublayout:img"
echo "ok - the user's own layout, and one of its subordinate uid: printed for it"

# ---- root's layout, in a directory anyone may write ----

mkdir -m 0777 "$tmpdir/shared"
mklayout "$tmpdir/shared/layout" img "$tmpdir/layers/good.tar"
rblob=$(podman_disk locate "oci:$tmpdir/shared/layout:img" | field file)
refused "$rblob" "$tmpdir/shared" "is writable by group or others \\(mode 0777\\) without the sticky bit" \
    "oci:$tmpdir/shared/layout:img"
chmod 1777 "$tmpdir/shared"
podman_disk json "oci:$tmpdir/shared/layout:img" | grep -q '^json:' ||
    fail "json of root's layout in a sticky directory printed no spec"
# A blob anyone may write is anyone's bytes.
chmod 0666 "$rblob"
refused "$rblob" "$rblob" "is writable by group or others \\(mode 0666\\)" "oci:$tmpdir/shared/layout:img"
chmod 0644 "$rblob"
echo "ok - root's layout: refused in a directory anyone writes, fine in a sticky one"

# ---- a store: the disk is the image's uid's, out of everyone's reach ----

mkdir -p "$tmpdir/st/root" "$tmpdir/st/run"
python3 "$hostiledir/mkstore.py" "$tmpdir/st/root" localhost/s:latest 2 "$tmpdir/disk.raw"
sref="containers-storage:[overlay@$tmpdir/st/root+$tmpdir/st/run]localhost/s:latest"
sdisk=$(podman_disk locate "$sref" | field file)
chown 107:107 "$sdisk" "$(dirname "$sdisk")"
chmod 0440 "$sdisk"
spec=$(podman_disk json --no-decode "$sref")
qemu-img compare -q -f raw "$tmpdir/disk.raw" "$spec" ||
    fail "json of the store's disk owned by uid 107: other bytes"
# Were overlay/ open to everyone, uid 107 could swap it: refused.
chmod 0755 "$tmpdir/st/root/overlay"
refused "$sdisk" "$(dirname "$sdisk")" "is owned by uid 107, neither root nor you" "$sref"
echo "ok - a store's disk owned by uid 107 under overlay/ 0700: printed; under 0755: refused"
