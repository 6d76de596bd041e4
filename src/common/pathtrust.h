/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: may anyone but root and the caller change what a path
 * names?
 *
 * A path printed for another program to open later (json's qemu
 * filename) is only as safe as its directories: whoever may rename
 * entries in one of them, or owns the file, can make the path name other
 * bytes between the print and the open (a symlink to a host file).  An fd
 * handed over cannot be swapped; a path can, so it is checked.
 *
 * Each component is looked at from / down, opened O_PATH|O_NOFOLLOW and
 * fstat'ed (symlinks are followed by hand, their targets walked in turn).
 * A component passes when its owner is trusted and, for a directory,
 * only its owner may write it (or it is sticky, like /tmp), and for the
 * file, only its owner may write it.  Trusted: root, the caller and the
 * caller's subordinate uids (/etc/subuid: the files of its rootless
 * containers, which only it can map).  Below a trusted directory that no
 * one but its owner may enter (mode 0700, like containers/storage's
 * overlay/ and vfs/dir/), nothing is reachable by anyone else, so nothing
 * below is looked at: the disk files of a store belong to whatever uid
 * the image says (107 for KubeVirt's containerDisks).
 *
 * In a user namespace (podman unshare), uids the namespace maps are the
 * caller's; owners it does not map show as the overflow uid (nobody) and
 * could be root or any other user: they are accepted only on the way down
 * to the first directory of a mapped owner (/ and /home are root's on the
 * host), never below it.
 */
#ifndef PODMAN_DISK_PATHTRUST_H
#define PODMAN_DISK_PATHTRUST_H

/* 0 when no one but root and the caller can change what PATH names, and
 * PATH names the file open as FD (-1: not checked).  Else -1 with error ()
 * "PATH: COMPONENT is ... (why)".
 */
int pathtrust_check (const char *path, int fd);

#endif
