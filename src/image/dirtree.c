/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the tree backend for a stack of layer directories, merged
 * with overlay rules.  See dirtree.h.
 *
 * A node remembers its path relative to the layer directories and, for a
 * directory, the layers it is live in (top first): the layers where the
 * path is a directory, down to the first whiteout, opaque directory or
 * non-directory.  Nothing is kept open between calls: each lookup walks
 * the path again from the layer's directory fd, one component at a time
 * with O_NOFOLLOW, so a host symlink is never followed and the number of
 * open fds does not grow with the depth of a resolution.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "image/dirtree.h"
#include "common/error.h"

#define DIRTREE_MAX_PATH 16384          /* bytes of a node's relative path */
#define DIRTREE_MAX_ENTRIES (1 << 20)   /* entries read from one directory */
#define DIRTREE_MAX_LINK 4096           /* bytes of a symlink target */

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct dirtree {
  size_t n;
  int *fds;              /* O_PATH fd of each layer directory, top first */
  char **dirs;           /* their host paths */
};

struct dnode {
  char *path;            /* relative to the layer directories; "" = root */
  size_t nlayers;        /* a directory: the layers it is live in, top
                            first; anything else: the one layer it is in */
  size_t layers[];
};

static struct dnode *
dnode_new (const char *parent, const char *name, size_t max_layers)
{
  struct dnode *n = calloc (1, sizeof *n + max_layers * sizeof n->layers[0]);
  if (!n)
    return NULL;
  if (asprintf (&n->path, "%s%s%s", parent, *parent && *name ? "/" : "",
                name) == -1) {
    free (n);
    return NULL;
  }
  return n;
}

static void
dnode_free (struct dnode *n)
{
  if (n)
    free (n->path);
  free (n);
}

/* Open directory PATH (relative, components separated by '/') of LAYER
 * as an O_PATH fd, walking it one component at a time without following
 * anything.  -1 with errno on failure.
 */
static int
open_layer_dir (const struct dirtree *d, size_t layer, const char *path)
{
  int fd = openat (d->fds[layer], ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  const char *p = path;
  char name[NAME_MAX + 1];

  while (fd >= 0 && *p) {
    size_t len = strcspn (p, "/");
    if (len == 0 || len > NAME_MAX) {
      close (fd);
      errno = EINVAL;
      return -1;
    }
    memcpy (name, p, len);
    name[len] = '\0';
    int next = openat (fd, name,
                       O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    close (fd);
    fd = next;
    p += len;
    p += *p == '/';
  }
  return fd;
}

static int
layer_dir_error (const struct dirtree *d, size_t layer, const char *path)
{
  return error_errno (errno, "%s%s%s", d->dirs[layer], *path ? "/" : "",
                      path);
}

/* fstatat without following; 1 found, 0 absent, -1 error (errno). */
static int
stat_entry (int dfd, const char *name, struct stat *st)
{
  if (fstatat (dfd, name, st, AT_SYMLINK_NOFOLLOW) == 0)
    return 1;
  return errno == ENOENT ? 0 : -1;
}

static bool
is_whiteout_device (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

/* Is there a ".wh.NAME" next to NAME in directory DFD? */
static bool
has_whiteout_file (int dfd, const char *name)
{
  char wh[sizeof WH_PREFIX + NAME_MAX];
  struct stat st;

  if (strlen (name) > NAME_MAX - (sizeof WH_PREFIX - 1))
    return false;
  snprintf (wh, sizeof wh, WH_PREFIX "%s", name);
  return fstatat (dfd, wh, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Does directory FD (O_PATH) hide the same directory in lower layers? */
static bool
is_opaque (int fd)
{
  static const char *const xattrs[] = {
    "trusted.overlay.opaque", "user.overlay.opaque",
    "user.fuseoverlayfs.opaque",
  };
  char proc[64], val[2];
  struct stat st;

  if (fstatat (fd, WH_OPAQUE, &st, AT_SYMLINK_NOFOLLOW) == 0)
    return true;
  /* fgetxattr refuses O_PATH fds; the /proc magic link is that inode. */
  snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  for (size_t i = 0; i < sizeof xattrs / sizeof xattrs[0]; i++) {
    ssize_t r = getxattr (proc, xattrs[i], val, sizeof val);
    if (r == 1 && val[0] == 'y')
      return true;
  }
  return false;
}

static bool
is_opaque_at (int dfd, const char *name)
{
  _cleanup_close_ int fd =
    openat (dfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
  return fd >= 0 && is_opaque (fd);
}

static int
dt_root (void *priv, struct tnode *out)
{
  struct dirtree *d = priv;
  struct dnode *n = dnode_new ("", "", d->n);

  if (!n)
    return error_errno (errno, "malloc");
  /* The root is live in every layer down to the first opaque one. */
  for (size_t i = 0; i < d->n; i++) {
    n->layers[n->nlayers++] = i;
    if (is_opaque (d->fds[i]))
      break;
  }
  memset (out, 0, sizeof *out);
  out->type = TN_DIR;
  out->priv = n;
  return 0;
}

/* Fill OUT for a non-directory NAME found in layer LAYER, directory DFD. */
static int
leaf_node (struct dirtree *d, const struct dnode *dir, int dfd, size_t layer,
           const char *name, const struct stat *st, struct tnode *out)
{
  struct dnode *n = dnode_new (dir->path, name, 1);
  if (!n)
    return error_errno (errno, "malloc");
  n->layers[n->nlayers++] = layer;
  out->priv = n;

  if (S_ISREG (st->st_mode)) {
    out->type = TN_REG;
    out->size = st->st_size;
  }
  else if (S_ISLNK (st->st_mode)) {
    char buf[DIRTREE_MAX_LINK];
    ssize_t len = readlinkat (dfd, name, buf, sizeof buf);
    if (len < 0 || (size_t) len >= sizeof buf) {
      if (len >= 0)
        errno = ENAMETOOLONG;
      return error_errno (errno, "reading symlink %s/%s", d->dirs[layer],
                          n->path);
    }
    out->type = TN_LNK;
    if (!(out->link = strndup (buf, len)))
      return error_errno (errno, "malloc");
  }
  else
    out->type = TN_OTHER;
  return 0;
}

static bool
valid_name (const char *name)
{
  size_t len = strlen (name);
  return len > 0 && len <= NAME_MAX && !strchr (name, '/') &&
    strcmp (name, ".") && strcmp (name, "..");
}

/* Look NAME up in one live layer of DIR.  Returns -1 on error, 0 to go on
 * to the next layer, 1 when the lower layers are hidden (out decided).
 */
static int
lookup_layer (struct dirtree *d, const struct dnode *dir, size_t layer,
              const char *name, struct tnode *out)
{
  struct dnode *n = out->priv;
  _cleanup_close_ int dfd = open_layer_dir (d, layer, dir->path);
  struct stat st;

  if (dfd == -1)
    return layer_dir_error (d, layer, dir->path);
  int r = stat_entry (dfd, name, &st);
  if (r == -1)
    return error_errno (errno, "%s/%s%s%s", d->dirs[layer], dir->path,
                        *dir->path ? "/" : "", name);
  if (r == 0)
    return has_whiteout_file (dfd, name);
  if (is_whiteout_device (&st))
    return 1;
  if (!S_ISDIR (st.st_mode))
    return out->type == TN_NONE ?
      (leaf_node (d, dir, dfd, layer, name, &st, out) == -1 ? -1 : 1) : 1;

  /* A directory: live in this layer, and in lower ones unless opaque. */
  if (out->type == TN_NONE) {
    if (!(n = dnode_new (dir->path, name, dir->nlayers)))
      return error_errno (errno, "malloc");
    out->type = TN_DIR;
    out->priv = n;
  }
  n->layers[n->nlayers++] = layer;
  return has_whiteout_file (dfd, name) || is_opaque_at (dfd, name);
}

static int
dt_lookup (void *priv, const struct tnode *dir, const char *name,
           struct tnode *out)
{
  struct dirtree *d = priv;
  const struct dnode *dn = dir->priv;

  memset (out, 0, sizeof *out);
  if (dir->type != TN_DIR || !dn)
    return error ("internal error: lookup of %s in a non-directory", name);
  if (!valid_name (name))
    return error ("invalid name in the image: \"%s\"", name);
  if (strlen (dn->path) + strlen (name) + 2 > DIRTREE_MAX_PATH)
    return error ("%s/%s: path too long", dn->path, name);
  /* Whiteout files are the merge's bookkeeping, not entries. */
  if (!strncmp (name, WH_PREFIX, sizeof WH_PREFIX - 1))
    return 0;

  for (size_t i = 0; i < dn->nlayers; i++) {
    int r = lookup_layer (d, dn, dn->layers[i], name, out);
    if (r == -1) {
      dnode_free (out->priv);
      free (out->link);
      memset (out, 0, sizeof *out);
      return -1;
    }
    if (r == 1)
      break;
  }
  return 0;
}

/* ---- readdir: merge the live layers' entries ---- */

enum entry_kind { ENTRY_REAL, ENTRY_HIDDEN };

struct entry {
  char *name;
  size_t rank;               /* index in the directory's live layers */
  enum entry_kind kind;
};

struct entries {
  struct entry *v;
  size_t n;
};

static void
entries_free (struct entries *e)
{
  for (size_t i = 0; i < e->n; i++)
    free (e->v[i].name);
  free (e->v);
}

static int
entries_add (struct entries *e, const char *name, size_t rank,
             enum entry_kind kind)
{
  if (e->n >= DIRTREE_MAX_ENTRIES)
    return error ("more than %d entries in one directory", DIRTREE_MAX_ENTRIES);
  if (e->n % 64 == 0) {
    struct entry *v = reallocarray (e->v, e->n + 64, sizeof *v);
    if (!v)
      return error_errno (errno, "malloc");
    e->v = v;
  }
  if (!(e->v[e->n].name = strdup (name)))
    return error_errno (errno, "malloc");
  e->v[e->n].rank = rank;
  e->v[e->n].kind = kind;
  e->n++;
  return 0;
}

/* Name first, then the upper layer first, then (in one layer) an entry
 * before the ".wh." of the same name, which only hides lower layers.
 */
static int
entry_cmp (const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  int c = strcmp (x->name, y->name);
  if (c)
    return c;
  if (x->rank != y->rank)
    return x->rank < y->rank ? -1 : 1;
  return (int) x->kind - (int) y->kind;
}

static int
read_entry (struct entries *e, int dfd, const char *name, unsigned char type,
            size_t rank)
{
  struct stat st;

  if (!strcmp (name, ".") || !strcmp (name, "..") || !strcmp (name, WH_OPAQUE))
    return 0;
  if (!strncmp (name, WH_PREFIX, sizeof WH_PREFIX - 1)) {
    if (!name[sizeof WH_PREFIX - 1])
      return 0;
    return entries_add (e, name + sizeof WH_PREFIX - 1, rank, ENTRY_HIDDEN);
  }
  /* Only a character device can be a whiteout: stat nothing else. */
  if ((type == DT_CHR || type == DT_UNKNOWN) &&
      stat_entry (dfd, name, &st) == 1 && is_whiteout_device (&st))
    return entries_add (e, name, rank, ENTRY_HIDDEN);
  return entries_add (e, name, rank, ENTRY_REAL);
}

static int
read_layer_dir (struct dirtree *d, const struct dnode *dir, size_t rank,
                struct entries *e)
{
  size_t layer = dir->layers[rank];
  _cleanup_close_ int dfd = open_layer_dir (d, layer, dir->path);
  if (dfd == -1)
    return layer_dir_error (d, layer, dir->path);
  int rfd = openat (dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *dp = rfd >= 0 ? fdopendir (rfd) : NULL;
  if (!dp) {
    if (rfd >= 0)
      close (rfd);
    return layer_dir_error (d, layer, dir->path);
  }

  struct dirent *de;
  errno = 0;
  while ((de = readdir (dp)) != NULL) {
    if (read_entry (e, dfd, de->d_name, de->d_type, rank) == -1)
      return -1;
    errno = 0;
  }
  if (errno)
    return layer_dir_error (d, layer, dir->path);
  return 0;
}

static int
dt_readdir (void *priv, const struct tnode *dir, tree_readdir_cb cb, void *arg)
{
  struct dirtree *d = priv;
  const struct dnode *dn = dir->priv;
  struct entries e = { 0 };
  int r = 0;

  if (dir->type != TN_DIR || !dn)
    return error ("internal error: readdir of a non-directory");
  for (size_t i = 0; i < dn->nlayers && r == 0; i++)
    r = read_layer_dir (d, dn, i, &e);
  if (r == 0 && e.n)
    qsort (e.v, e.n, sizeof e.v[0], entry_cmp);

  /* The first of each name decides; lookup makes the node the same way
   * it is made for a path.
   */
  for (size_t i = 0; i < e.n && r == 0; i++) {
    if ((i > 0 && !strcmp (e.v[i].name, e.v[i - 1].name)) ||
        e.v[i].kind != ENTRY_REAL)
      continue;
    struct tnode child;
    if ((r = dt_lookup (d, dir, e.v[i].name, &child)) == -1)
      break;
    if (child.type != TN_NONE)
      r = cb (e.v[i].name, &child, arg);
    dnode_free (child.priv);
    free (child.link);
  }
  entries_free (&e);
  return r;
}

static void
dt_release (void *priv _unused_, struct tnode *node)
{
  dnode_free (node->priv);
  free (node->link);
  node->priv = NULL;
  node->link = NULL;
}

static const struct tree_ops dirtree_ops = {
  .root = dt_root,
  .lookup = dt_lookup,
  .readdir = dt_readdir,
  .release = dt_release,
};

void
dirtree_close (struct tree *t)
{
  struct dirtree *d = t->priv;

  if (d) {
    for (size_t i = 0; i < d->n; i++) {
      if (d->fds[i] >= 0)
        close (d->fds[i]);
      free (d->dirs[i]);
    }
    free (d->fds);
    free (d->dirs);
    free (d);
  }
  t->ops = NULL;
  t->priv = NULL;
}

int
dirtree_open (struct tree *t, char *const *layer_dirs, size_t n)
{
  struct dirtree *d;

  t->ops = NULL;
  t->priv = NULL;
  if (n == 0)
    return error ("internal error: an image tree with no layer directory");
  t->ops = &dirtree_ops;
  t->priv = d = calloc (1, sizeof *d);
  if (!d || !(d->fds = calloc (n, sizeof *d->fds)) ||
      !(d->dirs = calloc (n, sizeof *d->dirs))) {
    dirtree_close (t);
    return error_errno (ENOMEM, "malloc");
  }
  for (size_t i = 0; i < n; i++)
    d->fds[i] = -1;
  d->n = n;
  for (size_t i = 0; i < n; i++) {
    /* The layer directory itself comes from the store's configuration,
     * not from the image: its own path may go through host symlinks.
     */
    d->fds[i] = open (layer_dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (d->fds[i] == -1 || !(d->dirs[i] = strdup (layer_dirs[i]))) {
      error_errno (errno, "layer directory %s", layer_dirs[i]);
      dirtree_close (t);
      return -1;
    }
  }
  return 0;
}

int
dirtree_open_file (struct tree *t, const struct tnode *node,
                   int *fd, size_t *layer, char **host_path)
{
  struct dirtree *d = t->priv;
  const struct dnode *n = node->priv;

  if (node->type != TN_REG || !n || n->nlayers != 1)
    return error ("internal error: dirtree_open_file on a non-file");
  size_t l = n->layers[0];
  const char *slash = strrchr (n->path, '/');
  const char *base = slash ? slash + 1 : n->path;
  _cleanup_free_ char *parent = strndup (n->path, slash ? slash - n->path : 0);
  _cleanup_free_ char *hp = NULL;
  if (!parent || asprintf (&hp, "%s/%s", d->dirs[l], n->path) == -1)
    return error_errno (errno, "malloc");

  _cleanup_close_ int dfd = open_layer_dir (d, l, parent);
  if (dfd == -1)
    return layer_dir_error (d, l, parent);
  /* O_NONBLOCK: should the host have put a fifo there since, do not hang. */
  _cleanup_close_ int f = openat (dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC
                                  | O_NOCTTY | O_NONBLOCK);
  struct stat st;
  if (f == -1 || fstat (f, &st) == -1)
    return error_errno (errno, "%s", hp);
  if (!S_ISREG (st.st_mode))
    return error ("%s: not a regular file any more", hp);
  if (fcntl (f, F_SETFL, 0) == -1)
    return error_errno (errno, "%s: fcntl", hp);

  *fd = steal_fd (&f);
  *layer = l;
  *host_path = steal_pointer (&hp);
  return 0;
}
