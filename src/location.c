/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the disk location record, see location.h. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "location.h"

void
disk_location_init (struct disk_location *loc)
{
  memset (loc, 0, sizeof *loc);
  loc->fd = -1;
  loc->header_offset = -1;
}

void
disk_location_clear (struct disk_location *loc)
{
  free (loc->transport);
  free (loc->image_id);
  free (loc->digest);
  strv_free (loc->names);
  free (loc->layer);
  free (loc->layer_media_type);
  free (loc->member);
  free (loc->file);
  if (loc->fd >= 0)
    close (loc->fd);
  disk_location_init (loc);
}

void
disk_location_move_origin (struct disk_location *dst, struct disk_location *src)
{
  free (dst->transport);
  free (dst->image_id);
  free (dst->digest);
  strv_free (dst->names);
  free (dst->layer);
  free (dst->layer_media_type);
  free (dst->member);
  dst->transport = steal_pointer (&src->transport);
  dst->image_id = steal_pointer (&src->image_id);
  dst->digest = steal_pointer (&src->digest);
  dst->names = steal_pointer (&src->names);
  dst->layer = steal_pointer (&src->layer);
  dst->layer_media_type = steal_pointer (&src->layer_media_type);
  dst->member = steal_pointer (&src->member);
}

static void
add_string (json_object *o, const char *key, const char *value)
{
  if (value)
    json_object_object_add (o, key, json_object_new_string (value));
}

static void
add_uint (json_object *o, const char *key, uint64_t value)
{
  json_object_object_add (o, key, json_object_new_uint64 (value));
}

json_object *
disk_location_to_json (const struct disk_location *loc)
{
  json_object *o = json_object_new_object ();
  json_object *names = json_object_new_array ();

  add_string (o, "image", loc->image_id);
  add_string (o, "digest", loc->digest);
  for (char **n = loc->names; n && *n; n++)
    json_object_array_add (names, json_object_new_string (*n));
  json_object_object_add (o, "names", names);
  add_string (o, "transport", loc->transport);
  add_string (o, "layer", loc->layer);
  add_string (o, "layer_media_type", loc->layer_media_type);
  add_string (o, "member", loc->member);
  add_string (o, "file", loc->file);
  if (loc->header_offset >= 0)
    add_uint (o, "header_offset", loc->header_offset);
  add_uint (o, "offset", loc->offset);
  add_uint (o, "size", loc->size);
  add_string (o, "format", diskfmt_name (loc->fmt.format));
  add_uint (o, "virtual_size", loc->fmt.virtual_size);
  if (loc->fmt.format == DISK_QCOW2) {
    add_uint (o, "qcow2_version", loc->fmt.qcow2_version);
    add_uint (o, "cluster_size", UINT64_C (1) << loc->fmt.cluster_bits);
  }
  /* The bytes are served from where they are: always, by construction. */
  json_object_object_add (o, "zero_copy", json_object_new_boolean (1));
  return o;
}

bool
locate_platform_valid (const char *s)
{
  size_t parts = 0;

  for (;;) {
    size_t len = strcspn (s, "/");
    if (len == 0 || len > 63 || ++parts > 3)
      return false;
    if (!s[len])
      return parts >= 2;
    s += len + 1;
  }
}
