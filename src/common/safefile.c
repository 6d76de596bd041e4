/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: files made without writing through someone else's path,
 * see safefile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/safefile.h"

/* As the kernel's limit on symlinks followed in one lookup. */
#define MAX_LINKS 40

bool
safe_link_trusted (const struct stat *st)
{
  return st->st_uid == geteuid () || st->st_uid == 0;
}

/* The walk of a path: the directory reached and how it is named in
 * messages.
 */
struct walk {
  const char *path;      /* as given */
  int dirfd;
  char *shown;           /* DIRFD's path as reached, "" or ending in '/' */
  bool in_last_link;     /* following the symlink that ended PATH */
  int links;
};

static int
walk_set_dir (struct walk *w, int fd, const char *shown)
{
  char *s = strdup (shown);
  if (!s) {
    close (fd);
    return error_errno (errno, "strdup");
  }
  if (w->dirfd >= 0)
    close (w->dirfd);
  free (w->shown);
  w->dirfd = fd;
  w->shown = s;
  return 0;
}

static int
walk_start (struct walk *w, bool absolute)
{
  int fd = open (absolute ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s", w->path);
  return walk_set_dir (w, fd, absolute ? "/" : "");
}

/* Step into directory COMP of the walk's directory. */
static int
walk_enter (struct walk *w, const char *comp)
{
  int fd = openat (w->dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s: %s%s", w->path, w->shown, comp);
  _cleanup_free_ char *shown = NULL;
  if (asprintf (&shown, "%s%s/", w->shown, comp) == -1) {
    close (fd);
    return error_errno (errno, "asprintf");
  }
  return walk_set_dir (w, fd, shown);
}

static int
dangling (const struct walk *w)
{
  return error ("not writing through dangling symlink '%s': "
                "remove it first, or give another path", w->path);
}

/* Symlink COMP of the walk's directory (lstat ST), LAST in the path: its
 * target, if it may be followed, in *TARGET (malloc'd).
 */
static int
read_trusted_link (struct walk *w, const char *comp, bool last, char **target)
{
  _cleanup_close_ int fd = openat (w->dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st, followed;
  char buf[PATH_MAX];

  /* The link itself, held open: checked and read as one object. */
  if (fd == -1 || fstat (fd, &st) == -1)
    return error_errno (errno, "%s: %s%s", w->path, w->shown, comp);
  if (!S_ISLNK (st.st_mode))
    return error ("%s: %s%s changed while it was checked", w->path, w->shown, comp);
  if (!safe_link_trusted (&st)) {
    /* A dangling one says so first, as cp does whoever owns it. */
    if ((last || w->in_last_link)
        && fstatat (w->dirfd, comp, &followed, 0) == -1 && errno == ENOENT)
      return dangling (w);
    return error ("not writing through symlink '%s%s', owned by uid %u "
                  "(neither you nor root): remove it first, or give a path "
                  "without it", w->shown, comp, (unsigned) st.st_uid);
  }
  if (++w->links > MAX_LINKS)
    return error ("%s: too many levels of symbolic links", w->path);
  ssize_t n = readlinkat (fd, "", buf, sizeof buf - 1);
  if (n <= 0)
    return error_errno (n == 0 ? ENOENT : errno, "%s: %s%s", w->path, w->shown, comp);
  buf[n] = '\0';
  *target = strdup (buf);
  return *target ? 0 : error_errno (errno, "strdup");
}

static int
walk (struct walk *w, char *todo, struct safe_path *p)
{
  _cleanup_free_ char *owned = todo;   /* the current path text */
  char *cur = todo;

  for (;;) {
    while (*cur == '/')
      cur++;
    char *comp = *cur ? cur : (char *) ".";   /* "/" itself, or "." */
    char *rest = strchr (cur, '/');
    if (rest)
      *rest++ = '\0';
    else
      rest = cur + strlen (cur);
    while (*rest == '/')
      rest++;
    bool last = *rest == '\0';
    struct stat st;

    if (fstatat (w->dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == -1) {
      if (errno == ENOENT && w->in_last_link)
        return dangling (w);
      if (errno == ENOENT && last) {
        p->exists = false;
        p->name = strdup (comp);
        return p->name ? 0 : error_errno (errno, "strdup");
      }
      if (errno == ENOENT)
        return error ("%s: directory %s%s does not exist", w->path, w->shown, comp);
      return error_errno (errno, "%s: %s%s", w->path, w->shown, comp);
    }
    if (S_ISLNK (st.st_mode)) {
      _cleanup_free_ char *target = NULL;
      char *next;
      if (read_trusted_link (w, comp, last, &target) == -1)
        return -1;
      if (last)
        w->in_last_link = true;
      if (asprintf (&next, "%s/%s", target, rest) == -1)
        return error_errno (errno, "asprintf");
      if (target[0] == '/' && walk_start (w, true) == -1) {
        free (next);
        return -1;
      }
      free (owned);
      owned = cur = next;
      continue;
    }
    if (last) {
      p->exists = true;
      p->st = st;
      p->name = strdup (comp);
      return p->name ? 0 : error_errno (errno, "strdup");
    }
    if (!S_ISDIR (st.st_mode))
      return error ("%s: %s%s is not a directory", w->path, w->shown, comp);
    if (walk_enter (w, comp) == -1)
      return -1;
    cur = rest;
  }
}

int
safe_path_resolve (const char *path, struct safe_path *p)
{
  struct walk w = { .path = path, .dirfd = -1 };
  size_t len = strlen (path);

  *p = (struct safe_path) { .dirfd = -1 };
  if (len == 0)
    return error ("empty path");
  p->trailing_slash = path[len - 1] == '/';
  char *todo = strdup (path);
  if (!todo)
    return error_errno (errno, "strdup");
  int r = walk_start (&w, path[0] == '/');
  if (r == 0)
    r = walk (&w, todo, p);
  else
    free (todo);
  free (w.shown);
  if (r == -1) {
    if (w.dirfd >= 0)
      close (w.dirfd);
    safe_path_clear (p);
    return -1;
  }
  p->dirfd = w.dirfd;
  return 0;
}

void
safe_path_clear (struct safe_path *p)
{
  if (p->dirfd >= 0)
    close (p->dirfd);
  free (p->name);
  p->dirfd = -1;
  p->name = NULL;
}

int
safe_check_own_dir (int fd, const char *what)
{
  struct stat st;

  if (fstat (fd, &st) == -1)
    return error_errno (errno, "%s", what);
  if (!S_ISDIR (st.st_mode))
    return error ("%s is not a directory", what);
  if (st.st_uid != geteuid () || (st.st_mode & 022))
    return error ("%s is not a directory of this user's own (owner uid %u, "
                  "mode %03o): not used", what, (unsigned) st.st_uid,
                  (unsigned) (st.st_mode & 07777));
  return 0;
}

int
safe_open_own_dir (int dirfd, const char *name, bool create)
{
  struct stat parent;

  if (create) {
    if (fstat (dirfd, &parent) == -1)
      return error_errno (errno, "%s", name);
    /* Nothing is made in another user's directory: root would leave a
     * directory of its own in the user's home.
     */
    bool may = parent.st_uid == geteuid () || (parent.st_mode & S_ISVTX);
    if (may && mkdirat (dirfd, name, 0700) == -1 && errno != EEXIST)
      return error_errno (errno, "cannot create %s", name);
  }
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd == -1 && (errno == ELOOP || errno == ENOTDIR)
      && fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
    return error ("%s is a symlink: not followed", name);
  if (fd == -1)
    return error_errno (errno, "%s", name);
  if (safe_check_own_dir (fd, name) == -1) {
    close (fd);
    return -1;
  }
  return fd;
}

/* A name for a temporary file, hidden and unlikely to exist. */
static void
temp_name (char name[40])
{
  unsigned long long r = 0;
  if (getrandom (&r, sizeof r, GRND_NONBLOCK) != sizeof r)
    r = (unsigned long long) getpid () << 32 ^ (unsigned long long) rand ();
  snprintf (name, 40, ".podman-disk-%016llx.tmp", r);
}

int
safe_file_open (struct safe_file *f, int dirfd, mode_t mode)
{
  *f = (struct safe_file) { .dirfd = dirfd };
  f->fd = openat (dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (f->fd >= 0)
    return 0;
  /* No O_TMPFILE in this filesystem: a name nobody else has made. */
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return error_errno (errno, "cannot create a file");
  for (int i = 0; i < 100; i++) {
    temp_name (f->tmpname);
    f->fd = openat (dirfd, f->tmpname,
                    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (f->fd >= 0)
      return 0;
    if (errno != EEXIST)
      break;
  }
  f->tmpname[0] = '\0';
  return error_errno (errno, "cannot create a file");
}

/* Give the unnamed (O_TMPFILE) file NAME, which must not exist. */
static int
link_unnamed (const struct safe_file *f, int fd, const char *name)
{
  char proc[64];

  if (linkat (fd, "", f->dirfd, name, AT_EMPTY_PATH) == 0)
    return 0;
  /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not. */
  if (errno != ENOENT && errno != EPERM)
    return -1;
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  return linkat (AT_FDCWD, proc, f->dirfd, name, AT_SYMLINK_FOLLOW);
}

static int
commit_unnamed (const struct safe_file *f, const char *name, bool replace, int fd)
{
  char tmp[40];
  int i;

  if (!replace)
    return link_unnamed (f, fd, name);
  for (i = 0; i < 100; i++) {
    temp_name (tmp);
    if (link_unnamed (f, fd, tmp) == 0)
      break;
    if (errno != EEXIST)
      return -1;
  }
  if (i == 100)
    return -1;
  if (renameat (f->dirfd, tmp, f->dirfd, name) == -1) {
    int e = errno;
    unlinkat (f->dirfd, tmp, 0);
    errno = e;
    return -1;
  }
  return 0;
}

static int
commit_named (const struct safe_file *f, const char *name, bool replace)
{
  if (replace)
    return renameat (f->dirfd, f->tmpname, f->dirfd, name);
  if (renameat2 (f->dirfd, f->tmpname, f->dirfd, name, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS)
    return -1;
  /* No RENAME_NOREPLACE here: a link fails if NAME exists. */
  if (linkat (f->dirfd, f->tmpname, f->dirfd, name, 0) == -1)
    return -1;
  unlinkat (f->dirfd, f->tmpname, 0);
  return 0;
}

int
safe_file_commit (struct safe_file *f, const char *name, bool replace)
{
  int fd = steal_fd (&f->fd);

  /* close reports late write errors (NFS): a file that failed them never
   * gets its name.  An unnamed file is linked through its fd: closed after.
   */
  if (f->tmpname[0] && close (fd) == -1)
    return error_errno (errno, "write");
  int r = f->tmpname[0] ? commit_named (f, name, replace)
                        : commit_unnamed (f, name, replace, fd);
  int e = errno;
  if (!f->tmpname[0] && close (fd) == -1 && r == 0) {
    e = errno;
    unlinkat (f->dirfd, name, 0);
    r = -1;
  }
  if (r == -1) {
    error_errno (e, "cannot give the new file its name %s", name);
    errno = e;
    return -1;
  }
  f->committed = true;
  return 0;
}

void
safe_file_discard (struct safe_file *f)
{
  if (f->fd >= 0)
    close (f->fd);
  f->fd = -1;
  if (f->tmpname[0] && !f->committed)
    unlinkat (f->dirfd, f->tmpname, 0);
  f->tmpname[0] = '\0';
}

int
safe_write_file (int dirfd, const char *name, const void *buf, size_t len,
                 mode_t mode)
{
  struct safe_file f;
  const char *p = buf;

  if (safe_file_open (&f, dirfd, mode) == -1)
    return -1;
  while (len > 0) {
    ssize_t n = write (f.fd, p, len);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0) {
      error_errno (n == 0 ? EIO : errno, "write %s", name);
      safe_file_discard (&f);
      return -1;
    }
    p += n;
    len -= n;
  }
  int r = safe_file_commit (&f, name, true);
  safe_file_discard (&f);
  return r;
}
