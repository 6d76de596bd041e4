/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the table of sources, see source.h. */
#include <string.h>

#include "common/error.h"
#include "hook/rootfs.h"
#include "layout/layout.h"
#include "source.h"
#include "storage/disk.h"
#include "storage/storage.h"

/* Transports of containers-transports(5) that name a remote or another
 * daemon's image: podman-disk reads local bytes only.
 */
static const char *const remote_transports[] = {
  "docker://", "docker-daemon:", "dir:", "sif:", NULL
};

static const char *
remote_transport (const char *ref)
{
  for (const char *const *t = remote_transports; *t; t++)
    if (strncmp (ref, *t, strlen (*t)) == 0)
      return *t;
  return NULL;
}

static bool
remote_matches (const char *ref)
{
  return remote_transport (ref) != NULL;
}

static int
remote_locate (const char *ref, const struct locate_request *req,
               struct disk_location *loc)
{
  const char *t = remote_transport (ref);

  (void) req;
  (void) loc;
  return error ("%s: the %.*s transport is not read in place; copy the "
                "image into local storage first (podman pull %s) or use "
                "an oci: layout", ref, (int) strcspn (t, ":"), t, ref);
}

#define ROOTFS_PREFIX "rootfs:"

static bool
rootfs_matches (const char *ref)
{
  return strncmp (ref, ROOTFS_PREFIX, strlen (ROOTFS_PREFIX)) == 0;
}

static int
rootfs_source_locate (const char *ref, const struct locate_request *req,
                      struct disk_location *loc)
{
  return rootfs_locate (ref + strlen (ROOTFS_PREFIX), req->disk, loc);
}

static bool
storage_matches (const char *ref)
{
  (void) ref;
  return true;
}

static const struct source sources[] = {
  { .name = "remote", .matches = remote_matches, .locate = remote_locate },
  { .name = "layout", .matches = layout_is_layout_ref,
    .locate = layout_locate, .list = layout_list, .picks_platform = true },
  { .name = "rootfs", .matches = rootfs_matches, .locate = rootfs_source_locate },
  /* Last: every other reference is a name or id in the store. */
  { .name = "containers-storage", .matches = storage_matches,
    .locate = storage_locate, .list = storage_list },
};

const struct source *
source_for (const char *ref)
{
  const struct source *s = sources;

  if (!ref)
    return &sources[sizeof sources / sizeof sources[0] - 1];
  while (!s->matches (ref))
    s++;
  return s;
}

int
source_locate (const char *ref, const struct locate_request *req,
               struct disk_location *loc)
{
  return source_for (ref)->locate (ref, req, loc);
}

bool
source_needs_userns (void)
{
  return storage_needs_userns;
}

void
source_rerun_in_userns (void)
{
  rootless_reexec ();
}

int
source_check_request (const char *cmd, const char *ref,
                      const struct locate_request *req)
{
  /* containers/storage keeps one platform per image and its layers
   * unpacked, with no blob left to check: nothing these could change.
   */
  if (source_for (ref)->picks_platform)
    return 0;
  if (req->platform)
    return usage_error (cmd, "--platform applies to oci:, oci-archive: and "
                        "docker-archive: references, not to '%s'", ref);
  if (req->verify)
    return usage_error (cmd, "--verify applies to oci:, oci-archive: and "
                        "docker-archive: references, not to '%s' "
                        "(containers-storage keeps no layer blobs to check)",
                        ref);
  return 0;
}
