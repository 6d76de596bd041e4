#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The man pages: every page builds with go-md2man and renders with man(1)
# without a warning, has the sections users expect, and documents exactly
# the options that the built command's --help prints.  A command that is
# not built yet is reported and skipped, not failed.
source "$(dirname "$0")/functions.sh"

requires go-md2man -in /dev/null -out /dev/null
requires man --version

mandir=$top_srcdir/man
out=$tmpdir/man
mkdir -p "$out"

# The pages there must be: podman-disk(1), one per command, the hook's (5).
commands="locate json list serve cp clone clones release commit exports stop hook"
page_of () {
    case $1 in
        "") echo "$mandir/podman-disk.1.md" ;;
        hook) echo "$mandir/podman-disk-hook.5.md" ;;
        *) echo "$mandir/podman-disk-$1.1.md" ;;
    esac
}
for cmd in "" $commands; do
    [ -f "$(page_of "$cmd")" ] || fail "$(page_of "$cmd") is missing"
done
# And every command that --help lists has one.
for cmd in $(podman_disk --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
    [ -f "$(page_of "$cmd")" ] || fail "'$cmd' is in --help but has no man page"
done

# check_plugin_page MD PAGE SECTIONS: an nbdkit plugin's page, in nbdkit's
# own layout (PARAMETERS, VERSION; no options nor exit status), naming
# every key of the plugin's --help (the key= words of its config help).
check_plugin_page () {
    local md=$1 page=$2 sections=$3 s key
    for s in NAME SYNOPSIS DESCRIPTION EXAMPLES PARAMETERS FILES VERSION "SEE ALSO"; do
        case "|$sections" in *"|$s|"*) ;; *) fail "$(basename "$md"): no '## $s' section" ;; esac
    done
    case "$sections" in "NAME|SYNOPSIS|DESCRIPTION|EXAMPLES|"*) ;;
        *) fail "$(basename "$md"): EXAMPLES does not follow DESCRIPTION ($sections)" ;; esac
    grep -qE "^ *$(basename "$md" .1.md) - " "$page.txt" ||
        fail "$(basename "$md"): NAME is not 'NAME - ...'"
    for s in 'nbdkit**(1)' 'nbdkit-plugin**(3)' 'podman-disk**(1)' 'containers-transports**(5)'; do
        sed -n '/^## SEE ALSO/,$p' "$md" | grep -qF -- "$s" ||
            fail "$(basename "$md"): SEE ALSO lacks ${s/\*\*/}"
    done
    if [ -z "${PODMAN_DISK_PLUGIN:-}" ] || [ ! -f "$PODMAN_DISK_PLUGIN" ]; then
        echo "the nbdkit plugin is not built: $(basename "$md")'s parameters unchecked"
        return 0
    fi
    for key in $(nbdkit "$PODMAN_DISK_PLUGIN" --help | grep -oE '^\[?[a-z]+=' | tr -d '[='); do
        sed -n '/^## PARAMETERS/,/^## /p' "$md" | grep -E '^#### ' | grep -qF "**$key=" ||
            fail "$(basename "$md"): parameter $key= of the plugin's --help is not documented"
    done
}

# Build and render every page; no warnings at the usual width.
for md in "$mandir"/*.md; do
    name=$(basename "$md" .md)              # podman-disk-json.1
    title=${name%.*} section=${name##*.}
    page=$out/$name
    go-md2man -in "$md" -out "$page"
    head -n 3 "$page" | grep -qx "\.TH $title $section" ||
        fail "$md: the title line is not '% $title $section'"
    warnings=$(MANWIDTH=80 LC_ALL=C.UTF-8 MANROFFSEQ='' man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$name: man warns: $warnings"
    # Wide, so that no option is broken across lines at a hyphen.
    MANWIDTH=1000 LC_ALL=C.UTF-8 man -l "$page" 2>/dev/null > "$page.txt"

    # The sections, EXAMPLES right after DESCRIPTION (as nbdkit does).
    sections=$(grep -E '^## ' "$md" | sed 's/^## //' | tr '\n' '|')
    case $name in nbdkit-*-plugin.1)
        check_plugin_page "$md" "$page" "$sections"
        continue ;;
    esac
    for s in NAME SYNOPSIS DESCRIPTION EXAMPLES OPTIONS "EXIT STATUS" FILES "SEE ALSO"; do
        case "|$sections" in *"|$s|"*) ;; *) fail "$name: no '## $s' section" ;; esac
    done
    case "$sections" in *"DESCRIPTION|EXAMPLES|"*) ;;
        *) fail "$name: EXAMPLES does not follow DESCRIPTION ($sections)" ;; esac
    grep -qE "^ *$title - " "$page.txt" || fail "$name: NAME is not '$title - ...'"
    # What mandb will put in the whatis database.
    if command -v lexgrog >/dev/null; then
        lexgrog "$page" | grep -qF ": \"$title - " || fail "$name: lexgrog cannot parse NAME"
    fi
    seealso=$(sed -n '/^## SEE ALSO/,$p' "$md")
    for ref in 'podman**(1)' 'containers-transports**(5)' 'containers-storage.conf**(5)' \
               'nbdkit**(1)' 'qemu-img**(1)' 'nbdinfo**(1)'; do
        grep -qF -- "$ref" <<< "$seealso" || fail "$name: SEE ALSO lacks ${ref/\*\*/}"
    done
    grep -qE '^\*\*0\*\*$' "$md" && grep -qE '^\*\*1\*\*$' "$md" && grep -qE '^\*\*2\*\*$' "$md" ||
        fail "$name: EXIT STATUS does not give 0, 1 and 2"
done

# help_options ARGS: the options that 'podman-disk ARGS --help' defines
# (its option lines: "  -q, --quiet ..." or "      --format FORMAT ...").
help_options () {
    podman_disk "$@" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9][a-z0-9-]*' |
        sed 's/^ *//; s/, /\n/'
}
# page_options MD: the options that a page documents in its OPTIONS headings.
page_options () {
    sed -n '/^## OPTIONS/,/^## /p' "$1" | grep -E '^#### ' |
        grep -oE -- '\*\*--?[a-zA-Z0-9][a-z0-9-]*\*\*' | tr -d '*'
}

# check_options CMD: the page of CMD ("" for podman-disk itself) shows every
# option of its --help, and its OPTIONS headings name no option that
# --help lacks.
check_options () {
    local cmd=$1 md opt rendered
    md=$(page_of "$cmd")
    rendered=$out/$(basename "$md" .md).txt
    help_options $cmd > "$tmpdir/help-opts"
    [ -s "$tmpdir/help-opts" ] || fail "podman-disk $cmd --help prints no options"
    while read -r opt; do
        grep -qE -- "(^|[^-a-zA-Z0-9])$opt([^-a-zA-Z0-9]|$)" "$rendered" ||
            fail "$(basename "$md"): $opt of 'podman-disk $cmd --help' is not documented"
    done < "$tmpdir/help-opts"
    for opt in $(page_options "$md"); do
        grep -qxF -- "$opt" "$tmpdir/help-opts" ||
            fail "$(basename "$md"): documents $opt, which 'podman-disk $cmd --help' does not have"
    done
}

check_options ""
not_built=()
for cmd in $commands; do
    rc=0
    podman_disk "$cmd" --help >/dev/null 2>"$tmpdir/err" || rc=$?
    if [ "$rc" = 2 ] && grep -q "unknown command" "$tmpdir/err"; then
        not_built+=("$cmd")
        continue
    fi
    [ "$rc" = 0 ] || fail "podman-disk $cmd --help exited $rc: $(cat "$tmpdir/err")"
    check_options "$cmd"
done

# make man builds the same pages.
if [ -w "$top_srcdir" ]; then
    make -s -C "$top_srcdir" man
    for md in "$mandir"/*.md; do
        cmp -s "${md%.md}" "$out/$(basename "$md" .md)" || fail "make man did not build ${md%.md}"
    done
fi

if [ ${#not_built[@]} -gt 0 ]; then
    skip "every page checked, but these commands are not built yet, their options unchecked: ${not_built[*]}"
fi
echo "man pages OK"
