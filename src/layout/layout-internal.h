/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the pieces of src/layout, shared among its files.
 *
 *   store.c    a layout's files: a directory, or the members of an archive
 *   oci.c      index.json, image indexes, platforms, manifests
 *   docker.c   docker-archive's manifest.json and config
 *   layout.c   references, the layer tree, the disk and its location
 */
#ifndef PODMAN_DISK_LAYOUT_INTERNAL_H
#define PODMAN_DISK_LAYOUT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "image/tartree.h"
#include "image/tree.h"

static inline void json_putp (json_object **o) { json_object_put (*o); }
#define _cleanup_json_ _cleanup_ (json_putp)

/* Where a layout's files are: a directory (oci:) or the members of one
 * tar file (oci-archive:, docker-archive:), whose symlinks and hard links
 * resolve inside the archive.
 */
struct layout {
  const char *transport;     /* "oci", "oci-archive", "docker-archive" */
  char *path;                /* absolute path of the directory or archive */
  int fd;                    /* that directory or archive */
  bool archive;
  const unsigned char *map;  /* archive: the whole file, mapped */
  size_t map_len;
  struct tartree *members;   /* archive: its members */
  struct tree tree;
  uid_t owner;               /* of the directory, or the archive's directory */
  /* Parsed once per store_open, however many images are asked for: a
   * listing of N entries reads them once, not N times.
   */
  json_object *index;        /* oci: index.json (oci-layout checked) */
  json_object *manifest;     /* docker-archive: manifest.json */
};

/* The bytes of one file of a store, mapped, and where they are on disk. */
struct blob {
  char *name;                /* its path in the store, for messages */
  char *file;                /* the host file holding it */
  int fd;                    /* directory stores: that file, else -1 */
  uint64_t offset;           /* of its first byte in FILE */
  uint64_t size;
  int64_t header_offset;     /* archives: its member's header, else -1 */
  const unsigned char *data; /* SIZE bytes */
  void *map;                 /* directory stores: the mapping to undo */
  char *heap;                /* store_read_small: the bytes read */
};

int store_open (struct layout *s, const char *transport, const char *path);
void store_close (struct layout *s);
/* "DIR/NAME" or "FILE(NAME)": how a file of the store is named in messages. */
char *store_display (const struct layout *s, const char *name);

/* Is there a file NAME (not following a final symlink in directories)? */
bool store_exists (struct layout *s, const char *name);
int store_open_blob (struct layout *s, const char *name, struct blob *b);
/* The same for a small file (JSON: index, manifest, config), read into
 * memory rather than mapped: a listing of thousands of images opens
 * thousands of these, and unmapping each costs a TLB flush.
 */
int store_read_small (struct layout *s, const char *name, struct blob *b);
void blob_close (struct blob *b);
/* An fd of the host file holding B, for the location record. */
int blob_take_fd (struct layout *s, struct blob *b);

/* Parse file NAME of the store as JSON (bounded size and depth), which
 * must be of TYPE (an object or an array).
 */
int store_read_json (struct layout *s, const char *name, json_type type,
                     json_object **out);
/* The same for bytes already read; DISPLAY names them in errors. */
int json_parse_bytes (const char *data, size_t len, const char *display,
                      json_type type, json_object **out);

/* "blobs/ALG/ENCODED" for a validated digest. */
int digest_blob_name (const char *digest, const char *display, char **name);
/* Does the sha256 digest of LEN bytes at DATA match DIGEST? 0 if it does,
 * -1 with an error naming WHAT if not (or if DIGEST is not sha256).
 */
int digest_check (const char *digest, const void *data, size_t len,
                  const char *what);

/* Members of a JSON object, typed, with DISPLAY and the member's path
 * (CTX.KEY) in errors.  Optional ones are NULL / -1 when absent.
 */
int json_string (json_object *o, const char *key, bool required,
                 const char *display, const char *ctx, const char **out);
int json_int (json_object *o, const char *key, bool required,
              const char *display, const char *ctx, int64_t *out);
int json_typed (json_object *o, const char *key, json_type type, bool required,
                const char *display, const char *ctx, json_object **out);

/* One layer of the chosen image, bottom first. */
struct layer {
  char *digest;              /* blob digest (docker-archive: its diff_id) */
  char *media_type;
  char *name;                /* the blob's path in the store */
  int64_t size;              /* from the descriptor, -1 when not given */
  char *title;               /* org.opencontainers.image.title, or NULL */
  bool unpack;               /* ORAS: a directory's tar, to be unpacked */
};

struct image {
  char *id;                  /* manifest digest (docker-archive: config digest) */
  char **names;              /* NULL-terminated */
  struct layer *layers;
  size_t n_layers;
};

void image_clear (struct image *img);

/* The disk, as found in an image's layers: what cache.c keeps. */
struct layer_pick {
  size_t layer;              /* index in the image's layers */
  char *member;              /* its path in the image */
  uint64_t header_offset, offset, size;
};
struct cache;
/* The question for IMG's disk (DISK: --disk or NULL) in store S, whose
 * tar layers are open in BLOBS (fd -1 for those not opened).
 */
void layer_cache_question (struct cache *c, const struct layout *s,
                           const struct image *img, const char *disk,
                           const struct blob *blobs);
/* 0 with *PICK (free its member) when a kept answer still matches the
 * member's tar header, 1 when there is none.
 */
int layer_cache_lookup (const struct cache *c, const struct image *img,
                        const struct blob *blobs, struct layer_pick *pick);
void layer_cache_store (const struct cache *c, const struct layer_pick *pick,
                        const struct blob *blobs);

/* The image of index.json named REF (NULL: the only one), or its entry
 * ENTRY (>= 0), then down nested indexes by PLATFORM (NULL: the host's),
 * and by DISKTYPE (NULL: any) among entries with a "disktype" annotation.
 * On failure IMG may still hold the entry's digest and name.
 */
int oci_select_image (struct layout *s, const char *ref, ssize_t entry,
                      const char *platform, const char *disktype,
                      struct image *img);
int oci_count_images (struct layout *s, size_t *n);
/* REF: a name, "@N", or NULL for the only image. */
int docker_select_image (struct layout *s, const char *ref, struct image *img);
int docker_count_images (struct layout *s, size_t *n);
/* What decides the image of entry ENTRY (oci: its descriptor's digest;
 * docker-archive: its config and layer files), in *KEY, and the names
 * the entry gives it, in *NAMES (free both): two entries of one key are
 * the same image, whatever they are called.
 */
int oci_entry_key (struct layout *s, size_t entry, char **key, char ***names);
int docker_entry_key (struct layout *s, size_t entry, char **key,
                      char ***names);

#endif
