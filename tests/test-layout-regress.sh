#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# OCI layout reader regressions (issue 7): index.json holding null;
# two manifests under one ref name; a symlink in a directory component of
# a blob's path when openat2 is missing (valgrind does not know openat2,
# so under it the reader takes the component-by-component fallback that
# kernels before 5.6 get); a FIFO as a blob, index.json or archive.
source "$(dirname "$0")/functions.sh"
source "$testsdir/hostile/functions.sh"
requires python3 --version
layout_implemented || skip "OCI layouts are not implemented yet"

O=$tmpdir/oci
head -c 1M /dev/urandom > "$tmpdir/disk.raw"
mktar "$tmpdir/good.tar" '[{"name":"disk","type":"dir"},{"name":"disk/disk.img","type":"file","from":"'"$tmpdir/disk.raw"'"}]'
fresh () { rm -rf "$O"; mklayout "$O" img "$tmpdir/good.tar"; }
fresh
podman_disk locate "oci:$O:img" > /dev/null || fail "the good layout is refused"

# null is not a truncated document.
echo null > "$O/index.json"
expect_error 1 'index.json: not a JSON object \(it holds null\)$' \
    podman_disk locate "oci:$O:img"
echo '[1]' > "$O/index.json"
expect_error 1 'index.json: not a JSON object \(it holds array\)$' \
    podman_disk locate "oci:$O:img"

# The same manifest entry twice under "img" (and once more differing in
# nothing but a platform both share): ambiguous, naming the digests.
fresh
python3 - "$O/index.json" <<'EOP'
import json, sys
p = sys.argv[1]
v = json.load(open(p))
m = v["manifests"][0]
v["manifests"] = [m, dict(m)]
json.dump(v, open(p, "w"))
EOP
expect_error 1 "index.json: 2 manifests are named 'img': ambiguous \\(sha256:[0-9a-f]{64}, sha256:[0-9a-f]{64}\\); the layout is damaged" \
    podman_disk locate "oci:$O:img"
expect_error 1 "ambiguous" podman_disk locate "oci:$O"
python3 - "$O/index.json" <<'EOP'
import json, sys
p = sys.argv[1]
v = json.load(open(p))
for m in v["manifests"]:
    m["platform"] = {"os": "linux", "architecture": "amd64"}
json.dump(v, open(p, "w"))
EOP
expect_error 1 "2 manifests are named 'img': ambiguous" \
    podman_disk locate "oci:$O:img"
# Two platforms under one name stay a valid multi-platform image.
python3 - "$O/index.json" <<'EOP'
import json, sys
p = sys.argv[1]
v = json.load(open(p))
v["manifests"][1]["platform"] = {"os": "linux", "architecture": "s390x"}
json.dump(v, open(p, "w"))
EOP
podman_disk locate --platform linux/s390x "oci:$O:img" > /dev/null ||
    fail "a two-platform image under one name is refused"

# blobs/ a symlink to a copy of the blobs outside the layout: refused
# with openat2 (resolved inside the layout: not found) and without it
# (O_NOFOLLOW on every component).
fresh
mv "$O/blobs" "$tmpdir/outside-blobs"
ln -s "$tmpdir/outside-blobs" "$O/blobs"
expect_error 1 'blobs/sha256/[0-9a-f]{64}.*(No such file|not found|missing|Too many levels of symbolic links)' \
    podman_disk locate "oci:$O:img"
# (check-valgrind runs the tests with PODMAN_DISK a valgrind wrapper.)
real=${PODMAN_DISK_REAL:-$PODMAN_DISK}
# (An ASan build cannot run under valgrind: then the fallback is not
# exercised here, but in make check and check-valgrind.)
if valgrind --version >/dev/null 2>&1 &&
   valgrind -q "$real" --help >/dev/null 2>&1; then
    # Under valgrind openat2 is ENOSYS: the fallback path.
    rc=0
    valgrind -q --error-exitcode=99 "$real" locate "oci:$O:img" \
        > "$tmpdir/out" 2> "$tmpdir/verr" || rc=$?
    [ $rc = 1 ] || { cat "$tmpdir/verr"; fail "fallback: exit $rc, not 1"; }
    grep -q 'Too many levels of symbolic links' "$tmpdir/verr" ||
        { cat "$tmpdir/verr"; fail "fallback: the blobs/ symlink was followed"; }
    # A symlink deeper down (blobs/sha256) likewise.
    rm "$O/blobs"; mkdir "$O/blobs"
    ln -s "$tmpdir/outside-blobs/sha256" "$O/blobs/sha256"
    rc=0
    valgrind -q --error-exitcode=99 "$real" locate "oci:$O:img" \
        > "$tmpdir/out" 2> "$tmpdir/verr" || rc=$?
    [ $rc = 1 ] && grep -q 'Too many levels of symbolic links' "$tmpdir/verr" ||
        { cat "$tmpdir/verr"; fail "fallback: the blobs/sha256 symlink was followed"; }
    # And the plain layout still reads through the fallback.
    fresh
    valgrind -q --error-exitcode=99 "$real" locate "oci:$O:img" \
        > "$tmpdir/out" 2> "$tmpdir/verr" ||
        { cat "$tmpdir/verr"; fail "fallback: the good layout is refused"; }
else
    echo "valgrind missing or unable to run $real: the no-openat2 fallback is not exercised"
fi
# A FIFO where a blob, index.json or the archive should be: refused at
# once as not a regular file, never waited on (timeout: a hang fails).
fresh
blob=$(podman_disk locate "oci:$O:img" | field file)
rm "$blob"; mkfifo "$blob"
expect_error 1 "^podman-disk: layer sha256:[0-9a-f]{64} \(application/vnd\.oci\.image\.layer\.v1\.tar\): $O/blobs/sha256/[0-9a-f]{64}: not a regular file\$" \
    timeout 30 "$PODMAN_DISK" locate "oci:$O:img"
fresh
rm "$O/index.json"; mkfifo "$O/index.json"
expect_error 1 "^podman-disk: $O/index\.json: not a regular file\$" \
    timeout 30 "$PODMAN_DISK" locate "oci:$O:img"
mkfifo "$tmpdir/fifo.tar"
expect_error 1 "^podman-disk: oci-archive:$tmpdir/fifo\.tar: not a regular file" \
    timeout 30 "$PODMAN_DISK" locate "oci-archive:$tmpdir/fifo.tar"
fresh

# locate's text form: a member name holding a newline and an escape
# stays on its one line ('?' for control bytes, as in error messages);
# --format json keeps it exact.
mktar "$tmpdir/evil.tar" '[{"name":"disk","type":"dir"},{"name":"disk/x\nformat: qcow2\u001b[31m.img","type":"file","from":"'"$tmpdir/disk.raw"'"}]'
rm -rf "$tmpdir/evil"; mklayout "$tmpdir/evil" img "$tmpdir/evil.tar"
podman_disk locate "oci:$tmpdir/evil:img" > "$tmpdir/text"
podman_disk locate --format json "oci:$tmpdir/evil:img" > "$tmpdir/json"
keys=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmpdir/json")
[ "$(wc -l < "$tmpdir/text")" = "$keys" ] ||
    { cat -A "$tmpdir/text"; fail "locate text: more lines than fields"; }
[ "$(grep -c '^format: ' "$tmpdir/text")" = 1 ] && grep -qx 'format: raw' "$tmpdir/text" ||
    fail "locate text: a fake format line"
grep -qx 'member: /disk/x?format: qcow2?\[31m.img' "$tmpdir/text" ||
    { cat -A "$tmpdir/text"; fail "locate text: member not escaped"; }
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["member"] == "/disk/x\nformat: qcow2\x1b[31m.img"' "$tmpdir/json" ||
    fail "locate json: member not exact"
# A raw disk inside a tar, 1000100 bytes (not a multiple of 512): qemu's
# raw driver cannot take that size, so json says so and points at serve,
# whose nbdkit exports it exactly.
head -c 1000100 /dev/urandom > "$tmpdir/odd.raw"
mktar "$tmpdir/odd.tar" '[{"name":"disk","type":"dir"},{"name":"disk/disk.img","type":"file","from":"'"$tmpdir/odd.raw"'"}]'
rm -rf "$tmpdir/odd"; mklayout "$tmpdir/odd" img "$tmpdir/odd.tar"
for opt in "" --no-decode; do
    expect_error 1 "^podman-disk: the disk is 1000100 bytes inside $tmpdir/odd/blobs/sha256/[0-9a-f]{64}, not a multiple of 512: qemu's raw driver cannot open that exactly; use 'podman-disk serve' \\(nbdkit exports any size\\)\$" \
        podman_disk json $opt "oci:$tmpdir/odd:img"
done
if nbdcopy --version >/dev/null 2>&1 && nbdkit --version >/dev/null 2>&1; then
    podman_disk serve --server nbdkit "oci:$tmpdir/odd:img" \
        --run 'nbdcopy "$uri" '"$tmpdir/odd.served" ||
        fail "serve of the odd-sized disk failed"
    cmp "$tmpdir/odd.raw" "$tmpdir/odd.served" || fail "serve: other bytes"
fi
echo "layout regressions: ok"
