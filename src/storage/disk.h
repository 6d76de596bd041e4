/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: from a stored image to the location of its disk. */
#ifndef PODMAN_DISK_STORAGE_DISK_H
#define PODMAN_DISK_STORAGE_DISK_H

#include <stdbool.h>

#include "location.h"
#include "storage/store.h"

/* Walk IMG's layers (top first), merge their directories with overlay
 * rules, pick the disk (req->disk or the /disk/ rule), open it and read its
 * header.  SET's locks must be held.  -1 with error () saying why not.
 */
int image_find_disk (const struct store_set *set, const struct st_image *img,
                     const struct locate_request *req,
                     struct disk_location *loc);

/* Every image of SET, the main store's first, each ID once (the main
 * store's copy wins).  Free *OUT (not the images).
 */
int store_set_images (const struct store_set *set,
                      const struct st_image ***out, size_t *n);

/* The message for a disk that cannot be read because it belongs to a user
 * of the rootless user namespace: the command to run instead.  Sets
 * storage_needs_userns.
 */
int rootless_permission_error (const char *what);
extern bool storage_needs_userns;

/* May this process run itself again inside podman's rootless user
 * namespace?  Not as root, not when inside already, not with
 * PODMAN_DISK_UNSHARE=no.
 */
bool rootless_can_reexec (void);

/* Run this very command again under "podman unshare"; returns only when
 * that is not possible (the error message is left as it was).
 */
void rootless_reexec (void);

#endif
