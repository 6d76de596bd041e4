/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a per-user cache of answers, see cache.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cache.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/safefile.h"
#include "common/sha256.h"

/* Far larger than any answer; a bound for a damaged file. */
#define CACHE_MAX_FILE (1024 * 1024)

/* A source changed this recently might change again within the same
 * timestamp tick without its identity changing (git's "racy clean"
 * problem): answers from it are not stored.
 */
#define CACHE_SETTLE_SECONDS 2

bool
cache_enabled (void)
{
  const char *e = getenv ("PODMAN_DISK_CACHE");
  return !e || !(strcmp (e, "off") == 0 || strcmp (e, "0") == 0
                 || strcmp (e, "no") == 0 || strcmp (e, "false") == 0);
}

void
cache_init (struct cache *c, const char *kind)
{
  *c = (struct cache) { .kind = kind };
  if (!cache_enabled ())
    return;
  c->question = json_object_new_object ();
  c->sources = json_object_new_array ();
  c->unusable = !c->question || !c->sources;
}

void
cache_clear (struct cache *c)
{
  json_object_put (c->question);
  json_object_put (c->sources);
  c->question = c->sources = NULL;
}

static bool
usable (const struct cache *c)
{
  return c->question && c->sources && !c->unusable;
}

void
cache_ask (struct cache *c, const char *name, const char *value)
{
  if (!usable (c))
    return;
  json_object *v = value ? json_object_new_string (value) : NULL;
  if ((value && !v) || json_object_object_add (c->question, name, v) != 0)
    c->unusable = true;
}

static void
add_source (struct cache *c, const char *name, const struct stat *st)
{
  json_object *o = json_object_new_object ();
  if (!o || json_object_array_add (c->sources, o) != 0) {
    json_object_put (o);
    c->unusable = true;
    return;
  }
  json_object_object_add (o, "name", json_object_new_string (name));
  if (!st) {
    json_object_object_add (o, "absent", json_object_new_boolean (1));
    return;
  }
  json_object_object_add (o, "dev", json_object_new_int64 (st->st_dev));
  json_object_object_add (o, "ino", json_object_new_int64 (st->st_ino));
  json_object_object_add (o, "size", json_object_new_int64 (st->st_size));
  json_object_object_add (o, "mtime", json_object_new_int64 (st->st_mtim.tv_sec));
  json_object_object_add (o, "mtime_ns", json_object_new_int64 (st->st_mtim.tv_nsec));
  json_object_object_add (o, "ctime", json_object_new_int64 (st->st_ctim.tv_sec));
  json_object_object_add (o, "ctime_ns", json_object_new_int64 (st->st_ctim.tv_nsec));
}

void
cache_source_fd (struct cache *c, const char *name, int fd)
{
  struct stat st;
  if (!usable (c))
    return;
  if (fstat (fd, &st) == -1)
    c->unusable = true;
  else
    add_source (c, name, &st);
}

void
cache_source_path (struct cache *c, const char *path)
{
  struct stat st;
  if (!usable (c))
    return;
  if (stat (path, &st) == 0)
    add_source (c, path, &st);
  else if (errno == ENOENT)
    add_source (c, path, NULL);
  else
    c->unusable = true;
}

/* The directory WHERE leads to, opened; made (0700) if it is missing and
 * CREATE is set.  It need not be the user's own: what is made in it is.
 */
static int
open_base (const struct safe_path *where, bool create)
{
  if (!where->exists)
    return create ? safe_open_own_dir (where->dirfd, where->name, true)
                  : error ("%s does not exist", where->name);
  int fd = openat (where->dirfd, where->name,
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd >= 0 ? fd : error_errno (errno, "%s", where->name);
}

/* The directory the cache lives in: $PODMAN_DISK_CACHE_DIR (used as the
 * cache itself), else $XDG_CACHE_HOME or ~/.cache (made if missing, in a
 * directory of the user's own), then podman-disk/ in it.  Every component
 * is opened without following a symlink another user made (safefile.h):
 * root run with another user's HOME must not make or use a directory
 * wherever that user's ~/.cache points.  An fd, or -1 (said in the debug
 * log: the cache is then off, never an error).
 */
static int
open_top_dir (void)
{
  const char *dir = getenv ("PODMAN_DISK_CACHE_DIR");
  const char *xdg = getenv ("XDG_CACHE_HOME"), *home = getenv ("HOME");
  _cleanup_free_ char *path = NULL;
  struct safe_path where;

  if (dir)
    path = strdup (dir);
  else if (xdg && xdg[0] == '/')
    path = strdup (xdg);
  else if (home && home[0] == '/' && asprintf (&path, "%s/.cache", home) == -1)
    path = NULL;
  if (!path || path[0] != '/' || safe_path_resolve (path, &where) == -1)
    return -1;
  /* ~/.cache may be missing on a fresh account: make it like others do. */
  int base = open_base (&where, !dir);
  safe_path_clear (&where);
  if (base == -1 || dir)
    return base;
  int top = safe_open_own_dir (base, "podman-disk", true);
  close (base);
  return top;
}

/* The cache directory of KIND, made if missing: an fd, or -1. */
static int
open_cache_dir (const char *kind)
{
  _cleanup_close_ int top = open_top_dir ();
  int fd = top == -1 ? -1 : safe_open_own_dir (top, kind, true);

  if (fd == -1) {
    debug ("cache: %s: off", *error_message () ? error_message () : "no directory");
    error_clear ();
  }
  return fd;
}

/* The file name of C's question: the hex digest of its JSON text. */
static void
file_name (const struct cache *c, char name[65])
{
  const char *q = json_object_to_json_string_ext (c->question,
                                                  JSON_C_TO_STRING_PLAIN);
  sha256_hex (q, strlen (q), name);
}

static json_object *
read_entry (int dirfd, const char *name)
{
  _cleanup_close_ int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd == -1 || fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)
      || st.st_size > CACHE_MAX_FILE)
    return NULL;
  _cleanup_free_ char *text = malloc (st.st_size + 1);
  if (!text)
    return NULL;
  ssize_t n = read (fd, text, st.st_size);
  if (n != st.st_size)
    return NULL;
  text[n] = '\0';
  return json_tokener_parse (text);
}

json_object *
cache_lookup (const struct cache *c)
{
  char name[65];
  json_object *entry, *q, *s, *answer;

  if (!usable (c))
    return NULL;
  _cleanup_close_ int dirfd = open_cache_dir (c->kind);
  if (dirfd == -1)
    return NULL;
  file_name (c, name);
  if ((entry = read_entry (dirfd, name)) == NULL) {
    debug ("cache: no %s answer %.12s", c->kind, name);
    return NULL;
  }
  answer = NULL;
  if (json_object_object_get_ex (entry, "question", &q)
      && json_object_object_get_ex (entry, "sources", &s)
      && json_object_equal (q, c->question) && json_object_equal (s, c->sources)
      && json_object_object_get_ex (entry, "answer", &answer))
    json_object_get (answer);
  else
    answer = NULL;
  debug ("cache: %s answer %.12s %s", c->kind, name,
         answer ? "used" : "is out of date");
  json_object_put (entry);
  return answer;
}

/* Whether every source has settled, see CACHE_SETTLE_SECONDS. */
static bool
sources_settled (const struct cache *c)
{
  time_t now = time (NULL);
  for (size_t i = 0; i < json_object_array_length (c->sources); i++) {
    json_object *s = json_object_array_get_idx (c->sources, i), *t;
    for (int k = 0; k < 2; k++)
      if (json_object_object_get_ex (s, k ? "ctime" : "mtime", &t)
          && json_object_get_int64 (t) > now - CACHE_SETTLE_SECONDS)
        return false;
  }
  return true;
}

void
cache_store (const struct cache *c, json_object *answer)
{
  char name[65];

  if (!usable (c))
    return;
  if (!sources_settled (c)) {
    debug ("cache: %s sources changed in the last %d s: answer not stored",
           c->kind, CACHE_SETTLE_SECONDS);
    return;
  }
  _cleanup_close_ int dirfd = open_cache_dir (c->kind);
  if (dirfd == -1) {
    debug ("cache: no usable cache directory: answer not stored");
    return;
  }
  json_object *entry = json_object_new_object ();
  if (!entry)
    return;
  json_object_object_add (entry, "question", json_object_get (c->question));
  json_object_object_add (entry, "sources", json_object_get (c->sources));
  json_object_object_add (entry, "answer", json_object_get (answer));
  const char *text = json_object_to_json_string_ext (entry, JSON_C_TO_STRING_PLAIN);

  file_name (c, name);
  /* Renamed into place whole: a reader sees the old entry or the new. */
  if (safe_write_file (dirfd, name, text, strlen (text), 0600) == 0)
    debug ("cache: %s answer %.12s stored", c->kind, name);
  else {
    debug ("cache: %s answer not stored: %s", c->kind, error_message ());
    error_clear ();
  }
  json_object_put (entry);
}
