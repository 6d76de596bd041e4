/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk plugin: the store mode, see plugin.h.  Every image of the
 * store that holds a disk is an export named by its image names (and
 * reachable by its ID).  A name is located when a client opens it, so
 * images pulled after the server started are served too.
 *
 * The export name comes from the network: it is only ever looked up in
 * the configured store, never read as a transport (oci:/path would read
 * any layout on the host, containers-storage:[...] another store), and
 * the image found must carry that exact name or ID: podman's short-name
 * and repository-suffix rules never pick an image for a client.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "common/error.h"
#include "nbdkit/plugin.h"
#include "source.h"

struct list_state {
  struct nbdkit_exports *exports;
  int r;
};

static int
add_image (const char *image_id, char *const *names,
           const struct disk_location *loc, const char *why, void *arg)
{
  struct list_state *st = arg;

  if (!loc) {
    (void) why;         /* diskless: not an export */
    return 0;
  }
  _cleanup_free_ char *desc = disk_description (loc);
  if (!names || !names[0])
    return st->r = nbdkit_add_export (st->exports, image_id, desc);
  for (char *const *n = names; *n; n++)
    if ((st->r = nbdkit_add_export (st->exports, *n, desc)) == -1)
      return -1;
  return 0;
}

int
store_list_exports (const struct locate_request *req,
                    struct nbdkit_exports *exports)
{
  struct list_state st = { exports, 0 };

  /* The store's source lists with the /disk/ rule (disk= is for one
   * IMAGE), in the store of REQ.
   */
  error_clear ();
  int r = source_for (NULL)->list (NULL, req, add_image, &st);
  if (st.r == -1)
    return -1;          /* nbdkit_add_export said why */
  if (r == -1)
    return report_error ("the store could not be listed");
  return 0;
}

static bool
is_hex (const char *s)
{
  for (; *s; s++)
    if (!isxdigit ((unsigned char) *s) || isupper ((unsigned char) *s))
      return false;
  return true;
}

/* Whether NAME is exactly one of LOC's names, its ID, a prefix of 12
 * hex digits or more of it, or sha256:ID.
 */
static bool
names_image (const char *name, const struct disk_location *loc)
{
  const char *id = loc->image_id;

  for (char **n = loc->names; n && *n; n++)
    if (strcmp (name, *n) == 0)
      return true;
  if (!id)
    return false;
  if (strncmp (name, "sha256:", 7) == 0)
    return strcmp (name + 7, id) == 0;
  return strlen (name) >= 12 && is_hex (name)
    && strncmp (name, id, strlen (name)) == 0;
}

int
store_open_export (const char *name, const struct locate_request *req,
                   struct served_disk *d)
{
  error_clear ();
  if (!*name) {
    error ("no export name: this server serves every disk of its store by "
           "image name or ID (nbdinfo --list shows them)");
    return report_error (name);
  }
  if (strncmp (name, "containers-storage:", 19) == 0 || name[0] == '[') {
    error ("export '%s': give an image name or ID, not a reference to "
           "another store", name);
    return report_error (name);
  }
  /* The store's own source: never the transport NAME might spell. */
  if (source_for (NULL)->locate (name, req, &d->loc) == -1)
    return report_error (name);
  if (!names_image (name, &d->loc)) {
    error ("export '%s': no image has exactly this name or ID (nbdinfo "
           "--list shows the export names)", name);
    return report_error (name);
  }
  d->description = disk_description (&d->loc);
  nbdkit_debug ("export %s: image %s, offset %" PRIu64 " of %s", name,
                d->loc.image_id, d->loc.offset, d->loc.file);
  return 0;
}
