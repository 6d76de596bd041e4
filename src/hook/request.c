/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the hook's annotations and the container's names, see request.h. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/readall.h"
#include "hook/state.h"
#include "hook/request.h"

#define CONTAINERS_JSON_MAX (256 * 1024 * 1024)

static char *
strdup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

static const char *
annotation (json_object *annotations, const char *key)
{
  json_object *v;
  if (annotations && json_object_object_get_ex (annotations, key, &v))
    return json_object_get_string (v);
  return NULL;
}

/* The image name podman recorded in the container's metadata string. */
static char *
metadata_image_name (json_object *entry)
{
  json_object *md, *name;
  char *r = NULL;

  if (!json_object_object_get_ex (entry, "metadata", &md)
      || !json_object_is_type (md, json_type_string))
    return NULL;
  json_object *o = json_tokener_parse (json_object_get_string (md));
  if (o && json_object_is_type (o, json_type_object)
      && json_object_object_get_ex (o, "image-name", &name)
      && json_object_is_type (name, json_type_string)
      && json_object_get_string_len (name) > 0)
    r = strdup (json_object_get_string (name));
  json_object_put (o);
  return r;
}

static int
take_entry (struct container_ident *ci, json_object *entry)
{
  json_object *names, *image;
  size_t n = 0;

  if (json_object_object_get_ex (entry, "names", &names)
      && json_object_is_type (names, json_type_array))
    n = json_object_array_length (names);
  char **v = calloc (n + 1, sizeof *v);
  if (!v)
    return error_errno (errno, "containers.json");
  for (size_t i = 0, j = 0; i < n; i++) {
    json_object *s = json_object_array_get_idx (names, i);
    if (json_object_is_type (s, json_type_string)
        && (v[j] = strdup (json_object_get_string (s))) != NULL)
      j++;
  }
  strv_free (ci->names);
  ci->names = v;
  if (json_object_object_get_ex (entry, "image", &image)
      && json_object_is_type (image, json_type_string)
      && json_object_get_string_len (image) > 0) {
    free (ci->image_id);
    ci->image_id = strdup (json_object_get_string (image));
  }
  char *name = metadata_image_name (entry);
  if (name) {
    free (ci->image_name);
    ci->image_name = name;
  }
  return 0;
}

int
container_ident_read_storage (struct container_ident *ci, const char *path)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;

  if (read_all_file (path, CONTAINERS_JSON_MAX, &buf, &len) == -1)
    return -1;
  json_object *arr = json_tokener_parse (buf);
  if (!arr || !json_object_is_type (arr, json_type_array)) {
    json_object_put (arr);
    return error ("%s is not a JSON array", path);
  }
  int r = 1;              /* not found */
  for (size_t i = 0; i < json_object_array_length (arr); i++) {
    json_object *e = json_object_array_get_idx (arr, i), *id;
    if (json_object_is_type (e, json_type_object)
        && json_object_object_get_ex (e, "id", &id)
        && json_object_is_type (id, json_type_string)
        && strcmp (json_object_get_string (id), ci->id) == 0) {
      r = take_entry (ci, e);
      break;
    }
  }
  json_object_put (arr);
  return r;
}

int
container_ident_load (struct container_ident *ci, const struct oci_state *st,
                      const struct oci_config *cfg)
{
  json_object *a = cfg->annotations;

  memset (ci, 0, sizeof *ci);
  ci->id = strdup (st->id);
  ci->hostname = strdup_or_null (cfg->hostname);
  /* CRI-O says the Kubernetes name; podman says it is in a pod. */
  ci->k8s_name = strdup_or_null (annotation (a, "io.kubernetes.container.name"));
  ci->in_pod = annotation (a, "io.kubernetes.cri-o.SandboxID") != NULL;
  ci->image_name = strdup_or_null (annotation (a, "io.kubernetes.cri-o.ImageName"));
  if (!ci->id)
    return error_errno (errno, "container id");

  /* podman: BUNDLE is GRAPHROOT/DRIVER-containers/ID/userdata. */
  _cleanup_free_ char *copy = strdup (st->bundle);
  if (!copy)
    return error_errno (errno, "bundle");
  char *dir = dirname (dirname (copy));
  static const char *const files[] = { "containers.json", "volatile-containers.json" };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    _cleanup_free_ char *path = NULL;
    if (asprintf (&path, "%s/%s", dir, files[i]) == -1)
      return error_errno (errno, "containers.json");
    if (access (path, R_OK) == 0 && container_ident_read_storage (ci, path) == 0)
      break;
    error_clear ();       /* not podman's layout, or not there: no names */
  }
  if (!ci->names && (ci->names = calloc (1, sizeof *ci->names)) == NULL)
    return error_errno (errno, "container names");
  return 0;
}

void
container_ident_clear (struct container_ident *ci)
{
  free (ci->id);
  strv_free (ci->names);
  free (ci->image_id);
  free (ci->image_name);
  free (ci->k8s_name);
  free (ci->hostname);
  memset (ci, 0, sizeof *ci);
}

bool
container_ident_matches (const struct container_ident *ci, const char *cname)
{
  size_t hlen = ci->hostname ? strlen (ci->hostname) : 0;

  if (ci->k8s_name && strcmp (ci->k8s_name, cname) == 0)
    return true;
  for (char **n = ci->names; n && *n; n++) {
    if (strcmp (*n, cname) == 0)
      return true;
    /* podman kube play: POD-CNAME, and the pod's hostname is POD unless
     * the YAML sets spec.hostname (then the full name matches).
     */
    if (ci->in_pod && hlen && strncmp (*n, ci->hostname, hlen) == 0
        && (*n)[hlen] == '-' && strcmp (*n + hlen + 1, cname) == 0)
      return true;
  }
  return false;
}

const char *
container_ident_short_name (const struct container_ident *ci)
{
  static char buf[13];
  size_t hlen = ci->hostname ? strlen (ci->hostname) : 0;

  if (ci->k8s_name && export_name_valid (ci->k8s_name))
    return ci->k8s_name;
  if (ci->names && ci->names[0]) {
    const char *n = ci->names[0];
    if (ci->in_pod && hlen && strncmp (n, ci->hostname, hlen) == 0 && n[hlen] == '-'
        && export_name_valid (n + hlen + 1))
      return n + hlen + 1;
    if (export_name_valid (n))
      return n;
  }
  snprintf (buf, sizeof buf, "%s", ci->id);
  return buf;
}

bool
export_name_valid (const char *name)
{
  size_t n = strlen (name);
  /* The name becomes NAME.sock in a directory: with the suffix even "."
   * and ".." are plain file names.
   */
  return n >= 1 && n <= 64
    && strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789_.-") == n;
}

/* A container name as podman and Kubernetes allow them. */
static bool
cname_valid (const char *s)
{
  static const char alnum[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t n = strlen (s);

  return n >= 1 && n <= 253 && strchr (alnum, s[0]) != NULL
    && strspn (s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789_.-") == n;
}

/* A boolean spelled another way than "true" or "false" is surely not
 * meant as an export name: refuse it rather than export a disk named
 * "no".
 */
static bool
boolean_like (const char *v)
{
  static const char *const words[] = {
    "true", "false", "yes", "no", "on", "off", "y", "n", "1", "0",
  };
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcasecmp (v, words[i]) == 0)
      return true;
  return false;
}

enum key { K_EXPORT, K_DISK, K_WRITABLE, K_COUNT };
static const char *const key_names[K_COUNT] = {
  ANNOTATION_EXPORT, ANNOTATION_DISK, ANNOTATION_WRITABLE,
};

struct found {
  const char *value;       /* the effective value */
  const char *key;         /* the annotation it came from */
  bool specific;           /* the /CNAME form */
};

static int
classify (json_object *annotations, const struct container_ident *ci,
          struct found found[K_COUNT], const char **unknown)
{
  json_object_object_foreach (annotations, key, val) {
    if (strncmp (key, ANNOTATION_PREFIX, strlen (ANNOTATION_PREFIX)) != 0)
      continue;
    const char *slash = strchr (key, '/');
    size_t base = slash ? (size_t) (slash - key) : strlen (key);
    int k;
    for (k = 0; k < K_COUNT; k++)
      if (strlen (key_names[k]) == base && strncmp (key, key_names[k], base) == 0)
        break;
    if (k == K_COUNT) {
      if (!*unknown)
        *unknown = key;
      continue;
    }
    if (slash && !cname_valid (slash + 1))
      return error ("annotation %s: \"%s\" is not a container name", key, slash + 1);
    if (slash && !container_ident_matches (ci, slash + 1))
      continue;           /* for another container of the pod */
    if (found[k].specific && slash)
      return error ("annotations %s and %s both name this container",
                    found[k].key, key);
    if (found[k].specific)
      continue;           /* the /CNAME form wins */
    found[k].value = json_object_get_string (val);
    found[k].key = key;
    found[k].specific = slash != NULL;
  }
  return 0;
}

int
export_request_parse (json_object *annotations, const struct container_ident *ci,
                      struct export_request *req)
{
  struct found found[K_COUNT] = { { NULL, NULL, false } };
  const char *unknown = NULL;

  memset (req, 0, sizeof *req);
  if (classify (annotations, ci, found, &unknown) == -1)
    return -1;

  const struct found *e = &found[K_EXPORT];
  if (!e->value || strcmp (e->value, "false") == 0)
    return 0;
  if (strcmp (e->value, "true") == 0)
    req->name = strdup (e->specific && export_name_valid (strchr (e->key, '/') + 1)
                        ? strchr (e->key, '/') + 1
                        : container_ident_short_name (ci));
  else if (export_name_valid (e->value) && !boolean_like (e->value))
    req->name = strdup (e->value);
  else
    return error ("annotation %s=\"%s\": the value must be true, false or an "
                  "export name of 1 to 64 characters A-Z a-z 0-9 _ . - "
                  "(not a yes/no word)",
                  e->key, e->value);
  if (!req->name)
    return error_errno (errno, "export name");

  /* Only now that an export is asked for are the other keys checked. */
  if (unknown) {
    export_request_clear (req);
    return error ("unknown annotation %s: podman-disk knows %s, %s and %s",
                  unknown, ANNOTATION_EXPORT, ANNOTATION_DISK, ANNOTATION_WRITABLE);
  }
  const struct found *d = &found[K_DISK];
  if (d->value) {
    if (d->value[0] != '/' || strlen (d->value) > 4096) {
      error ("annotation %s=\"%s\": the value must be the absolute path of "
             "the disk in the image, like /disk/disk.img", d->key, d->value);
      export_request_clear (req);
      return -1;
    }
    if ((req->disk = strdup (d->value)) == NULL) {
      export_request_clear (req);
      return error_errno (errno, "disk");
    }
  }
  const struct found *w = &found[K_WRITABLE];
  if (w->value) {
    const char *dest = w->value + strlen (PERSISTENT_PREFIX);
    if (strcmp (w->value, "cow") == 0)
      req->cow = true;
    else if (strncmp (w->value, PERSISTENT_PREFIX, strlen (PERSISTENT_PREFIX)) == 0
             && dest[0] == '/') {
      if ((req->persistent = strdup (dest)) == NULL) {
        export_request_clear (req);
        return error_errno (errno, "writable");
      }
    }
    else if (strcmp (w->value, "false") != 0) {
      error ("annotation %s=\"%s\": the value must be cow (writes go to a "
             "throw-away overlay), persistent:/PATH (writes go into the clone "
             "/PATH, made by podman-disk clone) or false", w->key, w->value);
      export_request_clear (req);
      return -1;
    }
  }
  req->wanted = true;
  return 0;
}

void
export_request_clear (struct export_request *req)
{
  free (req->name);
  free (req->disk);
  free (req->persistent);
  memset (req, 0, sizeof *req);
}
