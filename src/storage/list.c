/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: storage_list, every image of the store and its disk. */
#include "common/error.h"
#include "storage/config.h"
#include "storage/disk.h"
#include "storage/storage.h"
#include "storage/store.h"

int
storage_list (const char *ref, const struct locate_request *opts,
              disk_list_cb cb, void *arg)
{
  struct store_config cfg;
  struct store_set set;
  const struct st_image **images = NULL;
  size_t n;
  int r = -1;

  (void) ref;
  if (store_config_load (&cfg, &opts->store) == -1)
    return -1;
  if (store_set_open (&set, &cfg) == -1)
    goto out_cfg;
  if (store_set_images (&set, &images, &n) == -1)
    goto out_set;

  /* A locate request with no --disk: the /disk/ rule for every image. */
  const struct locate_request req = { 0 };

  /* A rootless user outside podman's user namespace may not read some
   * disks: find out before printing anything, and list from inside.
   */
  if (rootless_can_reexec ()) {
    storage_needs_userns = false;
    for (size_t i = 0; i < n && !storage_needs_userns; i++) {
      struct disk_location loc;
      disk_location_init (&loc);
      image_find_disk (&set, images[i], &req, &loc);
      disk_location_clear (&loc);
    }
    if (storage_needs_userns) {
      free (images);
      store_set_close (&set);
      store_config_free (&cfg);
      return error ("some disks belong to users of your rootless podman's "
                    "user namespace and podman unshare failed: run podman "
                    "unshare podman-disk list");
    }
  }

  r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    struct disk_location loc;
    disk_location_init (&loc);
    error_clear ();
    if (image_find_disk (&set, images[i], &req, &loc) == 0)
      r = cb (images[i]->id, images[i]->names, &loc, NULL, arg);
    else
      r = cb (images[i]->id, images[i]->names, NULL, error_message (), arg);
    disk_location_clear (&loc);
  }
  free (images);

 out_set:
  store_set_close (&set);
 out_cfg:
  store_config_free (&cfg);
  return r;
}
