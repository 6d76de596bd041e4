#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The RPM: 'make dist' packs the tracked files into podman-disk-VERSION.tar.gz
# and 'make rpm' builds it with rpmbuild -ta (running the spec's %build,
# %check and %install).  The package must hold the binary, the man pages, the
# completions and the hooks.d JSON, and require the servers it starts; the
# nbdkit-podman-disk-plugin subpackage the plugin and its page.  Off
# Fedora the BuildRequires are not in the rpm database: --nodeps.
source "$(dirname "$0")/functions.sh"

requires rpmbuild --version
requires git -C "$top_srcdir" rev-parse --is-inside-work-tree
requires go-md2man -in /dev/null -out /dev/null

version=$(sed -n 's/^PACKAGE_VERSION *= *//p' "$top_srcdir/Makefile")
[ -n "$version" ] || fail "no PACKAGE_VERSION in the Makefile"
spec_version=$(sed -n 's/^Version: *//p' "$top_srcdir/podman-disk.spec")
[ "$spec_version" = "$version" ] ||
    fail "podman-disk.spec says Version $spec_version, the Makefile $version"

# make dist packs what git tracks.
if [ -z "$(git -C "$top_srcdir" ls-files 'hooks/*.json.in')" ]; then
    skip "git does not track hooks/*.json.in yet, and the spec packages the hooks.d JSON"
fi

tarball=$top_srcdir/podman-disk-$version.tar.gz
[ -e "$tarball" ] || cleanup_fn "rm -f '$tarball'"
topdir=$tmpdir/rpmbuild
flags='--nodeps'
# Debian's rpm has no find-debuginfo: no debuginfo package there.
command -v find-debuginfo >/dev/null || flags="$flags --define 'debug_package %{nil}'"
make -s -C "$top_srcdir" rpm RPMTOPDIR="$topdir" RPMBUILD_FLAGS="$flags" \
    > "$tmpdir/rpmbuild.log" 2>&1 || {
    tail -n 40 "$tmpdir/rpmbuild.log" >&2
    fail "make rpm failed"
}

# The tarball: one top directory, the spec, the sources, nothing built.
tar -tzf "$tarball" > "$tmpdir/tarlist"
grep -qvx "podman-disk-$version/.*" "$tmpdir/tarlist" &&
    fail "the tarball has files outside podman-disk-$version/"
for f in podman-disk.spec Makefile src/main.c man/podman-disk.1.md \
         completion/podman-disk.bash tests/run; do
    grep -qx "podman-disk-$version/$f" "$tmpdir/tarlist" || fail "the tarball lacks $f"
done
grep -qE "^podman-disk-$version/(build|build-sanitize)/" "$tmpdir/tarlist" &&
    fail "the tarball holds build output"
grep -qE "^podman-disk-$version/man/[^/]*\.[15]$" "$tmpdir/tarlist" &&
    fail "the tarball holds built man pages"

# The %check section ran the unit tests (when there are any).
if compgen -G "$top_srcdir/tests/unit/test-*.c" >/dev/null; then
    grep -q '^== build/tests/unit/test-' "$tmpdir/rpmbuild.log" || {
        grep -A30 'Executing(%check)' "$tmpdir/rpmbuild.log" >&2
        fail "%check did not run the unit tests"
    }
fi

rpm=$(find "$topdir/RPMS" -name "podman-disk-$version-*.rpm" ! -name '*debug*' | head -n1)
[ -n "$rpm" ] || fail "no binary RPM under $topdir/RPMS"
find "$topdir/SRPMS" -name "podman-disk-$version-*.src.rpm" | grep -q . || fail "no source RPM"

rpm -qlp "$rpm" > "$tmpdir/files"
want=(/usr/bin/podman-disk
      /usr/share/bash-completion/completions/podman-disk
      /usr/share/zsh/site-functions/_podman-disk
      /usr/share/fish/vendor_completions.d/podman-disk.fish)
hooks=()
for src in $(git -C "$top_srcdir" ls-files 'hooks/*.json.in'); do
    hooks+=("/usr/share/containers/oci/hooks.d/$(basename "$src" .in)")
done
want+=("${hooks[@]}")
for md in "$top_srcdir"/man/*.md; do
    page=$(basename "$md" .md)
    case $page in nbdkit-*) continue ;; esac    # the plugin's subpackage
    want+=("/usr/share/man/man${page##*.}/$page")
done
for f in "${want[@]}"; do
    # Man pages may be compressed by the build.
    grep -qE "^$f(\.gz|\.bz2|\.xz|\.zst)?$" "$tmpdir/files" ||
        fail "the RPM lacks $f (it holds: $(echo $(cat "$tmpdir/files")))"
done

# %doc: /usr/share/doc/podman-disk (Fedora) or podman-disk-VERSION (older rpm macros).
grep -qE "^/usr/share/doc/podman-disk(-$version)?/README.md$" "$tmpdir/files" ||
    fail "the RPM lacks the README under /usr/share/doc"

rpm -qp --requires "$rpm" > "$tmpdir/requires"
for r in nbdkit nbdkit-basic-plugins nbdkit-basic-filters qemu-img podman libnbd libarchive; do
    grep -qx "$r" "$tmpdir/requires" || fail "the RPM does not require $r"
done
[ "$(rpm -qp --qf '%{VERSION}' "$rpm")" = "$version" ] || fail "the RPM's version is not $version"

# The packaged binary is the one we built from the tarball, and it runs.
mkdir "$tmpdir/root"
if command -v rpm2archive >/dev/null; then
    rpm2archive - < "$rpm" | tar -xzf - -C "$tmpdir/root"
else
    (cd "$tmpdir/root" && rpm2cpio "$rpm" | cpio -idm --quiet)
fi
"$tmpdir/root/usr/bin/podman-disk" --version | grep -qx "podman-disk $version" ||
    fail "the packaged binary does not print its version"
for h in "${hooks[@]}"; do
    jq -r '.hook.path' "$tmpdir/root$h" | grep -qx /usr/bin/podman-disk ||
        fail "the packaged $h does not point at /usr/bin/podman-disk"
done

# The nbdkit plugin's subpackage: the plugin in nbdkit's directory, its
# page, and nbdkit loads it.
prpm=$(find "$topdir/RPMS" -name "nbdkit-podman-disk-plugin-$version-*.rpm" ! -name '*debug*' | head -n1)
[ -n "$prpm" ] || fail "no nbdkit-podman-disk-plugin RPM under $topdir/RPMS"
rpm -qlp "$prpm" > "$tmpdir/pfiles"
grep -qE '^/usr/lib(64)?/nbdkit/plugins/nbdkit-podman-disk-plugin\.so$' "$tmpdir/pfiles" ||
    fail "the plugin RPM lacks the plugin (it holds: $(echo $(cat "$tmpdir/pfiles")))"
grep -qE '^/usr/share/man/man1/nbdkit-podman-disk-plugin\.1(\.gz|\.bz2|\.xz|\.zst)?$' "$tmpdir/pfiles" ||
    fail "the plugin RPM lacks its man page"
mkdir "$tmpdir/proot"
(cd "$tmpdir/proot" && rpm2cpio "$prpm" | cpio -idm --quiet)
packaged_plugin=$(find "$tmpdir/proot" -name nbdkit-podman-disk-plugin.so)
if ldd "$packaged_plugin" | grep -q libasan; then
    # (a sanitizer build: nbdkit cannot dlopen it, see plugin-lib.sh)
    nm -D --defined-only "$packaged_plugin" | grep -qw plugin_init ||
        fail "the packaged plugin exports no plugin_init"
elif command -v nbdkit >/dev/null; then
    nbdkit "$packaged_plugin" --version |
        grep -qx "podman-disk $version" || fail "nbdkit cannot load the packaged plugin"
fi

echo "rpm OK: $(basename "$rpm") $(basename "$prpm")"
