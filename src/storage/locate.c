/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: storage_locate, containers/storage as a source of disks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/cache.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "storage/config.h"
#include "storage/disk.h"
#include "storage/reference.h"
#include "storage/registries.h"
#include "storage/storage.h"
#include "storage/store.h"

static int
replace (char **dst, const char *src)
{
  if (!src)
    return 0;
  char *s = strdup (src);
  if (!s)
    return error_errno (errno, "strdup");
  free (*dst);
  *dst = s;
  return 0;
}

/* The store to read: podman's, then the reference's [DRIVER@ROOT+RUNROOT]. */
static int
config_for (const struct storage_spec *spec, const struct store_options *opts,
            struct store_config *cfg)
{
  if (store_config_load (cfg, opts) == -1)
    return -1;
  if (replace (&cfg->driver, spec->driver) == -1
      || replace (&cfg->graphroot, spec->root) == -1
      || replace (&cfg->runroot, spec->runroot) == -1) {
    store_config_free (cfg);
    return -1;
  }
  /* A store named in the reference has only the options it names. */
  if (spec->driver || spec->root) {
    strv_free (cfg->image_stores);
    cfg->image_stores = NULL;
  }
  return 0;
}

/* "pass --storage-driver vfs" when the root holds the other driver's
 * images: the likeliest reason for an unknown image.
 */
static const char *
other_driver_hint (const struct store_set *set, char *buf, size_t len)
{
  const char *other = strcmp (set->driver, "vfs") == 0 ? "overlay" : "vfs";
  char path[4096];
  struct stat st;
  snprintf (path, sizeof path, "%s/%s-images/images.json",
            set->stores[0].root, other);
  if (stat (path, &st) == -1)
    return "pull or build it first, or pass --root";
  snprintf (buf, len, "the root holds %s images: pass --storage-driver %s",
            other, other);
  return buf;
}

/* The image SPEC names, in a locked SET: from the cache when the store's
 * files have not changed since it was last looked up (*CACHED), else from
 * the files.  1 when there is no such image.
 */
static int
lookup_image (const struct storage_spec *spec, struct store_set *set,
              struct cache *c, const struct st_image **image, bool *cached)
{
  _cleanup_free_ const struct st_image **images = NULL;
  size_t n, found;
  json_object *answer;

  cache_ask (c, "reference", spec->ref);
  store_set_cache_sources (set, c);
  registries_conf_cache_sources (c);    /* short names resolve through it */
  if ((answer = cache_lookup (c)) != NULL) {
    int r = store_set_load_answer (set, answer, image);
    json_object_put (answer);
    if (r == 0) {
      *cached = true;
      return 0;
    }
    debug ("cache: answer not usable: %s", error_message ());
    error_clear ();
  }

  if (store_set_load (set) == -1 || store_set_images (set, &images, &n) == -1)
    return -1;
  int l = storage_ref_lookup (spec->ref, images, n, &found);
  if (l == 0)
    *image = images[found];
  return l;
}

int
storage_locate (const char *ref, const struct locate_request *req,
                struct disk_location *loc)
{
  struct storage_spec spec;
  struct store_config cfg;
  struct store_set set;
  _cleanup_cache_ struct cache c;
  const struct st_image *image;
  bool cached = false;
  int r = -1;

  cache_init (&c, "storage");
  if (storage_spec_parse (ref, &spec) == -1)
    return -1;
  if (config_for (&spec, &req->store, &cfg) == -1)
    goto out_spec;
  if (store_set_lock (&set, &cfg) == -1)
    goto out_cfg;
  int l = lookup_image (&spec, &set, &c, &image, &cached);
  if (l == 1) {
    /* Not an image: maybe an artifact (podman artifact add). */
    r = storage_artifact_locate (set.stores[0].root, spec.ref, req, loc);
    if (r == 1) {
      char hint[256];
      r = error ("%s: image not known in %s (driver %s): %s", spec.ref,
                 set.stores[0].root, set.driver,
                 other_driver_hint (&set, hint, sizeof hint));
    }
    goto out_set;
  }
  if (l == -1)
    goto out_set;
  debug ("%s is image %s", spec.ref, image->id);
  r = image_find_disk (&set, image, req, loc);
  if (r == -1)
    error_context ("%s", spec.ref);
  else if (!cached) {
    json_object *answer = store_set_answer (&set, image);
    if (answer)
      cache_store (&c, answer);
    json_object_put (answer);
  }

 out_set:
  /* The disk's fd is open: podman may now change the store again. */
  store_set_close (&set);
 out_cfg:
  store_config_free (&cfg);
 out_spec:
  storage_spec_free (&spec);
  return r;
}
