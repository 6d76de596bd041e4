/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a store lookup as a cache answer (common/cache.h).
 *
 * Parsing images.json is most of the time of a locate in a store of
 * hundreds of images.  What a locate needs from it is one image and its
 * layer chain: that is the answer kept, in containers/storage's own JSON
 * form, so loading it back goes through the same strict parsers as the
 * store's files.  It holds while images.json, layers.json and
 * volatile-layers.json of every store keep their identity; the layer
 * directories themselves are opened and checked afresh every time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cache.h"
#include "common/error.h"
#include "storage/store.h"

static json_object *
strv_to_json (char *const *v)
{
  json_object *a = json_object_new_array ();
  for (; a && v && *v; v++)
    json_object_array_add (a, json_object_new_string (*v));
  return a;
}

static json_object *
image_to_json (const struct st_image *img)
{
  json_object *o = json_object_new_object ();
  if (!o)
    return NULL;
  json_object_object_add (o, "id", json_object_new_string (img->id));
  json_object_object_add (o, "names", strv_to_json (img->names));
  json_object_object_add (o, "digests", strv_to_json (img->digests));
  if (img->top_layer)
    json_object_object_add (o, "layer", json_object_new_string (img->top_layer));
  return o;
}

static json_object *
layer_to_json (const struct st_layer *l)
{
  json_object *o = json_object_new_object (), *flags = json_object_new_object ();
  if (!o || !flags) {
    json_object_put (o);
    json_object_put (flags);
    return NULL;
  }
  json_object_object_add (o, "id", json_object_new_string (l->id));
  if (l->parent)
    json_object_object_add (o, "parent", json_object_new_string (l->parent));
  json_object_object_add (flags, "incomplete", json_object_new_boolean (l->incomplete));
  json_object_object_add (o, "flags", flags);
  return o;
}

/* The stores' entries as {"images": [], "layers": []} each. */
static json_object *
new_stores (size_t n)
{
  json_object *stores = json_object_new_array ();
  for (size_t i = 0; stores && i < n; i++) {
    json_object *s = json_object_new_object ();
    json_object_array_add (stores, s);
    json_object_object_add (s, "images", json_object_new_array ());
    json_object_object_add (s, "layers", json_object_new_array ());
  }
  return stores;
}

static void
add_entry (json_object *stores, size_t store, const char *key, json_object *e)
{
  json_object *list;
  json_object_object_get_ex (json_object_array_get_idx (stores, store), key, &list);
  json_object_array_add (list, e);
}

json_object *
store_set_answer (const struct store_set *set, const struct st_image *img)
{
  json_object *stores = new_stores (set->n);
  size_t store = img->store, max = 0;
  const char *id = img->top_layer;

  if (!stores)
    return NULL;
  add_entry (stores, img->store, "images", image_to_json (img));
  for (size_t i = 0; i < set->n; i++)
    max += set->stores[i].nlayers;
  /* The chain as layer_chain walks it; bounded, for a damaged store. */
  for (size_t n = 0; id && n <= max; n++) {
    size_t s;
    const struct st_layer *l = store_set_find_layer (set, store, id, &s);
    if (!l)
      break;
    add_entry (stores, s, "layers", layer_to_json (l));
    id = l->parent;
    store = s;
  }
  json_object *answer = json_object_new_object ();
  if (answer)
    json_object_object_add (answer, "stores", stores);
  else
    json_object_put (stores);
  return answer;
}

static int
load_answer (struct store_set *set, json_object *answer)
{
  json_object *stores, *images, *layers;

  if (!json_object_object_get_ex (answer, "stores", &stores)
      || json_object_array_length (stores) != set->n)
    return error ("the answer does not fit the store set");
  for (size_t i = 0; i < set->n; i++) {
    struct store *s = &set->stores[i];
    json_object *e = json_object_array_get_idx (stores, i);
    if (!json_object_object_get_ex (e, "images", &images)
        || !json_object_object_get_ex (e, "layers", &layers))
      return error ("the answer does not fit the store set");
    const char *ti = json_object_to_json_string_ext (images, JSON_C_TO_STRING_PLAIN);
    if (storejson_parse_images (ti, strlen (ti), "cached images", i,
                                &s->images, &s->nimages) == -1)
      return -1;
    const char *tl = json_object_to_json_string_ext (layers, JSON_C_TO_STRING_PLAIN);
    if (storejson_parse_layers (tl, strlen (tl), "cached layers",
                                &s->layers, &s->nlayers) == -1)
      return -1;
  }
  return 0;
}

int
store_set_load_answer (struct store_set *set, json_object *answer,
                       const struct st_image **image)
{
  size_t nimages = 0;

  *image = NULL;
  if (load_answer (set, answer) == 0)
    for (size_t i = 0; i < set->n; i++)
      if (set->stores[i].nimages) {
        nimages += set->stores[i].nimages;
        *image = &set->stores[i].images[0];
      }
  if (nimages == 1)
    return 0;
  if (nimages > 1 || (nimages == 0 && !error_message ()[0]))
    error ("the answer does not hold one image");
  for (size_t i = 0; i < set->n; i++) {
    struct store *s = &set->stores[i];
    st_images_free (s->images, s->nimages);
    st_layers_free (s->layers, s->nlayers);
    s->images = NULL;
    s->layers = NULL;
    s->nimages = s->nlayers = 0;
  }
  *image = NULL;
  return -1;
}

void
store_set_cache_sources (const struct store_set *set, struct cache *c)
{
  char path[4096];

  cache_ask (c, "driver", set->driver);
  for (size_t i = 0; i < set->n; i++) {
    const struct store *s = &set->stores[i];
    char key[32];
    snprintf (key, sizeof key, "store%zu", i);
    cache_ask (c, key, s->root);
    if (s->runroot)
      cache_ask (c, "runroot", s->runroot);
    store_json_path (s, set->driver, STORE_LAYERS, path, sizeof path);
    cache_source_path (c, path);
    if (s->runroot) {
      store_json_path (s, set->driver, STORE_VOLATILE_LAYERS, path, sizeof path);
      cache_source_path (c, path);
    }
    store_json_path (s, set->driver, STORE_IMAGES, path, sizeof path);
    cache_source_path (c, path);
  }
}
