/* podman-disk: from an image reference to a disk location.
 *
 * The one entry point of the sources: it reads the transport of REF
 * (containers-transports(5)) and hands it to containers/storage
 * (src/storage/) or to the OCI layout and archive readers (src/layout/).
 */
#ifndef PODMAN_DISK_SOURCE_H
#define PODMAN_DISK_SOURCE_H

#include "location.h"

int source_locate (const char *ref, const struct locate_request *req,
                   struct disk_location *loc);

/* Whether REQ's options apply to REF: 0, or EXIT_USAGE after a usage
 * message for command CMD (--platform and --verify are for layouts and
 * archives only).
 */
int source_check_request (const char *cmd, const char *ref,
                          const struct locate_request *req);

#endif
