/* podman-disk: qemu json: filenames, see qemuspec.h. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "error.h"
#include "qemuspec.h"

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
  json_object_object_add (node, "offset", json_object_new_int64 (loc->offset));
  json_object_object_add (node, "size", json_object_new_int64 (loc->size));
  json_object_object_add (node, "file", file);

  if (decode && loc->fmt.format == DISK_QCOW2) {
    json_object *top = json_object_new_object ();
    json_object_object_add (top, "driver", json_object_new_string ("qcow2"));
    json_object_object_add (top, "read-only", json_object_new_boolean (1));
    json_object_object_add (top, "file", node);
    node = top;
  }
  else
    json_object_object_add (node, "read-only", json_object_new_boolean (1));

  const char *s = json_object_to_json_string_ext (
    node, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *ret;
  if (asprintf (&ret, "json:%s", s) == -1)
    ret = NULL;
  json_object_put (node);
  return ret;
}
