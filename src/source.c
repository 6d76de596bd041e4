/* podman-disk: dispatch an image reference to its source, see source.h. */
#include <string.h>

#include "common/error.h"
#include "layout/layout.h"
#include "source.h"
#include "storage/storage.h"

/* Transports of containers-transports(5) that name a remote or another
 * daemon's image: podman-disk reads local bytes only.
 */
static const char *const remote_transports[] = {
  "docker://", "docker-daemon:", "dir:", "sif:", NULL
};

int
source_locate (const char *ref, const struct locate_request *req,
               struct disk_location *loc)
{
  for (const char *const *t = remote_transports; *t; t++)
    if (strncmp (ref, *t, strlen (*t)) == 0)
      return error ("%s: the %.*s transport is not read in place; copy the "
                    "image into local storage first (podman pull %s) or use "
                    "an oci: layout", ref, (int) strcspn (*t, ":"), *t, ref);
  if (layout_is_layout_ref (ref))
    return layout_locate (ref, req, loc);
  return storage_locate (ref, req, loc);
}

int
source_check_request (const char *cmd, const char *ref,
                      const struct locate_request *req)
{
  /* containers/storage keeps one platform per image and its layers
   * unpacked, with no blob left to check: nothing these could change.
   */
  if (layout_is_layout_ref (ref))
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
