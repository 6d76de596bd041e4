#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Layout blobs (and archives) that are hard links to files outside the
# layout, owned by someone else than the layout's owner: their bytes are
# that other file's, whoever owns it may change them after any check
# (even --verify's), and a layout owner who may link a root-only file
# (fs.protected_hardlinks off) would have root serve it.  Refused by
# locate, json, serve and cp with one line, before any byte is read.
# Hard links of the layout owner's own files (as tests/layout-functions.sh
# makes them, as cp -al does) stay fine.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires_root
requires python3 --version
requires qemu-img --version
layout_implemented || skip "OCI layouts are not implemented yet"
have_storage=false have_layout=true

# A uid no one on the machine has: only the numbers matter here.
other=$((420000 + $$ % 10000))
L=$tmpdir/layers O=$tmpdir/oci
mkdir -p "$L"
head -c 1M /dev/urandom > "$tmpdir/disk.raw"
mktar "$L/good.tar" '[{"name":"disk","type":"dir"},{"name":"disk/disk.img","type":"file","from":"'"$tmpdir/disk.raw"'"}]'
fresh () { rm -rf "$O"; mklayout "$O" img "$L/good.tar"; }
layer_blob () {
    python3 - "$O" <<'EOP'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/index.json"))["manifests"][0]["digest"].split(":")[1]
l = json.load(open(d + "/blobs/sha256/" + m))["layers"][0]["digest"].split(":")[1]
print(d + "/blobs/sha256/" + l)
EOP
}
img=oci:$O:img
refusal () {  # BLOB OWNER LAYOUT-OWNER: the expected line (a regex)
    local d
    d=$(basename "$1")
    echo "layer sha256:$d \\(application/vnd\\.oci\\.image\\.layer\\.v1\\.tar\\): $(regex_quote "$1"): a hard link \\(2 links\\) owned by uid $2, not by the owner of the layout \\(uid $3\\): its bytes are another file's; refused \\(copy the file in, do not link it\\)"
}

# The good layout, and one whose blob is a hard link of root's own file
# (root owns the layout): served.
fresh
hostile_case "$img" "served:$tmpdir/disk.raw"
blob=$(layer_blob)
cp "$blob" "$tmpdir/root-own.tar"
ln -f "$tmpdir/root-own.tar" "$blob"
hostile_case "$img" "served:$tmpdir/disk.raw"

# Root's layout, the blob a hard link of another user's file (same
# bytes, so every digest matches): refused, with and without --verify.
fresh
blob=$(layer_blob)
cp "$blob" "$tmpdir/other-file.tar"
chown "$other" "$tmpdir/other-file.tar"
ln -f "$tmpdir/other-file.tar" "$blob"
hostile_case "$img" "$(refusal "$blob" "$other" 0)"
hostile_case "$img" "$(refusal "$blob" "$other" 0)" --verify
# Had it been served, its owner could have changed the bytes after the
# check: the file outside is still what the blob names.
[ "$(stat -c %i "$blob")" = "$(stat -c %i "$tmpdir/other-file.tar")" ] ||
    fail "the blob is no longer a link of the outside file"

# Another user's layout, the blob a hard link of a root-only file (as
# that user could make it with fs.protected_hardlinks=0; root makes it
# here): refused, no byte of the secret served.
fresh
blob=$(layer_blob)
cp "$blob" "$tmpdir/root-secret.tar"
chmod 0600 "$tmpdir/root-secret.tar"
ln -f "$tmpdir/root-secret.tar" "$blob"
chown -R "$other" "$O"
chown 0 "$blob"
hostile_case "$img" "$(refusal "$blob" 0 "$other")"

# An archive: a hard link of root's archive in another user's directory.
fresh
chown -R 0 "$O"
tar -C "$O" -cf "$tmpdir/root.tar" .
mkdir "$tmpdir/other-dir"
chown "$other" "$tmpdir/other-dir"
ln "$tmpdir/root.tar" "$tmpdir/other-dir/linked.tar"
a=$tmpdir/other-dir/linked.tar
hostile_case "oci-archive:$a:img" "$(regex_quote "$a"): a hard link \\(2 links\\) owned by uid 0, not by the owner of the archive's directory \\(uid $other\\): its bytes are another file's; refused \\(copy the file in, do not link it\\)"
# In root's own directory, the same link is root's own archive: served.
ln "$tmpdir/root.tar" "$tmpdir/root-linked.tar"
hostile_case "oci-archive:$tmpdir/root-linked.tar:img" "served:$tmpdir/disk.raw"

hostile_done
