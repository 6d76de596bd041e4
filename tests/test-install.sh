#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# make install / uninstall into a DESTDIR: the binary, the man pages, the
# three completions, the nbdkit plugin, the hooks.d JSON and the systemd
# units pointing at the installed binary;
# uninstall removes every file again.
source "$(dirname "$0")/functions.sh"

requires make --version
requires jq --version
builddir=${BUILDDIR:-$top_srcdir/build}
dest=$tmpdir/dest

# make_in ARGS: make in the source tree, on the build the tests run on.
make_in () { make -s -C "$top_srcdir" BUILDDIR="$builddir" "$@"; }

make_in install DESTDIR="$dest" PREFIX=/usr

# What must be there.
expected=(usr/bin/podman-disk
          usr/share/bash-completion/completions/podman-disk
          usr/share/zsh/site-functions/_podman-disk
          usr/share/fish/vendor_completions.d/podman-disk.fish)
if command -v go-md2man >/dev/null; then
    for md in "$top_srcdir"/man/*.md; do
        page=$(basename "$md" .md)
        expected+=("usr/share/man/man${page##*.}/$page")
    done
else
    echo "go-md2man not installed: no man pages expected"
fi
# The nbdkit plugin, in nbdkit's plugin directory, when it was built.
plugindir=$(pkg-config --variable=plugindir nbdkit 2>/dev/null || :)
if [ -f "$builddir/nbdkit-podman-disk-plugin.so" ] && [ -n "$plugindir" ]; then
    expected+=("${plugindir#/}/nbdkit-podman-disk-plugin.so")
else
    echo "the nbdkit plugin is not built: not expected"
fi
hooks=()
for src in "$top_srcdir"/hooks/*.json.in; do
    [ -f "$src" ] || continue
    hooks+=("usr/share/containers/oci/hooks.d/$(basename "$src" .in)")
done
expected+=("${hooks[@]}")
units=(podman-disk-serve@.service podman-disk-serve@.socket)
for u in "${units[@]}"; do
    expected+=("usr/lib/systemd/system/$u")
done

(cd "$dest" && find . -type f -o -type l | sed 's|^\./||' | sort) > "$tmpdir/got"
printf '%s\n' "${expected[@]}" | sort > "$tmpdir/want"
diff -u "$tmpdir/want" "$tmpdir/got" >&2 || fail "installed files differ from the expected list"

# The installed binary runs, and the pages are where man finds them.
"$dest/usr/bin/podman-disk" --version | grep -q '^podman-disk ' || fail "the installed binary does not run"
[ "$(stat -c %a "$dest/usr/bin/podman-disk")" = 755 ] || fail "the binary is not mode 0755"
if [ -f "$builddir/nbdkit-podman-disk-plugin.so" ] && [ -n "$plugindir" ]; then
    installed_plugin=$dest$plugindir/nbdkit-podman-disk-plugin.so
    if ldd "$installed_plugin" | grep -q libasan; then
        # nbdkit cannot dlopen an ASan object unless the runtime comes
        # first (LD_PRELOAD), and then deadlocks (see plugin-lib.sh): check
        # the plugin's entry point is exported instead.
        nm -D --defined-only "$installed_plugin" | grep -qw plugin_init ||
            fail "the installed plugin exports no plugin_init"
    else
        nbdkit "$installed_plugin" --version |
            grep -q '^podman-disk ' || fail "nbdkit cannot load the installed plugin"
    fi
fi
if command -v go-md2man >/dev/null; then
    MANPATH=$dest/usr/share/man man -w podman-disk-locate >/dev/null ||
        fail "man does not find podman-disk-locate(1) under the installed MANDIR"
    MANPATH=$dest/usr/share/man man -w 5 podman-disk-hook >/dev/null ||
        fail "man does not find podman-disk-hook(5) under the installed MANDIR"
fi

# The hooks.d JSON names the installed binary, with no placeholder left.
check_hook () {
    local json=$1 bindir=$2
    jq -e . "$json" >/dev/null || fail "$json is not JSON"
    ! grep -q '@[A-Z]*@' "$json" || fail "$json keeps a placeholder: $(grep '@[A-Z]*@' "$json")"
    [ "$(jq -r '.version' "$json")" = 1.0.0 ] || fail "$json: not hooks schema 1.0.0"
    [ "$(jq -r '.hook.path' "$json")" = "$bindir/podman-disk" ] ||
        fail "$json: hook.path is $(jq -r '.hook.path' "$json"), not $bindir/podman-disk"
}
for h in "${hooks[@]}"; do
    check_hook "$dest/$h" /usr/bin
done

# The service runs the installed binary; the socket is the shipped one.
grep -qx 'ExecStart=/usr/bin/podman-disk serve .*%I' "$dest/usr/lib/systemd/system/podman-disk-serve@.service" ||
    fail "the installed service does not run /usr/bin/podman-disk serve"
cmp "$top_srcdir/systemd/podman-disk-serve@.socket" "$dest/usr/lib/systemd/system/podman-disk-serve@.socket" ||
    fail "the installed socket unit differs from systemd/"
for u in "${units[@]}"; do
    [ "$(stat -c %a "$dest/usr/lib/systemd/system/$u")" = 644 ] || fail "$u is not mode 0644"
done

# BINDIR, MANDIR, HOOKSDIR and SYSTEMDUNITDIR each move their files; the
# hook and the service follow BINDIR.
dest2=$tmpdir/dest2
make_in install DESTDIR="$dest2" PREFIX=/opt/pd BINDIR=/opt/pd/sbin \
    MANDIR=/opt/pd/man HOOKSDIR=/etc/containers/oci/hooks.d \
    SYSTEMDUNITDIR=/etc/systemd/system
[ -x "$dest2/opt/pd/sbin/podman-disk" ] || fail "BINDIR was not honoured"
[ -f "$dest2/opt/pd/share/bash-completion/completions/podman-disk" ] ||
    fail "PREFIX was not honoured for the completions"
if command -v go-md2man >/dev/null; then
    [ -f "$dest2/opt/pd/man/man1/podman-disk.1" ] || fail "MANDIR was not honoured"
fi
for h in "${hooks[@]}"; do
    check_hook "$dest2/etc/containers/oci/hooks.d/$(basename "$h")" /opt/pd/sbin
done
grep -qx 'ExecStart=/opt/pd/sbin/podman-disk serve .*%I' "$dest2/etc/systemd/system/podman-disk-serve@.service" ||
    fail "SYSTEMDUNITDIR or BINDIR was not honoured for the service"

# Uninstall leaves no file behind, in either tree.
make_in uninstall DESTDIR="$dest" PREFIX=/usr
left=$(cd "$dest" && find . -type f -o -type l)
[ -z "$left" ] || fail "uninstall left: $left"
make_in uninstall DESTDIR="$dest2" PREFIX=/opt/pd BINDIR=/opt/pd/sbin \
    MANDIR=/opt/pd/man HOOKSDIR=/etc/containers/oci/hooks.d \
    SYSTEMDUNITDIR=/etc/systemd/system
left=$(cd "$dest2" && find . -type f -o -type l)
[ -z "$left" ] || fail "uninstall left: $left"

if [ ${#hooks[@]} = 0 ]; then
    skip "everything else installs and uninstalls, but hooks/*.json.in is not there yet: the hooks.d JSON is unchecked"
fi
echo "install OK"
