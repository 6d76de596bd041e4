/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the disk location record.
 *
 * Sources (containers/storage, OCI layouts, archives, a container's rootfs)
 * fill it; sinks (locate output, qemu json, NBD export, hook) read it.  It is
 * the only thing that crosses over.  It owns an open fd of the backing file,
 * so a sink serves exactly the file that was checked.
 */
#ifndef PODMAN_DISK_LOCATION_H
#define PODMAN_DISK_LOCATION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "image/diskfmt.h"

struct disk_location {
  /* Where it came from. */
  char *transport;          /* "containers-storage", "oci", "oci-archive",
                               "docker-archive", "rootfs" */
  char *image_id;           /* storage image id, or manifest digest */
  char *digest;             /* storage: the manifest digest the image was
                               pulled by (a NAME@DIGEST's own), or NULL */
  char **names;             /* image names, NULL-terminated (may be empty) */
  char *layer;              /* storage layer id, or layer blob digest */
  char *layer_media_type;   /* layouts only, else NULL */
  char *member;             /* path of the disk inside the image: /disk/x.img */

  /* The bytes. */
  char *file;               /* backing file on the host (for display) */
  int fd;                   /* O_RDONLY fd of that file, -1 if none */
  uint64_t offset;          /* first byte of the disk in the file */
  uint64_t size;            /* bytes of the disk */
  int64_t header_offset;    /* tar member header offset, -1 if not a tar */

  /* What the bytes are. */
  struct disk_format_info fmt;
};

void disk_location_init (struct disk_location *loc);
void disk_location_clear (struct disk_location *loc);   /* frees, closes fd */
static inline void disk_location_clearp (struct disk_location *loc)
{
  disk_location_clear (loc);
}
#define _cleanup_location_ _cleanup_ (disk_location_clearp)

/* Move where SRC came from (transport, image, names, layer, member) into
 * DST, whose bytes are elsewhere (a clone of SRC's disk): DST's own origin
 * is freed, SRC's left NULL, the bytes of both untouched.
 */
void disk_location_move_origin (struct disk_location *dst,
                                struct disk_location *src);

/* Where containers/storage is, as podman's global options say; NULL:
 * as storage.conf and the environment say.
 */
struct store_options {
  const char *root;         /* --root DIR */
  const char *runroot;      /* --runroot DIR */
  const char *driver;       /* --storage-driver NAME */
};

/* What the user asked to locate, beyond the image reference. */
struct locate_request {
  struct store_options store;
  const char *disk;         /* --disk PATH, or NULL for the /disk/ rule */
  const char *platform;     /* --platform OS/ARCH[/VARIANT], or NULL */
  const char *disktype;     /* --disktype: an index entry's "disktype"
                               annotation (podman machine's), or NULL */
  bool verify;              /* --verify: check blob digests */
};

/* Is S a platform --platform (or the plugin's platform=) takes: OS/ARCH or
 * OS/ARCH/VARIANT, each part 1 to 63 bytes, as an OCI descriptor's
 * platform is matched (src/layout/index.c)?
 */
bool locate_platform_valid (const char *s);

/* The record as one JSON object (json-c), the form of locate --format json
 * and of list --format json: keys as in locate's text output.
 */
struct json_object;
struct json_object *disk_location_to_json (const struct disk_location *loc);

/* What a source's list calls for every image: LOC is its disk, or NULL
 * with WHY saying why it has none (LOC's fd may be -1: a listing need not
 * keep every disk open).  A non-zero return stops the listing
 * and is returned.
 */
typedef int (*disk_list_cb) (const char *image_id, char *const *names,
                             const struct disk_location *loc,
                             const char *why, void *arg);

#endif
