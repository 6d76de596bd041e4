/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a containers/storage store as read from its JSON files.
 *
 * A store is <root>/<driver>-images/images.json and
 * <root>/<driver>-layers/layers.json (+ <runroot>/<driver>-layers/
 * volatile-layers.json), read under fcntl read locks of layers.lock then
 * images.lock, which stay held until the store is closed: the disk file is
 * opened while they are held, so podman cannot remove a layer in between.
 * Nothing is ever created or written in the store.
 */
#ifndef PODMAN_DISK_STORAGE_STORE_H
#define PODMAN_DISK_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/config.h"

struct st_image {
  char *id;
  char **names;          /* NULL-terminated, maybe empty */
  char **digests;        /* "digest" then "digests", NULL-terminated */
  char *top_layer;       /* "layer": NULL for an image without layers */
  size_t store;          /* index of its store in the store set */
};

struct st_layer {
  char *id;              /* 64 hex digits, checked */
  char *parent;          /* NULL for a base layer; checked like id */
  bool incomplete;       /* flags.incomplete: an interrupted pull */
};

struct store {
  char *root;
  char *runroot;         /* NULL for an additional image store */
  bool additional;
  int layers_lock;       /* -1 when there is no lock file */
  int images_lock;
  struct st_image *images;
  size_t nimages;
  struct st_layer *layers;
  size_t nlayers;
};

/* The main store, then each additional image store. */
struct store_set {
  char *driver;          /* "overlay" or "vfs" */
  struct store *stores;
  size_t n;
};

/* Lock, read and parse every store of CFG (its driver detected from the
 * root when CFG has none).  Close with store_set_close.
 */
int store_set_open (struct store_set *set, const struct store_config *cfg);
void store_set_close (struct store_set *set);

/* store_set_open in two steps: take the locks, then parse every store's
 * files (or, instead, load a cached answer: storage/storecache.c).
 */
int store_set_lock (struct store_set *set, const struct store_config *cfg);
int store_set_load (struct store_set *set);

enum store_json { STORE_LAYERS, STORE_VOLATILE_LAYERS, STORE_IMAGES };
/* The path of one of store S's JSON files. */
void store_json_path (const struct store *s, const char *driver,
                      enum store_json which, char *path, size_t len);

/* The answer to a lookup, for the cache: image IMG and its layer chain, as
 * containers/storage's own JSON, one {"images","layers"} per store.
 */
struct json_object;
struct json_object *store_set_answer (const struct store_set *set,
                                      const struct st_image *img);
/* Load a locked set from such an ANSWER instead of its files, and point
 * *IMAGE at its image.  On failure the set is left empty, as it was.
 */
int store_set_load_answer (struct store_set *set, struct json_object *answer,
                           const struct st_image **image);
struct cache;
/* The files an answer about SET depends on. */
void store_set_cache_sources (const struct store_set *set, struct cache *c);

/* Find layer ID, searching PREFERRED's store first, then all in order.
 * Sets *STORE to the index of the store holding it.
 */
const struct st_layer *store_set_find_layer (const struct store_set *set,
                                             size_t preferred, const char *id,
                                             size_t *store);

/* The JSON files, parsed from TEXT (LEN bytes); NAME is the file, for
 * messages.  Parsed entries are appended to *OUT / *N.
 */
int storejson_parse_images (const char *text, size_t len, const char *name,
                            size_t store, struct st_image **out, size_t *n);
int storejson_parse_layers (const char *text, size_t len, const char *name,
                            struct st_layer **out, size_t *n);
void st_images_free (struct st_image *v, size_t n);
void st_layers_free (struct st_layer *v, size_t n);

/* A layer id as containers/storage makes them: 64 lowercase hex digits.
 * It becomes a path component, so nothing else is accepted.
 */
bool storage_valid_layer_id (const char *id);

/* Take a read lock on PATH (opened O_RDONLY); *FD is -1 if it does not
 * exist.  Blocks while podman holds a write lock.
 */
int store_lock_read (const char *path, int *fd);

/* The error for a store file that cannot be opened: EACCES says whose. */
int store_access_error (int errnum, const char *path);

#endif
