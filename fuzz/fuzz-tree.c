/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: path resolution and the /disk/ rule (src/image/tree.c)
 * over an in-memory tree decoded from the input.
 *
 * Input: lines.  The first is a path (made absolute) to resolve and to pick
 * as --disk; the others are entries of the image:
 *   dPATH         a directory           fPATH   a regular file
 *   lPATH>TARGET  a symlink             oPATH   a device, fifo or socket
 * (directories on the way are made implicitly; an entry named "fail..."
 * makes the backend fail when it is looked up, to cover error paths).
 *
 * Properties: a resolved path is absolute and clean (no "//", "." or ".."
 * component, no trailing "/"), walking it in the tree without following
 * anything reaches directories only and ends at the very node returned;
 * a picked disk is a regular file; every failure is one printable line.
 */
#include <errno.h>
#include <stdbool.h>

#include "common/cleanup.h"
#include "image/tree.h"
#include "fuzz.h"

#define MAX_NODES 512
#define MAX_LINK 4096

struct fnode {
  char *name;
  size_t parent;
  enum tnode_type type;
  char *link;
};

struct ftree {
  struct fnode v[MAX_NODES];
  size_t n;
};

static void *
as_priv (size_t i)
{
  return (void *) (uintptr_t) (i + 1);
}

static size_t
index_of (const struct tnode *node)
{
  return (uintptr_t) node->priv - 1;
}

static size_t
find_child (const struct ftree *f, size_t dir, const char *name, size_t len)
{
  for (size_t i = 1; i < f->n; i++)
    if (f->v[i].parent == dir && strlen (f->v[i].name) == len &&
        memcmp (f->v[i].name, name, len) == 0)
      return i;
  return 0;
}

static void
fill (const struct ftree *f, size_t i, struct tnode *out)
{
  memset (out, 0, sizeof *out);
  out->type = f->v[i].type;
  out->size = i;
  out->priv = as_priv (i);
  if (f->v[i].type == TN_LNK && !(out->link = strdup (f->v[i].link)))
    abort ();
}

static int
f_root (void *priv, struct tnode *out)
{
  fill (priv, 0, out);
  return 0;
}

static int
f_lookup (void *priv, const struct tnode *dir, const char *name,
          struct tnode *out)
{
  struct ftree *f = priv;
  size_t i;

  FUZZ_CHECK (dir->type == TN_DIR && f->v[index_of (dir)].type == TN_DIR,
              "lookup in a non-directory");
  FUZZ_CHECK (name[0] && !strchr (name, '/') && strcmp (name, ".") &&
              strcmp (name, ".."), "lookup of the name '%s'", name);
  memset (out, 0, sizeof *out);
  if (strncmp (name, "fail", 4) == 0)
    return error ("backend failure on %s", name);
  if ((i = find_child (f, index_of (dir), name, strlen (name))))
    fill (f, i, out);
  return 0;
}

static int
by_name (const void *a, const void *b)
{
  const struct fnode *const *x = a, *const *y = b;
  return strcmp ((*x)->name, (*y)->name);
}

static int
f_readdir (void *priv, const struct tnode *dir, tree_readdir_cb cb, void *arg)
{
  struct ftree *f = priv;
  const struct fnode *kids[MAX_NODES];
  size_t n = 0, d = index_of (dir);
  int r = 0;

  FUZZ_CHECK (f->v[d].type == TN_DIR, "readdir of a non-directory");
  for (size_t i = 1; i < f->n; i++)
    if (f->v[i].parent == d)
      kids[n++] = &f->v[i];
  qsort (kids, n, sizeof kids[0], by_name);
  for (size_t i = 0; i < n && r == 0; i++) {
    struct tnode node;
    fill (f, kids[i] - f->v, &node);
    r = cb (kids[i]->name, &node, arg);
    free (node.link);
  }
  return r;
}

static void
f_release (void *priv _unused_, struct tnode *node)
{
  free (node->link);
  node->link = NULL;
}

static const struct tree_ops fake_ops = {
  .root = f_root, .lookup = f_lookup, .readdir = f_readdir,
  .release = f_release,
};

/* Add PATH (of LEN bytes) with TYPE; directories on the way are made. */
static void
add_entry (struct ftree *f, const char *path, size_t len,
           enum tnode_type type, const char *link, size_t linklen)
{
  size_t dir = 0, pos = 0;

  while (pos < len) {
    while (pos < len && path[pos] == '/')
      pos++;
    size_t start = pos;
    while (pos < len && path[pos] != '/')
      pos++;
    size_t clen = pos - start;
    bool last = pos >= len || strspn (path + pos, "/") == len - pos;
    if (clen == 0 || (clen == 1 && path[start] == '.') ||
        (clen == 2 && path[start] == '.' && path[start + 1] == '.') ||
        memchr (path + start, '\0', clen) || clen > 255)
      return;
    size_t i = find_child (f, dir, path + start, clen);
    if (i && !last) {
      if (f->v[i].type != TN_DIR)
        return;
      dir = i;
      continue;
    }
    if (i || f->n == MAX_NODES)
      return;
    struct fnode *e = &f->v[f->n];
    e->parent = dir;
    e->type = last ? type : TN_DIR;
    if (!(e->name = strndup (path + start, clen)))
      abort ();
    if (last && type == TN_LNK && !(e->link = strndup (link, linklen)))
      abort ();
    dir = f->n++;
  }
}

static void
decode (struct ftree *f, const char *s, size_t size)
{
  const char *end = s + size;

  f->v[0].type = TN_DIR;
  f->v[0].name = strdup ("");
  f->n = 1;
  while (s < end) {
    const char *nl = memchr (s, '\n', end - s), *eol = nl ? nl : end;
    const char *gt = memchr (s, '>', eol - s);
    enum tnode_type type = TN_NONE;
    switch (*s) {
    case 'd': type = TN_DIR; break;
    case 'f': type = TN_REG; break;
    case 'o': type = TN_OTHER; break;
    case 'l': if (gt && eol - gt - 1 <= MAX_LINK) type = TN_LNK; break;
    }
    if (type != TN_NONE)
      add_entry (f, s + 1, (type == TN_LNK ? gt : eol) - s - 1, type,
                 type == TN_LNK ? gt + 1 : NULL,
                 type == TN_LNK ? eol - gt - 1 : 0);
    s = nl ? nl + 1 : end;
  }
}

static void
check_resolved (struct ftree *f, const char *path, const struct tnode *node)
{
  size_t at = 0;

  FUZZ_CHECK (path[0] == '/', "resolved path '%s' is not absolute", path);
  FUZZ_CHECK (path[1] == '\0' || path[strlen (path) - 1] != '/',
              "resolved path '%s' ends with /", path);
  for (const char *p = path + 1; *p; ) {
    size_t len = strcspn (p, "/");
    FUZZ_CHECK (len > 0, "empty component in '%s'", path);
    FUZZ_CHECK (!(len == 1 && p[0] == '.') &&
                !(len == 2 && p[0] == '.' && p[1] == '.'),
                "'.' or '..' in resolved path '%s'", path);
    FUZZ_CHECK (f->v[at].type == TN_DIR, "'%s' goes through a non-directory",
                path);
    at = find_child (f, at, p, len);
    FUZZ_CHECK (at != 0, "resolved path '%s' is not in the tree", path);
    p += len + (p[len] == '/');
  }
  FUZZ_CHECK (at == index_of (node) && node->type == f->v[at].type,
              "resolved path '%s' is not the node returned", path);
  FUZZ_CHECK (node->type != TN_LNK && node->type != TN_NONE,
              "resolved to a %s", node->type == TN_LNK ? "symlink" : "none");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static struct ftree f;
  struct tree t = { .ops = &fake_ops, .priv = &f };
  size_t qlen;
  struct tnode node;
  char *path, *query, *out;

  if (memchr (data, '\0', size))
    return -1;                  /* names never hold NUL */
  /* strcspn above may read past SIZE when there is no '\n': copy first. */
  char *copy = fuzz_strndup (data, size);
  qlen = strcspn (copy, "\n");
  query = strndup (copy, qlen);
  if (!query || asprintf (&path, "/%s", query) == -1)
    abort ();
  memset (&f, 0, sizeof f);
  decode (&f, copy + qlen, size - qlen);

  error_clear ();
  if (tree_resolve (&t, path, &node, &out) == 0) {
    check_resolved (&f, out, &node);
    tnode_release (&t, &node);
    free (out);
  }
  else
    fuzz_check_error_message ();

  for (int named = 0; named < 2; named++) {
    error_clear ();
    if (tree_pick_disk (&t, named ? query : NULL, &node, &out) == 0) {
      FUZZ_CHECK (node.type == TN_REG, "picked a non-regular file");
      check_resolved (&f, out, &node);
      tnode_release (&t, &node);
      free (out);
    }
    else
      fuzz_check_error_message ();
  }

  for (size_t i = 0; i < f.n; i++) {
    free (f.v[i].name);
    free (f.v[i].link);
  }
  free (path);
  free (query);
  free (copy);
  return 0;
}
