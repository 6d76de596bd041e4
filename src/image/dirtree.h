/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the tree backend for a stack of layer directories.
 *
 * containers/storage overlay (overlay/<id>/diff of each layer), vfs (one
 * directory) and a running container's rootfs (upperdir + lowerdirs) are
 * all a stack of directories merged with overlay rules: whiteouts (char
 * device 0:0 or ".wh.NAME"), opaque directories (trusted.overlay.opaque or
 * user.overlay.opaque xattr "y", or ".wh..wh..opq"), and an upper non-dir
 * hiding everything below it.  Nothing on the host is ever followed: each
 * component is opened with O_NOFOLLOW under the layer's own directory fd.
 */
#ifndef PODMAN_DISK_DIRTREE_H
#define PODMAN_DISK_DIRTREE_H

#include <stddef.h>

#include "image/tree.h"

/* LAYER_DIRS: N host directories, the top (uppermost) layer first.  Fills
 * *T; free with dirtree_close.
 */
int dirtree_open (struct tree *t, char *const *layer_dirs, size_t n);
void dirtree_close (struct tree *t);

/* For a TN_REG node found in T: open it O_RDONLY|O_NOFOLLOW|O_CLOEXEC
 * (checked again with fstat to be a regular file) and say which layer it
 * is in (an index into LAYER_DIRS) and its host path.
 */
int dirtree_open_file (struct tree *t, const struct tnode *node,
                       int *fd, size_t *layer, char **host_path);

#endif
