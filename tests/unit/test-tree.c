/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: tree resolution and the /disk/ rule over layer directories
 * (src/image/tree.c, src/image/dirtree.c), on real directories built in
 * a temporary directory with whiteouts, opaque directories and hostile
 * symlinks.  Needs root for the 0:0 character device whiteouts and the
 * trusted.* xattr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
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
#include "image/tree.h"

#include "unit.h"

static char top[] = "/tmp/test-tree.XXXXXX";
static int case_no;
static char *layer_paths[100];

static void
die (const char *what, const char *path)
{
  fprintf (stderr, "test setup: %s %s: %m\n", what, path);
  exit (1);
}

/* ---- building layer directories ---- */

static char *
path_of (const char *layer, const char *rel)
{
  static char buf[4][4096];
  static int i;
  i = (i + 1) % 4;
  snprintf (buf[i], sizeof buf[i], "%s/%s", layer, rel);
  return buf[i];
}

static char *
new_layer (void)
{
  char *p;
  if (asprintf (&p, "%s/layer%d", top, case_no++) == -1)
    exit (1);
  if (mkdir (p, 0755) == -1)
    die ("mkdir", p);
  return layer_paths[case_no - 1] = p;
}

static void
mk_dir (const char *layer, const char *rel)
{
  char *p = path_of (layer, rel);
  if (mkdir (p, 0755) == -1 && errno != EEXIST)
    die ("mkdir", p);
}

static void
mk_file (const char *layer, const char *rel, const char *content)
{
  char *p = path_of (layer, rel);
  FILE *f = fopen (p, "w");
  if (!f || fputs (content, f) < 0 || fclose (f) != 0)
    die ("write", p);
}

static void
mk_link (const char *layer, const char *rel, const char *target)
{
  char *p = path_of (layer, rel);
  if (symlink (target, p) == -1)
    die ("symlink", p);
}

static void
mk_whiteout (const char *layer, const char *rel)
{
  char *p = path_of (layer, rel);
  if (mknod (p, S_IFCHR | 0600, makedev (0, 0)) == -1)
    die ("mknod", p);
}

static void
mk_opaque_xattr (const char *layer, const char *rel, const char *name)
{
  char *p = path_of (layer, rel);
  if (setxattr (p, name, "y", 1, 0) == -1)
    die ("setxattr", p);
}

/* ---- checks ---- */

struct result {
  int r;
  char *member;
  char *host_path;
  size_t layer;
  char content[64];
  char error[4096];
};

/* Pick the disk of LAYERS (top first, NULL-terminated) and read it. */
static struct result
pick (char **layers, const char *disk)
{
  struct result res = { 0 };
  struct tree t;
  struct tnode node;
  size_t n = 0;

  while (layers[n])
    n++;
  error_clear ();
  if (dirtree_open (&t, layers, n) == -1) {
    res.r = -1;
    snprintf (res.error, sizeof res.error, "%s", error_message ());
    return res;
  }
  res.r = tree_pick_disk (&t, disk, &node, &res.member);
  if (res.r == 0) {
    int fd;
    res.r = dirtree_open_file (&t, &node, &fd, &res.layer, &res.host_path);
    if (res.r == 0) {
      ssize_t len = read (fd, res.content, sizeof res.content - 1);
      res.content[len > 0 ? len : 0] = '\0';
      close (fd);
    }
    tnode_release (&t, &node);
  }
  if (res.r == -1)
    snprintf (res.error, sizeof res.error, "%s", error_message ());
  dirtree_close (&t);
  return res;
}

static void
expect_disk (const char *what, char **layers, const char *disk,
             const char *member, const char *content, size_t layer)
{
  struct result r = pick (layers, disk);
  char *host = path_of (layers[layer], member + 1);

  check (r.r == 0 && !strcmp (r.member, member) && !strcmp (r.content, content)
         && r.layer == layer && !strcmp (r.host_path, host),
         "%s: member %s content \"%s\" layer %zu (got %s%s \"%s\" %zu %s)",
         what, member, content, layer,
         r.r == 0 ? "" : r.error, r.member ? r.member : "", r.content,
         r.layer, r.host_path ? r.host_path : "");
  free (r.member);
  free (r.host_path);
}

static void
expect_error (const char *what, char **layers, const char *disk,
              const char *message)
{
  struct result r = pick (layers, disk);

  check (r.r == -1 && !strcmp (r.error, message),
         "%s: error \"%s\"%s%s", what, message,
         r.r == -1 && !strcmp (r.error, message) ? "" : " got: ",
         r.r == -1 ? (!strcmp (r.error, message) ? "" : r.error)
         : "success");
  free (r.member);
  free (r.host_path);
}

#define LAYERS(...) ((char *[]) { __VA_ARGS__, NULL })

/* ---- the cases ---- */

static void
test_single_layer (void)
{
  char *l = new_layer ();
  mk_dir (l, "disk");
  mk_file (l, "disk/disk.img", "raw disk");
  expect_disk ("single layer", LAYERS (l), NULL, "/disk/disk.img",
               "raw disk", 0);
  expect_disk ("--disk /disk/disk.img", LAYERS (l), "/disk/disk.img",
               "/disk/disk.img", "raw disk", 0);
  expect_disk ("--disk without leading slash", LAYERS (l), "disk/disk.img",
               "/disk/disk.img", "raw disk", 0);
  expect_disk ("--disk with .. above the root", LAYERS (l),
               "/../../disk/./../disk/disk.img/", "/disk/disk.img", "raw disk", 0);
  expect_error ("--disk absent", LAYERS (l), "/disk/other.img",
                "/disk/other.img: not found in the image");
  expect_error ("--disk a directory", LAYERS (l), "/disk",
                "/disk: a directory, not a regular file");
  expect_error ("--disk through a file", LAYERS (l), "/disk/disk.img/x",
                "/disk/disk.img/x: not a directory");
  expect_error ("--disk the root", LAYERS (l), "",
                "/: a directory, not a regular file");
}

static void
test_whiteouts (void)
{
  char *lower = new_layer (), *upper = new_layer ();
  mk_dir (lower, "disk");
  mk_file (lower, "disk/old.img", "old");
  mk_dir (upper, "disk");
  mk_whiteout (upper, "disk/old.img");
  mk_file (upper, "disk/new.img", "new");
  expect_disk ("upper whiteout (0:0 device) + new disk", LAYERS (upper, lower),
               NULL, "/disk/new.img", "new", 0);
  expect_error ("whited-out disk by --disk", LAYERS (upper, lower),
                "/disk/old.img", "/disk/old.img: not found in the image");
  expect_disk ("lower layer alone", LAYERS (lower), NULL, "/disk/old.img",
               "old", 0);

  char *up2 = new_layer ();
  mk_dir (up2, "disk");
  mk_file (up2, "disk/.wh.old.img", "");
  mk_file (up2, "disk/new.img", "new2");
  expect_disk ("upper .wh. file + new disk", LAYERS (up2, lower), NULL,
               "/disk/new.img", "new2", 0);
  expect_error ("--disk of a .wh. file", LAYERS (up2, lower),
                "/disk/.wh.old.img", "/disk/.wh.old.img: not found in the image");

  /* A directory in the upper layer without opaque marker merges. */
  char *up3 = new_layer ();
  mk_dir (up3, "disk");
  mk_dir (up3, "etc");
  expect_disk ("merged /disk/ from the lower layer", LAYERS (up3, lower),
               NULL, "/disk/old.img", "old", 1);

  /* Whiteout of the whole /disk directory. */
  char *up4 = new_layer ();
  mk_whiteout (up4, "disk");
  expect_error ("/disk whited out", LAYERS (up4, lower), NULL,
                "the image has no /disk/ directory: is it a containerDisk? "
                "use --disk PATH");
  /* Whiteout of a directory, then the directory made again above it. */
  char *up5 = new_layer ();
  mk_dir (up5, "disk");
  mk_file (up5, "disk/again.img", "again");
  expect_disk ("/disk recreated over a whiteout", LAYERS (up5, up4, lower),
               NULL, "/disk/again.img", "again", 0);
  /* An entry and its own .wh. in one layer: the entry stays, lower gone. */
  char *up6 = new_layer ();
  mk_dir (up6, "disk");
  mk_file (up6, "disk/same.img", "same");
  mk_file (up6, ".wh.disk", "");
  expect_disk ("dir and .wh.dir in one layer", LAYERS (up6, lower), NULL,
               "/disk/same.img", "same", 0);
}

static void
test_opaque (void)
{
  char *lower = new_layer ();
  mk_dir (lower, "disk");
  mk_file (lower, "disk/a.img", "a");

  const char *xattrs[] = { "trusted.overlay.opaque", "user.overlay.opaque" };
  for (int i = 0; i < 2; i++) {
    char *upper = new_layer ();
    mk_dir (upper, "disk");
    mk_file (upper, "disk/b.img", "b");
    mk_opaque_xattr (upper, "disk", xattrs[i]);
    expect_disk (xattrs[i], LAYERS (upper, lower), NULL, "/disk/b.img", "b", 0);
    expect_error (xattrs[i], LAYERS (upper, lower), "/disk/a.img",
                  "/disk/a.img: not found in the image");
  }

  char *upper = new_layer ();
  mk_dir (upper, "disk");
  mk_file (upper, "disk/.wh..wh..opq", "");
  mk_file (upper, "disk/c.img", "c");
  expect_disk (".wh..wh..opq", LAYERS (upper, lower), NULL, "/disk/c.img",
               "c", 0);

  /* Opaque but empty: nothing left. */
  char *empty = new_layer ();
  mk_dir (empty, "disk");
  mk_file (empty, "disk/.wh..wh..opq", "");
  expect_error ("opaque empty /disk", LAYERS (empty, lower), NULL,
                "no regular file under /disk/ (the directory is empty): "
                "is it a containerDisk? use --disk PATH");

  /* An opaque root hides every lower layer. */
  char *root = new_layer ();
  mk_file (root, ".wh..wh..opq", "");
  expect_error ("opaque root", LAYERS (root, lower), NULL,
                "the image has no /disk/ directory: is it a containerDisk? "
                "use --disk PATH");
}

static void
test_upper_nondir (void)
{
  char *lower = new_layer (), *upper = new_layer ();
  mk_dir (lower, "disk");
  mk_file (lower, "disk/a.img", "a");
  mk_file (upper, "disk", "not a dir");
  expect_error ("upper file hides lower /disk/", LAYERS (upper, lower), NULL,
                "the image has no /disk/ directory: is it a containerDisk? "
                "use --disk PATH");
  expect_error ("upper file hides lower /disk/a.img", LAYERS (upper, lower),
                "/disk/a.img", "/disk/a.img: not a directory");

  char *lower2 = new_layer (), *upper2 = new_layer ();
  mk_file (lower2, "disk", "a file");
  mk_dir (upper2, "disk");
  mk_file (upper2, "disk/x.img", "x");
  expect_disk ("upper dir over lower file", LAYERS (upper2, lower2), NULL,
               "/disk/x.img", "x", 0);
}

static void
test_symlinks (void)
{
  char *l = new_layer ();
  mk_dir (l, "disk");
  mk_dir (l, "images");
  mk_file (l, "images/real.img", "real");
  mk_link (l, "disk/d", "../images/real.img");
  expect_disk ("relative symlink inside the image", LAYERS (l), NULL,
               "/images/real.img", "real", 0);
  /* A disk and a symlink to it are one disk. */
  mk_file (l, "disk/disk.img", "disk");
  mk_link (l, "disk/alias", "disk.img");
  expect_error ("several disks", LAYERS (l), NULL,
                "several disks under /disk/: d, disk.img; pick one with "
                "--disk PATH");
  expect_disk ("--disk through a symlink", LAYERS (l), "/disk/alias",
               "/disk/disk.img", "disk", 0);

  char *a = new_layer ();
  mk_dir (a, "disk");
  mk_link (a, "disk/latest", "disk.img");
  mk_link (a, "disk/abs", "/disk/disk.img");
  mk_file (a, "disk/disk.img", "one");
  expect_disk ("a disk and symlinks to it are one disk", LAYERS (a), NULL,
               "/disk/disk.img", "one", 0);

  char *h = new_layer ();
  mk_dir (h, "disk");
  mk_link (h, "disk/shadow", "/etc/shadow");
  mk_link (h, "disk/passwd", "../../../../etc/passwd");
  mk_link (h, "disk/self", "self");
  mk_link (h, "disk/ping", "pong");
  mk_link (h, "disk/pong", "ping");
  mk_link (h, "disk/dir", "/etc");
  mk_link (h, "disk/empty", "../e");
  mk_dir (h, "etc");
  mk_dir (h, "disk/sub");
  expect_error ("hostile symlinks, no disk", LAYERS (h), NULL,
                "no regular file under /disk/ (found: dir (symlink to /etc: "
                "a directory, not a regular file), empty (symlink to ../e: "
                "not found in the image), passwd (symlink to "
                "../../../../etc/passwd: not found in the image), ping "
                "(symlink to pong: too many levels of symbolic links), pong "
                "(symlink to ping: too many levels of symbolic links), self "
                "(symlink to self: too many levels of symbolic links), "
                "shadow (symlink to /etc/shadow: not found in the image), "
                "sub/ (a directory)): is it a containerDisk? use --disk PATH");
  expect_error ("--disk symlink to /etc/shadow", LAYERS (h), "/disk/shadow",
                "/disk/shadow (resolves to /etc/shadow): not found in the "
                "image");
  expect_error ("--disk symlink to ../../../../etc/passwd", LAYERS (h),
                "/disk/passwd",
                "/disk/passwd (resolves to /etc/passwd): not found in the "
                "image");
  expect_error ("--disk symlink to itself", LAYERS (h), "/disk/self",
                "/disk/self (resolves to /disk/self): too many levels of "
                "symbolic links");
  expect_error ("--disk symlink loop", LAYERS (h), "/disk/ping",
                "/disk/ping (resolves to /disk/ping): too many levels of "
                "symbolic links");
  expect_error ("--disk symlink to a directory", LAYERS (h), "/disk/dir",
                "/disk/dir (resolves to /etc): a directory, not a regular "
                "file");
  expect_error ("--disk /etc/shadow", LAYERS (h), "/etc/shadow",
                "/etc/shadow: not found in the image");

  /* The image's own /etc/passwd is what the symlink reaches. */
  mk_file (h, "etc/passwd", "image passwd");
  expect_disk ("symlink escaping upwards lands in the image", LAYERS (h),
               "/disk/passwd", "/etc/passwd", "image passwd", 0);

  /* /disk itself a symlink, inside the image. */
  char *s = new_layer ();
  mk_dir (s, "data");
  mk_dir (s, "data/disks");
  mk_file (s, "data/disks/vm.qcow2", "vm");
  mk_link (s, "disk", "data/disks");
  expect_disk ("/disk is a symlink", LAYERS (s), NULL,
               "/data/disks/vm.qcow2", "vm", 0);
  char *s2 = new_layer ();
  mk_link (s2, "disk", "/etc");
  expect_error ("/disk a symlink to the host's /etc", LAYERS (s2), NULL,
                "the image has no /disk/ directory: is it a containerDisk? "
                "use --disk PATH");
  /* Lower layer symlink, upper regular file over its target. */
  char *s3 = new_layer ();
  mk_dir (s3, "data");
  mk_dir (s3, "data/disks");
  mk_file (s3, "data/disks/vm.qcow2", "upper vm");
  expect_disk ("symlink in lower, target in upper", LAYERS (s3, s), NULL,
               "/data/disks/vm.qcow2", "upper vm", 0);
}

static void
test_host_symlinks (void)
{
  /* A host directory outside every layer, holding a tempting disk. */
  char *outside = new_layer ();
  mk_dir (outside, "disk");
  mk_file (outside, "disk/host.img", "HOST");

  /* The layer's "disk" is a host symlink to it: read as a symlink of the
   * image, resolved inside the image, where that path does not exist.
   */
  char *l = new_layer ();
  mk_link (l, "disk", path_of (outside, "disk"));
  expect_error ("host symlink as /disk", LAYERS (l), NULL,
                "the image has no /disk/ directory: is it a containerDisk? "
                "use --disk PATH");

  struct tree t;
  struct tnode root, node;
  dirtree_open (&t, LAYERS (l), 1);
  t.ops->root (t.priv, &root);
  int r = t.ops->lookup (t.priv, &root, "disk", &node);
  check (r == 0 && node.type == TN_LNK && !strcmp (node.link,
                                                   path_of (outside, "disk")),
         "lookup of a host symlink gives the symlink, not its target");
  tnode_release (&t, &node);
  r = t.ops->lookup (t.priv, &root, "..", &node);
  check (r == -1, "lookup of \"..\" refused: %s", error_message ());
  r = t.ops->lookup (t.priv, &root, "a/b", &node);
  check (r == -1, "lookup of \"a/b\" refused: %s", error_message ());
  tnode_release (&t, &root);
  dirtree_close (&t);

  /* Swapped after the lookup: a directory on the path, then the file
   * itself, replaced by host symlinks.  The open must not follow them.
   */
  char *sw = new_layer ();
  mk_dir (sw, "disk");
  mk_file (sw, "disk/disk.img", "original");
  dirtree_open (&t, LAYERS (sw), 1);
  char *member;
  r = tree_pick_disk (&t, NULL, &node, &member);
  check (r == 0, "picked before the swap");
  if (r == 0) {
    char moved[4096];
    snprintf (moved, sizeof moved, "%s", path_of (sw, "moved"));
    if (rename (path_of (sw, "disk"), moved) == -1)
      die ("rename", moved);
    mk_link (sw, "disk", path_of (outside, "disk"));
    mk_link (outside, "disk/disk.img", "host.img");
    int fd = -1;
    size_t layer;
    char *hp = NULL;
    r = dirtree_open_file (&t, &node, &fd, &layer, &hp);
    check (r == -1, "directory swapped for a host symlink: open refused (%s)",
           error_message ());
    unlink (path_of (sw, "disk"));
    rename (moved, path_of (sw, "disk"));
    unlink (path_of (sw, "disk/disk.img"));
    mk_link (sw, "disk/disk.img", path_of (outside, "disk/host.img"));
    r = dirtree_open_file (&t, &node, &fd, &layer, &hp);
    check (r == -1, "file swapped for a host symlink: open refused (%s)",
           error_message ());
    unlink (path_of (sw, "disk/disk.img"));
    mkfifo (path_of (sw, "disk/disk.img"), 0600);
    r = dirtree_open_file (&t, &node, &fd, &layer, &hp);
    check (r == -1, "file swapped for a fifo: open refused, no hang (%s)",
           error_message ());
    tnode_release (&t, &node);
    free (member);
  }
  dirtree_close (&t);

  check (dirtree_open (&t, LAYERS (path_of (top, "nonexistent")), 1) == -1,
         "missing layer directory: %s", error_message ());
}

static void
test_listing (void)
{
  char *l = new_layer ();
  mk_dir (l, "disk");
  mk_file (l, "disk/b.img", "b");
  mk_file (l, "disk/a.img", "a");
  mk_file (l, "disk/c.img", "c");
  mkfifo (path_of (l, "disk/fifo"), 0600);
  expect_error ("several disks", LAYERS (l), NULL,
                "several disks under /disk/: a.img, b.img, c.img; pick one "
                "with --disk PATH");
  expect_disk ("--disk picks one of several", LAYERS (l), "/disk/b.img",
               "/disk/b.img", "b", 0);
  expect_error ("--disk a fifo", LAYERS (l), "/disk/fifo",
                "/disk/fifo: a device, fifo or socket, not a regular file");

  char *n = new_layer ();
  mk_dir (n, "etc");
  expect_error ("no /disk", LAYERS (n), NULL,
                "the image has no /disk/ directory: is it a containerDisk? "
                "use --disk PATH");
  mk_dir (n, "disk");
  mk_dir (n, "disk/sub");
  mkfifo (path_of (n, "disk/fifo"), 0600);
  expect_error ("only a directory and a fifo", LAYERS (n), NULL,
                "no regular file under /disk/ (found: fifo (a device, fifo or "
                "socket), sub/ (a directory)): is it a containerDisk? use "
                "--disk PATH");
  mk_file (n, "disk/.wh.ghost", "");
  mk_whiteout (n, "disk/ghost2");
  expect_error ("whiteouts are not listed", LAYERS (n), NULL,
                "no regular file under /disk/ (found: fifo (a device, fifo or "
                "socket), sub/ (a directory)): is it a containerDisk? use "
                "--disk PATH");
}

static void
test_deep (void)
{
  /* 41 chained symlinks: one too many. */
  char *l = new_layer ();
  mk_dir (l, "disk");
  mk_file (l, "disk/end.img", "end");
  char name[64], target[64];
  for (int i = 0; i < 41; i++) {
    snprintf (name, sizeof name, "disk/l%d", i);
    if (i == 40)
      snprintf (target, sizeof target, "end.img");
    else
      snprintf (target, sizeof target, "l%d", i + 1);
    mk_link (l, name, target);
  }
  expect_disk ("40 symlinks are fine", LAYERS (l), "/disk/l1",
               "/disk/end.img", "end", 0);
  expect_error ("41 symlinks are too many", LAYERS (l), "/disk/l0",
                "/disk/l0 (resolves to /disk/l40): too many levels of "
                "symbolic links");

  /* A long name and a very deep path are refused, not crashed on. */
  char longname[300];
  memset (longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  char p[400];
  snprintf (p, sizeof p, "/disk/%s", longname);
  struct result r = pick (LAYERS (l), p);
  check (r.r == -1 && strstr (r.error, "too long"), "long name: %s", r.error);
  static char deep[5000];
  for (int i = 0; i < 1000; i++)
    strcat (deep, "/a");
  r = pick (LAYERS (l), deep);
  check (r.r == -1 && strstr (r.error, "not found"), "deep path: %.60s...",
         r.error);
  mk_link (l, "a", ".");
  r = pick (LAYERS (l), deep);
  check (r.r == -1 && strstr (r.error, "too many levels"),
         "deep path through a symlink to '.': %.60s...", r.error);
}

static int
count_fds (void)
{
  int n = 0;
  DIR *d = opendir ("/proc/self/fd");
  if (!d)
    return -1;
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

static int
rm_entry (const char *path, const struct stat *st _unused_, int flag _unused_,
          struct FTW *ftw _unused_)
{
  return remove (path);
}

int
main (void)
{
  if (geteuid () != 0) {
    printf ("SKIP: needs root (0:0 character devices, trusted.* xattrs)\n");
    return 77;
  }
  if (!mkdtemp (top))
    die ("mkdtemp", top);
  int fds = count_fds ();

  test_single_layer ();
  test_whiteouts ();
  test_opaque ();
  test_upper_nondir ();
  test_symlinks ();
  test_host_symlinks ();
  test_listing ();
  test_deep ();
  check (count_fds () == fds, "no fd left open (%d before, %d after)", fds,
         count_fds ());

  nftw (top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  for (int i = 0; i < case_no; i++)
    free (layer_paths[i]);
  return unit_summary ();
}
