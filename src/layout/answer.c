/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: where the disk is in an image's layers, as a cache answer
 * (common/cache.h).
 *
 * Scanning the headers of a layer of 10,000 files takes tens of
 * milliseconds; the answer it yields (which layer, which member, at which
 * offsets) is kept for the image's manifest digest, the --disk asked for and
 * the identity of every layer's file.  Before a kept answer is used, the
 * member's tar header bytes are read again at the kept offset: they must
 * still be the very bytes the scan saw.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cache.h"
#include "common/error.h"
#include "common/sha256.h"
#include "layout/layout-internal.h"

/* A member's headers (a pax or GNU long-name header, then its own) are
 * far smaller than this; a kept answer claiming more is not believed.
 */
#define MAX_HEADER_BYTES (1024 * 1024)

/* The digest of the header bytes of the member PICK in blob B: they fix
 * its name, type and size, and end where its data starts.  So equal bytes
 * at the same offset are the same member, with no tar parsing (and no
 * libarchive to load).  -1 if PICK does not fit in B.
 */
static int
header_digest (const struct blob *b, const struct layer_pick *pick,
               char hex[65])
{
  if (pick->header_offset < b->offset || pick->offset <= pick->header_offset
      || pick->offset - pick->header_offset > MAX_HEADER_BYTES
      || pick->offset - b->offset > b->size
      || pick->size > b->size - (pick->offset - b->offset))
    return -1;
  sha256_hex (b->data + (pick->header_offset - b->offset),
              pick->offset - pick->header_offset, hex);
  return 0;
}

void
layer_cache_question (struct cache *c, const struct layout *s,
                      const struct image *img, const char *disk,
                      const struct blob *blobs)
{
  cache_ask (c, "transport", s->transport);
  cache_ask (c, "path", s->path);
  cache_ask (c, "image", img->id);
  cache_ask (c, "disk", disk);
  if (s->archive)
    cache_source_fd (c, s->path, s->fd);
  else
    for (size_t i = 0; i < img->n_layers; i++)
      if (blobs[i].fd >= 0)
        cache_source_fd (c, img->layers[i].digest, blobs[i].fd);
}

static bool
get_u64 (json_object *o, const char *key, uint64_t *v)
{
  json_object *j;
  if (!json_object_object_get_ex (o, key, &j) || !json_object_is_type (j, json_type_int))
    return false;
  int64_t n = json_object_get_int64 (j);
  *v = n;
  return n >= 0;
}

int
layer_cache_lookup (const struct cache *c, const struct image *img,
                    const struct blob *blobs, struct layer_pick *pick)
{
  json_object *answer = cache_lookup (c), *member, *digest;
  uint64_t layer;
  char hex[65];
  int r = 1;

  memset (pick, 0, sizeof *pick);
  if (!answer)
    return 1;
  if (get_u64 (answer, "layer", &layer) && layer < img->n_layers
      && blobs[layer].data
      && get_u64 (answer, "header_offset", &pick->header_offset)
      && get_u64 (answer, "offset", &pick->offset)
      && get_u64 (answer, "size", &pick->size)
      && json_object_object_get_ex (answer, "header_sha256", &digest)
      && header_digest (&blobs[layer], pick, hex) == 0
      && strcmp (hex, json_object_get_string (digest)) == 0
      && json_object_object_get_ex (answer, "member", &member)
      && (pick->member = strdup (json_object_get_string (member))) != NULL) {
    pick->layer = layer;
    r = 0;
  }
  else
    debug ("cache: the kept member no longer matches its tar header");
  json_object_put (answer);
  return r;
}

void
layer_cache_store (const struct cache *c, const struct layer_pick *pick,
                   const struct blob *blobs)
{
  char hex[65];

  if (header_digest (&blobs[pick->layer], pick, hex) == -1)
    return;
  json_object *a = json_object_new_object ();
  if (!a)
    return;
  json_object_object_add (a, "layer", json_object_new_int64 (pick->layer));
  json_object_object_add (a, "member", json_object_new_string (pick->member));
  json_object_object_add (a, "header_offset", json_object_new_int64 (pick->header_offset));
  json_object_object_add (a, "offset", json_object_new_int64 (pick->offset));
  json_object_object_add (a, "size", json_object_new_int64 (pick->size));
  json_object_object_add (a, "header_sha256", json_object_new_string (hex));
  cache_store (c, a);
  json_object_put (a);
}
