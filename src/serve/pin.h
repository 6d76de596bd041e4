/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a fixed name for an open file, for servers that take a name.
 *
 * nbdkit before 1.34 takes its disk only as file=NAME: it resolves NAME
 * once (realpath) and opens the resulting host path again for every
 * client.  Anyone who can write a directory on that path meanwhile (a
 * container, into its upper layer; the owner of an OCI layout) could put a
 * symlink to any host file there, and later clients would read that file.
 * So such a server gets PIN_PATH instead: in a mount namespace of its own,
 * a tmpfs over /run holds that one name, and the very file of a descriptor
 * is mounted on it, read-only: a clone of the file's own mount where the
 * kernel allows it (open_tree, as root), else a bind mount of its path
 * checked to lead to the same inode.  Nothing of it is seen outside.
 */
#ifndef PODMAN_DISK_PIN_H
#define PODMAN_DISK_PIN_H

#define PIN_DIR "/run"
#define PIN_PATH PIN_DIR "/podman-disk-pinned"

/* In a child about to exec the server: give the calling process its own
 * mount namespace (an unprivileged caller its own user namespace too, its
 * ids mapped to themselves) in which PIN_PATH is the file of FD.  0, or -1
 * with a one-line reason written to stderr.
 */
int pin_fd (int fd);

#endif
