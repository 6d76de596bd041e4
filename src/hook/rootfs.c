/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the disk in a container's rootfs, see rootfs.h. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "image/dirtree.h"
#include "image/diskfmt.h"
#include "common/dl.h"
#include "common/error.h"
#include "common/readall.h"
#include "hook/state.h"
#include "hook/rootfs.h"

/* Append a copy of the first LEN bytes of S to the vector *V of *N. */
static int
push (char ***v, size_t *n, const char *s, size_t len)
{
  char **nv = realloc (*v, (*n + 2) * sizeof *nv);
  if (!nv)
    return error_errno (errno, "layer list");
  *v = nv;
  if ((nv[*n] = strndup (s, len)) == NULL)
    return error_errno (errno, "layer list");
  nv[++*n] = NULL;
  return 0;
}

/* Push DIR, absolute against BASE when relative. */
static int
push_dir (char ***v, size_t *n, const char *dir, const char *base)
{
  if (dir[0] == '/' || !base)
    return push (v, n, dir, strlen (dir));
  _cleanup_free_ char *abs = NULL;
  if (asprintf (&abs, "%s/%s", base, dir) == -1)
    return error_errno (errno, "layer list");
  return push (v, n, abs, strlen (abs));
}

/* The layer directories are the store's own (HOME/l/SHORT links to
 * ../ID/diff): show and use the real ones.
 */
static int
canonicalize (char **dirs, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char *real = realpath (dirs[i], NULL);
    if (!real)
      return error_errno (errno, "layer directory %s", dirs[i]);
    free (dirs[i]);
    dirs[i] = real;
  }
  return 0;
}

int
rootfs_split_lowerdir (const char *value, const char *base,
                       char ***dirsp, size_t *np)
{
  _cleanup_strv_ char **dirs = NULL;
  size_t n = 0;
  _cleanup_free_ char *cur = malloc (strlen (value) + 1);
  size_t len = 0;

  if (!cur)
    return error_errno (errno, "lowerdir");
  for (const char *p = value; ; p++) {
    if (*p == '\\' && p[1]) {
      cur[len++] = *++p;
      continue;
    }
    if (*p == ':' || *p == '\0') {
      if (len == 0)
        return error ("overlay lowerdir \"%s\" has an empty entry", value);
      cur[len] = '\0';
      if (push_dir (&dirs, &n, cur, base) == -1)
        return -1;
      len = 0;
      /* "::" starts the data-only layers: not in the visible tree. */
      if (*p == '\0' || (p[0] == ':' && p[1] == ':'))
        break;
      continue;
    }
    cur[len++] = *p;
  }
  *dirsp = steal_pointer (&dirs);
  *np = n;
  return 0;
}

/* containers/storage's overlay home: ROOT_PATH is HOME/ID/merged. */
static char *
overlay_home (const char *root_path)
{
  char *copy = strdup (root_path);
  if (!copy)
    return NULL;
  char *home = strdup (dirname (dirname (copy)));
  free (copy);
  return home;
}

/* fuse-overlayfs does not show its layers in the mount table, but
 * containers/storage keeps them next to the mount point: HOME/ID/diff is
 * the upper directory and HOME/ID/lower lists the lower ones.
 */
static int
storage_layers (const char *root_path, char ***dirsp, size_t *np)
{
  _cleanup_free_ char *home = overlay_home (root_path);
  _cleanup_free_ char *copy = strdup (root_path);
  _cleanup_free_ char *upper = NULL, *lowerfile = NULL, *lower = NULL;
  _cleanup_strv_ char **dirs = NULL, **lowers = NULL;
  size_t n = 0, nl = 0, len;

  if (!home || !copy)
    return error_errno (errno, "%s", root_path);
  const char *layer = dirname (copy);
  if (asprintf (&upper, "%s/diff", layer) == -1
      || asprintf (&lowerfile, "%s/lower", layer) == -1)
    return error_errno (errno, "%s", root_path);
  if (push (&dirs, &n, upper, strlen (upper)) == -1)
    return -1;
  if (access (lowerfile, F_OK) == 0) {
    if (read_all_file (lowerfile, 1 << 20, &lower, &len) == -1)
      return -1;
    while (len && (lower[len - 1] == '\n' || lower[len - 1] == ' '))
      lower[--len] = '\0';
    if (len && rootfs_split_lowerdir (lower, home, &lowers, &nl) == -1)
      return error_context ("%s", lowerfile);
    for (size_t i = 0; i < nl; i++)
      if (push (&dirs, &n, lowers[i], strlen (lowers[i])) == -1)
        return -1;
  }
  *dirsp = steal_pointer (&dirs);
  *np = n;
  return 0;
}

/* Value of option NAME in the superblock options OPTS, or NULL. */
static char *
mount_option (const char *opts, const char *name)
{
  char *val;
  size_t sz;

  if (!opts || sym_mnt_optstr_get_option (opts, name, &val, &sz) != 0 || !val)
    return NULL;
  return strndup (val, sz);
}

static int
overlay_layers (const char *root_path, const char *opts,
                char ***dirsp, size_t *np)
{
  _cleanup_free_ char *upper = mount_option (opts, "upperdir");
  _cleanup_free_ char *lower = mount_option (opts, "lowerdir");
  _cleanup_free_ char *home = overlay_home (root_path);
  _cleanup_strv_ char **dirs = NULL, **lowers = NULL;
  size_t n = 0, nl = 0;

  if (!lower)
    return error ("the overlay mounted at %s shows no lowerdir option", root_path);
  if (!home)
    return error_errno (errno, "%s", root_path);
  /* containers/storage mounts with paths relative to its overlay home
   * when the absolute ones would not fit in a page.
   */
  if (upper && push_dir (&dirs, &n, upper, home) == -1)
    return -1;
  if (rootfs_split_lowerdir (lower, home, &lowers, &nl) == -1)
    return error_context ("the overlay mounted at %s", root_path);
  for (size_t i = 0; i < nl; i++)
    if (push (&dirs, &n, lowers[i], strlen (lowers[i])) == -1)
      return -1;
  *dirsp = steal_pointer (&dirs);
  *np = n;
  return 0;
}

int
rootfs_layer_dirs (const char *root_path, char ***dirsp, size_t *np)
{
  char real[PATH_MAX];

  if (!realpath (root_path, real))
    return error_errno (errno, "the container's root filesystem %s", root_path);
  if (dl_libmount () == -1)
    return -1;
  /* Our own mount table is the runtime's: the hook runs in its mount
   * namespace (rootless podman's included).
   */
  struct libmnt_table *tb = sym_mnt_new_table_from_file ("/proc/self/mountinfo");
  if (!tb)
    return error ("cannot read /proc/self/mountinfo");
  /* The last mount on the path is the one that is seen. */
  struct libmnt_fs *fs = sym_mnt_table_find_target (tb, real, MNT_ITER_BACKWARD);
  const char *type = fs ? sym_mnt_fs_get_fstype (fs) : NULL;
  int r;

  if (type && strcmp (type, "overlay") == 0)
    r = overlay_layers (real, sym_mnt_fs_get_fs_options (fs), dirsp, np);
  else if (type && strcmp (type, "fuse.fuse-overlayfs") == 0)
    r = storage_layers (real, dirsp, np);
  else {
    /* vfs, or a plain directory given with --rootfs: the tree itself. */
    *np = 0;
    *dirsp = NULL;
    r = push (dirsp, np, real, strlen (real));
  }
  sym_mnt_unref_table (tb);
  if (r == 0 && canonicalize (*dirsp, *np) == -1) {
    strv_free (*dirsp);
    *dirsp = NULL;
    return -1;
  }
  return r;
}

/* containers/storage layer id of a layer directory HOME/ID/diff (the
 * lower ones are HOME/l/SHORT symlinks to ../ID/diff), or NULL.
 */
static char *
layer_id (const char *dir)
{
  char real[PATH_MAX];
  size_t n;

  if (!realpath (dir, real) || (n = strlen (real)) < 6
      || strcmp (real + n - 5, "/diff") != 0)
    return NULL;
  real[n - 5] = '\0';
  return strdup (strrchr (real, '/') + 1);
}

int
rootfs_locate (const char *root_path, const char *disk,
               struct disk_location *loc)
{
  _cleanup_strv_ char **dirs = NULL;
  _cleanup_free_ char *member = NULL, *host_path = NULL;
  _cleanup_close_ int fd = -1;
  struct tree t;
  struct tnode node = { .type = TN_NONE };
  size_t n, layer;
  struct stat sb;

  if (rootfs_layer_dirs (root_path, &dirs, &n) == -1)
    return -1;
  if (dirtree_open (&t, dirs, n) == -1)
    return -1;
  int r = -1;
  if (tree_pick_disk (&t, disk, &node, &member) == -1) {
    if (!disk)
      error_context ("no disk to export (the annotation io.podman-disk.disk=PATH "
                     "picks one)");
    goto out;
  }
  if (dirtree_open_file (&t, &node, &fd, &layer, &host_path) == -1)
    goto out;
  if (fstat (fd, &sb) == -1) {
    error_errno (errno, "%s", host_path);
    goto out;
  }
  loc->size = sb.st_size;
  loc->offset = 0;
  if (diskfmt_probe_fd (fd, 0, loc->size, &loc->fmt) == -1) {
    error_context ("%s in the container", member);
    goto out;
  }
  if ((loc->transport = strdup ("rootfs")) == NULL) {
    error_errno (errno, "location");
    goto out;
  }
  loc->layer = layer_id (dirs[layer]);
  loc->member = steal_pointer (&member);
  loc->file = steal_pointer (&host_path);
  loc->fd = steal_fd (&fd);
  r = 0;
 out:
  tnode_release (&t, &node);
  dirtree_close (&t);
  return r;
}
