/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: images.json and layers.json of containers/storage.
 *
 * Only the fields needed to find a disk are read: an image's id, names,
 * digests and top layer; a layer's id, parent and incomplete flag.  Wrong
 * types are errors naming the file and the entry, never guesses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/store.h"

bool
storage_valid_layer_id (const char *id)
{
  size_t i;
  for (i = 0; id[i]; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return i == 64;
}

/* Parse the whole of TEXT as one JSON array. */
static json_object *
parse_array (const char *text, size_t len, const char *name)
{
  json_tokener *tok = json_tokener_new ();
  if (!tok) {
    error_errno (ENOMEM, "json_tokener_new");
    return NULL;
  }
  json_object *o = json_tokener_parse_ex (tok, text, len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  size_t end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);

  /* A JSON null parses to NULL with success: it is not an array either. */
  if (!o && jerr == json_tokener_success) {
    error ("%s: not a JSON array", name);
    return NULL;
  }
  if (!o) {
    if (jerr == json_tokener_continue || len == 0)
      error ("%s: truncated JSON (the file ends early)", name);
    else
      error ("%s: not valid JSON at byte %zu: %s", name, end,
             json_tokener_error_desc (jerr));
    return NULL;
  }
  for (size_t i = end; i < len; i++)
    if (!strchr (" \t\r\n", text[i])) {
      json_object_put (o);
      error ("%s: not valid JSON: unexpected data at byte %zu after the array",
             name, i);
      return NULL;
    }
  if (!json_object_is_type (o, json_type_array)) {
    json_object_put (o);
    error ("%s: not a JSON array", name);
    return NULL;
  }
  return o;
}

/* An optional string member: 0 (*OUT NULL when absent or null), -1 if
 * it has another type.
 */
static int
get_string (json_object *entry, const char *key, char **out,
            const char *name, size_t idx)
{
  json_object *v;
  *out = NULL;
  if (!json_object_object_get_ex (entry, key, &v) || v == NULL)
    return 0;
  if (!json_object_is_type (v, json_type_string))
    return error ("%s: entry %zu: \"%s\" is not a string", name, idx, key);
  if ((*out = strdup (json_object_get_string (v))) == NULL)
    return error_errno (errno, "strdup");
  return 0;
}

/* Append the strings of an optional array member to the vector *V. */
static int
add_strings (json_object *entry, const char *key, char ***v, size_t *n,
             const char *name, size_t idx)
{
  json_object *a;
  if (!json_object_object_get_ex (entry, key, &a) || a == NULL)
    return 0;
  if (!json_object_is_type (a, json_type_array))
    return error ("%s: entry %zu: \"%s\" is not an array", name, idx, key);
  size_t len = json_object_array_length (a);
  char **nv = realloc (*v, (*n + len + 1) * sizeof *nv);
  if (!nv)
    return error_errno (errno, "realloc");
  *v = nv;
  /* Terminated at once: an empty array, or a failure at its first element,
   * must still leave a vector that strv_free and the callers can walk.
   */
  nv[*n] = NULL;
  for (size_t i = 0; i < len; i++) {
    json_object *s = json_object_array_get_idx (a, i);
    if (!json_object_is_type (s, json_type_string))
      return error ("%s: entry %zu: \"%s\" holds a non-string", name, idx, key);
    if ((nv[*n] = strdup (json_object_get_string (s))) == NULL)
      return error_errno (errno, "strdup");
    nv[++*n] = NULL;
  }
  return 0;
}

static int
add_string (char ***v, size_t *n, const char *s)
{
  char **nv = realloc (*v, (*n + 2) * sizeof *nv);
  if (!nv)
    return error_errno (errno, "realloc");
  *v = nv;
  if ((nv[*n] = strdup (s)) == NULL)
    return error_errno (errno, "strdup");
  nv[++*n] = NULL;
  return 0;
}

/* An empty vector rather than NULL, so callers need not check. */
static int
strv_ensure (char ***v)
{
  if (!*v && (*v = calloc (1, sizeof **v)) == NULL)
    return error_errno (errno, "calloc");
  return 0;
}

static int
parse_image (json_object *e, const char *name, size_t idx, struct st_image *img)
{
  size_t nnames = 0, ndigests = 0;
  _cleanup_free_ char *digest = NULL;

  if (!json_object_is_type (e, json_type_object))
    return error ("%s: entry %zu is not an object", name, idx);
  if (get_string (e, "id", &img->id, name, idx) == -1)
    return -1;
  if (!img->id || !img->id[0] || strchr (img->id, '/'))
    return error ("%s: entry %zu has no valid \"id\"", name, idx);
  if (get_string (e, "layer", &img->top_layer, name, idx) == -1)
    return -1;
  if (img->top_layer && img->top_layer[0] == '\0') {
    free (img->top_layer);
    img->top_layer = NULL;
  }
  if (add_strings (e, "names", &img->names, &nnames, name, idx) == -1
      || get_string (e, "digest", &digest, name, idx) == -1
      || (digest && add_string (&img->digests, &ndigests, digest) == -1)
      || add_strings (e, "digests", &img->digests, &ndigests, name, idx) == -1
      || strv_ensure (&img->names) == -1 || strv_ensure (&img->digests) == -1)
    return -1;
  return 0;
}

int
storejson_parse_images (const char *text, size_t len, const char *name,
                        size_t store, struct st_image **out, size_t *n)
{
  json_object *a = parse_array (text, len, name);
  if (!a)
    return -1;
  size_t count = json_object_array_length (a);
  struct st_image *v = realloc (*out, (*n + count + 1) * sizeof *v);
  if (!v) {
    json_object_put (a);
    return error_errno (errno, "realloc");
  }
  *out = v;
  for (size_t i = 0; i < count; i++) {
    struct st_image *img = &v[*n];
    memset (img, 0, sizeof *img);
    img->store = store;
    /* Counted before parsing, so a half-parsed entry is freed too. */
    ++*n;
    if (parse_image (json_object_array_get_idx (a, i), name, i, img) == -1) {
      json_object_put (a);
      return -1;
    }
  }
  json_object_put (a);
  return 0;
}

static int
parse_layer (json_object *e, const char *name, size_t idx, struct st_layer *l)
{
  json_object *flags, *inc;

  if (!json_object_is_type (e, json_type_object))
    return error ("%s: entry %zu is not an object", name, idx);
  if (get_string (e, "id", &l->id, name, idx) == -1
      || get_string (e, "parent", &l->parent, name, idx) == -1)
    return -1;
  if (!l->id || !storage_valid_layer_id (l->id))
    return error ("%s: entry %zu: layer id '%s' is not 64 hex digits",
                  name, idx, l->id ? l->id : "");
  if (l->parent && l->parent[0] == '\0') {
    free (l->parent);
    l->parent = NULL;
  }
  if (l->parent && !storage_valid_layer_id (l->parent))
    return error ("%s: entry %zu: parent layer id '%s' is not 64 hex digits",
                  name, idx, l->parent);
  if (json_object_object_get_ex (e, "flags", &flags) && flags) {
    if (!json_object_is_type (flags, json_type_object))
      return error ("%s: entry %zu: \"flags\" is not an object", name, idx);
    if (json_object_object_get_ex (flags, "incomplete", &inc) && inc)
      l->incomplete = json_object_get_boolean (inc);
  }
  return 0;
}

int
storejson_parse_layers (const char *text, size_t len, const char *name,
                        struct st_layer **out, size_t *n)
{
  json_object *a = parse_array (text, len, name);
  if (!a)
    return -1;
  size_t count = json_object_array_length (a);
  struct st_layer *v = realloc (*out, (*n + count + 1) * sizeof *v);
  if (!v) {
    json_object_put (a);
    return error_errno (errno, "realloc");
  }
  *out = v;
  for (size_t i = 0; i < count; i++) {
    struct st_layer *l = &v[*n];
    memset (l, 0, sizeof *l);
    ++*n;
    if (parse_layer (json_object_array_get_idx (a, i), name, i, l) == -1) {
      json_object_put (a);
      return -1;
    }
  }
  json_object_put (a);
  return 0;
}

void
st_images_free (struct st_image *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (v[i].id);
    strv_free (v[i].names);
    strv_free (v[i].digests);
    free (v[i].top_layer);
  }
  free (v);
}

void
st_layers_free (struct st_layer *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (v[i].id);
    free (v[i].parent);
  }
  free (v);
}
