/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: find the store like podman does, see config.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "location.h"
#include "storage/config.h"
#include "storage/toml.h"

/* What the files said, before defaults. */
struct conf_state {
  bool rootless;
  bool user_level;             /* the file being read is the user's own */
  char *driver;
  char *graphroot;
  char *runroot;
  char *rootless_storage_path;
  char **image_stores;
};

static char **
strv_copy (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  char **c = calloc (n + 1, sizeof *c);
  if (!c)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if ((c[i] = strdup (v[i])) == NULL) {
      strv_free (c);
      return NULL;
    }
  return c;
}

static int
type_error (const char *path, const struct toml_value *v, const char *want)
{
  return error ("%s:%d: %s must be %s, not %s",
                v->file, v->line, path, want, toml_type_name (v->type));
}

static int
on_key (const char *path, const struct toml_value *v, void *arg)
{
  struct conf_state *st = arg;
  char **dst = NULL;

  if (strcmp (path, "storage.options.additionalimagestores") == 0) {
    if (v->type != TOML_STRING_ARRAY)
      return type_error (path, v, "an array of strings");
    char **c = strv_copy (v->strings);
    if (!c)
      return error_errno (errno, "strdup");
    strv_free (st->image_stores);
    st->image_stores = c;
    return 0;
  }

  if (strcmp (path, "storage.driver") == 0)
    dst = &st->driver;
  else if (strcmp (path, "storage.rootless_storage_path") == 0)
    dst = &st->rootless_storage_path;
  else if (strcmp (path, "storage.graphroot") == 0)
    dst = &st->graphroot;
  else if (strcmp (path, "storage.runroot") == 0)
    dst = &st->runroot;
  else
    return 0;     /* every other key is someone else's business */

  if (v->type != TOML_STRING)
    return type_error (path, v, "a string");
  /* The system files' graphroot and runroot are root's store, not a
   * rootless user's.
   */
  if (st->rootless && !st->user_level
      && (dst == &st->graphroot || dst == &st->runroot))
    return 0;
  char *s = strdup (v->string);
  if (!s)
    return error_errno (errno, "strdup");
  free (*dst);
  *dst = s;
  return 0;
}

static int
read_file (struct conf_state *st, const char *path, bool user_level)
{
  st->user_level = user_level;
  int r = toml_parse_file (path, on_key, st);
  if (r == 1)
    return 0;
  if (r == 0)
    debug ("read %s", path);
  return r;
}

static bool
file_exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

/* $XDG_CONFIG_HOME, else $HOME/.config; NULL if neither is known. */
static char *
user_config_dir (void)
{
  const char *xdg = getenv ("XDG_CONFIG_HOME");
  const char *home = getenv ("HOME");
  char *dir;
  if (xdg && xdg[0] == '/')
    return asprintf (&dir, "%s/containers", xdg) == -1 ? NULL : dir;
  if (home && home[0] == '/')
    return asprintf (&dir, "%s/.config/containers", home) == -1 ? NULL : dir;
  return NULL;
}

/* A drop-in file: its name decides the order, its directory the winner. */
struct dropin {
  char *name;
  char *path;
  bool user_level;
};

struct dropins {
  struct dropin *v;
  size_t n;
};

static void
dropins_free (struct dropins *d)
{
  for (size_t i = 0; i < d->n; i++) {
    free (d->v[i].name);
    free (d->v[i].path);
  }
  free (d->v);
}

static int
dropins_add (struct dropins *d, const char *dir, const char *name,
             bool user_level)
{
  _cleanup_free_ char *path = NULL;
  if (asprintf (&path, "%s/%s", dir, name) == -1)
    return error_errno (errno, "asprintf");
  for (size_t i = 0; i < d->n; i++)
    if (strcmp (d->v[i].name, name) == 0) {
      /* A later (higher precedence) directory replaces the file. */
      free (d->v[i].path);
      d->v[i].path = steal_pointer (&path);
      d->v[i].user_level = user_level;
      return 0;
    }
  struct dropin *v = realloc (d->v, (d->n + 1) * sizeof *v);
  if (!v)
    return error_errno (errno, "realloc");
  d->v = v;
  char *copy = strdup (name);
  if (!copy)
    return error_errno (errno, "strdup");
  d->v[d->n++] = (struct dropin) { copy, steal_pointer (&path), user_level };
  return 0;
}

static int
dropins_scan (struct dropins *d, const char *dir, bool user_level)
{
  _cleanup_closedir_ DIR *dp = opendir (dir);
  struct dirent *e;

  if (!dp) {
    if (errno == ENOENT || errno == ENOTDIR)
      return 0;
    return error_errno (errno, "%s", dir);
  }
  while ((errno = 0, e = readdir (dp)) != NULL) {
    size_t len = strlen (e->d_name);
    if (e->d_name[0] == '.' || len <= 5
        || strcmp (e->d_name + len - 5, ".conf") != 0)
      continue;
    if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN
        && e->d_type != DT_LNK)
      continue;
    if (dropins_add (d, dir, e->d_name, user_level) == -1)
      return -1;
  }
  if (errno)
    return error_errno (errno, "%s", dir);
  return 0;
}

static int
dropin_cmp (const void *a, const void *b)
{
  return strcmp (((const struct dropin *) a)->name,
                 ((const struct dropin *) b)->name);
}

/* The drop-in directories of one base directory, lowest precedence first. */
static int
scan_base (struct dropins *d, const char *base, uid_t uid, bool user_level)
{
  char dir[PATH_MAX];

  snprintf (dir, sizeof dir, "%s/storage.conf.d", base);
  if (dropins_scan (d, dir, user_level) == -1)
    return -1;
  if (uid == 0) {
    snprintf (dir, sizeof dir, "%s/storage.rootful.conf.d", base);
    return dropins_scan (d, dir, user_level);
  }
  /* Written for rootless users: their graphroot is the user's store. */
  snprintf (dir, sizeof dir, "%s/storage.rootless.conf.d", base);
  if (dropins_scan (d, dir, true) == -1)
    return -1;
  snprintf (dir, sizeof dir, "%s/storage.rootless.conf.d/%u", base,
            (unsigned) uid);
  return dropins_scan (d, dir, true);
}

static int
read_dropins (struct conf_state *st, const struct config_dirs *dirs,
              const char *user_dir)
{
  struct dropins d = { 0 };
  int r = -1;

  if (scan_base (&d, dirs->usr, dirs->uid, false) == -1
      || scan_base (&d, dirs->etc, dirs->uid, false) == -1)
    goto out;
  if (user_dir) {
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/storage.conf.d", user_dir);
    if (dropins_scan (&d, dir, true) == -1)
      goto out;
  }
  if (d.n > 1)
    qsort (d.v, d.n, sizeof *d.v, dropin_cmp);
  for (size_t i = 0; i < d.n; i++)
    if (read_file (st, d.v[i].path, d.v[i].user_level) == -1)
      goto out;
  r = 0;
 out:
  dropins_free (&d);
  return r;
}

static int
read_files (struct conf_state *st, const struct config_dirs *dirs)
{
  const char *env = getenv ("CONTAINERS_STORAGE_CONF");
  _cleanup_free_ char *user_dir = st->rootless ? user_config_dir () : NULL;
  char path[PATH_MAX];

  if (env && env[0]) {
    if (!file_exists (env))
      return error_errno (errno, "CONTAINERS_STORAGE_CONF=%s", env);
    return read_file (st, env, true);
  }

  /* One main file: the highest-precedence one that exists. */
  if (user_dir) {
    snprintf (path, sizeof path, "%s/storage.conf", user_dir);
    if (file_exists (path)) {
      if (read_file (st, path, true) == -1)
        return -1;
      return read_dropins (st, dirs, user_dir);
    }
  }
  snprintf (path, sizeof path, "%s/storage.conf", dirs->etc);
  if (!file_exists (path))
    snprintf (path, sizeof path, "%s/storage.conf", dirs->usr);
  if (read_file (st, path, false) == -1)
    return -1;
  return read_dropins (st, dirs, user_dir);
}

/* $VAR and ${VAR} of the environment, and $UID (containers/storage's
 * expansion of graphroot, runroot and rootless_storage_path).
 */
static char *
expand_env (const char *in, uid_t uid)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  if (!f)
    return NULL;
  for (const char *p = in; *p; ) {
    if (*p != '$') {
      fputc (*p++, f);
      continue;
    }
    p++;
    char name[256];
    size_t n = 0;
    if (*p == '{') {
      const char *end = strchr (p, '}');
      if (!end || (size_t) (end - p - 1) >= sizeof name) {
        fputc ('$', f);
        continue;
      }
      n = end - p - 1;
      memcpy (name, p + 1, n);
      p = end + 1;
    }
    else {
      while ((p[n] == '_' || (p[n] >= 'A' && p[n] <= 'Z')
              || (p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9'))
             && n < sizeof name - 1) {
        name[n] = p[n];
        n++;
      }
      p += n;
      if (n == 0) {
        fputc ('$', f);
        continue;
      }
    }
    name[n] = '\0';
    if (strcmp (name, "UID") == 0)
      fprintf (f, "%u", (unsigned) uid);
    else if (getenv (name))
      fputs (getenv (name), f);
  }
  if (fclose (f) != 0) {
    free (out);
    return NULL;
  }
  return out;
}

/* Expand and make absolute (relative to the current directory, as
 * podman's filepath.Abs does).
 */
static int
normalise_path (char **path, uid_t uid, bool expand, const char *what)
{
  if (!*path)
    return 0;
  char *e = expand ? expand_env (*path, uid) : strdup (*path);
  if (!e)
    return error_errno (errno, "expanding %s", what);
  if (e[0] != '/') {
    char cwd[PATH_MAX], *abs;
    if (!getcwd (cwd, sizeof cwd) || asprintf (&abs, "%s/%s", cwd, e) == -1) {
      free (e);
      return error_errno (errno, "making %s absolute", what);
    }
    free (e);
    e = abs;
  }
  free (*path);
  *path = e;
  return 0;
}

static int
set_dup (char **dst, const char *src)
{
  char *s = strdup (src);
  if (!s)
    return error_errno (errno, "strdup");
  free (*dst);
  *dst = s;
  return 0;
}

static int
rootless_runroot (char **runroot, uid_t uid)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  char dir[PATH_MAX];
  if (xdg && xdg[0] == '/')
    snprintf (dir, sizeof dir, "%s/containers", xdg);
  else {
    snprintf (dir, sizeof dir, "/run/user/%u", (unsigned) uid);
    if (file_exists (dir))
      snprintf (dir, sizeof dir, "/run/user/%u/containers", (unsigned) uid);
    else {
      const char *tmp = getenv ("TMPDIR");
      snprintf (dir, sizeof dir, "%s/storage-run-%u/containers",
                tmp && tmp[0] == '/' ? tmp : "/tmp", (unsigned) uid);
    }
  }
  return set_dup (runroot, dir);
}

static int
rootless_graphroot (char **graphroot)
{
  const char *xdg = getenv ("XDG_DATA_HOME");
  const char *home = getenv ("HOME");
  char dir[PATH_MAX];
  if (xdg && xdg[0] == '/')
    snprintf (dir, sizeof dir, "%s/containers/storage", xdg);
  else if (home && home[0] == '/')
    snprintf (dir, sizeof dir, "%s/.local/share/containers/storage", home);
  else
    return error ("neither XDG_DATA_HOME nor HOME is set: cannot find the "
                  "rootless store (pass --root)");
  return set_dup (graphroot, dir);
}

/* STORAGE_OPTS replaces the driver options of the files, and with them
 * the additional image stores ("overlay.imagestore=/dir,...").
 */
static int
apply_storage_opts (struct store_config *cfg)
{
  const char *opts = getenv ("STORAGE_OPTS");
  if (!opts)
    return 0;
  _cleanup_free_ char *copy = strdup (opts);
  if (!copy)
    return error_errno (errno, "strdup");
  size_t n = 0;
  char **v = calloc (strlen (opts) + 2, sizeof *v);
  if (!v)
    return error_errno (errno, "calloc");
  char *save = NULL;
  for (char *o = strtok_r (copy, ",", &save); o; o = strtok_r (NULL, ",", &save)) {
    char *eq = strchr (o, '=');
    if (!eq)
      continue;
    *eq = '\0';
    const char *key = strrchr (o, '.') ? strrchr (o, '.') + 1 : o;
    if (strcmp (key, "imagestore") && strcmp (key, "additionalimagestore"))
      continue;
    if ((v[n++] = strdup (eq + 1)) == NULL) {
      strv_free (v);
      return error_errno (errno, "strdup");
    }
  }
  strv_free (cfg->image_stores);
  cfg->image_stores = v;
  return 0;
}

uid_t
config_rootless_uid (void)
{
  const char *env = getenv ("_CONTAINERS_ROOTLESS_UID");
  if (env && *env) {
    char *end;
    unsigned long u = strtoul (env, &end, 10);
    if (*end == '\0' && u <= UINT_MAX)
      return u;
  }
  return geteuid ();
}

int
store_config_read (struct store_config *cfg, const struct config_dirs *dirs)
{
  struct conf_state st = { .rootless = dirs->uid != 0 };
  int r = -1;

  memset (cfg, 0, sizeof *cfg);
  cfg->rootless = st.rootless;
  if (read_files (&st, dirs) == -1)
    goto out;

  cfg->driver = steal_pointer (&st.driver);
  cfg->graphroot = steal_pointer (&st.graphroot);
  cfg->runroot = steal_pointer (&st.runroot);
  cfg->image_stores = steal_pointer (&st.image_stores);
  if (normalise_path (&st.rootless_storage_path, dirs->uid, true,
                      "rootless_storage_path") == -1)
    goto out;
  if (!cfg->graphroot) {
    if (!st.rootless) {
      if (set_dup (&cfg->graphroot, "/var/lib/containers/storage") == -1)
        goto out;
    }
    else if (st.rootless_storage_path)
      cfg->graphroot = steal_pointer (&st.rootless_storage_path);
    else if (rootless_graphroot (&cfg->graphroot) == -1)
      goto out;
  }
  if (!cfg->runroot) {
    if (!st.rootless) {
      if (set_dup (&cfg->runroot, "/run/containers/storage") == -1)
        goto out;
    }
    else if (rootless_runroot (&cfg->runroot, dirs->uid) == -1)
      goto out;
  }
  if (normalise_path (&cfg->graphroot, dirs->uid, true, "graphroot") == -1
      || normalise_path (&cfg->runroot, dirs->uid, true, "runroot") == -1)
    goto out;

  const char *env_driver = getenv ("STORAGE_DRIVER");
  if (env_driver && env_driver[0] && set_dup (&cfg->driver, env_driver) == -1)
    goto out;
  if (cfg->driver && cfg->driver[0] == '\0') {
    free (cfg->driver);
    cfg->driver = NULL;
  }
  if (apply_storage_opts (cfg) == -1)
    goto out;
  r = 0;

 out:
  free (st.driver);
  free (st.graphroot);
  free (st.runroot);
  free (st.rootless_storage_path);
  strv_free (st.image_stores);
  if (r == -1)
    store_config_free (cfg);
  return r;
}

int
store_config_load (struct store_config *cfg, const struct store_options *opts)
{
  struct config_dirs dirs = {
    .usr = "/usr/share/containers",
    .etc = "/etc/containers",
    .uid = config_rootless_uid (),
  };

  if (store_config_read (cfg, &dirs) == -1)
    return -1;
  if ((opts->root && (set_dup (&cfg->graphroot, opts->root) == -1
                            || normalise_path (&cfg->graphroot, 0, false, "--root") == -1))
      || (opts->runroot && (set_dup (&cfg->runroot, opts->runroot) == -1
                                  || normalise_path (&cfg->runroot, 0, false, "--runroot") == -1))
      || (opts->driver
          && set_dup (&cfg->driver, opts->driver) == -1)) {
    store_config_free (cfg);
    return -1;
  }
  /* As podman: --root and --storage-driver drop the driver options of
   * the files, and with them the additional image stores.
   */
  if (opts->root || opts->driver) {
    strv_free (cfg->image_stores);
    cfg->image_stores = NULL;
  }
  debug ("store: driver %s, graphroot %s, runroot %s",
         cfg->driver ? cfg->driver : "(detect)", cfg->graphroot, cfg->runroot);
  return 0;
}

void
store_config_free (struct store_config *cfg)
{
  free (cfg->driver);
  free (cfg->graphroot);
  free (cfg->runroot);
  strv_free (cfg->image_stores);
  memset (cfg, 0, sizeof *cfg);
}
