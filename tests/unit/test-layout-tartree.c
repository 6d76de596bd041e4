/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the merged tar member index (src/image/tartree.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "image/tartree.h"

#include "unit.h"

static struct tartree *tt;
static struct tree tree;

static void
member (const char *name, enum tnode_type type, uint64_t offset,
        uint64_t size, const char *link, const char *hardlink)
{
  struct tar_member m = {
    .name = name, .type = type, .offset = offset, .size = size,
    .header_offset = offset - 512, .symlink = link, .hardlink = hardlink,
  };
  CHECK (tartree_add_member (&m, tt) != -1, "%s", name);
}
#define REG(name, off, size) member (name, TN_REG, off, size, NULL, NULL)
#define DIR(name) member (name, TN_DIR, 512, 0, NULL, NULL)
#define LNK(name, to) member (name, TN_LNK, 512, 0, to, NULL)
#define HLN(name, to) member (name, TN_REG, 512, 0, NULL, to)

/* Look PATH up component by component with the backend's own ops. */
static const struct tartree_entry *
find (const char *path)
{
  struct tnode node, next;
  char buf[256], *save, *c;

  tree.ops->root (tree.priv, &node);
  snprintf (buf, sizeof buf, "%s", path);
  for (c = strtok_r (buf, "/", &save); c; c = strtok_r (NULL, "/", &save)) {
    if (tree.ops->lookup (tree.priv, &node, c, &next) == -1)
      return NULL;
    tree.ops->release (tree.priv, &node);
    node = next;
    if (node.type == TN_NONE)
      return NULL;
  }
  const struct tartree_entry *e = tartree_node_entry (&node);
  tree.ops->release (tree.priv, &node);
  return e;
}

static int
collect (const char *name, const struct tnode *node, void *arg)
{
  char *s = arg;
  strcat (s, name);
  strcat (s, node->type == TN_DIR ? "/ " : node->type == TN_LNK ? "@ " : " ");
  return 0;
}

static const char *
list (const char *path)
{
  static char s[1024];
  struct tnode node;
  s[0] = '\0';
  const struct tartree_entry *e = path[0] ? find (path) : NULL;
  if (path[0] && !e)
    return "(none)";
  tree.ops->root (tree.priv, &node);
  if (e)
    node.priv = (void *) e, node.type = e->type;
  tree.ops->readdir (tree.priv, &node, collect, s);
  return s;
}

static void
begin (uint32_t layer, bool whiteouts)
{
  char name[32];
  snprintf (name, sizeof name, "layer sha256:layer%u", layer);
  CHECK (tartree_begin_layer (tt, layer, name, whiteouts) == 0);
}

static void
end (void)
{
  CHECK (tartree_end_layer (tt) != -1);
}

static void
test_layers (void)
{
  tt = tartree_new ();
  tartree_tree (tt, &tree);

  begin (0, true);
  DIR ("./");
  DIR ("./disk/");
  REG ("./disk/a.img", 1024, 10);
  REG ("./disk/b.img", 2048, 20);
  DIR ("etc");
  REG ("etc/x", 4096, 1);
  REG ("etc/sub/deep", 5120, 2);
  LNK ("lnk", "disk/a.img");
  DIR ("var/lib");
  REG ("var/lib/f", 6144, 3);
  REG ("replaced", 7168, 4);
  REG ("replaced", 8192, 5);          /* a later member wins */
  end ();

  begin (1, true);
  REG ("disk/.wh.b.img", 9216, 0);
  REG ("etc/.wh..wh..opq", 10240, 0);
  REG ("etc/y", 11264, 6);
  HLN ("hl", "disk/a.img");           /* to a lower layer */
  REG ("new/dir/f", 12288, 7);        /* parents implied */
  REG ("var", 13312, 8);              /* a file over a lower directory */
  HLN ("hl2", "new/dir/f");           /* to this layer */
  REG ("disk/.wh..wh.plnk", 0, 0);    /* aufs metadata: ignored */
  end ();

  const struct tartree_entry *e;
  CHECK ((e = find ("disk/a.img")) && e->type == TN_REG && e->offset == 1024
         && e->size == 10 && e->layer == 0);
  CHECK (find ("disk/b.img") == NULL);
  CHECK (find ("etc/x") == NULL);
  CHECK (find ("etc/sub") == NULL);
  CHECK (find ("etc/sub/deep") == NULL);
  CHECK ((e = find ("etc/y")) && e->offset == 11264 && e->layer == 1);
  CHECK ((e = find ("etc")) && e->type == TN_DIR);
  CHECK ((e = find ("lnk")) && e->type == TN_LNK && strcmp (e->link, "disk/a.img") == 0);
  CHECK ((e = find ("hl")) && e->type == TN_REG && e->offset == 1024
         && e->size == 10 && e->layer == 0 && e->header_offset == 512);
  CHECK ((e = find ("hl2")) && e->offset == 12288 && e->size == 7 && e->layer == 1);
  CHECK ((e = find ("new/dir")) && e->type == TN_DIR);
  CHECK ((e = find ("var")) && e->type == TN_REG && e->size == 8);
  CHECK (find ("var/lib/f") == NULL);
  CHECK ((e = find ("replaced")) && e->offset == 8192);
  CHECK (find ("disk/.wh..wh.plnk") == NULL);
  CHECK (strcmp (list (""), "disk/ etc/ hl hl2 lnk@ new/ replaced var ") == 0);
  CHECK (strcmp (list ("disk"), "a.img ") == 0);

  /* A whiteout and an opaque directory only hide lower layers. */
  begin (2, true);
  REG ("disk/c.img", 14336, 9);
  REG ("disk/.wh.c.img", 0, 0);
  REG (".wh..wh..opq", 0, 0);
  end ();
  CHECK ((e = find ("disk/c.img")) && e->layer == 2);
  CHECK (find ("disk/a.img") == NULL);
  CHECK (find ("etc") == NULL);
  CHECK (strcmp (list (""), "disk/ ") == 0);
  CHECK (tartree_size (tt) == 3);

  /* A symlink replaced by a directory implied by a member under it. */
  begin (3, true);
  LNK ("d", "/etc");
  end ();
  begin (4, true);
  REG ("d/f", 15360, 1);
  end ();
  begin (5, true);
  REG ("x/a/1", 16384, 1);
  REG ("x/b/2", 16896, 1);
  REG ("x/a/3", 17408, 1);
  end ();
  CHECK (strcmp (list ("x"), "a/ b/ ") == 0);
  CHECK (strcmp (list ("x/a"), "1 3 ") == 0);
  CHECK ((e = find ("d")) && e->type == TN_DIR && e->link == NULL);
  CHECK ((e = find ("d/f")) && e->offset == 15360);

  tartree_free (tt);
}

static void
expect_refused (const char *name, const char *hardlink, const char *text)
{
  struct tar_member m = { .name = name, .type = TN_REG, .hardlink = hardlink };
  tt = tartree_new ();
  begin (0, true);
  int r = tartree_add_member (&m, tt);
  if (r == 0)
    r = tartree_end_layer (tt);
  CHECK (r == -1, "%s", name);
  if (r == -1)
    CHECK (strstr (error_message (), text)
           && strstr (error_message (), "sha256:layer0"), "%s: wrong message", name);
  tartree_free (tt);
}

static void
test_refused (void)
{
  expect_refused ("../x", NULL, "climbs out");
  expect_refused ("disk/../../x", NULL, "climbs out");
  expect_refused ("./..", NULL, "climbs out");
  expect_refused ("/etc/passwd", NULL, "absolute");
  expect_refused ("hl", "../../etc/shadow", "climbs out");
  expect_refused ("disk/.wh..", NULL, "not a valid whiteout");

  /* Cleaning that stays inside is fine. */
  tt = tartree_new ();
  tartree_tree (tt, &tree);
  begin (0, true);
  REG ("a/../b//./c", 512, 1);
  end ();
  CHECK (find ("b/c") != NULL);
  tartree_free (tt);
}

/* Members whose data cannot be served are kept, flawed: the image stays
 * usable, and only a user of one of them is refused.
 */
static void
expect_flaw (const char *path, enum tar_flaw flaw, const char *text)
{
  const struct tartree_entry *e = find (path);
  CHECK (e && e->type == TN_REG && e->flaw == flaw, "%s: flaw %d", path,
         e ? (int) e->flaw : -1);
  if (!e)
    return;
  error_clear ();
  CHECK (tartree_entry_check (e, "layer sha256:layerN") == -1, "%s", path);
  CHECK (strstr (error_message (), text)
         && strstr (error_message (), "layer sha256:layerN: "),
         "%s: wrong message", path);
}

static void
test_flaws (void)
{
  tt = tartree_new ();
  tartree_tree (tt, &tree);
  begin (0, true);
  REG ("disk/disk.img", 1024, 10);
  struct tar_member sparse = {
    .name = "var/holes", .type = TN_REG, .offset = 2048,
    .header_offset = 1536, .size = 1 << 30, .flaw = TF_SPARSE,
  };
  CHECK (tartree_add_member (&sparse, tt) == 0);
  struct tar_member data = {
    .name = "var/datalink", .type = TN_REG, .offset = 4096,
    .header_offset = 3584, .hardlink = "disk/disk.img", .flaw = TF_LINK_DATA,
  };
  CHECK (tartree_add_member (&data, tt) == 0);
  HLN ("var/missing", "no/such/file");
  HLN ("var/self", "var/self");
  HLN ("var/loop1", "var/loop2");
  HLN ("var/loop2", "var/loop1");
  HLN ("var/todir", "disk");
  HLN ("var/tosparse", "var/holes");
  HLN ("var/good", "disk/disk.img");
  end ();
  begin (1, true);
  HLN ("var/lower-broken", "var/missing");
  REG ("var/loop1/f", 5120, 1);       /* a flawed link made a directory */
  end ();

  const struct tartree_entry *e;
  CHECK ((e = find ("disk/disk.img")) && e->flaw == TF_NONE
         && tartree_entry_check (e, "x") == 0);
  CHECK ((e = find ("var/good")) && e->flaw == TF_NONE && e->offset == 1024
         && e->hardlink == NULL);
  CHECK ((e = find ("var/loop1")) && e->type == TN_DIR && e->flaw == TF_NONE);
  expect_flaw ("var/holes", TF_SPARSE, "member 'var/holes' is a sparse file");
  expect_flaw ("var/holes", TF_SPARSE, TARSCAN_HINT);
  expect_flaw ("var/datalink", TF_LINK_DATA, "hard link with data of its own");
  expect_flaw ("var/missing", TF_LINK_BROKEN,
               "hard link 'var/missing' points to 'no/such/file', which is "
               "not a regular file");
  expect_flaw ("var/todir", TF_LINK_BROKEN, "points to 'disk'");
  expect_flaw ("var/self", TF_LINK_LOOP, "loop");
  expect_flaw ("var/loop2", TF_LINK_LOOP, "loop");
  expect_flaw ("var/tosparse", TF_SPARSE, "sparse");
  expect_flaw ("var/lower-broken", TF_LINK_BROKEN, "points to 'var/missing'");
  tartree_free (tt);
}

static void
test_no_whiteouts (void)
{
  tt = tartree_new ();
  tartree_tree (tt, &tree);
  begin (0, false);
  REG ("index.json", 512, 1);
  REG (".wh.index.json", 1024, 1);
  REG ("blobs/sha256/abc", 1536, 1);
  LNK ("blobs/sha256/def", "abc");
  end ();
  CHECK (find ("index.json") != NULL);
  CHECK (find (".wh.index.json") != NULL);
  CHECK (strcmp (list ("blobs/sha256"), "abc def@ ") == 0);
  tartree_free (tt);
}

int
main (void)
{
  test_layers ();
  test_refused ();
  test_flaws ();
  test_no_whiteouts ();
  return unit_summary ();
}
