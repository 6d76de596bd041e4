/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the nbdkit plugin's own pieces (src/nbdkit/), shared
 * between its files.  The plugin is nbdkit-podman-disk-plugin(1):
 * plugin.c reads the parameters and answers nbdkit's callbacks, io.c
 * reads a located disk, exports.c serves a whole store by export name.
 * Everything else (sources, the location record) is the CLI's own code,
 * linked from the core library.
 */
#ifndef PODMAN_DISK_NBDKIT_PLUGIN_H
#define PODMAN_DISK_NBDKIT_PLUGIN_H

#include <stdint.h>

#include "location.h"

struct nbdkit_extents;
struct nbdkit_exports;

/* One disk a connection reads: the location (whose fd is the file that
 * was checked) and the text nbdinfo shows for it.
 */
struct served_disk {
  struct disk_location loc;
  char *description;
};

/* io.c: the disk's bytes, from its fd at loc.offset; COUNT and OFFSET
 * are inside the disk (nbdkit checks them against .get_size).
 */
int disk_pread (const struct served_disk *d, void *buf, uint32_t count,
                uint64_t offset);
int disk_extents (const struct served_disk *d, uint32_t count, uint64_t offset,
                  uint32_t flags, struct nbdkit_extents *extents);
int disk_cache (const struct served_disk *d, uint32_t count, uint64_t offset);

/* plugin.c: the located disk's description, "FORMAT, SIZE bytes, image
 * ID" (malloc'd, NULL when out of memory).
 */
char *disk_description (const struct disk_location *loc);

/* plugin.c: podman-disk's recorded error as nbdkit's error, one line,
 * with WHAT in front when there is no message (a bug).  Returns -1.
 */
int report_error (const char *what);

/* exports.c: the store mode, without an IMAGE.  Every image of the store
 * that holds a disk, each of its names an export, described.
 */
int store_list_exports (const struct locate_request *req,
                        struct nbdkit_exports *exports);
/* Locate the disk of export NAME into D: NAME must be one of the image's
 * names, its ID (or a prefix of 12 digits or more) or sha256:ID; any
 * other reference (a transport, another store) is refused.  -1 after
 * nbdkit_error.
 */
int store_open_export (const char *name, const struct locate_request *req,
                       struct served_disk *d);

#endif
