#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The nbdkit plugin under valgrind memcheck: nbdkit -f with the plugin,
# one image (storage, layout, qcow2, with cow) and the whole store (list,
# several exports, refusals, concurrent readers): no memory error and no
# definite leak, nbdkit's own included.
source "$(dirname "$0")/functions.sh"
source "$testsdir/serve-lib.sh"
source "$testsdir/plugin-lib.sh"
requires_root
requires command podman --version
requires valgrind --version
requires jq --version
requires_plugin
setup_store

make_raw_disk "$tmpdir/a.img" 4
make_qcow2_disk "$tmpdir/b.qcow2"
build_disk_image localhost/vg-a "$tmpdir/a.img"
build_disk_image localhost/vg-b "$tmpdir/b.qcow2"
podman save -q --uncompressed --format oci-dir -o "$tmpdir/oci" localhost/vg-a

vglogs=$tmpdir/valgrind
mkdir -p "$vglogs"
# vg_nbdkit ARGS: nbdkit under memcheck; exit 99 on any error or leak.
vg_nbdkit () {
    valgrind --quiet --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite \
        --num-callers=30 --suppressions="$testsdir/valgrind/podman-disk.supp" \
        --log-file="$vglogs/nbdkit.%p.log" nbdkit "$@"
}
# valgrind_clean WHAT: no log reports an error or a definite leak (the
# patterns of tests/valgrind/summary; valgrind 3.19 also warns of openat2,
# which it does not know: the layout code then falls back, not an error).
valgrind_clean () {
    local bad
    bad=$(grep -l -E '== (Invalid|Conditional|Syscall param|Mismatched|Source and destination)|definitely lost' \
          "$vglogs"/*.log 2>/dev/null || :)
    [ -z "$bad" ] || { cat $bad >&2; fail "valgrind found errors in nbdkit with the plugin ($*)"; }
}

for ref in localhost/vg-a "oci:$tmpdir/oci"; do
    rm -f "$tmpdir/a.out"
    vg_nbdkit -f -U - "$plugin" "$ref" --run 'nbdcopy "$uri" '"$tmpdir"'/a.out; nbdinfo --map "$uri" >/dev/null' ||
        { valgrind_clean "$ref"; fail "$ref under valgrind failed"; }
    cmp "$tmpdir/a.img" "$tmpdir/a.out" || fail "$ref under valgrind: bytes differ"
    valgrind_clean "$ref"
done
vg_nbdkit -f -U - --filter=cow "$plugin" localhost/vg-b --run \
    'qemu-io -f raw -c "write -P 0x55 0 64k" "$uri" >/dev/null && nbdcopy "$uri" '"$tmpdir"'/b.out' ||
    { valgrind_clean cow; fail "cow under valgrind failed"; }
valgrind_clean cow
# A refused image: the error path frees too.
rc=0
vg_nbdkit -f -U - "$plugin" localhost/nosuch --run true 2>"$tmpdir/err" || rc=$?
[ "$rc" = 1 ] || fail "localhost/nosuch under valgrind exited $rc: $(cat "$tmpdir/err")"
valgrind_clean "a refused image"
echo "ok one image"

# The store: the list, exports opened in turn and at once, refusals.  In
# --run, so that nbdkit exits normally and valgrind checks for leaks (a
# SIGTERM under valgrind ends it by the signal, unchecked).
cat > "$tmpdir/store-checks.sh" <<'EOS'
set -e -u
out=$1 sock=$2
uri () { echo "nbd+unix:///$1?socket=$sock"; }
nbdinfo --list --json "$(uri "")" > "$out/list.json"
pids=()
for i in 1 2 3; do
    nbdcopy "$(uri localhost/vg-a:latest)" "$out/s$i.out" & pids+=($!)
done
nbdcopy "$(uri localhost/vg-b:latest)" "$out/b.out" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
! nbdinfo --size "$(uri localhost/nosuch)" >/dev/null 2>&1
! nbdinfo --size "$(uri vg-a)" >/dev/null 2>&1
echo done > "$out/store.done"
EOS
rm -f "$tmpdir/b.out"
vg_nbdkit -f -U - "$plugin" --run "bash $tmpdir/store-checks.sh $tmpdir \"\$unixsocket\"" 2>"$tmpdir/store.log" ||
    { valgrind_clean store; fail "the store under valgrind failed: $(cat "$tmpdir/store.log")"; }
[ -f "$tmpdir/store.done" ] || fail "the store checks did not finish"
[ "$(jq '.exports | length' "$tmpdir/list.json")" = 2 ] ||
    fail "the store under valgrind: not 2 exports"
for i in 1 2 3; do cmp "$tmpdir/a.img" "$tmpdir/s$i.out" || fail "reader $i differs"; done
cmp "$tmpdir/b.qcow2" "$tmpdir/b.out" || fail "vg-b differs"
valgrind_clean store
echo "ok store"
echo PASS
