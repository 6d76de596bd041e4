# SPDX-License-Identifier: Apache-2.0
# Helpers of the hostile-image tests (tests/test-hostile-*.sh), sourced
# after tests/functions.sh.  Layers are written by hand (mktar.py) so they
# can hold what no builder would write, then put in an OCI layout
# (mklayout.py) and read either in place (oci:DIR) or after
# 'skopeo copy' into the test's private containers-storage.

hostiledir=$testsdir/hostile
# The shell commands of serve --run write their findings here.
export HOSTILE_TMP=$tmpdir

# mktar OUT.tar 'JSON members' (see mktar.py)
mktar () { python3 "$hostiledir/mktar.py" "$@"; }

# mklayout DIR REFNAME LAYER.tar...
mklayout () { python3 "$hostiledir/mklayout.py" "$@"; }

# What the podman-disk under test can read yet: sources being written on
# other branches answer "not implemented yet" until they land.
storage_implemented () {
    local out
    out=$(podman_disk locate containers-storage:no-such-image-$$ 2>&1 || :)
    [[ $out != *"not implemented yet"* ]]
}
layout_implemented () {
    local out
    out=$(podman_disk locate "oci:$tmpdir/no-such-layout" 2>&1 || :)
    [[ $out != *"not implemented yet"* ]]
}

# storage_ref NAME: the containers-storage reference of NAME in the
# private store, with the store named explicitly.
storage_ref () {
    echo "containers-storage:[overlay@$store/root+$store/runroot]localhost/$1:latest"
}

# import_layers NAME LAYER.tar...: an image NAME in the private store made
# of these layers, through an OCI layout and skopeo (as a pull would).
# Fails when containers/storage itself refuses the layers.
import_layers () {
    local name=$1 dir=$tmpdir/import-$1
    shift
    rm -rf "$dir"
    mklayout "$dir" "$name" "$@"
    skopeo copy -q "oci:$dir:$name" "$(storage_ref "$name")" >/dev/null 2>&1
}

# served_bytes IMAGE OUT [OPTIONS...]: the bytes podman-disk locates for
# IMAGE, read from the file, offset and size it reports.
served_bytes () {
    local text file offset size image=$1 out=$2
    shift 2
    text=$(podman_disk locate "$@" "$image")
    file=$(field file <<<"$text")
    offset=$(field offset <<<"$text")
    size=$(field size <<<"$text")
    dd if="$file" of="$out" iflag=skip_bytes,count_bytes skip="$offset" \
       count="$size" status=none
    [ "$(stat -c %s "$out")" = "$size" ] ||
        fail "$image: located $size bytes at $offset of $file, read fewer"
}

# expect_served IMAGE EXPECTED-FILE [OPTIONS...]: located, and the bytes
# are exactly EXPECTED-FILE's, and not the host's secret.
expect_served () {
    local image=$1 expected=$2
    shift 2
    served_bytes "$image" "$tmpdir/served" "$@"
    cmp "$tmpdir/served" "$expected" ||
        fail "$image: served bytes differ from $expected"
    not_host_secret "$tmpdir/served"
}

# not_host_secret FILE: FILE holds none of the host's /etc/shadow or
# /etc/passwd (and is not them).
not_host_secret () {
    local h
    for h in /etc/shadow /etc/passwd; do
        [ -s "$h" ] || continue
        if cmp -s "$1" "$h" || grep -Fqx -f <(head -1 "$h") "$1" 2>/dev/null; then
            fail "$1 holds the host's $h"
        fi
    done
}

# regex_quote TEXT: TEXT as an extended regex matching only itself.
regex_quote () { sed 's#[][\\.*^$+?(){}|]#\\&#g' <<<"$1"; }

# shown_ref IMAGE: IMAGE as podman-disk names it in an error line: the
# name alone for containers-storage (without the transport and store
# spec), the whole reference for a layout.
shown_ref () {
    case $1 in
    containers-storage:*) local r=${1#containers-storage:}; echo "${r#\[*\]}" ;;
    *) echo "$1" ;;
    esac
}

# Regex pieces for EXPECT (see hostile_case): a tar layer, as an error
# names it by digest and media type ...
layer_re='layer sha256:[0-9a-f]{64} \(application/vnd\.oci\.image\.layer\.v1\.tar\)'
# ... and the advice that ends a "no disk found" line.
usedisk='is it a containerDisk\? use --disk PATH'

# no_process_in DIR: no process (but this shell) has a file under DIR
# open or as its working directory: no server of a refused or finished
# case was left behind.
no_process_in () {
    local held
    held=$(find /proc/[0-9]*/fd /proc/[0-9]*/cwd -maxdepth 1 -lname "$1/*" \
                -printf '%h %l\n' 2>/dev/null |
           grep -Ev "^/proc/($$|$BASHPID)/" || :)
    [ -z "$held" ] || { echo "$held" >&2; return 1; }
}

# in_background NAME ARGS...: podman-disk ARGS started in the background,
# its stdout, stderr and exit status left in $tmpdir/NAME.{out,err,rc}.
# (The commands of a case run side by side: under valgrind each costs
# about a second of CPU, and the machine has two.)
in_background () {
    local name=$1
    shift
    rm -f "$tmpdir/$name".{out,err,rc}
    { local rc=0
      podman_disk "$@" >"$tmpdir/$name.out" 2>"$tmpdir/$name.err" || rc=$?
      echo "$rc" >"$tmpdir/$name.rc"; } &
}

# refused_as NAME LINE: the command run as NAME exited 1, printed nothing
# on stdout and exactly LINE on stderr.
refused_as () {
    local name=$1 line=$2 rc
    rc=$(cat "$tmpdir/$name.rc")
    if [ "$rc" != 1 ] || [ -s "$tmpdir/$name.out" ] ||
       [ "$(cat "$tmpdir/$name.err")" != "$line" ] ||
       [ "$(wc -l <"$tmpdir/$name.err")" != 1 ]; then
        echo "expected: $line" >&2
        echo "stderr:   $(cat "$tmpdir/$name.err")" >&2
        echo "stdout:   $(head -c 300 "$tmpdir/$name.out")" >&2
        fail "podman-disk $name exited $rc: not the same refusal as locate's"
    fi
}

# check_refusal LINE ARGS...: podman-disk ARGS is refused with LINE (see
# refused_as).
check_refusal () {
    local line=$1
    shift
    in_background "$1" "$@"
    wait $!
    refused_as "$1" "$line"
}

# refused_alike IMAGE [OPTIONS...]: after locate refused IMAGE with the
# line in $tmpdir/err, json, serve --run and cp refuse it with that very
# line: exit 1, nothing on stdout, no socket, no server, no destination
# file left.
refused_alike () {
    local image=$1 line pids=() sock=$tmpdir/refused.sock dest=$tmpdir/refused.raw
    shift
    line=$(cat "$tmpdir/err")
    in_background json json "$@" "$image"; pids+=($!)
    in_background serve serve --socket "$sock" --pidfile "$tmpdir/refused.pid" \
        "$@" "$image" --run 'echo "served $uri"'; pids+=($!)
    in_background cp cp "$@" "$image" "$dest"; pids+=($!)
    wait "${pids[@]}"
    refused_as json "$line"
    refused_as serve "$line"
    refused_as cp "$line"
    [ ! -e "$sock" ] && [ ! -L "$sock" ] || fail "$image: serve left its socket $sock"
    [ ! -e "$tmpdir/refused.pid" ] || fail "$image: serve left its pid file"
    [ ! -e "$dest" ] && [ ! -L "$dest" ] || fail "$image: cp left $dest"
    no_process_in "$tmpdir" || fail "$image: a process was left behind"
}

# served_alike IMAGE EXPECTED-FILE [OPTIONS...]: serve --run with nbdcopy
# and cp give EXPECTED-FILE's bytes (the guest's, for a qcow2), nothing
# on stderr; the server is gone after, with its socket and pid file.
served_alike () {
    local image=$1 expected=$2 guest=$2 pids=() sock pid
    shift 2
    if [ "$(head -c 4 "$expected" | od -An -tx1 | tr -d ' ')" = 514649fb ]; then
        guest=$tmpdir/expected.guest
        qemu-img convert -f qcow2 -O raw "$expected" "$guest"
    fi
    rm -f "$tmpdir/serve.sock" "$tmpdir/serve.pid" "$tmpdir/serve.pids" "$tmpdir/cp.raw"
    in_background serve serve --pidfile "$tmpdir/serve.pid" "$@" "$image" --run \
        'echo "$unixsocket" >"$HOSTILE_TMP/serve.sock"
         cat "$HOSTILE_TMP/serve.pid" >"$HOSTILE_TMP/serve.pids"
         nbdcopy "$uri" -'; pids+=($!)
    in_background cp cp "$@" "$image" "$tmpdir/cp.raw"; pids+=($!)
    wait "${pids[@]}"
    [ "$(cat "$tmpdir/serve.rc")" = 0 ] && [ ! -s "$tmpdir/serve.err" ] ||
        fail "$image: serve --run nbdcopy exited $(cat "$tmpdir/serve.rc"): $(cat "$tmpdir/serve.err")"
    cmp "$tmpdir/serve.out" "$guest" ||
        fail "$image: the bytes served over NBD differ from $guest"
    not_host_secret "$tmpdir/serve.out"
    sock=$(cat "$tmpdir/serve.sock") pid=$(cat "$tmpdir/serve.pids")
    [ -n "$sock" ] && [ ! -e "$sock" ] || fail "$image: socket '$sock' left after serve --run"
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null || fail "$image: server '$pid' left after serve --run"
    [ ! -e "$tmpdir/serve.pid" ] || fail "$image: serve --run left its pid file"
    [ "$(cat "$tmpdir/cp.rc")" = 0 ] && [ ! -s "$tmpdir/cp.out" ] && [ ! -s "$tmpdir/cp.err" ] ||
        fail "$image: cp exited $(cat "$tmpdir/cp.rc"): $(cat "$tmpdir/cp.out" "$tmpdir/cp.err")"
    cmp "$tmpdir/cp.raw" "$guest" || fail "$image: cp wrote other bytes than $guest"
    not_host_secret "$tmpdir/cp.raw"
    rm -f "$tmpdir/serve.out" "$tmpdir/cp.raw"
    no_process_in "$tmpdir" || fail "$image: a process was left behind"
}

# hostile_case IMAGE EXPECT [OPTIONS...]: with OPTIONS (--disk ...),
# IMAGE must be refused by locate, json, serve and cp with the one same
# line, which matches ^podman-disk: EXPECT$ (an extended regex; "@REF@"
# in it stands for the image as the line names it); or, when EXPECT is
# "served:FILE", served as FILE's bytes by locate (the bytes at the file
# and offset it names), json (as qemu-img reads them), serve (as nbdcopy
# reads them) and cp.
hostile_cases=0
hostile_case () {
    local image=$1 expect=$2
    shift 2
    hostile_cases=$((hostile_cases + 1))
    case $expect in
    served:*)
        expect_served "$image" "${expect#served:}" "$@"
        # qemu reads the same: the guest's bytes for a qcow2, else the raw.
        local fmt=raw decode=--no-decode
        if [ "$(head -c 4 "${expect#served:}" | od -An -tx1 | tr -d ' ')" = 514649fb ]; then
            fmt=qcow2 decode=
        fi
        qemu-img compare -q -f "$fmt" "${expect#served:}" \
                 "$(podman_disk json $decode "$@" "$image")" ||
            fail "$image: qemu-img sees other bytes than ${expect#served:}"
        served_alike "$image" "${expect#served:}" "$@" ;;
    *)
        expect=${expect//@REF@/$(regex_quote "$(shown_ref "$image")")}
        expect_error 1 "^podman-disk: $expect\$" podman_disk locate "$@" "$image"
        refused_alike "$image" "$@"
        expect="$(cut -c1-200 "$tmpdir/err")" ;;
    esac
    echo "ok $hostile_cases - ${image/\[*\]/} $*: $expect"
}

# check_image NAME STORAGE-EXPECT LAYOUT-EXPECT LAYER.tar... [-- OPTIONS]:
# an image made of the layers, checked in the private store (after skopeo
# copy) and in place as oci:DIR:NAME, each source against its own EXPECT
# (see hostile_case; "refused-on-import": containers/storage itself must
# refuse the layers, so there is nothing to read; "-": not checked).
# A source that has not landed yet is skipped, and said so.
check_image () {
    local name=$1 sexp=$2 lexp=$3 layers=() opts=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do layers+=("$1"); shift; done
    [ $# -gt 0 ] && shift && opts=("$@")
    if [ "$sexp" != - ] && $have_storage; then
        if [ "$sexp" = refused-on-import ]; then
            hostile_cases=$((hostile_cases + 1))
            ! import_layers "$name" "${layers[@]}" ||
                fail "$name: containers/storage accepted the layers"
            echo "ok $hostile_cases - $name: refused by containers/storage on import"
        else
            import_layers "$name" "${layers[@]}" ||
                fail "$name: skopeo copy into the private store failed"
            hostile_case "$(storage_ref "$name")" "$sexp" "${opts[@]}"
        fi
    fi
    if [ "$lexp" != - ] && $have_layout; then
        mklayout "$tmpdir/oci" "$name" "${layers[@]}"
        hostile_case "oci:$tmpdir/oci:$name" "$lexp" "${opts[@]}"
    fi
}

# hostile_setup: the private store, and which sources can be tested.
hostile_setup () {
    requires python3 -c 'import tarfile'
    requires skopeo --version
    requires qemu-img --version
    have_storage=false have_layout=false
    storage_implemented && have_storage=true
    layout_implemented && have_layout=true
    $have_storage || $have_layout ||
        skip "neither containers/storage nor OCI layouts are implemented yet"
    $have_storage || echo "containers/storage not implemented yet: its cases skipped"
    $have_layout || echo "OCI layouts not implemented yet: their cases skipped"
    setup_store
}

# hostile_done: the count, for the log and the report.
hostile_done () {
    echo "$testname: $hostile_cases hostile cases checked" \
         "(storage: $have_storage, layout: $have_layout)"
}
