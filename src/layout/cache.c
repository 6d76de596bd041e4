/* podman-disk: where the disk is in an image's layers, as a cache answer
 * (common/cache.h).
 *
 * Scanning the headers of a layer of 10,000 files takes tens of
 * milliseconds; the answer it yields (which layer, which member, at which
 * offsets) is kept for the image's manifest digest, the --disk asked for and
 * the identity of every layer's file.  Before a kept answer is used, the
 * member's own tar header is read again at the kept offset: it must still
 * name the same member with its data at the same offset and size.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cache.h"
#include "common/error.h"
#include "common/tarscan.h"
#include "layout/layout-internal.h"

/* The first member of a tar at a header offset, for the check. */
struct first_member {
  char *name;
  enum tnode_type type;
  bool hardlink;
  uint64_t offset, size;
};

static int
take_first (const struct tar_member *m, void *arg)
{
  struct first_member *f = arg;
  f->name = strdup (m->name);
  f->type = m->type;
  f->hardlink = m->hardlink != NULL;
  f->offset = m->offset;
  f->size = m->size;
  return f->name ? 1 : error_errno (errno, "strdup");
}

/* The member whose header is at HEADER_OFFSET (in B's file), or -1. */
static int
member_at (const struct blob *b, uint64_t header_offset, struct first_member *f)
{
  memset (f, 0, sizeof *f);
  if (header_offset < b->offset || header_offset - b->offset >= b->size)
    return error ("the header offset is outside the layer");
  uint64_t skip = header_offset - b->offset;
  int r = tarscan_memory (b->data + skip, b->size - skip, header_offset,
                          "cached member", take_first, f);
  if (r == 0)
    return error ("no member at the kept offset");
  return r == 1 ? 0 : -1;
}

void
layer_cache_question (struct cache *c, const struct store *s,
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
  json_object *answer = cache_lookup (c), *member, *name;
  struct first_member f = { 0 };
  uint64_t layer;
  int r = 1;

  memset (pick, 0, sizeof *pick);
  if (!answer)
    return 1;
  if (get_u64 (answer, "layer", &layer) && layer < img->n_layers
      && blobs[layer].data
      && get_u64 (answer, "header_offset", &pick->header_offset)
      && get_u64 (answer, "offset", &pick->offset)
      && get_u64 (answer, "size", &pick->size)
      && json_object_object_get_ex (answer, "member", &member)
      && json_object_object_get_ex (answer, "tar_name", &name)
      && member_at (&blobs[layer], pick->header_offset, &f) == 0
      && f.type == TN_REG && !f.hardlink
      && f.offset == pick->offset && f.size == pick->size
      && strcmp (f.name, json_object_get_string (name)) == 0
      && (pick->member = strdup (json_object_get_string (member))) != NULL) {
    pick->layer = layer;
    r = 0;
  }
  else {
    debug ("cache: the kept member no longer matches its tar header: %s",
           error_message ());
    error_clear ();
  }
  free (f.name);
  json_object_put (answer);
  return r;
}

void
layer_cache_store (const struct cache *c, const struct layer_pick *pick,
                   const struct blob *blobs)
{
  struct first_member f;

  /* The name the check will compare: the one in the member's header. */
  if (member_at (&blobs[pick->layer], pick->header_offset, &f) == -1) {
    debug ("cache: %s", error_message ());
    error_clear ();
    return;
  }
  json_object *a = json_object_new_object ();
  if (a) {
    json_object_object_add (a, "layer", json_object_new_int64 (pick->layer));
    json_object_object_add (a, "member", json_object_new_string (pick->member));
    json_object_object_add (a, "tar_name", json_object_new_string (f.name));
    json_object_object_add (a, "header_offset", json_object_new_int64 (pick->header_offset));
    json_object_object_add (a, "offset", json_object_new_int64 (pick->offset));
    json_object_object_add (a, "size", json_object_new_int64 (pick->size));
    cache_store (c, a);
    json_object_put (a);
  }
  free (f.name);
}
