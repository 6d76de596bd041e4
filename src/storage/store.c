/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: open a store set: locks, then JSON, see store.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/error.h"
#include "storage/store.h"

/* Larger than any real store's metadata; a bound for a corrupt one. */
#define STORE_MAX_JSON (512 * 1024 * 1024)

/* Map the whole file PATH (munmap *TEXT, *LEN after use; an empty file is
 * NULL, 0): 0, 1 when it does not exist, -1 on error.  Mapped, not read:
 * no copy of a file of hundreds of KiB into fresh heap pages.  The store
 * replaces these files by rename, under the lock held, never in place.
 */
static int
map_text (const char *path, char **text, size_t *len)
{
  /* O_NONBLOCK: a FIFO in the file's place must not hang the open. */
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY
                                 | O_NONBLOCK);
  struct stat st;

  *text = NULL;
  *len = 0;
  if (fd == -1) {
    if (errno == ENOENT)
      return 1;
    return store_access_error (errno, path);
  }
  if (fstat (fd, &st) == -1)
    return error_errno (errno, "%s", path);
  if (!S_ISREG (st.st_mode))
    return error ("%s: not a regular file", path);
  if (st.st_size > STORE_MAX_JSON)
    return error ("%s: too large (%jd bytes)", path, (intmax_t) st.st_size);
  if (st.st_size == 0)
    return 0;
  void *m = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED)
    return error_errno (errno, "%s: mmap", path);
  *text = m;
  *len = st.st_size;
  return 0;
}

/* Only blanks: containers/storage treats an empty file as no entries. */
static bool
is_blank (const char *text, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (!strchr (" \t\r\n", text[i]))
      return false;
  return true;
}

static int
load_layers (struct store *s, const char *path)
{
  char *text = NULL;
  size_t len;
  int r = map_text (path, &text, &len);
  if (r != 0 || is_blank (text, len))
    return r == -1 ? -1 : 0;
  r = storejson_parse_layers (text, len, path, &s->layers, &s->nlayers);
  munmap (text, len);
  return r;
}

static int
load_images (struct store *s, size_t index, const char *path)
{
  char *text = NULL;
  size_t len;
  int r = map_text (path, &text, &len);
  if (r == 1)
    debug ("%s does not exist: no images there", path);
  if (r != 0 || is_blank (text, len))
    return r == -1 ? -1 : 0;
  r = storejson_parse_images (text, len, path, index, &s->images, &s->nimages);
  munmap (text, len);
  return r;
}

void
store_json_path (const struct store *s, const char *driver,
                 enum store_json which, char *path, size_t len)
{
  switch (which) {
  case STORE_LAYERS:
    snprintf (path, len, "%s/%s-layers/layers.json", s->root, driver);
    break;
  case STORE_VOLATILE_LAYERS:
    snprintf (path, len, "%s/%s-layers/volatile-layers.json",
              s->runroot ? s->runroot : "", driver);
    break;
  case STORE_IMAGES:
    snprintf (path, len, "%s/%s-images/images.json", s->root, driver);
    break;
  }
}

/* containers/storage's order: the layer store, then the image store. */
static int
store_lock (struct store *s, const char *driver)
{
  char path[4096];

  snprintf (path, sizeof path, "%s/%s-layers/layers.lock", s->root, driver);
  if (store_lock_read (path, &s->layers_lock) == -1)
    return -1;
  snprintf (path, sizeof path, "%s/%s-images/images.lock", s->root, driver);
  return store_lock_read (path, &s->images_lock);
}

static int
store_load (struct store *s, size_t index, const char *driver)
{
  char path[4096];

  store_json_path (s, driver, STORE_LAYERS, path, sizeof path);
  if (load_layers (s, path) == -1)
    return -1;
  if (s->runroot) {
    store_json_path (s, driver, STORE_VOLATILE_LAYERS, path, sizeof path);
    if (load_layers (s, path) == -1)
      return -1;
  }
  store_json_path (s, driver, STORE_IMAGES, path, sizeof path);
  return load_images (s, index, path);
}

static bool
is_dir (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

/* The configured driver, or the one whose files the root holds, in
 * containers/storage's priority order.
 */
static int
pick_driver (const char *configured, const char *root, char **driver)
{
  const char *d = configured;
  if (!d) {
    static const char *const known[] = { "overlay", "vfs" };
    d = "overlay";
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s-images", root, known[i]);
      if (is_dir (path)) {
        d = known[i];
        break;
      }
    }
  }
  if (strcmp (d, "overlay2") == 0)
    d = "overlay";
  if (strcmp (d, "overlay") && strcmp (d, "vfs"))
    return error ("storage driver '%s' is not supported: podman-disk reads "
                  "overlay and vfs stores", d);
  if ((*driver = strdup (d)) == NULL)
    return error_errno (errno, "strdup");
  return 0;
}

int
store_set_lock (struct store_set *set, const struct store_config *cfg)
{
  size_t n = 1;
  for (char **p = cfg->image_stores; p && *p; p++)
    n++;

  memset (set, 0, sizeof *set);
  if (pick_driver (cfg->driver, cfg->graphroot, &set->driver) == -1)
    return -1;
  set->stores = calloc (n, sizeof *set->stores);
  if (!set->stores) {
    store_set_close (set);
    return error_errno (errno, "calloc");
  }
  for (size_t i = 0; i < n; i++) {
    struct store *s = &set->stores[i];
    s->layers_lock = s->images_lock = -1;
    s->additional = i > 0;
    s->root = strdup (i == 0 ? cfg->graphroot : cfg->image_stores[i - 1]);
    s->runroot = i == 0 ? strdup (cfg->runroot) : NULL;
    set->n++;
    if (!s->root || (i == 0 && !s->runroot)) {
      store_set_close (set);
      return error_errno (errno, "strdup");
    }
    if (store_lock (s, set->driver) == -1) {
      store_set_close (set);
      return -1;
    }
  }
  return 0;
}

int
store_set_load (struct store_set *set)
{
  for (size_t i = 0; i < set->n; i++) {
    struct store *s = &set->stores[i];
    int64_t start = now_us ();
    if (store_load (s, i, set->driver) == -1)
      return -1;
    /* The time is what bench/locate.sh shows as json-c's share. */
    debug ("store %s (%s): %zu images, %zu layers%s, JSON read in %.2f ms",
           s->root, set->driver, s->nimages, s->nlayers,
           s->additional ? ", additional" : "", (now_us () - start) / 1000.0);
  }
  return 0;
}

int
store_set_open (struct store_set *set, const struct store_config *cfg)
{
  if (store_set_lock (set, cfg) == -1)
    return -1;
  if (store_set_load (set) == -1) {
    store_set_close (set);
    return -1;
  }
  return 0;
}

void
store_set_close (struct store_set *set)
{
  for (size_t i = 0; i < set->n; i++) {
    struct store *s = &set->stores[i];
    /* Closing the fd drops the lock. */
    if (s->images_lock >= 0)
      close (s->images_lock);
    if (s->layers_lock >= 0)
      close (s->layers_lock);
    st_images_free (s->images, s->nimages);
    st_layers_free (s->layers, s->nlayers);
    free (s->root);
    free (s->runroot);
  }
  free (set->stores);
  free (set->driver);
  memset (set, 0, sizeof *set);
}

static const struct st_layer *
find_in (const struct store *s, const char *id)
{
  for (size_t i = 0; i < s->nlayers; i++)
    if (strcmp (s->layers[i].id, id) == 0)
      return &s->layers[i];
  return NULL;
}

const struct st_layer *
store_set_find_layer (const struct store_set *set, size_t preferred,
                      const char *id, size_t *store)
{
  const struct st_layer *l;
  if (preferred < set->n && (l = find_in (&set->stores[preferred], id))) {
    *store = preferred;
    return l;
  }
  for (size_t i = 0; i < set->n; i++)
    if (i != preferred && (l = find_in (&set->stores[i], id))) {
      *store = i;
      return l;
    }
  return NULL;
}
