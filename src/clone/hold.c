/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: holds, podman containers that keep a clone's image, see
 * hold.h.  Everything here is done by podman itself, on the store of the
 * global options: podman-disk never writes into containers/storage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "clone/hold.h"
#include "clone/run.h"
#include "common/error.h"
#include "common/sha256.h"

/* A container of each clone path, so that a second hold of one path is
 * found by its name too.
 */
static void
hold_name (const char *abs, char name[64])
{
  char hex[65];
  sha256_hex (abs, strlen (abs), hex);
  snprintf (name, 64, "podman-disk-clone-%.16s", hex);
}

static const char *
label (json_object *labels, const char *key)
{
  json_object *v;
  return labels && json_object_object_get_ex (labels, key, &v)
    ? json_object_get_string (v) : NULL;
}

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

/* The holds in STORE, as podman lists them: a JSON array.  Filtering on
 * the label's value is done here, not by podman, whose --filter would
 * split a path at its commas.
 */
static json_object *
list_holds (const struct store_options *store)
{
  _cleanup_free_ char *out = NULL;
  const char *args[] = { "ps", "--all", "--filter", "label=" CLONE_LABEL,
                         "--format", "json", NULL };
  if (run_podman (store, args, &out) == -1)
    return NULL;
  json_object *a = json_tokener_parse (out);
  if (!a || !json_object_is_type (a, json_type_array)) {
    json_object_put (a);
    error ("podman ps printed no JSON array");
    return NULL;
  }
  return a;
}

/* One hold of the list as an INFO (what its labels say). */
static void
hold_info (json_object *c, struct clone_info *info)
{
  json_object *labels = NULL, *v;

  json_object_object_get_ex (c, "Labels", &labels);
  if (!info->dest)
    info->dest = dup_or_null (label (labels, CLONE_LABEL));
  if (!info->base)
    info->base = dup_or_null (label (labels, CLONE_LABEL_BASE));
  if (!info->base_id)
    info->base_id = dup_or_null (label (labels, CLONE_LABEL_BASE_ID));
  info->image_id = dup_or_null (label (labels, CLONE_LABEL_IMAGE));
  if (json_object_object_get_ex (c, "Image", &v))
    info->image_name = dup_or_null (json_object_get_string (v));
  if (json_object_object_get_ex (c, "Id", &v))
    info->hold = dup_or_null (json_object_get_string (v));
}

static json_object *
find_in (json_object *holds, const char *abs)
{
  for (size_t i = 0; i < json_object_array_length (holds); i++) {
    json_object *c = json_object_array_get_idx (holds, i), *labels;
    const char *d;
    if (json_object_object_get_ex (c, "Labels", &labels)
        && (d = label (labels, CLONE_LABEL)) && strcmp (d, abs) == 0)
      return c;
  }
  return NULL;
}

static int
remove_hold (const struct store_options *store, const char *id)
{
  const char *args[] = { "rm", "--force", "--time", "0", id, NULL };
  return run_podman (store, args, NULL);
}

static int
remove_stale (const struct store_options *store, const char *abs)
{
  json_object *holds = list_holds (store);
  int r = 0;

  if (!holds)
    return -1;
  for (size_t i = 0; i < json_object_array_length (holds) && r == 0; i++) {
    json_object *c = json_object_array_get_idx (holds, i), *labels, *v;
    const char *d;
    if (json_object_object_get_ex (c, "Labels", &labels)
        && (d = label (labels, CLONE_LABEL)) && strcmp (d, abs) == 0
        && json_object_object_get_ex (c, "Id", &v))
      r = remove_hold (store, json_object_get_string (v));
  }
  json_object_put (holds);
  return r;
}

void
clone_hold_free (struct clone_hold *h)
{
  free (h->l_dest);
  free (h->l_image);
  free (h->l_base);
  free (h->l_id);
  *h = (struct clone_hold) { .store = NULL };
}

int
clone_hold_begin (struct clone_hold *h, const struct store_options *store,
                  const struct disk_location *loc, const char *abs,
                  const char *base, const char *id)
{
  *h = (struct clone_hold) { .store = store, .abs = abs };
  hold_name (abs, h->name);
  if (asprintf (&h->l_dest, "%s=%s", CLONE_LABEL, abs) == -1
      || asprintf (&h->l_image, "%s=%s", CLONE_LABEL_IMAGE, loc->image_id) == -1
      || asprintf (&h->l_base, "%s=%s", CLONE_LABEL_BASE, base) == -1
      || asprintf (&h->l_id, "%s=%s", CLONE_LABEL_BASE_ID, id) == -1) {
    clone_hold_free (h);
    return error_errno (ENOMEM, "asprintf");
  }
  /* Created, never started: a containerDisk has no program, and needs
   * none to be created.  By image id: exactly the image located.
   */
  const char *args[] = { "create", "--pull", "never", "--network", "none",
                         "--label", h->l_dest, "--label", h->l_image,
                         "--label", h->l_base, "--label", h->l_id,
                         "--name", h->name, loc->image_id, "/nonexistent", NULL };
  _Static_assert (sizeof args / sizeof args[0] <= sizeof h->args / sizeof h->args[0],
                  "room for the arguments of podman create");
  memcpy (h->args, args, sizeof args);
  if (run_podman_start (store, h->args, &h->child) == -1) {
    clone_hold_free (h);
    return -1;
  }
  return 0;
}

int
clone_hold_end (struct clone_hold *h)
{
  int r = run_podman_finish (&h->child, NULL);

  /* DEST did not exist a moment ago: a hold of that name is stale (its
   * clone was removed without a release).  Listed only then: each podman
   * run costs more than the clone itself.
   */
  if (r == -1 && strstr (error_message (), "already in use")
      && remove_stale (h->store, h->abs) == 0)
    r = run_podman (h->store, h->args, NULL);
  clone_hold_free (h);
  return r == -1 ? error_context ("cannot hold the image of the clone") : 0;
}

int
clone_hold_create (const struct store_options *store,
                   const struct disk_location *loc, const char *abs,
                   const char *base, const char *id)
{
  struct clone_hold h;

  if (clone_hold_begin (&h, store, loc, abs, base, id) == -1)
    return -1;
  return clone_hold_end (&h);
}

int
clone_hold_find (const struct store_options *store, struct clone_info *info)
{
  json_object *holds = list_holds (store);
  if (!holds)
    return -1;
  json_object *c = find_in (holds, info->dest);
  if (c)
    hold_info (c, info);
  json_object_put (holds);
  return c ? 0 : error ("no hold of %s in this store", info->dest);
}

int
clone_list (const struct store_options *store, struct clone_info **out, size_t *n)
{
  json_object *holds = list_holds (store);
  if (!holds)
    return -1;
  size_t len = json_object_array_length (holds);
  struct clone_info *infos = calloc (len ? len : 1, sizeof *infos);
  if (!infos) {
    json_object_put (holds);
    return error_errno (ENOMEM, "calloc");
  }
  for (size_t i = 0; i < len; i++) {
    struct clone_info *info = &infos[i];
    struct stat st;
    int err;

    hold_info (json_object_array_get_idx (holds, i), info);
    if (!info->dest || lstat (info->dest, &st) == -1) {
      info->state = CLONE_DEST_GONE;
      continue;
    }
    /* What the file says (its size); the hold's labels stay the record. */
    struct clone_info file = { 0 };
    if (clone_read_file (info->dest, &file) == 0) {
      info->virtual_size = file.virtual_size;
      info->allocated = file.allocated;
      info->base_format = steal_pointer (&file.base_format);
    }
    clone_info_clear (&file);
    info->state = info->base && info->base_id
      ? clone_base_state (info->base, info->base_id, &err) : CLONE_BASE_CHANGED;
  }
  json_object_put (holds);
  *out = infos;
  *n = len;
  return 0;
}

int
clone_release (const struct store_options *store, const char *dest)
{
  _cleanup_free_ char *abs = clone_abs_path (dest);
  json_object *holds = list_holds (store), *c, *v;
  int r = 0, found = 0;

  if (!abs || !holds) {
    json_object_put (holds);
    return abs ? -1 : error_errno (ENOMEM, "clone");
  }
  for (size_t i = 0; i < json_object_array_length (holds); i++) {
    c = json_object_array_get_idx (holds, i);
    json_object *labels;
    const char *d;
    if (!json_object_object_get_ex (c, "Labels", &labels)
        || !(d = label (labels, CLONE_LABEL)) || strcmp (d, abs) != 0
        || !json_object_object_get_ex (c, "Id", &v))
      continue;
    found++;
    if (remove_hold (store, json_object_get_string (v)) == -1)
      r = -1;
  }
  json_object_put (holds);
  if (r == 0 && !found)
    return error ("%s has no hold in this store (a clone of a layout or archive "
                  "has none; or give podman's --root)", abs);
  return r;
}

int
clone_prune (const struct store_options *store)
{
  struct clone_info *infos;
  size_t n;
  int r = 0;

  if (clone_list (store, &infos, &n) == -1)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (infos[i].state == CLONE_DEST_GONE && infos[i].hold) {
      if (remove_hold (store, infos[i].hold) == -1)
        r = -1;
      else
        printf ("%s\n", infos[i].dest ? infos[i].dest : infos[i].hold);
    }
    clone_info_clear (&infos[i]);
  }
  free (infos);
  return r;
}
