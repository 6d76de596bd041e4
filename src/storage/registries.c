/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: short names in registries.conf, see registries.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cache.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "storage/config.h"
#include "storage/registries.h"
#include "storage/toml.h"

#define SYSTEM_CONF "/etc/containers/registries.conf"
#define SYSTEM_DIR "/etc/containers/registries.conf.d"
#define USER_CONF ".config/containers/registries.conf"
#define USER_DIR ".config/containers/registries.conf.d"
#define ALIASES_FILE "containers/short-name-aliases.conf"
#define MAX_DROP_INS 1000

/* Where the files are, as containers/image's newConfigWrapper decides. */
struct conf_paths {
  char *main;
  char *dirs[2];           /* drop-in directories, NULL when not read */
  char *alias_cache;       /* podman's own short-name-aliases.conf */
};

static void
conf_paths_free (struct conf_paths *p)
{
  free (p->main);
  free (p->dirs[0]);
  free (p->dirs[1]);
  free (p->alias_cache);
}

static char *
home_path (const char *rel)
{
  const char *home = getenv ("HOME");
  char *s;
  if (!home || home[0] != '/' || asprintf (&s, "%s/%s", home, rel) == -1)
    return NULL;
  return s;
}

static int
conf_paths_get (struct conf_paths *p)
{
  const char *env = getenv ("CONTAINERS_REGISTRIES_CONF");
  struct stat st;

  memset (p, 0, sizeof *p);
  _cleanup_free_ char *user = home_path (USER_CONF);
  if (env && *env)
    p->main = strdup (env);
  else if (user && stat (user, &st) == 0) {
    /* The user's own file replaces the system's, drop-ins included. */
    p->main = steal_pointer (&user);
    p->dirs[0] = home_path (USER_DIR);
  }
  else
    p->main = strdup (SYSTEM_CONF);
  if (!p->dirs[0]) {
    p->dirs[0] = strdup (SYSTEM_DIR);
    p->dirs[1] = home_path (USER_DIR);
  }

  /* In podman unshare the euid is 0 but the files are the user's. */
  if (config_rootless_uid () == 0)
    p->alias_cache = strdup ("/var/cache/" ALIASES_FILE);
  else {
    const char *xdg = getenv ("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') {
      if (asprintf (&p->alias_cache, "%s/%s", xdg, ALIASES_FILE) == -1)
        p->alias_cache = NULL;
    }
    else
      p->alias_cache = home_path (".cache/" ALIASES_FILE);
  }
  if (!p->main || !p->dirs[0])
    return error_errno (ENOMEM, "registries.conf");
  return 0;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The *.conf files of the drop-in directories, sorted by full path. */
static char **
drop_ins (const struct conf_paths *p)
{
  char **v = calloc (MAX_DROP_INS + 1, sizeof *v);
  size_t n = 0;

  if (!v) {
    error_errno (errno, "calloc");
    return NULL;
  }
  for (size_t d = 0; d < 2; d++) {
    if (!p->dirs[d])
      continue;
    DIR *dir = opendir (p->dirs[d]);
    struct dirent *e;
    if (!dir)
      continue;
    while ((e = readdir (dir)) != NULL && n < MAX_DROP_INS) {
      size_t len = strlen (e->d_name);
      if (len < 6 || strcmp (e->d_name + len - 5, ".conf") || e->d_name[0] == '.')
        continue;
      if (asprintf (&v[n], "%s/%s", p->dirs[d], e->d_name) == -1) {
        v[n] = NULL;
        closedir (dir);
        strv_free (v);
        error_errno (errno, "asprintf");
        return NULL;
      }
      n++;
    }
    closedir (dir);
  }
  qsort (v, n, sizeof *v, cmp_str);
  return v;
}

static int
set_alias (struct registries_conf *rc, const char *name, const char *value)
{
  for (size_t i = 0; i < rc->n_aliases; i++)
    if (strcmp (rc->alias_names[i], name) == 0) {
      char *v = strdup (value);
      if (!v)
        return error_errno (errno, "strdup");
      free (rc->alias_values[i]);
      rc->alias_values[i] = v;
      return 0;
    }
  size_t n = rc->n_aliases;
  char **names = realloc (rc->alias_names, (n + 2) * sizeof *names);
  if (names)
    rc->alias_names = names;
  char **values = realloc (rc->alias_values, (n + 2) * sizeof *values);
  if (values)
    rc->alias_values = values;
  if (!names || !values)
    return error_errno (errno, "realloc");
  names[n] = strdup (name);
  values[n] = strdup (value);
  names[n + 1] = values[n + 1] = NULL;
  rc->n_aliases++;
  if (!names[n] || !values[n])
    return error_errno (errno, "strdup");
  return 0;
}

static int
on_key (const char *path, const struct toml_value *v, void *arg)
{
  struct registries_conf *rc = arg;

  if (strcmp (path, "unqualified-search-registries") == 0
      || strcmp (path, "registries.search.registries") == 0) {   /* v1 */
    if (v->type != TOML_STRING_ARRAY)
      return error ("%s:%d: %s must be an array of strings", v->file, v->line,
                    path);
    size_t n = 0;
    while (v->strings && v->strings[n])
      n++;
    char **copy = calloc (n + 1, sizeof *copy);
    if (!copy)
      return error_errno (errno, "calloc");
    for (size_t i = 0; i < n; i++)
      if ((copy[i] = strdup (v->strings[i])) == NULL) {
        strv_free (copy);
        return error_errno (errno, "strdup");
      }
    strv_free (rc->search);
    rc->search = copy;
    return 0;
  }
  if (strncmp (path, "aliases.", 8) == 0) {
    if (v->type != TOML_STRING)
      return error ("%s:%d: the alias %s must be a string", v->file, v->line,
                    path + 8);
    return set_alias (rc, path + 8, v->string);
  }
  return 0;
}

int
registries_conf_load (struct registries_conf *rc)
{
  struct conf_paths p;

  memset (rc, 0, sizeof *rc);
  if (conf_paths_get (&p) == -1) {
    conf_paths_free (&p);
    return -1;
  }
  char **dropins = drop_ins (&p);
  int r = dropins ? 0 : -1;
  if (r == 0 && toml_parse_file (p.main, on_key, rc) == -1)
    r = -1;
  for (char **f = dropins; r == 0 && *f; f++)
    if (toml_parse_file (*f, on_key, rc) == -1)
      r = -1;
  /* Last: podman's recorded aliases win over the configured ones. */
  if (r == 0 && p.alias_cache && toml_parse_file (p.alias_cache, on_key, rc) == -1)
    r = -1;
  strv_free (dropins);
  conf_paths_free (&p);
  if (r == -1)
    registries_conf_free (rc);
  return r;
}

void
registries_conf_free (struct registries_conf *rc)
{
  strv_free (rc->search);
  strv_free (rc->alias_names);
  strv_free (rc->alias_values);
  memset (rc, 0, sizeof *rc);
}

const char *
registries_conf_alias (const struct registries_conf *rc, const char *short_name)
{
  for (size_t i = 0; i < rc->n_aliases; i++)
    if (strcmp (rc->alias_names[i], short_name) == 0)
      return rc->alias_values[i][0] ? rc->alias_values[i] : NULL;
  return NULL;
}

void
registries_conf_cache_sources (struct cache *c)
{
  struct conf_paths p;

  if (conf_paths_get (&p) == 0) {
    /* A directory's identity changes when a file is added or removed. */
    cache_source_path (c, p.main);
    for (size_t d = 0; d < 2; d++)
      if (p.dirs[d])
        cache_source_path (c, p.dirs[d]);
    if (p.alias_cache)
      cache_source_path (c, p.alias_cache);
    char **dropins = drop_ins (&p);
    for (char **f = dropins; f && *f; f++)
      cache_source_path (c, *f);
    strv_free (dropins);
  }
  else
    error_clear ();
  conf_paths_free (&p);
}
