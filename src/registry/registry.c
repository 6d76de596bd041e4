/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the registry of running exports (the hook's and a background
 * serve's), see registry.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/readall.h"
#include "common/proc.h"
#include "registry/registry.h"
#include "serve/socket.h"

bool
registry_id_valid (const char *id)
{
  size_t n = strlen (id);

  /* runc's rule is ^[\w+-\.]+$; a leading dot is refused too so that the
   * id can never be "." or ".." or a hidden file.
   */
  if (n == 0 || n > 1024 || id[0] == '.')
    return false;
  return strspn (id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "0123456789_+-.") == n;
}

void
export_record_clear (struct export_record *rec)
{
  free (rec->id);
  free (rec->kind);
  free (rec->name);
  free (rec->image);
  free (rec->image_id);
  free (rec->disk);
  free (rec->file);
  free (rec->layer);
  free (rec->format);
  free (rec->server);
  free (rec->uri);
  free (rec->socket);
  free (rec->volume_socket);
  free (rec->container_uri);
  free (rec->started);
  free (rec->pidfile);
  memset (rec, 0, sizeof *rec);
}

char *
registry_timestamp (void)
{
  char buf[64];
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return strdup (buf);
}

int
registry_dir (const char *dir, char **out)
{
  const char *rootless = getenv ("_CONTAINERS_ROOTLESS_UID");

  if (dir && dir[0] != '/')
    /* The hook runs in the bundle's directory, its watcher in /. */
    return error ("--state-dir %s: must be an absolute path", dir);
  if (dir)
    *out = strdup (dir);
  else if (geteuid () != 0 || (rootless && rootless[0])) {
    const char *xdg = getenv ("XDG_RUNTIME_DIR");
    if (!xdg || xdg[0] != '/')
      return error ("XDG_RUNTIME_DIR is not set: it holds a rootless user's "
                    "exports (podman-disk/ in it)");
    if (asprintf (out, "%s/podman-disk", xdg) == -1)
      *out = NULL;
  }
  else
    *out = strdup ("/run/podman-disk");
  if (!*out)
    return error_errno (errno, "registry directory");
  return 0;
}

int
registry_create (const char *dir)
{
  _cleanup_free_ char *copy = strdup (dir);
  if (!copy)
    return error_errno (errno, "%s", dir);
  for (char *p = copy + 1; ; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    bool last = *p == '\0';
    *p = '\0';
    if (mkdir (copy, last ? 0700 : 0755) == -1 && errno != EEXIST)
      return error_errno (errno, "cannot create %s", copy);
    if (last)
      break;
    *p = '/';
  }
  return registry_check (dir);
}

int
registry_check (const char *dir)
{
  struct stat sb;

  if (lstat (dir, &sb) == -1)
    return errno == ENOENT ? 1 : error_errno (errno, "%s", dir);
  if (!S_ISDIR (sb.st_mode))
    return error ("%s is not a directory", dir);
  /* What its records name is killed and removed: only a directory that
   * nobody else could have written them into.
   */
  if (sb.st_uid != geteuid () || (sb.st_mode & 022))
    return error ("%s is not a directory owned by uid %u and writable by it "
                  "only (owner %u, mode %04o): its export records are not "
                  "trusted; remove it or give another --state-dir",
                  dir, (unsigned) geteuid (), (unsigned) sb.st_uid,
                  (unsigned) (sb.st_mode & 07777));
  return 0;
}

char *
registry_path (const char *dir, const char *id, const char *suffix)
{
  char *p;
  if (asprintf (&p, "%s/%s.%s", dir, id, suffix) == -1) {
    error_errno (errno, "path");
    return NULL;
  }
  return p;
}

static void
add_string (json_object *o, const char *key, const char *v)
{
  json_object_object_add (o, key, v ? json_object_new_string (v) : NULL);
}

json_object *
export_record_to_json (const struct export_record *rec)
{
  json_object *o = json_object_new_object ();
  bool serve = export_record_is_serve (rec);

  add_string (o, "id", rec->id);
  add_string (o, "kind", serve ? EXPORT_KIND_SERVE : EXPORT_KIND_HOOK);
  /* (what records said before there were other kinds) */
  add_string (o, "container", serve ? NULL : rec->id);
  add_string (o, "name", rec->name);
  add_string (o, "image", rec->image);
  add_string (o, "image_id", rec->image_id);
  add_string (o, "disk", rec->disk);
  add_string (o, "file", rec->file);
  add_string (o, "layer", rec->layer);
  add_string (o, "format", rec->format);
  json_object_object_add (o, "size", json_object_new_uint64 (rec->size));
  json_object_object_add (o, "writable", json_object_new_boolean (rec->cow));
  add_string (o, "server", rec->server);
  add_string (o, "uri", rec->uri);
  add_string (o, "socket", rec->socket);
  add_string (o, "volume_socket", rec->volume_socket);
  add_string (o, "container_uri", rec->container_uri);
  json_object_object_add (o, "container_pid", json_object_new_int (rec->container_pid));
  json_object_object_add (o, "pid", json_object_new_int (rec->server_pid));
  json_object_object_add (o, "pid_start", json_object_new_uint64 (rec->server_start));
  json_object_object_add (o, "watcher_pid", json_object_new_int (rec->watcher_pid));
  json_object_object_add (o, "watcher_start", json_object_new_uint64 (rec->watcher_start));
  add_string (o, "started", rec->started);
  if (serve) {
    add_string (o, "pidfile", rec->pidfile);
    json_object_object_add (o, "pidfile_dev", json_object_new_uint64 (rec->pidfile_dev));
    json_object_object_add (o, "pidfile_ino", json_object_new_uint64 (rec->pidfile_ino));
  }
  return o;
}

static int
get_str (json_object *o, const char *key, char **out)
{
  json_object *v;
  *out = NULL;
  if (!json_object_object_get_ex (o, key, &v) || json_object_is_type (v, json_type_null))
    return 0;
  if (!json_object_is_type (v, json_type_string))
    return error ("\"%s\" is not a string", key);
  if ((*out = strdup (json_object_get_string (v))) == NULL)
    return error_errno (errno, "%s", key);
  return 0;
}

static int
get_u64 (json_object *o, const char *key, uint64_t max, uint64_t *out)
{
  json_object *v;
  *out = 0;
  if (!json_object_object_get_ex (o, key, &v) || json_object_is_type (v, json_type_null))
    return 0;
  if (!json_object_is_type (v, json_type_int))
    return error ("\"%s\" is not an integer", key);
  errno = 0;
  uint64_t u = json_object_get_uint64 (v);
  if (errno || json_object_get_int64 (v) < 0 || u > max)
    return error ("\"%s\" is out of range", key);
  *out = u;
  return 0;
}

static int
get_pid (json_object *o, const char *key, pid_t *out)
{
  uint64_t u;
  if (get_u64 (o, key, INT32_MAX, &u) == -1)
    return -1;
  *out = (pid_t) u;
  return 0;
}

int
export_record_from_json (json_object *o, struct export_record *rec)
{
  json_object *v;

  memset (rec, 0, sizeof *rec);
  if (!json_object_is_type (o, json_type_object))
    return error ("not a JSON object");
  if (get_str (o, "id", &rec->id) == -1
      || (!rec->id && get_str (o, "container", &rec->id) == -1)
      || get_str (o, "kind", &rec->kind) == -1
      || get_str (o, "name", &rec->name) == -1
      || get_str (o, "image", &rec->image) == -1
      || get_str (o, "image_id", &rec->image_id) == -1
      || get_str (o, "disk", &rec->disk) == -1
      || get_str (o, "file", &rec->file) == -1
      || get_str (o, "layer", &rec->layer) == -1
      || get_str (o, "format", &rec->format) == -1
      || get_u64 (o, "size", UINT64_MAX, &rec->size) == -1
      || get_str (o, "server", &rec->server) == -1
      || get_str (o, "uri", &rec->uri) == -1
      || get_str (o, "socket", &rec->socket) == -1
      || get_str (o, "volume_socket", &rec->volume_socket) == -1
      || get_str (o, "container_uri", &rec->container_uri) == -1
      || get_pid (o, "container_pid", &rec->container_pid) == -1
      || get_pid (o, "pid", &rec->server_pid) == -1
      || get_u64 (o, "pid_start", UINT64_MAX, &rec->server_start) == -1
      || get_pid (o, "watcher_pid", &rec->watcher_pid) == -1
      || get_u64 (o, "watcher_start", UINT64_MAX, &rec->watcher_start) == -1
      || get_str (o, "started", &rec->started) == -1
      || get_str (o, "pidfile", &rec->pidfile) == -1
      || get_u64 (o, "pidfile_dev", UINT64_MAX, &rec->pidfile_dev) == -1
      || get_u64 (o, "pidfile_ino", UINT64_MAX, &rec->pidfile_ino) == -1) {
    export_record_clear (rec);
    return -1;
  }
  if (json_object_object_get_ex (o, "writable", &v))
    rec->cow = json_object_get_boolean (v);
  if (!rec->id || !registry_id_valid (rec->id)) {
    export_record_clear (rec);
    return error ("no valid \"id\"");
  }
  if (rec->kind && strcmp (rec->kind, EXPORT_KIND_HOOK)
      && strcmp (rec->kind, EXPORT_KIND_SERVE)) {
    export_record_clear (rec);
    return error ("\"kind\" is neither " EXPORT_KIND_HOOK " nor " EXPORT_KIND_SERVE);
  }
  /* A serve's pid file is removed on the record's word: an absolute
   * path, only with the identity of the file it wrote.
   */
  if (rec->pidfile && (rec->pidfile[0] != '/' || !rec->pidfile_ino)) {
    export_record_clear (rec);
    return error ("\"pidfile\" is not an absolute path with its inode");
  }
  return 0;
}

bool
export_record_is_serve (const struct export_record *rec)
{
  return rec->kind && strcmp (rec->kind, EXPORT_KIND_SERVE) == 0;
}

int
registry_write (const char *dir, const struct export_record *rec)
{
  _cleanup_free_ char *path = registry_path (dir, rec->id, "json");
  _cleanup_free_ char *tmp = NULL;
  if (!path || asprintf (&tmp, "%s/.%s.json.tmp", dir, rec->id) == -1)
    return error_errno (errno, "record");

  json_object *o = export_record_to_json (rec);
  const char *s = json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY
                                                  | JSON_C_TO_STRING_NOSLASHESCAPE);
  size_t len = strlen (s);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd == -1) {
    json_object_put (o);
    return error_errno (errno, "cannot write %s", tmp);
  }
  ssize_t w = write (fd, s, len);
  int e = errno;
  json_object_put (o);
  if (w != (ssize_t) len || write (fd, "\n", 1) != 1 || close (fd) == -1) {
    if (w >= 0)
      e = errno ? errno : EIO;
    unlink (tmp);
    return error_errno (e, "cannot write %s", tmp);
  }
  if (rename (tmp, path) == -1) {
    e = errno;
    unlink (tmp);
    return error_errno (e, "cannot write %s", path);
  }
  return 0;
}

static int
read_record (const char *path, struct export_record *rec)
{
  _cleanup_free_ char *buf = NULL;
  size_t len;

  if (read_all_file (path, 1 << 20, &buf, &len) == -1)
    return -1;
  json_object *o = json_tokener_parse (buf);
  if (!o) {
    memset (rec, 0, sizeof *rec);
    return error ("%s is not valid JSON", path);
  }
  int r = export_record_from_json (o, rec);
  json_object_put (o);
  if (r == -1)
    return error_context ("%s", path);
  return 0;
}

int
registry_read (const char *dir, const char *id, struct export_record *rec)
{
  _cleanup_free_ char *path = registry_path (dir, id, "json");

  memset (rec, 0, sizeof *rec);
  if (!path)
    return -1;
  if (access (path, F_OK) == -1 && errno == ENOENT)
    return 1;
  if (read_record (path, rec) == -1)
    return -1;
  if (strcmp (rec->id, id) != 0) {
    export_record_clear (rec);
    return error ("%s is the record of another container", path);
  }
  return 0;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
registry_list (const char *dir, registry_cb cb, void *arg)
{
  _cleanup_closedir_ DIR *d = NULL;
  _cleanup_strv_ char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  int r = registry_check (dir);

  if (r == 1)
    return 0;               /* nothing exported yet */
  if (r == -1)
    return -1;
  if ((d = opendir (dir)) == NULL)
    return error_errno (errno, "%s", dir);
  while ((e = readdir (d)) != NULL) {
    size_t len = strlen (e->d_name);
    if (e->d_name[0] == '.' || len < 6 || strcmp (e->d_name + len - 5, ".json") != 0)
      continue;
    char **nv = realloc (names, (n + 2) * sizeof *nv);
    if (!nv)
      return error_errno (errno, "%s", dir);
    names = nv;
    if ((names[n] = strndup (e->d_name, len - 5)) == NULL)
      return error_errno (errno, "%s", dir);
    names[++n] = NULL;
  }
  if (n)
    qsort (names, n, sizeof *names, compare_names);
  for (size_t i = 0; i < n; i++) {
    struct export_record rec;
    r = registry_read (dir, names[i], &rec);
    if (r == 1)
      continue;             /* removed meanwhile */
    if (r == -1) {
      /* One bad record must not hide the others. */
      error_print ();
      continue;
    }
    r = cb (&rec, arg);
    export_record_clear (&rec);
    if (r)
      return r;
  }
  return 0;
}

char *
registry_new_serve_id (const char *dir)
{
  for (int tries = 0; tries < 16; tries++) {
    char id[sizeof SERVE_ID_PREFIX + 6];
    strcpy (id, SERVE_ID_PREFIX);
    if (random_name (id + strlen (SERVE_ID_PREFIX), 6) == -1)
      return NULL;
    _cleanup_free_ char *json = registry_path (dir, id, "json");
    if (!json)
      return NULL;
    if (access (json, F_OK) == -1 && errno == ENOENT) {
      char *r = strdup (id);
      if (!r)
        error_errno (errno, "export id");
      return r;
    }
  }
  error ("cannot find a free export id in %s", dir);
  return NULL;
}

/* A serve's pid file, if it is still the one it wrote (a regular file,
 * same device and inode): else someone else's now.
 */
static int
remove_pidfile (const struct export_record *rec)
{
  struct stat sb;

  if (!rec->pidfile || lstat (rec->pidfile, &sb) == -1)
    return 0;
  if (!S_ISREG (sb.st_mode) || sb.st_dev != rec->pidfile_dev
      || sb.st_ino != rec->pidfile_ino)
    return 0;
  if (unlink (rec->pidfile) == -1 && errno != ENOENT)
    return error_errno (errno, "cannot remove %s", rec->pidfile);
  return 0;
}

/* Unlink PATH if it is of TYPE (S_IFSOCK, S_IFLNK); ENOENT is fine. */
static int
unlink_if (const char *path, mode_t type)
{
  struct stat sb;
  if (!path || lstat (path, &sb) == -1)
    return 0;
  if ((sb.st_mode & S_IFMT) != type)
    return error ("%s is not the socket podman-disk made: left alone", path);
  if (type == S_IFSOCK && socket_listened (path) != 0) {
    error_clear ();
    return error ("%s is served by a process podman-disk does not know: left alone",
                  path);
  }
  if (unlink (path) == -1 && errno != ENOENT)
    return error_errno (errno, "cannot remove %s", path);
  return 0;
}

int
registry_remove (const char *dir, const char *id, const struct export_record *rec)
{
  _cleanup_free_ char *sock = registry_path (dir, id, "sock");
  _cleanup_free_ char *log = registry_path (dir, id, "log");
  _cleanup_free_ char *json = registry_path (dir, id, "json");
  int r = 0;
  struct stat sb;

  if (!sock || !log || !json)
    return -1;
  /* The socket, or the symlink to the one in a shared volume. */
  if (lstat (sock, &sb) == 0)
    r |= unlink_if (sock, S_ISLNK (sb.st_mode) ? S_IFLNK : S_IFSOCK);
  /* A shared volume belongs to the user, and the record only names the
   * socket there: only a socket, and only one nobody listens on, goes.
   */
  if (rec && rec->volume_socket)
    r |= unlink_if (rec->volume_socket, S_IFSOCK);
  /* A serve's socket is where it was asked to be, and its pid file too:
   * the same rule, and the pid file only if it is the one it wrote.
   */
  if (rec && export_record_is_serve (rec)) {
    r |= unlink_if (rec->socket, S_IFSOCK);
    r |= remove_pidfile (rec);
  }
  if (unlink (log) == -1 && errno != ENOENT)
    r = error_errno (errno, "cannot remove %s", log);
  if (unlink (json) == -1 && errno != ENOENT)
    r = error_errno (errno, "cannot remove %s", json);
  return r ? -1 : 0;
}

bool
export_record_alive (const struct export_record *rec)
{
  return process_alive (rec->server_pid, rec->server_start, rec->server);
}

int
export_record_file_present (const struct export_record *rec)
{
  struct stat file, held;
  char path[64];
  struct dirent *e;
  int r = 0;

  if (!rec->file || rec->server_pid <= 0)
    return -1;
  if (stat (rec->file, &file) == -1)
    /* Removed, its directory too (a layer goes whole). */
    return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
  /* The server holds the disk open (server.h: fd 5, and qemu-nbd's own
   * open of it): look for the recorded file among its descriptors rather
   * than trust a number.  A link under /proc/PID/fd is followed by stat.
   */
  snprintf (path, sizeof path, "/proc/%d/fd", (int) rec->server_pid);
  _cleanup_closedir_ DIR *d = opendir (path);
  if (!d)
    return -1;
  while ((e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    if (fstatat (dirfd (d), e->d_name, &held, 0) == 0 && S_ISREG (held.st_mode)
        && held.st_dev == file.st_dev && held.st_ino == file.st_ino) {
      r = 1;
      break;
    }
  }
  /* Those were the descriptors of the recorded server, not of a process
   * that took its pid meanwhile.
   */
  if (!export_record_alive (rec))
    return -1;
  return r;
}
