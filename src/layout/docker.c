/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: docker-archive, the format of docker save and podman save's
 * default: manifest.json lists each image's config and layer tars (paths
 * in the archive, often symlinks to one another); the config's
 * rootfs.diff_ids are the layers' digests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/sha256.h"
#include "layout/layout-internal.h"

#define MEDIA_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MAX_LISTED 10
#define MAX_LAYERS 500            /* each is open while the tree is built */

/* "docker.io/library/x" and "localhost/x" are "x", and no tag is
 * ":latest", so that a name matches however it is written.
 */
static char *
normalize_name (const char *name)
{
  static const char *const prefixes[] = {
    "docker.io/library/", "docker.io/", "localhost/",
  };
  char *out;

  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp (name, prefixes[i], strlen (prefixes[i])) == 0) {
      name += strlen (prefixes[i]);
      break;
    }
  const char *last = strrchr (name, '/');
  last = last ? last + 1 : name;
  bool tagged = strchr (last, ':') || strchr (last, '@');
  if (asprintf (&out, "%s%s", name, tagged ? "" : ":latest") == -1)
    return NULL;
  return out;
}

static bool
has_tag (json_object *tags, const char *ref)
{
  _cleanup_free_ char *want = normalize_name (ref);
  size_t n = tags ? json_object_array_length (tags) : 0;

  for (size_t i = 0; want && i < n; i++) {
    json_object *t = json_object_array_get_idx (tags, i);
    if (!json_object_is_type (t, json_type_string))
      continue;
    _cleanup_free_ char *have = normalize_name (json_object_get_string (t));
    if (have && strcmp (have, want) == 0)
      return true;
  }
  return false;
}

/* "a, b" of every entry's RepoTags, for messages. */
static char *
list_tags (json_object *manifest)
{
  char *s = NULL;
  size_t len = 0, listed = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return NULL;
  for (size_t i = 0; i < json_object_array_length (manifest); i++) {
    json_object *tags = NULL;
    json_object_object_get_ex (json_object_array_get_idx (manifest, i),
                               "RepoTags", &tags);
    size_t n = json_object_is_type (tags, json_type_array)
      ? json_object_array_length (tags) : 0;
    if (n == 0)
      fprintf (f, "%s@%zu (untagged)", listed++ ? ", " : "", i);
    for (size_t j = 0; j < n && listed <= MAX_LISTED; j++)
      fprintf (f, "%s%s", listed++ ? ", " : "",
               json_object_get_string (json_object_array_get_idx (tags, j)));
  }
  fclose (f);
  return s;
}

/* Which entry of manifest.json: @INDEX, a tag, or the only one. */
static int
pick_entry (struct layout *s, json_object *manifest, const char *display,
            const char *ref, size_t *out)
{
  size_t n = json_object_array_length (manifest), found = 0;
  _cleanup_free_ char *tags = NULL;

  if (n == 0)
    return error ("%s: lists no image", display);
  if (ref && ref[0] == '@') {
    char *end;
    errno = 0;
    unsigned long i = strtoul (ref + 1, &end, 10);
    if (errno || end == ref + 1 || *end || i >= n)
      return error ("docker-archive:%s:%s: the archive has images @0 to @%zu",
                    s->path, ref, n - 1);
    *out = i;
    return 0;
  }
  if (!ref) {
    if (n == 1) {
      *out = 0;
      return 0;
    }
    tags = list_tags (manifest);
    return error ("%s: the archive holds %zu images: name one as "
                  "docker-archive:%s:NAME or :@INDEX (%s)", display, n,
                  s->path, tags ? tags : "?");
  }
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx (manifest, i), *t = NULL;
    if (json_object_is_type (e, json_type_object)
        && json_object_object_get_ex (e, "RepoTags", &t)
        && json_object_is_type (t, json_type_array) && has_tag (t, ref)) {
      if (found++ == 0)
        *out = i;
    }
  }
  if (found == 1)
    return 0;
  tags = list_tags (manifest);
  if (found == 0)
    return error ("%s: no image named '%s' (it has: %s)", display, ref,
                  tags ? tags : "?");
  return error ("%s: several images are named '%s': pick one with "
                "docker-archive:%s:@INDEX (%s)", display, ref, s->path,
                tags ? tags : "?");
}

/* The config: its digest is the image ID, its diff_ids the layers'. */
static int
read_config (struct layout *s, const char *name, struct image *img,
             json_object **diff_ids, json_object **config)
{
  struct blob b;
  char hex[65];
  _cleanup_free_ char *display = store_display (s, name);
  json_object *rootfs;

  if (store_read_small (s, name, &b) == -1) {
    blob_close (&b);
    return -1;
  }
  sha256_hex (b.data, b.size, hex);
  int r = json_parse_bytes ((const char *) b.data, b.size, display,
                            json_type_object, config);
  blob_close (&b);
  if (r == -1)
    return -1;
  if (asprintf (&img->id, "sha256:%s", hex) == -1) {
    img->id = NULL;
    return error_errno (errno, "asprintf");
  }
  if (json_typed (*config, "rootfs", json_type_object, true, display, "",
                  &rootfs) == -1
      || json_typed (rootfs, "diff_ids", json_type_array, true, display,
                     "rootfs", diff_ids) == -1)
    return -1;
  return 0;
}

static int
add_layers (json_object *entry, json_object *diff_ids, const char *display,
            const char *ctx, struct image *img)
{
  json_object *layers;
  char lctx[64];

  if (json_typed (entry, "Layers", json_type_array, true, display, ctx,
                  &layers) == -1)
    return -1;
  size_t n = json_object_array_length (layers);
  if (n == 0)
    return error ("%s: %s.Layers is empty", display, ctx);
  if (n > MAX_LAYERS)
    return error ("%s: %zu layers: more than %d are refused", display, n,
                  MAX_LAYERS);
  if (json_object_array_length (diff_ids) != n)
    return error ("%s: %s has %zu layers but its config %zu diff_ids",
                  display, ctx, n, json_object_array_length (diff_ids));
  if ((img->layers = calloc (n, sizeof *img->layers)) == NULL)
    return error_errno (errno, "calloc");
  for (size_t i = 0; i < n; i++) {
    json_object *path = json_object_array_get_idx (layers, i);
    json_object *diff_id = json_object_array_get_idx (diff_ids, i);
    struct layer *l = &img->layers[img->n_layers++];
    _cleanup_free_ char *ignored = NULL;

    snprintf (lctx, sizeof lctx, "%s.Layers[%zu]", ctx, i);
    if (!json_object_is_type (path, json_type_string))
      return error ("%s: %s is not a string", display, lctx);
    if (!json_object_is_type (diff_id, json_type_string)
        || digest_blob_name (json_object_get_string (diff_id), display,
                             &ignored) == -1)
      return error ("%s: rootfs.diff_ids[%zu] is not a digest", display, i);
    l->size = -1;
    if (!(l->digest = strdup (json_object_get_string (diff_id)))
        || !(l->media_type = strdup (MEDIA_DOCKER_LAYER))
        || !(l->name = strdup (json_object_get_string (path))))
      return error_errno (errno, "strdup");
  }
  return 0;
}

static int
add_names (json_object *entry, const char *display, const char *ctx,
           struct image *img)
{
  json_object *tags;
  size_t n;

  if (json_typed (entry, "RepoTags", json_type_array, false, display, ctx,
                  &tags) == -1)
    return -1;
  n = tags ? json_object_array_length (tags) : 0;
  if ((img->names = calloc (n + 1, sizeof (char *))) == NULL)
    return error_errno (errno, "calloc");
  for (size_t i = 0; i < n; i++) {
    json_object *t = json_object_array_get_idx (tags, i);
    if (!json_object_is_type (t, json_type_string))
      return error ("%s: %s.RepoTags[%zu] is not a string", display, ctx, i);
    if ((img->names[i] = strdup (json_object_get_string (t))) == NULL)
      return error_errno (errno, "strdup");
  }
  return 0;
}

/* manifest.json, read once per store_open (borrowed). */
static int
docker_manifest (struct layout *s, json_object **manifest)
{
  json_object *o;

  if (!s->manifest) {
    if (!store_exists (s, "manifest.json"))
      return error ("docker-archive:%s is not a docker archive: it has no "
                    "manifest.json", s->path);
    if (store_read_json (s, "manifest.json", json_type_array, &o) == -1)
      return -1;
    s->manifest = o;
  }
  *manifest = s->manifest;
  return 0;
}

int
docker_count_images (struct layout *s, size_t *n)
{
  json_object *manifest = NULL;

  if (docker_manifest (s, &manifest) == -1)
    return -1;
  *n = json_object_array_length (manifest);
  return 0;
}

int
docker_entry_key (struct layout *s, size_t entry, char **key, char ***names)
{
  _cleanup_free_ char *display = store_display (s, "manifest.json");
  json_object *manifest = NULL, *e, *config, *layers;
  struct image img = { 0 };
  char ctx[32];

  *key = NULL;
  *names = NULL;
  if (docker_manifest (s, &manifest) == -1)
    return -1;
  if (entry >= json_object_array_length (manifest))
    return error ("%s: no entry %zu", display, entry);
  snprintf (ctx, sizeof ctx, "[%zu]", entry);
  e = json_object_array_get_idx (manifest, entry);
  if (!json_object_is_type (e, json_type_object))
    return error ("%s: %s is not an object", display, ctx);
  if (json_typed (e, "Config", json_type_string, true, display, ctx,
                  &config) == -1
      || json_typed (e, "Layers", json_type_array, true, display, ctx,
                     &layers) == -1
      || add_names (e, display, ctx, &img) == -1) {
    image_clear (&img);
    return -1;
  }
  /* The image is its config and its layers' files; the tags only name it. */
  if (asprintf (key, "%s\n%s", json_object_get_string (config),
                json_object_to_json_string_ext (layers, JSON_C_TO_STRING_PLAIN))
      == -1) {
    *key = NULL;
    image_clear (&img);
    return error_errno (errno, "asprintf");
  }
  *names = img.names;
  img.names = NULL;
  image_clear (&img);
  return 0;
}

int
docker_select_image (struct layout *s, const char *ref, struct image *img)
{
  _cleanup_free_ char *display = store_display (s, "manifest.json");
  json_object *manifest = NULL, *entry, *diff_ids;
  _cleanup_json_ json_object *config = NULL;
  const char *config_name;
  char ctx[32];
  size_t i = 0;

  memset (img, 0, sizeof *img);
  if (docker_manifest (s, &manifest) == -1)
    return -1;
  if (pick_entry (s, manifest, display, ref, &i) == -1)
    return -1;
  snprintf (ctx, sizeof ctx, "[%zu]", i);
  entry = json_object_array_get_idx (manifest, i);
  if (!json_object_is_type (entry, json_type_object))
    return error ("%s: %s is not an object", display, ctx);
  if (json_string (entry, "Config", true, display, ctx, &config_name) == -1
      || add_names (entry, display, ctx, img) == -1
      || read_config (s, config_name, img, &diff_ids, &config) == -1)
    return -1;
  return add_layers (entry, diff_ids, display, ctx, img);
}
