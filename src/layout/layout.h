/* podman-disk: OCI image layouts and archives as a source of disks. */
#ifndef PODMAN_DISK_LAYOUT_H
#define PODMAN_DISK_LAYOUT_H

#include <stdbool.h>

#include "common/location.h"

/* Is REF one of the transports handled here (oci:, oci-archive:,
 * docker-archive:)?
 */
bool layout_is_layout_ref (const char *ref);

int layout_locate (const char *ref, const struct locate_request *req,
                   struct disk_location *loc);

#endif
