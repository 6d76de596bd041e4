/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: path resolution and the /disk/ rule inside an image tree.
 *
 * Everything here goes through struct tree_ops, one component at a time:
 * a symlink's target is spliced into the path still to walk, so symlinks
 * resolve inside the image ("/" is the image's root, ".." stops there) and
 * never on the host.  See tree.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "image/tree.h"

#define TREE_MAX_SYMLINKS 40      /* as Linux's MAXSYMLINKS */
#define TREE_MAX_DEPTH 256        /* directories deep */
#define TREE_MAX_PATH 16384       /* bytes of path still to walk */
#define TREE_NAME_MAX 255
#define PICK_MAX_LISTED 20        /* entries named in a "found:" list */

void
tnode_release (struct tree *t, struct tnode *node)
{
  if (t && t->ops && t->ops->release)
    t->ops->release (t->priv, node);
  memset (node, 0, sizeof *node);
}

/* Why a walk stopped short. */
enum walk_status {
  WALK_OK = 0,
  WALK_NOT_FOUND,
  WALK_NOT_DIR,
  WALK_LOOP,
  WALK_TOO_LONG,
  WALK_FAILED,          /* the backend failed: error () already set */
};

static const char *
walk_status_text (enum walk_status s)
{
  switch (s) {
  case WALK_NOT_FOUND: return "not found in the image";
  case WALK_NOT_DIR: return "not a directory";
  case WALK_LOOP: return "too many levels of symbolic links";
  case WALK_TOO_LONG: return "path too long or too deep";
  default: return "failed";
  }
}

/* The state of one resolution: the directories from the root down to the
 * current one (nodes[0] is the root), and the path still to walk.
 */
struct walk {
  struct tree *t;
  struct tnode nodes[TREE_MAX_DEPTH + 1];
  char *names[TREE_MAX_DEPTH + 1];     /* names[i]: name of nodes[i], i > 0 */
  size_t depth;
  char *rest;                          /* malloc'd */
  size_t pos;                          /* next byte of rest to walk */
  unsigned symlinks;
  char *failed_at;                     /* where it stopped, for messages */
};

static void
walk_pop (struct walk *w)
{
  tnode_release (w->t, &w->nodes[w->depth]);
  free (w->names[w->depth]);
  w->names[w->depth] = NULL;
  w->depth--;
}

static void
walk_free (struct walk *w)
{
  while (w->depth > 0)
    walk_pop (w);
  tnode_release (w->t, &w->nodes[0]);
  free (w->rest);
  free (w->failed_at);
}

/* "/a/b" for the current directory stack, plus EXTRA components. */
static char *
walk_path (const struct walk *w, const char *extra)
{
  size_t len = 2 + (extra ? strlen (extra) + 1 : 0);
  for (size_t i = 1; i <= w->depth; i++)
    len += strlen (w->names[i]) + 1;
  char *p = malloc (len), *q = p;
  if (!p)
    return NULL;
  for (size_t i = 1; i <= w->depth; i++)
    q += sprintf (q, "/%s", w->names[i]);
  if (extra && *extra)
    q += sprintf (q, "/%s", extra);
  if (q == p)
    strcpy (p, "/");
  return p;
}

/* Remember where the walk stopped: the directories so far, the component
 * COMP and what was left after it.
 */
static enum walk_status
walk_fail (struct walk *w, enum walk_status s, const char *comp, size_t len)
{
  _cleanup_free_ char *extra = NULL;
  const char *rest = w->rest + w->pos;

  while (*rest == '/')
    rest++;
  if (asprintf (&extra, "%.*s%s%s", (int) len, comp, *rest ? "/" : "",
                rest) == -1)
    extra = NULL;
  free (w->failed_at);
  w->failed_at = walk_path (w, extra);
  return s;
}

/* Replace what is left to walk by TARGET followed by it. */
static enum walk_status
walk_splice (struct walk *w, const char *target)
{
  const char *rest = w->rest + w->pos;
  size_t tlen = strlen (target), rlen = strlen (rest);

  if (tlen + rlen + 2 > TREE_MAX_PATH)
    return WALK_TOO_LONG;
  char *p = malloc (tlen + rlen + 2);
  if (!p) {
    error_errno (errno, "malloc");
    return WALK_FAILED;
  }
  /* No '/' after a last component: "target/" would show in messages. */
  memcpy (p, target, tlen);
  p[tlen] = '/';
  memcpy (p + tlen + (rlen > 0), rest, rlen + 1);
  free (w->rest);
  w->rest = p;
  w->pos = 0;
  if (target[0] == '/')
    while (w->depth > 0)
      walk_pop (w);
  return WALK_OK;
}

/* Walk one component NAME (LEN bytes) from the current directory. */
static enum walk_status
walk_component (struct walk *w, const char *comp, size_t len)
{
  struct tree *t = w->t;
  char name[TREE_NAME_MAX + 1];
  struct tnode child = { 0 };

  if (w->nodes[w->depth].type != TN_DIR)
    return walk_fail (w, WALK_NOT_DIR, comp, len);
  if (len == 1 && comp[0] == '.')
    return WALK_OK;
  if (len == 2 && comp[0] == '.' && comp[1] == '.') {
    if (w->depth > 0)
      walk_pop (w);
    return WALK_OK;
  }
  if (len > TREE_NAME_MAX)
    return walk_fail (w, WALK_TOO_LONG, comp, len);
  memcpy (name, comp, len);
  name[len] = '\0';

  if (t->ops->lookup (t->priv, &w->nodes[w->depth], name, &child) == -1)
    return WALK_FAILED;
  if (child.type == TN_NONE) {
    tnode_release (t, &child);
    return walk_fail (w, WALK_NOT_FOUND, comp, len);
  }
  if (child.type == TN_LNK) {
    enum walk_status s;
    if (++w->symlinks > TREE_MAX_SYMLINKS)
      s = walk_fail (w, WALK_LOOP, comp, len);
    else if (!child.link || !child.link[0])
      s = walk_fail (w, WALK_NOT_FOUND, comp, len);
    else
      s = walk_splice (w, child.link);
    tnode_release (t, &child);
    return s;
  }
  if (w->depth == TREE_MAX_DEPTH || !(w->names[w->depth + 1] = strdup (name))) {
    tnode_release (t, &child);
    return walk_fail (w, WALK_TOO_LONG, comp, len);
  }
  w->nodes[++w->depth] = child;
  return WALK_OK;
}

static enum walk_status
walk_all (struct walk *w)
{
  for (;;) {
    const char *p = w->rest + w->pos;
    while (*p == '/')
      p++;
    if (!*p)
      return WALK_OK;
    size_t len = strcspn (p, "/");
    w->pos = p + len - w->rest;
    enum walk_status s = walk_component (w, p, len);
    if (s != WALK_OK)
      return s;
  }
}

/* The resolution itself: on WALK_OK, OUT and *RESOLVED are set; otherwise
 * w->failed_at says where it stopped (WALK_FAILED: error () is set).
 */
static enum walk_status
resolve (struct walk *w, struct tree *t, const char *path,
         struct tnode *out, char **resolved)
{
  memset (w, 0, sizeof *w);
  w->t = t;
  if (strlen (path) + 1 > TREE_MAX_PATH)
    return WALK_TOO_LONG;
  if (!(w->rest = strdup (path))) {
    error_errno (errno, "strdup");
    return WALK_FAILED;
  }
  if (t->ops->root (t->priv, &w->nodes[0]) == -1)
    return WALK_FAILED;

  enum walk_status s = walk_all (w);
  if (s != WALK_OK)
    return s;
  if (!(*resolved = walk_path (w, NULL))) {
    error_errno (errno, "malloc");
    return WALK_FAILED;
  }
  *out = w->nodes[w->depth];
  memset (&w->nodes[w->depth], 0, sizeof *out);
  return WALK_OK;
}

/* "PATH: REASON", or "PATH (resolves to WHERE): REASON" once symlinks
 * took the walk elsewhere.
 */
static int
resolve_error (const struct walk *w, const char *path, enum walk_status s)
{
  if (s == WALK_FAILED)
    return error_context ("%s", path);
  if (w->symlinks && w->failed_at)
    return error ("%s (resolves to %s): %s", path, w->failed_at,
                  walk_status_text (s));
  return error ("%s: %s", path, walk_status_text (s));
}

int
tree_resolve (struct tree *t, const char *path,
              struct tnode *out, char **resolved)
{
  struct walk *w = malloc (sizeof *w);
  if (!w)
    return error_errno (errno, "malloc");

  memset (out, 0, sizeof *out);
  enum walk_status s = resolve (w, t, path, out, resolved);
  int r = s == WALK_OK ? 0 : resolve_error (w, path, s);
  walk_free (w);
  free (w);
  return r;
}

/* Like tree_resolve, but on a failure that is the image's (not found, a
 * loop, ...) return the reason instead of setting an error.
 */
static int
resolve_quietly (struct tree *t, const char *path, struct tnode *out,
                 char **resolved, enum walk_status *status)
{
  struct walk *w = malloc (sizeof *w);
  if (!w)
    return error_errno (errno, "malloc");

  memset (out, 0, sizeof *out);
  *status = resolve (w, t, path, out, resolved);
  if (*status == WALK_FAILED)
    error_context ("%s", path);
  walk_free (w);
  free (w);
  return *status == WALK_FAILED ? -1 : 0;
}

static const char *
type_text (enum tnode_type type)
{
  switch (type) {
  case TN_DIR: return "a directory";
  case TN_REG: return "a regular file";
  case TN_LNK: return "a symlink";
  case TN_NONE: return "absent";
  default: return "a device, fifo or socket";
  }
}

/* ---- the /disk/ rule ---- */

/* One entry of /disk/ and what it turned out to be. */
struct disk_entry {
  char *name;
  enum tnode_type type;
  char *link;                    /* TN_LNK: the target */
  char *member;                  /* resolves to a regular file: its path */
  char *why;                     /* otherwise: why not, for the message */
};

struct disk_entries {
  struct disk_entry *v;
  size_t n;
};

static void
disk_entries_free (struct disk_entries *e)
{
  for (size_t i = 0; i < e->n; i++) {
    free (e->v[i].name);
    free (e->v[i].link);
    free (e->v[i].member);
    free (e->v[i].why);
  }
  free (e->v);
}

static int
collect_entry (const char *name, const struct tnode *node, void *arg)
{
  struct disk_entries *e = arg;
  struct disk_entry *v = reallocarray (e->v, e->n + 1, sizeof *v);

  if (!v)
    return error_errno (errno, "malloc");
  e->v = v;
  v = &e->v[e->n];
  memset (v, 0, sizeof *v);
  v->type = node->type;
  v->name = strdup (name);
  if (node->type == TN_LNK)
    v->link = strdup (node->link ? node->link : "");
  if (!v->name || (node->type == TN_LNK && !v->link)) {
    free (v->name);
    free (v->link);
    return error_errno (errno, "malloc");
  }
  e->n++;
  return 0;
}

/* Decide what entry E of directory DIR (resolved, absolute) is: a disk
 * (e->member set) or not (e->why set).
 */
static int
classify_entry (struct tree *t, const char *dir, struct disk_entry *e)
{
  _cleanup_free_ char *path = NULL;
  struct tnode node;
  enum walk_status s;
  char *resolved = NULL;

  if (e->type != TN_REG && e->type != TN_LNK)
    return asprintf (&e->why, "%s", type_text (e->type)) == -1 ? -1 : 0;
  if (asprintf (&path, "%s/%s", strcmp (dir, "/") ? dir : "", e->name) == -1)
    return error_errno (errno, "malloc");
  if (resolve_quietly (t, path, &node, &resolved, &s) == -1)
    return -1;
  if (s != WALK_OK)
    return asprintf (&e->why, "%s", walk_status_text (s)) == -1 ? -1 : 0;
  if (node.type == TN_REG)
    e->member = resolved;
  else {
    free (resolved);
    if (asprintf (&e->why, "%s, not a regular file",
                  type_text (node.type)) == -1)
      e->why = NULL;
  }
  tnode_release (t, &node);
  return 0;
}

/* "a/ (a directory), b (symlink to /etc/x: not found in the image)" */
static char *
describe_entries (const struct disk_entries *e)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return NULL;
  for (size_t i = 0; i < e->n && i < PICK_MAX_LISTED; i++) {
    const struct disk_entry *d = &e->v[i];
    fprintf (f, "%s%s%s", i ? ", " : "", d->name, d->type == TN_DIR ? "/" : "");
    if (d->type == TN_LNK)
      fprintf (f, " (symlink to %s: %s)", d->link, d->why ? d->why : "?");
    else
      fprintf (f, " (%s)", d->why ? d->why : "?");
  }
  if (e->n > PICK_MAX_LISTED)
    fprintf (f, ", and %zu more", e->n - PICK_MAX_LISTED);
  fclose (f);
  return s;
}

/* Several entries may be one disk (disk.img and a symlink to it): is
 * entry I the one that stands for its disk?  The regular file does, else
 * the first symlink to it.
 */
static bool
is_new_disk (const struct disk_entries *e, size_t i)
{
  const struct disk_entry *d = &e->v[i];

  if (!d->member)
    return false;
  for (size_t j = 0; j < e->n; j++) {
    const struct disk_entry *o = &e->v[j];
    if (j == i || !o->member || strcmp (o->member, d->member))
      continue;
    bool o_reg = o->type == TN_REG, d_reg = d->type == TN_REG;
    if (o_reg != d_reg ? o_reg : j < i)
      return false;
  }
  return true;
}

static size_t
count_disks (const struct disk_entries *e, size_t *first)
{
  size_t n = 0;
  for (size_t i = 0; i < e->n; i++)
    if (is_new_disk (e, i) && n++ == 0)
      *first = i;
  return n;
}

static int
several_disks_error (const struct disk_entries *e)
{
  _cleanup_free_ char *s = NULL;
  size_t len = 0, listed = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return error_errno (errno, "open_memstream");
  for (size_t i = 0; i < e->n; i++) {
    if (!is_new_disk (e, i))
      continue;
    if (listed++ == PICK_MAX_LISTED) {
      fputs (", ...", f);
      break;
    }
    fprintf (f, "%s%s", listed > 1 ? ", " : "", e->v[i].name);
  }
  fclose (f);
  return error ("several disks under /disk/: %s; pick one with --disk PATH",
                s ? s : "?");
}

static int
no_disk_error (const struct disk_entries *e)
{
  if (e->n == 0)
    return error ("no regular file under /disk/ (the directory is empty): "
                  "is it a containerDisk? use --disk PATH");
  _cleanup_free_ char *found = describe_entries (e);
  return error ("no regular file under /disk/ (found: %s): "
                "is it a containerDisk? use --disk PATH",
                found ? found : "?");
}

static int
open_disk_dir (struct tree *t, struct tnode *dir, char **dirpath)
{
  enum walk_status s;

  if (resolve_quietly (t, "/disk", dir, dirpath, &s) == -1)
    return -1;
  if (s == WALK_OK && dir->type == TN_DIR)
    return 0;
  if (s == WALK_OK) {
    tnode_release (t, dir);
    free (*dirpath);
    *dirpath = NULL;
  }
  return error_not_container_disk ("the image has no /disk/ directory: is it "
                                   "a containerDisk? use --disk PATH");
}

static int
pick_from_disk_dir (struct tree *t, struct tnode *out, char **member)
{
  struct tnode dir;
  _cleanup_free_ char *dirpath = NULL;
  struct disk_entries e = { 0 };
  size_t first = 0, n;
  int r = -1;

  if (open_disk_dir (t, &dir, &dirpath) == -1)
    return -1;
  if (t->ops->readdir (t->priv, &dir, collect_entry, &e) != 0) {
    error_context ("reading /disk/");
    goto out;
  }
  for (size_t i = 0; i < e.n; i++)
    if (classify_entry (t, dirpath, &e.v[i]) == -1)
      goto out;
  n = count_disks (&e, &first);
  if (n == 0)
    no_disk_error (&e);
  else if (n > 1)
    several_disks_error (&e);
  else
    r = tree_resolve (t, e.v[first].member, out, member);
 out:
  tnode_release (t, &dir);
  disk_entries_free (&e);
  return r;
}

static int
pick_named (struct tree *t, const char *disk, struct tnode *out, char **member)
{
  _cleanup_free_ char *path = NULL;

  if (asprintf (&path, "%s%s", disk[0] == '/' ? "" : "/", disk) == -1)
    return error_errno (errno, "malloc");
  if (tree_resolve (t, path, out, member) == -1)
    return -1;
  if (out->type == TN_REG)
    return 0;

  if (strcmp (path, *member))
    error ("%s (resolves to %s): %s, not a regular file", path, *member,
           type_text (out->type));
  else
    error ("%s: %s, not a regular file", path, type_text (out->type));
  tnode_release (t, out);
  free (*member);
  *member = NULL;
  return -1;
}

int
tree_pick_disk (struct tree *t, const char *disk,
                struct tnode *out, char **member)
{
  memset (out, 0, sizeof *out);
  *member = NULL;
  if (disk)
    return pick_named (t, disk, out, member);
  return pick_from_disk_dir (t, out, member);
}
