/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: layout_list over an OCI layout written here: two named
 * images, one with a disk and one without, and a docker-archive-less
 * error.  (The CLI does not list layouts yet: this is its API.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/sha256.h"
#include "layout/layout.h"

#include "unit.h"

static char tmp[] = "/var/tmp/test-layout-list.XXXXXX";

static char *
slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "r");
  char *buf = NULL;
  *len = 0;
  if (!f)
    return NULL;
  FILE *m = open_memstream (&buf, len);
  int c;
  while ((c = fgetc (f)) != EOF)
    fputc (c, m);
  fclose (m);
  fclose (f);
  return buf;
}

/* Store LEN bytes as a blob; its descriptor. */
static json_object *
put_blob (const char *data, size_t len, const char *media_type)
{
  char hex[65], path[512];
  sha256_hex (data, len, hex);
  snprintf (path, sizeof path, "%s/oci/blobs/sha256/%s", tmp, hex);
  FILE *f = fopen (path, "w");
  fwrite (data, 1, len, f);
  fclose (f);
  json_object *d = json_object_new_object ();
  char digest[80];
  snprintf (digest, sizeof digest, "sha256:%s", hex);
  json_object_object_add (d, "mediaType", json_object_new_string (media_type));
  json_object_object_add (d, "digest", json_object_new_string (digest));
  json_object_object_add (d, "size", json_object_new_int64 (len));
  return d;
}

static json_object *
put_json (json_object *o, const char *media_type)
{
  const char *s = json_object_to_json_string (o);
  json_object *d = put_blob (s, strlen (s), media_type);
  json_object_put (o);
  return d;
}

/* An image of one layer: the tar of directory SRC. */
static json_object *
image (const char *src, const char *ref)
{
  char dir[512], out[512];
  size_t len;
  snprintf (dir, sizeof dir, "%s/%s", tmp, src);
  snprintf (out, sizeof out, "%s/%s.tar", tmp, src);
  char *const argv[] = { "tar", "-C", dir, "-cf", out, ".", NULL };
  CHECK (unit_run (argv) == 0);
  char *tar = slurp (out, &len);
  json_object *layers = json_object_new_array ();
  json_object_array_add (layers, put_blob (tar, len, "application/vnd.oci.image.layer.v1.tar"));
  free (tar);
  json_object *m = json_object_new_object ();
  json_object_object_add (m, "schemaVersion", json_object_new_int (2));
  json_object_object_add (m, "config", put_json (json_object_new_object (),
                                                 "application/vnd.oci.image.config.v1+json"));
  json_object_object_add (m, "layers", layers);
  json_object *d = put_json (m, "application/vnd.oci.image.manifest.v1+json");
  json_object *a = json_object_new_object ();
  json_object_object_add (a, "org.opencontainers.image.ref.name", json_object_new_string (ref));
  json_object_object_add (d, "annotations", a);
  return d;
}

struct seen {
  int n, with_disk;
  char names[256];
};

static int
list_cb (const char *image_id, char *const *names,
         const struct disk_location *loc, const char *why, void *arg)
{
  struct seen *s = arg;
  s->n++;
  CHECK (strncmp (image_id, "sha256:", 7) == 0);
  CHECK (names[0] != NULL);
  strcat (s->names, names[0] ? names[0] : "?");
  strcat (s->names, " ");
  if (loc) {
    s->with_disk++;
    CHECK (loc->size == 5 && strcmp (loc->member, "/disk/x.img") == 0);
    CHECK (why == NULL);
  }
  else
    CHECK (why && strstr (why, "no /disk/ directory"));
  return 0;
}

int
main (void)
{
  char path[512];
  unit_tmpdir (tmp);
  const char *dirs[] = { "oci", "oci/blobs", "oci/blobs/sha256", "a", "a/disk", "b", "b/etc" };
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    snprintf (path, sizeof path, "%s/%s", tmp, dirs[i]);
    mkdir (path, 0755);
  }
  snprintf (path, sizeof path, "%s/a/disk/x.img", tmp);
  FILE *f = fopen (path, "w");
  fputs ("disk\n", f);
  fclose (f);

  json_object *index = json_object_new_object (), *m = json_object_new_array ();
  json_object_array_add (m, image ("a", "with"));
  json_object_array_add (m, image ("b", "without"));
  json_object_object_add (index, "schemaVersion", json_object_new_int (2));
  json_object_object_add (index, "manifests", m);
  snprintf (path, sizeof path, "%s/oci/index.json", tmp);
  json_object_to_file (path, index);
  json_object_put (index);
  snprintf (path, sizeof path, "%s/oci/oci-layout", tmp);
  f = fopen (path, "w");
  fputs ("{\"imageLayoutVersion\": \"1.0.0\"}", f);
  fclose (f);

  char ref[512];
  struct locate_request req = { 0 };
  struct seen seen = { 0 };
  snprintf (ref, sizeof ref, "oci:%s/oci", tmp);
  CHECK (layout_list (ref, &req, list_cb, &seen) == 0);
  CHECK (seen.n == 2 && seen.with_disk == 1);
  CHECK (strcmp (seen.names, "with without ") == 0);

  memset (&seen, 0, sizeof seen);
  snprintf (ref, sizeof ref, "oci:%s/oci:with", tmp);
  CHECK (layout_list (ref, &req, list_cb, &seen) == 0);
  CHECK (seen.n == 1 && seen.with_disk == 1);

  snprintf (ref, sizeof ref, "docker-archive:%s/a.tar", tmp);
  CHECK (layout_list (ref, &req, list_cb, &seen) == -1);
  CHECK (strstr (error_message (), "is not a docker archive"));

  return unit_summary ();
}
