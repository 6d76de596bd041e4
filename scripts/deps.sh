#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# podman-disk: install what building, testing and the demo need, and only
# what is missing.  Shared by 'make deps', 'make check', 'make demo' and
# .ci/run.  Debian/Ubuntu (apt-get) and Fedora (dnf).
set -e

debian_packages="gcc make pkg-config binutils libjson-c-dev libarchive-dev nbdkit-plugin-dev
 libnbd-dev libmount-dev libselinux1-dev
 podman runc skopeo uidmap nbdkit libnbd-bin fuse3 qemu-utils e2fsprogs
 jq bc time python3 go-md2man man-db hyperfine rpm busybox-static zsh fish
 clang libclang-rt-14-dev valgrind qemu-system-x86 libguestfs-tools
 docker-registry gnutls-bin apache2-utils curl"
# libguestfs boots a kernel of the host's: Debian's images in containers
# have none.
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] &&
    debian_packages="$debian_packages linux-image-cloud-amd64"
fedora_packages="gcc make pkgconf-pkg-config binutils json-c-devel nbdkit-devel
 libarchive-devel libnbd-devel libmount-devel libselinux-devel
 podman runc skopeo shadow-utils nbdkit nbdkit-basic-plugins
 nbdkit-basic-filters libnbd nbdfuse fuse3 qemu-img e2fsprogs jq bc time python3
 golang-github-cpuguy83-md2man man-db hyperfine rpm-build busybox zsh fish
 clang compiler-rt valgrind qemu-system-x86 guestfs-tools
 docker-distribution gnutls-utils httpd-tools curl"

# docker-registry (the distribution registry of the --pull tests) ships a
# service listening on :5000: the tests never use it, they run their own
# on a free loopback port.

as_root () {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if command -v apt-get >/dev/null 2>&1; then
    missing=
    for p in $debian_packages; do
        dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null |
            grep -q '^install ok installed' || missing="$missing $p"
    done
    [ -z "$missing" ] && exit 0
    echo "deps: installing$missing"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq $missing
elif command -v dnf >/dev/null 2>&1; then
    missing=
    for p in $fedora_packages; do
        rpm -q "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && exit 0
    echo "deps: installing$missing"
    as_root dnf install -y $missing
else
    echo "deps: neither apt-get nor dnf found; install by hand:" >&2
    echo "  $debian_packages" >&2
    exit 1
fi
