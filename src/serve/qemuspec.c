/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: qemu json: filenames, see qemuspec.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/cleanup.h"
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

json_object *
qemuspec_tree (const struct disk_location *loc, bool decode,
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
  return node;
}

/* PREFIX and TREE's JSON text, then TREE put. */
static char *
serialize (const char *prefix, json_object *tree)
{
  char *ret;

  if (!tree)
    return NULL;
  if (asprintf (&ret, "%s%s", prefix, json_object_to_json_string_ext (
                  tree, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == -1) {
    error_errno (errno, "asprintf");
    ret = NULL;
  }
  json_object_put (tree);
  return ret;
}

char *
qemuspec_filename (json_object *tree)
{
  return serialize ("json:", tree);
}

char *
qemuspec_build (const struct disk_location *loc, bool decode,
                const char *filename)
{
  return qemuspec_filename (qemuspec_tree (loc, decode, filename));
}

/* ASCII only, whatever the locale: qemu's own test is qemu_isalpha. */
static bool
is_ascii_letter (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* qemu's id_wellformed() and the size of BlockDriverState.node_name. */
bool
qemuspec_node_name_ok (const char *name)
{
  size_t len = strlen (name);

  if (len == 0 || len > QEMUSPEC_NODE_NAME_MAX || !is_ascii_letter (name[0]))
    return false;
  for (size_t i = 1; i < len; i++)
    if (!is_ascii_letter (name[i]) && !(name[i] >= '0' && name[i] <= '9')
        && !strchr ("-._", name[i]))
      return false;
  return true;
}

char *
qemuspec_blockdev (const struct disk_location *loc, bool decode,
                   const char *node_name)
{
  if (!qemuspec_node_name_ok (node_name)) {
    error ("'%s' is not a qemu node name", node_name);
    return NULL;
  }
  json_object *tree = qemuspec_tree (loc, decode, NULL);
  if (!tree)
    return NULL;
  /* -blockdev takes the tree as it is, named: the node-name first, for
   * a reader.  A json-c object keeps the order of insertion.
   */
  json_object *named = json_object_new_object ();
  json_object_object_add (named, "node-name",
                          json_object_new_string (node_name));
  json_object_object_foreach (tree, key, val)
    json_object_object_add (named, key, json_object_get (val));
  json_object_put (tree);
  return serialize ("", named);
}

/* -drive's options are QemuOpts: key=value pairs split at each ',', where
 * ",," stands for a comma inside a value.
 */
static char *
double_commas (const char *s)
{
  size_t n = strlen (s) + 1;
  for (const char *p = s; *p; p++)
    n += *p == ',';
  char *ret = malloc (n), *q = ret;
  if (!ret) {
    error_errno (errno, "malloc");
    return NULL;
  }
  for (const char *p = s; *p; p++) {
    *q++ = *p;
    if (*p == ',')
      *q++ = ',';
  }
  *q = '\0';
  return ret;
}

/* The json: filename keeps the whole tree, and format= names its top
 * driver again.  -drive's own options take precedence over the ones in a
 * json: filename (qemu merges the json's with lower priority): a format=
 * other than the json's top driver would replace it (format=raw over the
 * qcow2 node shows the stored qcow2 bytes), so it is always the same
 * driver.  Splitting the tree instead (file=json:{the raw window},
 * format=qcow2) would leave the qcow2 node's "backing": null out of the
 * json, where -drive can only say it as the deprecated "backing=", and
 * qemu would follow a backing file named in the header.
 *
 * -drive says readonly=off unless told, and that overrides the json's top
 * "read-only": true (qemu then fails, "Block node is read-only"): so
 * readonly=on, or snapshot=on, which opens the tree read-only below a
 * temporary writable qcow2 overlay that qemu deletes.
 */
char *
qemuspec_drive (const struct disk_location *loc, bool decode, bool snapshot)
{
  json_object *tree = qemuspec_tree (loc, decode, NULL);
  if (!tree)
    return NULL;
  const char *format =
    json_object_get_string (json_object_object_get (tree, "driver"));
  _cleanup_free_ char *driver = strdup (format);
  _cleanup_free_ char *spec = qemuspec_filename (tree);
  if (!driver || !spec)
    return NULL;
  _cleanup_free_ char *escaped = double_commas (spec);
  char *ret;
  if (!escaped)
    return NULL;
  if (asprintf (&ret, "file=%s,format=%s,%s", escaped, driver,
                snapshot ? "snapshot=on" : "readonly=on") == -1) {
    error_errno (errno, "asprintf");
    return NULL;
  }
  return ret;
}
