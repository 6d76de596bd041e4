/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the OCI state and config.json of a hook's container, see state.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/readall.h"
#include "hook/state.h"
#include "registry/registry.h"

/* config.json with a seccomp profile is tens of KiB; this is generous. */
#define CONFIG_MAX (16 * 1024 * 1024)

/* One JSON object from BUF, all of it; WHAT names it in messages. */
static json_object *
parse_object (const char *buf, size_t len, const char *what)
{
  json_tokener *tok = json_tokener_new ();
  json_object *o;

  if (!tok) {
    error_errno (ENOMEM, "%s", what);
    return NULL;
  }
  if (len > INT32_MAX) {
    json_tokener_free (tok);
    error ("%s is too large", what);
    return NULL;
  }
  o = json_tokener_parse_ex (tok, buf, (int) len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  size_t used = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);
  if (!o || jerr != json_tokener_success) {
    json_object_put (o);
    error ("%s is not valid JSON: %s", what,
           o || jerr != json_tokener_continue
           ? json_tokener_error_desc (jerr) : "unexpected end");
    return NULL;
  }
  while (used < len && strchr (" \t\r\n", buf[used]))
    used++;
  if (used != len || !json_object_is_type (o, json_type_object)) {
    json_object_put (o);
    error ("%s is not one JSON object", what);
    return NULL;
  }
  return o;
}

/* Member KEY of O as a string: 0 with *out NULL when absent (and not
 * REQUIRED), -1 when present with another type.
 */
static int
get_string (json_object *o, const char *key, bool required,
            const char *what, char **out)
{
  json_object *v;

  *out = NULL;
  if (!json_object_object_get_ex (o, key, &v) || json_object_is_type (v, json_type_null)) {
    if (required)
      return error ("%s has no \"%s\"", what, key);
    return 0;
  }
  if (!json_object_is_type (v, json_type_string))
    return error ("%s: \"%s\" is not a string", what, key);
  if (strlen (json_object_get_string (v)) != (size_t) json_object_get_string_len (v))
    return error ("%s: \"%s\" contains a NUL byte", what, key);
  if ((*out = strdup (json_object_get_string (v))) == NULL)
    return error_errno (errno, "%s", what);
  return 0;
}

/* Member KEY as an object, or NULL (absent or null); -1 for another type. */
static int
get_object (json_object *o, const char *key, const char *what,
            json_object **out)
{
  json_object *v;

  *out = NULL;
  if (!json_object_object_get_ex (o, key, &v) || json_object_is_type (v, json_type_null))
    return 0;
  if (!json_object_is_type (v, json_type_object))
    return error ("%s: \"%s\" is not an object", what, key);
  *out = v;
  return 0;
}

/* Annotations are a string-to-string map; anything else is refused so
 * that later lookups need no type checks.
 */
static int
take_annotations (json_object *parent, const char *what, json_object **out)
{
  json_object *a;

  if (get_object (parent, "annotations", what, &a) == -1)
    return -1;
  if (!a) {
    *out = json_object_new_object ();
    return 0;
  }
  json_object_object_foreach (a, key, val) {
    if (!json_object_is_type (val, json_type_string))
      return error ("%s: annotation %s is not a string", what, key);
  }
  *out = json_object_get (a);
  return 0;
}

int
oci_state_parse (const char *buf, size_t len, struct oci_state *st)
{
  const char *what = "the OCI state on stdin";
  json_object *o, *v;

  memset (st, 0, sizeof *st);
  if ((o = parse_object (buf, len, what)) == NULL)
    return -1;

  int r = -1;
  if (get_string (o, "id", true, what, &st->id) == -1
      || get_string (o, "status", true, what, &st->status) == -1
      || get_string (o, "bundle", true, what, &st->bundle) == -1
      || take_annotations (o, what, &st->annotations) == -1)
    goto out;
  if (!registry_id_valid (st->id)) {
    error ("%s: the container id \"%s\" is not a valid id", what, st->id);
    goto out;
  }
  if (st->bundle[0] != '/') {
    error ("%s: the bundle \"%s\" is not an absolute path", what, st->bundle);
    goto out;
  }
  if (json_object_object_get_ex (o, "pid", &v) && !json_object_is_type (v, json_type_null)) {
    if (!json_object_is_type (v, json_type_int)) {
      error ("%s: \"pid\" is not an integer", what);
      goto out;
    }
    int64_t pid = json_object_get_int64 (v);
    /* 0 is what some runtimes write for "no process". */
    if (pid < 0 || pid > INT32_MAX) {
      error ("%s: \"pid\" %lld is not a process id", what, (long long) pid);
      goto out;
    }
    st->pid = (pid_t) pid;
  }
  r = 0;
 out:
  json_object_put (o);
  if (r == -1)
    oci_state_clear (st);
  return r;
}

void
oci_state_clear (struct oci_state *st)
{
  free (st->id);
  free (st->status);
  free (st->bundle);
  json_object_put (st->annotations);
  memset (st, 0, sizeof *st);
}

static int
parse_mounts (json_object *o, const char *what, struct oci_config *cfg)
{
  json_object *arr;

  if (!json_object_object_get_ex (o, "mounts", &arr) || json_object_is_type (arr, json_type_null))
    return 0;
  if (!json_object_is_type (arr, json_type_array))
    return error ("%s: \"mounts\" is not an array", what);
  size_t n = json_object_array_length (arr);
  if (n == 0)
    return 0;
  cfg->mounts = calloc (n, sizeof *cfg->mounts);
  if (!cfg->mounts)
    return error_errno (errno, "%s", what);
  for (size_t i = 0; i < n; i++) {
    json_object *m = json_object_array_get_idx (arr, i);
    struct oci_mount *om = &cfg->mounts[i];
    cfg->n_mounts = i + 1;
    if (!json_object_is_type (m, json_type_object))
      return error ("%s: mounts[%zu] is not an object", what, i);
    if (get_string (m, "destination", true, what, &om->destination) == -1
        || get_string (m, "source", false, what, &om->source) == -1
        || get_string (m, "type", false, what, &om->type) == -1)
      return -1;
    om->bind = om->type && strcmp (om->type, "bind") == 0;
    json_object *opts;
    if (json_object_object_get_ex (m, "options", &opts)
        && json_object_is_type (opts, json_type_array)) {
      for (size_t j = 0; j < json_object_array_length (opts); j++) {
        const char *opt = json_object_get_string (json_object_array_get_idx (opts, j));
        if (opt && (strcmp (opt, "bind") == 0 || strcmp (opt, "rbind") == 0))
          om->bind = true;
      }
    }
  }
  return 0;
}

/* HOSTNAME=... from process.env: podman leaves "hostname" out of the
 * config of a pod's containers (they share the infra container's UTS
 * namespace) but still sets the variable.
 */
static int
hostname_from_env (json_object *o, const char *what, char **out)
{
  json_object *process, *env;

  if (get_object (o, "process", what, &process) == -1)
    return -1;
  if (!process || !json_object_object_get_ex (process, "env", &env)
      || !json_object_is_type (env, json_type_array))
    return 0;
  size_t n = json_object_array_length (env);
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx (env, i);
    if (json_object_is_type (e, json_type_string)
        && strncmp (json_object_get_string (e), "HOSTNAME=", 9) == 0
        && json_object_get_string (e)[9] != '\0') {
      if ((*out = strdup (json_object_get_string (e) + 9)) == NULL)
        return error_errno (errno, "%s", what);
      return 0;
    }
  }
  return 0;
}

int
oci_config_parse (const char *buf, size_t len, const char *bundle,
                  struct oci_config *cfg)
{
  const char *what = "config.json";
  json_object *o, *root, *linux_;
  _cleanup_free_ char *path = NULL;

  memset (cfg, 0, sizeof *cfg);
  if ((o = parse_object (buf, len, what)) == NULL)
    return -1;

  int r = -1;
  if (get_object (o, "root", what, &root) == -1)
    goto out;
  if (!root) {
    error ("%s has no \"root\"", what);
    goto out;
  }
  if (get_string (root, "path", true, "config.json root", &path) == -1)
    goto out;
  if (path[0] == '\0') {
    error ("%s: root.path is empty", what);
    goto out;
  }
  if (path[0] == '/')
    cfg->root_path = steal_pointer (&path);
  else if (asprintf (&cfg->root_path, "%s/%s", bundle, path) == -1) {
    cfg->root_path = NULL;
    error_errno (errno, "%s", what);
    goto out;
  }

  if (get_object (o, "linux", what, &linux_) == -1
      || (linux_ && get_string (linux_, "mountLabel", false, "config.json linux",
                                &cfg->mount_label) == -1)
      || get_string (o, "hostname", false, what, &cfg->hostname) == -1
      || (!cfg->hostname && hostname_from_env (o, what, &cfg->hostname) == -1)
      || take_annotations (o, what, &cfg->annotations) == -1
      || parse_mounts (o, what, cfg) == -1)
    goto out;
  if (cfg->mount_label && cfg->mount_label[0] == '\0') {
    free (cfg->mount_label);
    cfg->mount_label = NULL;
  }
  if (cfg->hostname && cfg->hostname[0] == '\0') {
    free (cfg->hostname);
    cfg->hostname = NULL;
  }
  r = 0;
 out:
  json_object_put (o);
  if (r == -1)
    oci_config_clear (cfg);
  return r;
}

int
oci_config_load (const char *bundle, struct oci_config *cfg)
{
  _cleanup_free_ char *path = NULL, *buf = NULL;
  size_t len;

  if (asprintf (&path, "%s/config.json", bundle) == -1)
    return error_errno (errno, "%s/config.json", bundle);
  if (read_all_file (path, CONFIG_MAX, &buf, &len) == -1)
    return -1;
  if (oci_config_parse (buf, len, bundle, cfg) == -1)
    return error_context ("%s", path);
  return 0;
}

void
oci_config_clear (struct oci_config *cfg)
{
  free (cfg->root_path);
  free (cfg->mount_label);
  free (cfg->hostname);
  json_object_put (cfg->annotations);
  for (size_t i = 0; i < cfg->n_mounts; i++) {
    free (cfg->mounts[i].destination);
    free (cfg->mounts[i].source);
    free (cfg->mounts[i].type);
  }
  free (cfg->mounts);
  memset (cfg, 0, sizeof *cfg);
}

/* DEST without trailing slashes equals PATH. */
static bool
same_path (const char *dest, const char *path)
{
  size_t n = strlen (dest), m = strlen (path);

  while (n > 1 && dest[n - 1] == '/')
    n--;
  return n == m && memcmp (dest, path, n) == 0;
}

const char *
oci_config_bind_source (const struct oci_config *cfg, const char *destination)
{
  /* The last mount at a destination is the one the container sees. */
  for (size_t i = cfg->n_mounts; i-- > 0; ) {
    const struct oci_mount *m = &cfg->mounts[i];
    if (!same_path (m->destination, destination))
      continue;
    /* Only a bind mount has a host directory: podman writes type "bind"
     * for volumes and hostPath mounts, the spec allows an "rbind" option.
     */
    if (m->bind && m->source && m->source[0] == '/')
      return m->source;
    return NULL;
  }
  return NULL;
}
