/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: qemu json: filenames, see qemuspec.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/error.h"
#include "serve/qemuspec.h"

/* qemu's raw driver refuses a "size" that is not a multiple of 512
 * ("Specified size is not multiple of 512"), and qemu-img makes qcow2
 * files of any length (196616 bytes for an empty 1M disk).  A disk that is
 * its whole file needs neither offset nor size.  A qcow2 inside a tar
 * member can take the size rounded up to the member's padding: the qcow2
 * driver reads only the clusters its tables point to, all inside the disk.
 */
static uint64_t
file_size (const struct disk_location *loc)
{
  struct stat st;

  if (loc->fd >= 0 ? fstat (loc->fd, &st) : stat (loc->file, &st))
    return UINT64_MAX;
  return st.st_size;
}

static int
add_window (json_object *node, const struct disk_location *loc, bool decode)
{
  uint64_t size = loc->size, fsize;

  if (size % 512) {
    fsize = file_size (loc);
    if (loc->offset == 0 && fsize == size)
      return 0;
    uint64_t rounded = (size + 511) & ~UINT64_C (511);
    if (decode && loc->fmt.format == DISK_QCOW2 && fsize != UINT64_MAX &&
        loc->offset <= fsize && rounded <= fsize - loc->offset)
      size = rounded;
    else
      /* Rounding up would show bytes that are not the disk's. */
      return error ("the disk is %" PRIu64 " bytes inside %s, not a multiple "
                    "of 512: qemu's raw driver cannot open that exactly; "
                    "use 'podman-disk serve' (nbdkit exports any size)",
                    loc->size, loc->file);
  }
  json_object_object_add (node, "offset", json_object_new_int64 (loc->offset));
  json_object_object_add (node, "size", json_object_new_int64 (size));
  return 0;
}

char *
qemuspec_build (const struct disk_location *loc, bool decode,
                const char *filename)
{
  json_object *file = json_object_new_object ();
  json_object_object_add (file, "driver", json_object_new_string ("file"));
  json_object_object_add (file, "filename",
                          json_object_new_string (filename ? filename : loc->file));
  /* The image is never written: qemu fails rather than open it rw. */
  json_object_object_add (file, "read-only", json_object_new_boolean (1));

  json_object *node = json_object_new_object ();
  json_object_object_add (node, "driver", json_object_new_string ("raw"));
  json_object_object_add (node, "file", file);
  if (add_window (node, loc, decode) == -1) {
    json_object_put (node);
    return NULL;
  }

  if (decode && loc->fmt.format == DISK_QCOW2) {
    json_object *top = json_object_new_object ();
    json_object_object_add (top, "driver", json_object_new_string ("qcow2"));
    json_object_object_add (top, "read-only", json_object_new_boolean (1));
    /* diskfmt refused a backing file already; qemu must not look either. */
    json_object_object_add (top, "backing", NULL);
    json_object_object_add (top, "file", node);
    node = top;
  }
  else
    json_object_object_add (node, "read-only", json_object_new_boolean (1));

  const char *s = json_object_to_json_string_ext (
    node, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *ret;
  if (asprintf (&ret, "json:%s", s) == -1) {
    error_errno (errno, "asprintf");
    ret = NULL;
  }
  json_object_put (node);
  return ret;
}
