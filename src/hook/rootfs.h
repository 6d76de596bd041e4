/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the disk in a running container's root filesystem.
 *
 * The rootfs podman or CRI-O mounted for the container is an overlay of
 * the container's upper directory over the image's layer directories; the
 * disk is served from the layer directory that holds it (the upper one if
 * the container modified it), never through the merged mount, so nothing
 * is copied and the server does not pin the mount.  The layers are found
 * in the overlay's mount options (libmount), or, for fuse-overlayfs, in
 * containers/storage's own "lower" file; any other rootfs (vfs, --rootfs)
 * is one plain directory.
 */
#ifndef PODMAN_DISK_HOOK_ROOTFS_H
#define PODMAN_DISK_HOOK_ROOTFS_H

#include <stddef.h>

#include "location.h"

/* The directories of the rootfs mounted at ROOT_PATH, top first: *DIRS is
 * a NULL-terminated vector of N absolute paths.
 */
int rootfs_layer_dirs (const char *root_path, char ***dirs, size_t *n);

/* Split an overlay "lowerdir" value at unescaped colons ("\:" is a colon
 * in a name); relative entries are made absolute against BASE.  Data-only
 * layers (after "::") are not part of the visible tree and are dropped.
 */
int rootfs_split_lowerdir (const char *value, const char *base,
                           char ***dirs, size_t *n);

/* Find the disk of the rootfs at ROOT_PATH by the /disk/ rule or DISK and
 * fill LOC (transport "rootfs", the layer file, its format).
 */
int rootfs_locate (const char *root_path, const char *disk,
                   struct disk_location *loc);

#endif
