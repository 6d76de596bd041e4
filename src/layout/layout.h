/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: OCI image layouts and archives as a source of disks. */
#ifndef PODMAN_DISK_LAYOUT_H
#define PODMAN_DISK_LAYOUT_H

#include <stdbool.h>

#include "location.h"

/* Is REF one of the transports handled here (oci:, oci-archive:,
 * docker-archive:)?
 */
bool layout_is_layout_ref (const char *ref);

/* oci:DIR, oci-archive:FILE, docker-archive:FILE, each with [:NAME|:@N]:
 * the disk of that image (the only one when neither is given; @N is the
 * Nth entry of index.json or manifest.json, from 0).
 */
int layout_locate (const char *ref, const struct locate_request *req,
                   struct disk_location *loc);

/* Call CB for every image of the layout REF (or the one it names). */
int layout_list (const char *ref, const struct locate_request *req,
                 disk_list_cb cb, void *arg);

#endif
