/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: find the disk of a stored image, see disk.h.
 *
 * The layers of an image are a chain from its top layer down through
 * "parent".  overlay keeps a layer's files in <root>/overlay/<id>/diff, vfs
 * keeps the whole tree of the top layer in <root>/vfs/dir/<id>; either way
 * a stack of directories that dirtree merges with overlay's rules.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "image/dirtree.h"
#include "image/diskfmt.h"
#include "common/error.h"
#include "image/tree.h"
#include "storage/disk.h"

/* The layers of one image, top first. */
struct chain {
  char **ids;
  char **dirs;
  size_t n;
};

static void
chain_free (struct chain *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free (c->ids[i]);
    free (c->dirs[i]);
  }
  free (c->ids);
  free (c->dirs);
  memset (c, 0, sizeof *c);
}

static bool
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

static bool
is_dir (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISDIR (st.st_mode);
}

/* The directory holding the files of layer ID, stored in store S (or,
 * for overlay, found in another store's driver directory, as
 * containers/storage's overlay driver looks in its image stores too).
 */
static int
layer_dir (const struct store_set *set, size_t s, const char *id, char **out)
{
  char path[4096];

  for (size_t k = 0; k < set->n; k++) {
    /* The layer's own store first, then the others in order. */
    size_t i = k == 0 ? s : (k <= s ? k - 1 : k);
    const char *root = set->stores[i].root;
    if (strcmp (set->driver, "vfs") == 0) {
      snprintf (path, sizeof path, "%s/vfs/dir/%s", root, id);
      if (!is_dir (path))
        continue;
    }
    else {
      snprintf (path, sizeof path, "%s/overlay/%s/composefs-data", root, id);
      if (exists (path))
        return error ("layer %s is a composefs layer (%s): composefs layers "
                      "are not supported yet", id, path);
      snprintf (path, sizeof path, "%s/overlay/%s/diff", root, id);
      if (!is_dir (path))
        continue;
    }
    if ((*out = strdup (path)) == NULL)
      return error_errno (errno, "strdup");
    return 0;
  }
  if (strcmp (set->driver, "vfs") == 0)
    snprintf (path, sizeof path, "%s/vfs/dir/%s", set->stores[s].root, id);
  else
    snprintf (path, sizeof path, "%s/overlay/%s/diff", set->stores[s].root, id);
  return error_errno (errno, "layer %s has no directory (%s): is the store "
                      "damaged, or its driver not %s?", id, path, set->driver);
}

static int
chain_push (struct chain *c, const char *id, char *dir)
{
  char **ids = realloc (c->ids, (c->n + 1) * sizeof *ids);
  if (ids)
    c->ids = ids;
  char **dirs = realloc (c->dirs, (c->n + 1) * sizeof *dirs);
  if (dirs)
    c->dirs = dirs;
  char *copy = strdup (id);
  if (!ids || !dirs || !copy) {
    free (dir);
    free (copy);
    return error_errno (ENOMEM, "realloc");
  }
  c->ids[c->n] = copy;
  c->dirs[c->n] = dir;
  c->n++;
  return 0;
}

static size_t
total_layers (const struct store_set *set)
{
  size_t n = 0;
  for (size_t i = 0; i < set->n; i++)
    n += set->stores[i].nlayers;
  return n;
}

static int
layer_chain (const struct store_set *set, const struct st_image *img,
             struct chain *c)
{
  const char *id = img->top_layer;
  size_t store = img->store, max = total_layers (set);

  memset (c, 0, sizeof *c);
  if (!id)
    return error ("the image has no layers, so no disk");
  while (id) {
    size_t s;
    if (!storage_valid_layer_id (id))
      return error ("layer id '%s' is not 64 hex digits: the store is "
                    "damaged", id);
    const struct st_layer *l = store_set_find_layer (set, store, id, &s);
    if (!l)
      return error ("layer %s is not in the store's layers.json: the store "
                    "is damaged, or the image is being removed", id);
    if (l->incomplete)
      return error ("layer %s is incomplete (an interrupted pull or build): "
                    "pull the image again", id);
    for (size_t i = 0; i < c->n; i++)
      if (strcmp (c->ids[i], id) == 0)
        return error ("layer %s is its own ancestor: the store's layers.json "
                      "is damaged", id);
    if (c->n > max)
      return error ("the layer chain is longer than the store: damaged");
    char *dir;
    if (layer_dir (set, s, id, &dir) == -1 || chain_push (c, id, dir) == -1)
      return -1;
    id = l->parent;
    store = s;
  }
  /* vfs: every layer directory holds the whole tree up to it. */
  if (strcmp (set->driver, "vfs") == 0)
    while (c->n > 1) {
      c->n--;
      free (c->ids[c->n]);
      free (c->dirs[c->n]);
    }
  return 0;
}

static char **
strv_dup (char *const *v)
{
  size_t n = 0;
  while (v && v[n])
    n++;
  char **c = calloc (n + 1, sizeof *c);
  for (size_t i = 0; c && i < n; i++)
    if ((c[i] = strdup (v[i])) == NULL) {
      strv_free (c);
      return NULL;
    }
  return c;
}

/* The disk's node is found: open it, read its header, fill LOC. */
static int
open_disk (struct tree *t, const struct tnode *node, const struct chain *c,
           const struct st_image *img, char *member,
           struct disk_location *loc)
{
  _cleanup_close_ int fd = -1;
  _cleanup_free_ char *host = NULL;
  size_t layer;
  struct stat st;

  if (dirtree_open_file (t, node, &fd, &layer, &host) == -1)
    return -1;
  if (fstat (fd, &st) == -1)
    return error_errno (errno, "%s", host);
  struct disk_format_info fmt;
  if (diskfmt_probe_fd (fd, 0, st.st_size, &fmt) == -1)
    return error_context ("%s", member);

  loc->transport = strdup ("containers-storage");
  loc->image_id = strdup (img->id);
  loc->names = strv_dup (img->names);
  if (img->digests[0] && !(loc->digest = strdup (img->digests[0])))
    return error_errno (ENOMEM, "strdup");
  loc->layer = strdup (c->ids[layer]);
  loc->member = member;
  if (!loc->transport || !loc->image_id || !loc->names || !loc->layer)
    return error_errno (ENOMEM, "strdup");
  loc->file = steal_pointer (&host);
  loc->fd = steal_fd (&fd);
  loc->offset = 0;
  loc->size = st.st_size;
  loc->fmt = fmt;
  return 0;
}

/* Is the store holding IMG a rootless user's own (this user's), where a
 * file not readable by others belongs to its user namespace?
 */
static bool
in_own_rootless_store (const struct store_set *set, const struct st_image *img)
{
  struct stat st;
  return geteuid () != 0
    && stat (set->stores[img->store].root, &st) == 0
    && st.st_uid == geteuid ();
}

/* Room for fds to spare beside the layers' own. */
#define FD_SLACK 64

/* dirtree keeps one fd per layer directory while it looks: make room for
 * N of them under RLIMIT_NOFILE (raising the soft limit up to the hard
 * one, as podman does), or say that the image has too many layers.
 * *SAVED is the limit to put back, or .rlim_cur RLIM_INFINITY for none.
 */
static int
make_fd_room (size_t n, struct rlimit *saved)
{
  struct rlimit rl;

  saved->rlim_cur = RLIM_INFINITY;
  if (getrlimit (RLIMIT_NOFILE, &rl) == -1)
    return error_errno (errno, "getrlimit");
  rlim_t want = n + FD_SLACK;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= want)
    return 0;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
    return error ("the image has %zu layers: reading them takes %ju open "
                  "files, more than this process may open (ulimit -n: %ju)",
                  n, (uintmax_t) want, (uintmax_t) rl.rlim_max);
  struct rlimit raised = { .rlim_cur = want, .rlim_max = rl.rlim_max };
  if (setrlimit (RLIMIT_NOFILE, &raised) == -1)
    return error_errno (errno, "raising the open files limit to %ju for %zu "
                        "layers", (uintmax_t) want, n);
  debug ("%zu layers: open files limit raised from %ju to %ju", n,
         (uintmax_t) rl.rlim_cur, (uintmax_t) want);
  *saved = rl;
  return 0;
}

/* Put the limit back, and the disk's fd under it (it was opened while
 * every layer's was), so that what runs next sees the usual numbers.
 */
static void
restore_fd_room (const struct rlimit *saved, struct disk_location *loc)
{
  if (saved->rlim_cur == RLIM_INFINITY)
    return;
  if (loc->fd >= 0 && (rlim_t) loc->fd >= saved->rlim_cur) {
    int low = fcntl (loc->fd, F_DUPFD_CLOEXEC, 3);
    if (low >= 0) {
      close (loc->fd);
      loc->fd = low;
    }
  }
  setrlimit (RLIMIT_NOFILE, saved);
}

int
image_find_disk (const struct store_set *set, const struct st_image *img,
                 const struct locate_request *req, struct disk_location *loc)
{
  struct chain c;
  struct tree t = { 0 };
  struct tnode node = { 0 };
  char *member = NULL;
  int r = -1, e = 0;

  struct rlimit saved = { .rlim_cur = RLIM_INFINITY };

  if (layer_chain (set, img, &c) == -1 || make_fd_room (c.n, &saved) == -1)
    goto out;
  if (dirtree_open (&t, c.dirs, c.n) == -1)
    goto out;
  errno = 0;
  if (tree_pick_disk (&t, req->disk, &node, &member) == -1)
    e = errno;
  else {
    errno = 0;
    r = open_disk (&t, &node, &c, img, member, loc);
    e = errno;
    if (r == 0)
      member = NULL;     /* LOC owns it now */
    tnode_release (&t, &node);
  }
  if (r == -1 && e == EACCES && in_own_rootless_store (set, img))
    rootless_permission_error (error_message ());
  dirtree_close (&t);
 out:
  restore_fd_room (&saved, loc);
  free (member);
  chain_free (&c);
  return r;
}

int
store_set_images (const struct store_set *set, const struct st_image ***out,
                  size_t *n)
{
  size_t total = 0, k = 0;
  for (size_t i = 0; i < set->n; i++)
    total += set->stores[i].nimages;
  const struct st_image **v = calloc (total + 1, sizeof *v);
  if (!v)
    return error_errno (errno, "calloc");
  for (size_t i = 0; i < set->n; i++)
    for (size_t j = 0; j < set->stores[i].nimages; j++) {
      const struct st_image *img = &set->stores[i].images[j];
      bool seen = false;
      /* Only an additional store can repeat an ID of an earlier store. */
      for (size_t m = 0; i > 0 && m < k && !seen; m++)
        seen = strcmp (v[m]->id, img->id) == 0;
      if (!seen)
        v[k++] = img;
    }
  *out = v;
  *n = k;
  return 0;
}
