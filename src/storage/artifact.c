/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: podman's artifact store as a source of disks.
 *
 * podman artifact add NAME FILE (podman 5.4 and later) keeps artifacts
 * beside the image store, in an OCI image layout at <graphroot>/artifacts
 * locked by its index.lock: each artifact is a manifest that index.json
 * names by org.opencontainers.image.ref.name ("NAME:TAG", ":latest" added
 * when no tag was given), and each of its blobs is an added file itself,
 * titled by org.opencontainers.image.title.  So the disk is a whole blob,
 * at offset 0, found by the layout code once the name is known to be there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "layout/layout.h"
#include "storage/storage.h"
#include "storage/store.h"

#define REF_NAME "org.opencontainers.image.ref.name"

/* NAME as podman stores it: with ":latest" when it has no tag or digest. */
static char *
artifact_name (const char *ref)
{
  const char *slash = strrchr (ref, '/');
  char *s;
  if (strchr (ref, '@') || strchr (slash ? slash : ref, ':'))
    return strdup (ref);
  if (asprintf (&s, "%s:latest", ref) == -1)
    return NULL;
  return s;
}

/* Does the artifact store's index.json list NAME?  1 yes, 0 no, -1 error. */
static int
index_lists (const char *index_path, const char *name)
{
  json_object *index = json_object_from_file (index_path), *manifests;
  int r = 0;

  if (!index)
    return error ("%s: not valid JSON: %s", index_path,
                  json_util_get_last_err ());
  if (!json_object_object_get_ex (index, "manifests", &manifests)
      || !json_object_is_type (manifests, json_type_array)) {
    json_object_put (index);
    return error ("%s: no \"manifests\" array: the artifact store is damaged",
                  index_path);
  }
  for (size_t i = 0; r == 0 && i < json_object_array_length (manifests); i++) {
    json_object *ann, *ref;
    json_object *m = json_object_array_get_idx (manifests, i);
    if (json_object_object_get_ex (m, "annotations", &ann)
        && json_object_object_get_ex (ann, REF_NAME, &ref)
        && json_object_is_type (ref, json_type_string)
        && strcmp (json_object_get_string (ref), name) == 0)
      r = 1;
  }
  json_object_put (index);
  return r;
}

int
storage_artifact_locate (const char *graphroot, const char *ref,
                         const struct locate_request *req,
                         struct disk_location *loc)
{
  _cleanup_free_ char *dir = NULL, *index = NULL, *lock = NULL, *name = NULL;
  _cleanup_free_ char *layout_ref = NULL;
  _cleanup_close_ int lock_fd = -1;

  if (asprintf (&dir, "%s/artifacts", graphroot) == -1
      || asprintf (&index, "%s/index.json", dir) == -1
      || asprintf (&lock, "%s/index.lock", dir) == -1
      || (name = artifact_name (ref)) == NULL)
    return error_errno (errno, "asprintf");
  if (access (index, F_OK) == -1) {
    debug ("%s: no artifact store", dir);
    return 1;
  }
  /* podman takes the same lock to add or remove an artifact. */
  if (store_lock_read (lock, &lock_fd) == -1)
    return -1;
  int listed = index_lists (index, name);
  if (listed != 1)
    return listed == 0 ? 1 : -1;
  if (asprintf (&layout_ref, "oci:%s:%s", dir, name) == -1)
    return error_errno (errno, "asprintf");
  debug ("%s is artifact %s in %s", ref, name, dir);
  if (layout_locate (layout_ref, req, loc) == -1)
    return error_context ("artifact %s", name);
  /* It is podman's store all the same. */
  free (loc->transport);
  if ((loc->transport = strdup ("containers-storage")) == NULL)
    return error_errno (errno, "strdup");
  return 0;
}
