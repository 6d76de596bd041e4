#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The shell completions: the bash one loaded into a bash and asked for
# commands, options, option values, transport paths and image names from
# a private store (through 'podman-disk list --quiet', with --root and
# --runroot from the line); the zsh and fish ones parsed when those shells
# are installed.
source "$(dirname "$0")/functions.sh"

bashcomp=$top_srcdir/completion/podman-disk.bash
zshcomp=$top_srcdir/completion/_podman-disk
fishcomp=$top_srcdir/completion/podman-disk.fish
for f in "$bashcomp" "$zshcomp" "$fishcomp"; do
    [ -f "$f" ] || fail "$f is missing"
done
bash -n "$bashcomp" || fail "$bashcomp does not parse"

# comp_line LINE: what the bash completion offers at the end of LINE, one a
# line.  LINE is split into COMP_WORDS the way readline does it with the
# default COMP_WORDBREAKS: at blanks, and runs of ':' or '=' are words of
# their own.  Runs in a fresh bash without -e/-u, as an interactive shell
# would call it; CONTAINERS_STORAGE_CONF is unset there so that the store
# comes from the line.
comp_line () {
    env -u CONTAINERS_STORAGE_CONF bash --norc --noprofile -c '
        source "$1" || exit 1
        complete -p podman-disk >/dev/null || exit 1
        line=$2 rest=$2
        COMP_WORDS=()
        while [[ $rest =~ ^[[:blank:]]*([:=]+|[^[:blank:]:=]+)(.*)$ ]]; do
            COMP_WORDS+=("${BASH_REMATCH[1]}")
            rest=${BASH_REMATCH[2]}
        done
        [[ $line == *[[:blank:]] ]] && COMP_WORDS+=("")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMP_LINE=$line COMP_POINT=${#line}
        _podman_disk
        ((${#COMPREPLY[@]})) && printf "%s\n" "${COMPREPLY[@]}"
        exit 0
    ' bash "$bashcomp" "$1"
}

# expect_completion LINE WORD...: the completions of LINE are exactly WORDs.
expect_completion () {
    local line=$1 got want
    shift
    got=$(comp_line "$line" | sort)
    want=$(printf '%s\n' "$@" | sort)
    [ "$got" = "$want" ] ||
        fail "completing '$line': got [$(echo $got)], expected [$(echo $want)]"
}
# offered_by COMPLETER LINE WORD...: what COMPLETER (comp_line, zsh_line,
# fish_line) offers at the end of LINE includes every WORD.
offered_by () {
    local completer=$1 line=$2 w
    shift 2
    "$completer" "$line" > "$tmpdir/offered"
    for w in "$@"; do
        grep -qxF -- "$w" "$tmpdir/offered" ||
            fail "$completer '$line': '$w' not offered (got: $(echo $(cat "$tmpdir/offered")))"
    done
}
expect_offered () { offered_by comp_line "$@"; }

# help_options CMD: the long options of 'podman-disk CMD --help'.
help_options () {
    podman_disk "$1" --help > "$tmpdir/help" || fail "podman-disk $1 --help failed"
    grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+' "$tmpdir/help" | grep -oE -- '--[a-z0-9-]+$' || true
}

pd=$PODMAN_DISK

# Commands: every one that 'podman-disk --help' lists, and never the hook.
help_commands=$(podman_disk --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ -n "$help_commands" ] || fail "no commands in podman-disk --help"
expect_offered "$pd " $help_commands
comp_line "$pd " | grep -qx hook && fail "the hidden hook command is offered"
expect_completion "$pd lo" locate
expect_completion "$pd l" locate list

# Global options before the command, and --version only there.
expect_completion "$pd --ro" --root
expect_offered "$pd --" --root --runroot --storage-driver --log-level --help --version
comp_line "$pd locate --" | grep -qx -- --version && fail "--version offered after a command"

# Every long option of every built command's --help is offered after it.
for cmd in $help_commands; do
    opts=$(help_options "$cmd")
    [ -n "$opts" ] || fail "no options in podman-disk $cmd --help"
    expect_offered "$pd $cmd --" $opts
done
expect_completion "$pd locate --f" --format
expect_completion "$pd json --no" --no-decode
expect_completion "$pd json --al" --allow-foreign-path

# Option values, as a separate word and after '='.
expect_completion "$pd --log-level " debug info warn error
expect_completion "$pd --storage-driver " overlay vfs
expect_completion "$pd locate --format " text json
expect_completion "$pd locate --format=j" json
expect_completion "$pd cp --format " raw qcow2
expect_completion "$pd serve --server " nbdkit qemu-nbd
expect_completion "$pd serve --server=q" qemu-nbd
# Right after the '=': bash replaces the empty piece after it.
expect_completion "$pd serve --server=" nbdkit qemu-nbd
expect_completion "$pd cp --format=" raw qcow2
# After an option's value the image comes: no option values offered.
comp_line "$pd locate --format json " | grep -qx text && fail "a value offered after the value"

# Paths after the transports; the word is split at ':' so what bash
# replaces is the path.
mkdir -p "$tmpdir/paths/layout-dir"
touch "$tmpdir/paths/archive.tar"
expect_completion "$pd locate oci:$tmpdir/paths/la" "$tmpdir/paths/layout-dir/"
expect_completion "$pd json oci-archive:$tmpdir/paths/ar" "$tmpdir/paths/archive.tar"
expect_completion "$pd serve docker-archive:$tmpdir/paths/a" "$tmpdir/paths/archive.tar"
expect_completion "$pd locate oci" oci: oci-archive:
# Right after the transport's ':': the paths of the current directory.
(cd "$tmpdir/paths" && expect_completion "$pd locate oci:" layout-dir/)
(cd "$tmpdir/paths" && expect_completion "$pd json oci-archive:" layout-dir/ archive.tar)
# list takes a layout or archive, never an image of the store.
expect_completion "$pd list " oci: oci-archive: docker-archive:
expect_completion "$pd list oci:$tmpdir/paths/la" "$tmpdir/paths/layout-dir/"
expect_completion "$pd list docker-archive:$tmpdir/paths/a" "$tmpdir/paths/archive.tar"
# cp's second operand is a file.
expect_completion "$pd cp someimage $tmpdir/paths/arch" "$tmpdir/paths/archive.tar"
expect_completion "$pd --root $tmpdir/paths/lay" "$tmpdir/paths/layout-dir"

# zsh: asked in an interactive zsh (tests/zsh-complete.zsh, through a pty);
# fish with complete -C.  Commands, every command's options, option values
# and transports.
zsh_line () {
    timeout 60 zsh -f "$testsdir/zsh-complete.zsh" "$(dirname "$zshcomp")" "$1" |
        LC_ALL=C sort -u
}
fish_line () {
    fish --no-config -c "source '$fishcomp'; complete -C '$1'" | cut -f1
}
if command -v zsh >/dev/null; then
    zsh -n "$zshcomp" || fail "$zshcomp does not parse"
else
    echo "zsh not installed: $zshcomp not checked"
fi
if command -v fish >/dev/null; then
    fish -n "$fishcomp" || fail "$fishcomp does not parse"
else
    echo "fish not installed: $fishcomp not checked"
fi
for shell in zsh fish; do
    command -v $shell >/dev/null || continue
    offered_by ${shell}_line "podman-disk " $help_commands
    ${shell}_line "podman-disk " | grep -qx hook && fail "$shell offers the hidden hook command"
    for cmd in $help_commands; do
        offered_by ${shell}_line "podman-disk $cmd --" $(help_options "$cmd")
    done
    offered_by ${shell}_line "podman-disk locate --format " text json
    offered_by ${shell}_line "podman-disk list " oci: oci-archive: docker-archive:
done
# zsh completes the path after the transport, fish the whole word.
if command -v zsh >/dev/null; then
    (cd "$tmpdir/paths" && offered_by zsh_line "podman-disk json oci-archive:" archive.tar)
    offered_by zsh_line "podman-disk serve --server=" nbdkit qemu-nbd
fi
if command -v fish >/dev/null; then
    (cd "$tmpdir/paths" && offered_by fish_line "podman-disk json oci-archive:" oci-archive:archive.tar)
fi

# Image names from a private store, named on the line.
requires command podman --version
setup_store
make_raw_disk "$tmpdir/disk.img" 1
build_disk_image localhost/completion-test:v1 "$tmpdir/disk.img"
build_disk_image quay.io/containerdisks/fedora:41 "$tmpdir/disk.img"
storeargs="--root $store/root --runroot $store/runroot"
if ! env -u CONTAINERS_STORAGE_CONF "$PODMAN_DISK" $storeargs list --quiet \
        > "$tmpdir/names" 2>&1; then
    skip "podman-disk list --quiet fails here, image names unchecked: $(head -n1 "$tmpdir/names")"
fi
grep -qx localhost/completion-test:v1 "$tmpdir/names" ||
    fail "list --quiet does not name the test image: $(cat "$tmpdir/names")"

expect_offered "$pd $storeargs locate " localhost/completion-test:v1 \
    quay.io/containerdisks/fedora:41 oci: docker-archive:
expect_completion "$pd $storeargs locate localhost/comp" localhost/completion-test:v1
expect_completion "$pd --root=$store/root --runroot=$store/runroot json quay" \
    quay.io/containerdisks/fedora:41
# Store options after the command count too.
expect_completion "$pd serve --root $store/root --runroot $store/runroot localhost/c" \
    localhost/completion-test:v1
# serve takes several images: a second one is completed too, not locate's.
expect_completion "$pd $storeargs serve localhost/completion-test:v1 quay" \
    quay.io/containerdisks/fedora:41
comp_line "$pd $storeargs locate localhost/completion-test:v1 quay" > "$tmpdir/none"
[ ! -s "$tmpdir/none" ] || fail "locate offers a second image: $(cat "$tmpdir/none")"
# A name with a tag: the word is split at ':', bash replaces the tag.
expect_completion "$pd $storeargs locate localhost/completion-test:v" v1
expect_completion "$pd $storeargs locate localhost/completion-test:" v1
expect_completion "$pd $storeargs cp containers-storage:localhost/comp" \
    localhost/completion-test:v1
# Without the store on the line, names come from the default store, not ours.
comp_line "$pd --root $tmpdir/empty-store --runroot $tmpdir/empty-run locate localhost/comp" \
    > "$tmpdir/none"
[ ! -s "$tmpdir/none" ] || fail "names offered from a store not on the line: $(cat "$tmpdir/none")"

echo "completion OK"
