/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a merged index of tar members as an image tree, see tartree.h.
 *
 * The index is one array of entries sorted by path, compared as if '/' were
 * the lowest character: a directory's subtree then follows it contiguously,
 * so a whiteout or an opaque directory hides a range, readdir walks a
 * range, and adding a layer is a sort of its members plus a linear merge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "image/tartree.h"

/* An image with more members than this is refused: memory stays bounded
 * (a large distribution image has about 10^5).
 */
#define MAX_ENTRIES (4u << 20)
#define MAX_PATH_LEN 4096

enum {
  K_ENTRY,          /* a member: file, dir, link, device */
  K_WHITEOUT,       /* .wh.NAME: path is the NAME it deletes */
  K_OPAQUE,         /* .wh..wh..opq: path is the directory */
};

struct vec {
  struct tartree_entry *v;
  size_t n, alloc;
};

struct tartree {
  struct vec tree;         /* the merged layers, sorted; v[0] is the root */
  struct vec layer;        /* the members of the layer being added */
  char *layer_name;
  uint32_t layer_index;
  uint32_t seq;
  bool whiteouts;
};

/* A path hiding lower entries: itself, what is under it, or both. */
struct hider {
  const char *path;
  bool self, subtree;
};

static int
path_cmp (const char *a, const char *b)
{
  while (*a && *a == *b)
    a++, b++;
  if (*a == *b)
    return 0;
  int ca = *a == '/' ? 1 : *a ? (unsigned char) *a + 1 : 0;
  int cb = *b == '/' ? 1 : *b ? (unsigned char) *b + 1 : 0;
  return ca < cb ? -1 : 1;
}

/* Is P strictly under directory DIR ("" is the root)? */
static bool
is_under (const char *p, const char *dir)
{
  size_t len = strlen (dir);
  if (len == 0)
    return p[0] != '\0';
  return strncmp (p, dir, len) == 0 && p[len] == '/';
}

static void
entry_free (struct tartree_entry *e)
{
  free (e->path);
  free (e->link);
  free (e->hardlink);
  memset (e, 0, sizeof *e);
}

static void
vec_clear (struct vec *v)
{
  for (size_t i = 0; i < v->n; i++)
    entry_free (&v->v[i]);
  free (v->v);
  memset (v, 0, sizeof *v);
}

static int
vec_push (struct vec *v, const struct tartree_entry *e)
{
  if (v->n == v->alloc) {
    size_t alloc = v->alloc ? v->alloc * 2 : 64;
    struct tartree_entry *nv = reallocarray (v->v, alloc, sizeof *nv);
    if (!nv)
      return error_errno (errno, "tar index");
    v->v = nv;
    v->alloc = alloc;
  }
  v->v[v->n++] = *e;
  return 0;
}

static struct tartree_entry *
vec_find (const struct vec *v, const char *path)
{
  size_t lo = 0, hi = v->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = path_cmp (path, v->v[mid].path);
    if (c == 0)
      return &v->v[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

static int
entry_cmp (const void *a, const void *b)
{
  const struct tartree_entry *x = a, *y = b;
  int c = path_cmp (x->path, y->path);
  if (c)
    return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct tartree *
tartree_new (void)
{
  struct tartree *tt = calloc (1, sizeof *tt);
  struct tartree_entry root = { .type = TN_DIR };

  if (!tt || (root.path = strdup ("")) == NULL || vec_push (&tt->tree, &root) == -1) {
    free (root.path);
    free (tt);
    error_errno (ENOMEM, "tar index");
    return NULL;
  }
  return tt;
}

void
tartree_free (struct tartree *tt)
{
  if (!tt)
    return;
  vec_clear (&tt->tree);
  vec_clear (&tt->layer);
  free (tt->layer_name);
  free (tt);
}

size_t
tartree_size (const struct tartree *tt)
{
  return tt->tree.n;
}

int
tartree_begin_layer (struct tartree *tt, uint32_t layer, const char *name,
                     bool whiteouts)
{
  vec_clear (&tt->layer);
  free (tt->layer_name);
  if ((tt->layer_name = strdup (name)) == NULL)
    return error_errno (errno, "tar index");
  tt->layer_index = layer;
  tt->seq = 0;
  tt->whiteouts = whiteouts;
  return 0;
}

/* NAME cleaned as filepath.Clean does, relative to the root ("./a//b/../c/"
 * is "a/c", "." is ""): -1 when it is absolute or climbs out of the root.
 */
static int
clean_name (const struct tartree *tt, const char *what, const char *name,
            char **out)
{
  size_t len = strlen (name), n = 0;
  char *buf;

  if (name[0] == '/')
    return error ("%s: %s '%s' is an absolute path: refused (a tar "
                  "member must stay inside the image)", tt->layer_name, what, name);
  if (len > MAX_PATH_LEN)
    return error ("%s: %s '%.64s...' is longer than %d bytes",
                  tt->layer_name, what, name, MAX_PATH_LEN);
  if ((buf = malloc (len + 1)) == NULL)
    return error_errno (errno, "tar index");
  for (const char *p = name; *p; ) {
    const char *s = p;
    while (*p && *p != '/')
      p++;
    size_t clen = p - s;
    if (*p)
      p++;
    if (clen == 0 || (clen == 1 && s[0] == '.'))
      continue;
    if (clen == 2 && s[0] == '.' && s[1] == '.') {
      if (n == 0) {
        free (buf);
        return error ("%s: %s '%s' climbs out of the image root: "
                      "refused", tt->layer_name, what, name);
      }
      while (n > 0 && buf[n - 1] != '/')
        n--;
      if (n > 0)
        n--;
      continue;
    }
    if (n)
      buf[n++] = '/';
    memcpy (buf + n, s, clen);
    n += clen;
  }
  buf[n] = '\0';
  *out = buf;
  return 0;
}

/* Turn a ".wh." member into the whiteout or opaque marker it stands for;
 * 0 and *SKIP for other ".wh..wh." names (aufs metadata, meaningless here).
 */
static int
whiteout_entry (struct tartree *tt, struct tartree_entry *e, const char *name,
                bool *skip)
{
  char *slash = strrchr (e->path, '/');
  char *base = slash ? slash + 1 : e->path;

  if (strcmp (base, ".wh..wh..opq") == 0) {
    e->kind = K_OPAQUE;
    *(slash ? slash : e->path) = '\0';
  }
  else if (strncmp (base, ".wh..wh.", 8) == 0)
    *skip = true;
  else {
    const char *target = base + 4;
    if (!*target || strcmp (target, ".") == 0 || strcmp (target, "..") == 0)
      return error ("%s: member '%s' is not a valid whiteout",
                    tt->layer_name, name);
    memmove (base, target, strlen (target) + 1);
    e->kind = K_WHITEOUT;
  }
  e->type = TN_NONE;
  return 0;
}

int
tartree_add_member (const struct tar_member *m, void *arg)
{
  struct tartree *tt = arg;
  struct tartree_entry e = {
    .type = m->type, .size = m->size, .offset = m->offset,
    .header_offset = m->header_offset, .layer = tt->layer_index,
    .seq = tt->seq, .flaw = m->flaw, .kind = K_ENTRY,
  };
  bool skip = false;

  if (tt->tree.n + tt->layer.n >= MAX_ENTRIES)
    return error ("%s: more than %u members in the image: refused",
                  tt->layer_name, MAX_ENTRIES);
  if (clean_name (tt, "member", m->name, &e.path) == -1)
    return -1;
  if (e.path[0] == '\0') {      /* the root itself: nothing to index */
    free (e.path);
    return 0;
  }
  const char *base = strrchr (e.path, '/');
  base = base ? base + 1 : e.path;
  if (tt->whiteouts && strncmp (base, ".wh.", 4) == 0) {
    if (whiteout_entry (tt, &e, m->name, &skip) == -1 || skip) {
      free (e.path);
      return skip ? 0 : -1;
    }
  }
  else if (m->hardlink) {
    if (clean_name (tt, "hard link target of", m->hardlink, &e.hardlink) == -1) {
      entry_free (&e);
      return -1;
    }
  }
  else if (m->type == TN_LNK && (e.link = strdup (m->symlink)) == NULL) {
    entry_free (&e);
    return error_errno (errno, "tar index");
  }
  if (vec_push (&tt->layer, &e) == -1) {
    entry_free (&e);
    return -1;
  }
  tt->seq++;
  return 0;
}

/* Sort the layer's members and keep the last of each path and kind. */
static void
dedupe_layer (struct vec *l)
{
  size_t out = 0;

  /* Layers written by walking a directory tree in name order (podman's
   * are) come sorted already.
   */
  size_t k = 1;
  while (k < l->n && entry_cmp (&l->v[k - 1], &l->v[k]) <= 0)
    k++;
  if (k < l->n)
    qsort (l->v, l->n, sizeof l->v[0], entry_cmp);
  for (size_t i = 0; i < l->n; i++) {
    /* A later member of the same path replaces this one; whiteouts and
     * entries of one path coexist (the whiteout is for the lower layers).
     */
    size_t j = i + 1;
    while (j < l->n && strcmp (l->v[j].path, l->v[i].path) == 0
           && l->v[j].kind != l->v[i].kind)
      j++;
    if (j < l->n && strcmp (l->v[j].path, l->v[i].path) == 0) {
      entry_free (&l->v[i]);
      continue;
    }
    l->v[out++] = l->v[i];
  }
  l->n = out;
}

/* The member (not a whiteout marker, which may share its path) of PATH
 * among the first N entries of the sorted, deduplicated layer L.
 */
static struct tartree_entry *
layer_find (const struct vec *l, size_t n, const char *path)
{
  struct vec first = { .v = l->v, .n = n };
  struct tartree_entry *e = vec_find (&first, path), *end = l->v + n;

  if (!e)
    return NULL;
  while (e > l->v && strcmp (e[-1].path, path) == 0)
    e--;
  for (; e < end && strcmp (e->path, path) == 0; e++)
    if (e->kind == K_ENTRY)
      return e;
  return NULL;
}

/* Give hard link E its target's data.  A link to no regular file of
 * this or a lower layer, or in a loop, is kept with a flaw and its
 * target, as is one whose target has a flaw: refused only if used.
 */
static void
resolve_hardlink (struct tartree *tt, struct tartree_entry *e, int depth)
{
  struct tartree_entry *t;

  if (!e->hardlink || e->flaw != TF_NONE)
    return;
  if (depth > 32
      || (t = layer_find (&tt->layer, tt->layer.n, e->hardlink)) == e) {
    e->flaw = TF_LINK_LOOP;
    return;
  }
  if (t)
    resolve_hardlink (tt, t, depth + 1);
  else
    t = vec_find (&tt->tree, e->hardlink);
  if (!t || t->type != TN_REG) {
    e->flaw = TF_LINK_BROKEN;
    return;
  }
  e->size = t->size;
  e->offset = t->offset;
  e->header_offset = t->header_offset;
  e->layer = t->layer;
  e->flaw = t->flaw;
  if (e->flaw == TF_NONE) {
    free (e->hardlink);
    e->hardlink = NULL;
  }
}

int
tartree_entry_check (const struct tartree_entry *e, const char *what)
{
  switch (e->flaw) {
  case TF_NONE:
    return 0;
  case TF_SPARSE:
    return error ("%s: member '%s' is a sparse file: its bytes are not "
                  "stored contiguously and cannot be served in place; "
                  "rebuild the image without tar --sparse or " TARSCAN_HINT,
                  what, e->path);
  case TF_LINK_DATA:
    return error ("%s: member '%s' is a hard link with data of its own: "
                  "not supported", what, e->path);
  case TF_LINK_BROKEN:
    return error ("%s: hard link '%s' points to '%s', which is not a "
                  "regular file of this or a lower layer", what, e->path,
                  e->hardlink ? e->hardlink : "?");
  case TF_LINK_LOOP:
    return error ("%s: hard link '%s' is in a loop of hard links (or a "
                  "chain of more than 32)", what, e->path);
  }
  return error ("%s: member '%s' cannot be served", what, e->path);
}

/* Make directory PATH (LEN bytes) exist in the layer: the member of that
 * path among the first N (sorted) becomes a directory if it is not one,
 * or an implied directory is added.
 */
static int
ensure_dir (struct tartree *tt, const char *path, size_t len, size_t n,
            bool *added)
{
  char key[MAX_PATH_LEN + 1];
  struct tartree_entry *e;

  memcpy (key, path, len);
  key[len] = '\0';
  if ((e = layer_find (&tt->layer, n, key)) != NULL) {
    if (e->type != TN_DIR) {
      free (e->link);
      free (e->hardlink);
      e->link = e->hardlink = NULL;
      e->type = TN_DIR;
      e->size = 0;
      e->flaw = TF_NONE;
    }
    return 0;
  }
  struct tartree_entry d = {
    .type = TN_DIR, .layer = tt->layer_index, .kind = K_ENTRY,
    .seq = UINT32_MAX,
  };
  if ((d.path = strdup (key)) == NULL || vec_push (&tt->layer, &d) == -1) {
    free (d.path);
    return error_errno (ENOMEM, "tar index");
  }
  *added = true;
  return 0;
}

/* Every entry's parent directories, so that the layer is a tree on its
 * own: missing ones are added, and a non-directory of this layer that has
 * members under it becomes a directory (as extracting the tar would do).
 */
static int
add_parents (struct tartree *tt)
{
  struct vec *l = &tt->layer;
  size_t n = l->n, done_len = 0;
  const char *done = NULL;     /* a directory made sure of, with its parents */
  bool added = false;

  for (size_t i = 0; i < n; i++) {
    const char *path = l->v[i].path, *slash;
    /* An opaque marker's path is its directory, which must exist too. */
    size_t len = l->v[i].kind == K_OPAQUE ? strlen (path)
      : (slash = strrchr (path, '/')) ? (size_t) (slash - path) : 0;
    const char *first = path;
    size_t first_len = len;

    /* Members of one directory come together: most parents were just
     * made sure of.
     */
    while (len > 0 && !(done && len == done_len && !memcmp (path, done, len))) {
      if (ensure_dir (tt, path, len, n, &added) == -1)
        return -1;
      slash = memrchr (path, '/', len);
      len = slash ? (size_t) (slash - path) : 0;
    }
    if (first_len > 0) {
      done = first;
      done_len = first_len;
    }
  }
  if (added) {
    /* Sort the implied directories in; one directory may have been implied
     * by several members.
     */
    qsort (l->v, l->n, sizeof l->v[0], entry_cmp);
    dedupe_layer (l);
  }
  return 0;
}

/* What the layer hides of the lower ones, sorted by path. */
static struct hider *
layer_hiders (const struct vec *l)
{
  struct hider *h = malloc ((l->n + 1) * sizeof *h);
  if (!h) {
    error_errno (errno, "tar index");
    return NULL;
  }
  for (size_t i = 0; i < l->n; i++) {
    const struct tartree_entry *e = &l->v[i];
    h[i].path = e->path;
    switch (e->kind) {
    case K_OPAQUE: h[i].self = false; h[i].subtree = true; break;
    case K_WHITEOUT: h[i].self = true; h[i].subtree = true; break;
    default:
      /* An entry replaces its lower namesake; a non-directory also hides
       * the lower directory's contents.
       */
      h[i].self = true;
      h[i].subtree = e->type != TN_DIR;
      break;
    }
  }
  /* Already in path order: the layer is sorted. */
  return h;
}

/* Drop the lower entries the layer hides: one sweep over both sorted
 * lists, remembering the outermost subtree being hidden.
 */
static void
hide_lower (struct vec *tree, const struct hider *h, size_t nh)
{
  const struct hider *active = NULL;
  size_t hi = 0, out = 1;

  for (size_t i = 1; i < tree->n; i++) {
    struct tartree_entry *e = &tree->v[i];
    bool hidden = false;
    int c;
    while (hi < nh && (c = path_cmp (h[hi].path, e->path)) <= 0) {
      if (c == 0 && h[hi].self)
        hidden = true;
      if (h[hi].subtree && !(active && is_under (h[hi].path, active->path)))
        active = &h[hi];
      hi++;
    }
    if (active && is_under (e->path, active->path))
      hidden = true;
    if (hidden)
      entry_free (e);
    else
      tree->v[out++] = *e;
  }
  tree->n = out;
}

/* Merge the sorted layer entries (markers dropped) into the tree. */
static int
merge_layer (struct vec *tree, struct vec *l)
{
  size_t n = tree->n, i = 1, j = 0, out = 1;
  struct tartree_entry *v = malloc ((n + l->n) * sizeof *v);

  if (!v)
    return error_errno (errno, "tar index");
  v[0] = tree->v[0];
  while (i < n || j < l->n) {
    if (j < l->n && l->v[j].kind != K_ENTRY) {
      entry_free (&l->v[j++]);
      continue;
    }
    if (j == l->n || (i < n && path_cmp (tree->v[i].path, l->v[j].path) < 0))
      v[out++] = tree->v[i++];
    else
      v[out++] = l->v[j++];
  }
  free (tree->v);
  tree->v = v;
  tree->n = out;
  tree->alloc = n + l->n;
  l->n = 0;
  return 0;
}

int
tartree_end_layer (struct tartree *tt)
{
  struct vec *l = &tt->layer;

  dedupe_layer (l);
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].kind == K_ENTRY)
      resolve_hardlink (tt, &l->v[i], 0);
  if (add_parents (tt) == -1)
    return -1;

  _cleanup_free_ struct hider *h = layer_hiders (l);
  if (!h)
    return -1;
  if (tt->tree.n > 1)
    hide_lower (&tt->tree, h, l->n);
  return merge_layer (&tt->tree, l);
}

/* The tree operations. */

static void
entry_node (const struct tartree_entry *e, struct tnode *out)
{
  *out = (struct tnode) {
    .type = e->type,
    .size = e->type == TN_REG ? e->size : 0,
    .priv = (void *) e,
  };
}

static int
op_root (void *priv, struct tnode *out)
{
  struct tartree *tt = priv;
  entry_node (&tt->tree.v[0], out);
  return 0;
}

static int
op_lookup (void *priv, const struct tnode *dir, const char *name,
           struct tnode *out)
{
  struct tartree *tt = priv;
  const struct tartree_entry *d = dir->priv;
  _cleanup_free_ char *path = NULL;

  memset (out, 0, sizeof *out);
  if (d->type != TN_DIR)
    return 0;
  if (asprintf (&path, "%s%s%s", d->path, d->path[0] ? "/" : "", name) == -1) {
    path = NULL;
    return error_errno (errno, "tar index");
  }
  const struct tartree_entry *e = vec_find (&tt->tree, path);
  if (!e)
    return 0;
  entry_node (e, out);
  if (e->link && (out->link = strdup (e->link)) == NULL)
    return error_errno (errno, "tar index");
  return 0;
}

static int
op_readdir (void *priv, const struct tnode *dir, tree_readdir_cb cb, void *arg)
{
  struct tartree *tt = priv;
  const struct tartree_entry *d = dir->priv;
  size_t len = strlen (d->path);

  if (d->type != TN_DIR)
    return 0;
  /* The subtree follows the directory; its children are the entries with
   * no further '/', already in name order.
   */
  for (const struct tartree_entry *e = d + 1;
       e < tt->tree.v + tt->tree.n && is_under (e->path, d->path); e++) {
    const char *name = e->path + len + (len ? 1 : 0);
    if (strchr (name, '/'))
      continue;
    struct tnode node;
    entry_node (e, &node);
    node.link = e->link;        /* borrowed for the callback */
    int r = cb (name, &node, arg);
    if (r)
      return r;
  }
  return 0;
}

static void
op_release (void *priv _unused_, struct tnode *node)
{
  free (node->link);
  node->link = NULL;
  node->priv = NULL;
}

static const struct tree_ops tartree_ops = {
  .root = op_root,
  .lookup = op_lookup,
  .readdir = op_readdir,
  .release = op_release,
};

void
tartree_tree (struct tartree *tt, struct tree *t)
{
  t->ops = &tartree_ops;
  t->priv = tt;
}

const struct tartree_entry *
tartree_node_entry (const struct tnode *node)
{
  return node->priv;
}
