/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: may anyone but root and the caller change what a path
 * names?  See pathtrust.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/pathtrust.h"
#include "common/proc.h"

#define MAX_SYMLINKS 40          /* as the kernel's path walk */
#define MAX_SUBID_RANGES 16

struct trust {
  uid_t self;
  bool userns;                   /* in a user namespace other than the first */
  uid_t overflow;                /* what unmapped owners show as there */
  bool on_prefix;                /* userns: no mapped owner seen yet */
  size_t n_ranges;
  struct { uid_t start, count; } ranges[MAX_SUBID_RANGES];
};

static uid_t
overflow_uid (void)
{
  unsigned long uid = 65534;
  _cleanup_fclose_ FILE *f = fopen ("/proc/sys/kernel/overflowuid", "re");
  if (f && fscanf (f, "%lu", &uid) != 1)
    uid = 65534;
  return uid;
}

/* The caller's subordinate uids, from /etc/subuid ("NAME:START:COUNT" or
 * "UID:START:COUNT").  Without the file, none.
 */
static void
read_subuids (struct trust *t)
{
  _cleanup_fclose_ FILE *f = fopen ("/etc/subuid", "re");
  struct passwd *pw = getpwuid (t->self);
  char line[512], uid[32];

  if (!f)
    return;
  snprintf (uid, sizeof uid, "%lu", (unsigned long) t->self);
  while (fgets (line, sizeof line, f) && t->n_ranges < MAX_SUBID_RANGES) {
    char *colon = strchr (line, ':');
    unsigned long start, count;
    if (!colon || sscanf (colon + 1, "%lu:%lu", &start, &count) != 2)
      continue;
    *colon = '\0';
    if (strcmp (line, uid) != 0 && !(pw && strcmp (line, pw->pw_name) == 0))
      continue;
    t->ranges[t->n_ranges].start = start;
    t->ranges[t->n_ranges].count = count;
    t->n_ranges++;
  }
}

static void
trust_init (struct trust *t)
{
  memset (t, 0, sizeof *t);
  t->self = geteuid ();
  t->userns = process_in_user_namespace ();
  t->overflow = overflow_uid ();
  t->on_prefix = t->userns;
  if (!t->userns)
    read_subuids (t);
}

static bool
trusted_owner (struct trust *t, uid_t uid)
{
  if (t->userns) {
    /* Mapped: the caller's.  Unmapped: only on the way down. */
    if (uid != t->overflow) {
      t->on_prefix = false;
      return true;
    }
    return t->on_prefix;
  }
  if (uid == 0 || uid == t->self)
    return true;
  for (size_t i = 0; i < t->n_ranges; i++)
    if (uid >= t->ranges[i].start && uid - t->ranges[i].start < t->ranges[i].count)
      return true;
  return false;
}

/* The path walked so far, for messages: "/" then "/a", "/a/b", ... */
struct shown {
  char path[PATH_MAX];
  size_t len;
};

static void
shown_reset (struct shown *s)
{
  strcpy (s->path, "/");
  s->len = 1;
}

static void
shown_push (struct shown *s, const char *name)
{
  int n = snprintf (s->path + s->len, sizeof s->path - s->len, "%s%s",
                    s->len > 1 ? "/" : "", name);
  if (n > 0 && (size_t) n < sizeof s->path - s->len)
    s->len += n;
}

static void
shown_pop (struct shown *s)
{
  char *slash = strrchr (s->path, '/');
  if (slash && slash != s->path)
    *slash = '\0';
  else
    s->path[1] = '\0';
  s->len = strlen (s->path);
}

/* Judge one component: 0, or -1 with the reason (PATH prefixes it). */
static int
judge (struct trust *t, const char *path, const char *comp,
       const struct stat *st, bool *shielded)
{
  mode_t mode = st->st_mode & 07777;

  if (*shielded)
    return 0;
  if (!trusted_owner (t, st->st_uid)) {
    if (t->userns)
      return error ("%s: %s is owned by a user this user namespace does "
                    "not map, who may not be root", path, comp);
    return error ("%s: %s is owned by uid %lu, neither root nor you", path,
                  comp, (unsigned long) st->st_uid);
  }
  if (S_ISDIR (st->st_mode)) {
    if ((mode & 022) && !(mode & S_ISVTX))
      return error ("%s: %s is writable by group or others (mode %04o) "
                    "without the sticky bit", path, comp, (unsigned) mode);
    /* No one else may enter: what is below is out of others' reach. */
    if ((mode & 011) == 0 && !(t->userns && t->on_prefix))
      *shielded = true;
  }
  else if (mode & 022)
    return error ("%s: %s is writable by group or others (mode %04o)",
                  path, comp, (unsigned) mode);
  return 0;
}

/* The next component of *REST, split off in place ("" at the end). */
static char *
next_component (char **rest)
{
  char *c = *rest, *slash;
  while (*c == '/')
    c++;
  if ((slash = strchr (c, '/')) != NULL) {
    *slash = '\0';
    *rest = slash + 1;
  }
  else
    *rest = c + strlen (c);
  return c;
}

/* Replace the walk's rest with TARGET/REST. */
static int
splice_link (char **buf, char **rest, const char *target)
{
  char *n;
  if (asprintf (&n, "%s/%s", target, *rest) == -1)
    return error_errno (errno, "asprintf");
  free (*buf);
  *buf = *rest = n;
  return 0;
}

static int
open_root (struct trust *t, const char *path, struct shown *s, bool *shielded,
           int *fd)
{
  struct stat st;

  if (*fd >= 0)
    close (*fd);
  *shielded = false;
  shown_reset (s);
  if ((*fd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1
      || fstat (*fd, &st) == -1)
    return error_errno (errno, "%s: /", path);
  return judge (t, path, "/", &st, shielded);
}

int
pathtrust_check (const char *path, int fd)
{
  struct trust t;
  struct shown s;
  struct stat st = { 0 }, want;
  _cleanup_free_ char *buf = strdup (path);
  _cleanup_close_ int dir = -1;
  bool shielded = false;
  int links = 0;

  if (!buf)
    return error_errno (errno, "strdup");
  if (path[0] != '/')
    return error ("%s: not an absolute path", path);
  trust_init (&t);
  if (open_root (&t, path, &s, &shielded, &dir) == -1)
    return -1;
  fstat (dir, &st);
  for (char *rest = buf; *rest;) {
    char *comp = next_component (&rest);
    if (!*comp || !strcmp (comp, "."))
      continue;
    int next = openat (dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (next == -1 || fstat (next, &st) == -1) {
      int e = errno;
      if (next >= 0)
        close (next);
      return error_errno (e, "%s", path);
    }
    if (S_ISLNK (st.st_mode)) {
      /* Its directory passed, so the link stays what it is: walk on
       * where it points.
       */
      char target[PATH_MAX];
      ssize_t len = readlinkat (next, "", target, sizeof target - 1);
      close (next);
      if (len <= 0 || ++links > MAX_SYMLINKS)
        return error_errno (len <= 0 ? errno : ELOOP, "%s", path);
      target[len] = '\0';
      if (splice_link (&buf, &rest, target) == -1)
        return -1;
      if (target[0] == '/' && open_root (&t, path, &s, &shielded, &dir) == -1)
        return -1;
      continue;
    }
    close (dir);
    dir = next;
    if (!strcmp (comp, "..")) {
      shown_pop (&s);
      shielded = false;
    }
    else
      shown_push (&s, comp);
    if (judge (&t, path, s.path, &st, &shielded) == -1)
      return -1;
    if (*rest && !S_ISDIR (st.st_mode))
      return error_errno (ENOTDIR, "%s: %s", path, s.path);
  }
  if (fd >= 0 && (fstat (fd, &want) == -1 || want.st_dev != st.st_dev
                  || want.st_ino != st.st_ino))
    return error ("%s: names another file than the one opened: it changed "
                  "while it was looked up", path);
  return 0;
}
