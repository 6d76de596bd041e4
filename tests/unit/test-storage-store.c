/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: a containers/storage store as podman-disk reads it
 * (src/storage/store.c, lock.c, disk.c): read locks that keep podman's
 * writers out while held, volatile layers, additional image stores, the
 * layer chain and its damage (missing, incomplete, cyclic, composefs),
 * driver detection, and that nothing is ever written into the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/disk.h"
#include "storage/store.h"

#include "unit.h"

static char top[] = "/tmp/test-storage-store.XXXXXX";

static void __attribute__ ((format (printf, 2, 3)))
put (const char *text, const char *fmt, ...)
{
  char path[4096];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (path, sizeof path, fmt, ap);
  va_end (ap);
  char *slash = strrchr (path, '/');
  *slash = '\0';
  unit_mkdirs (path);
  *slash = '/';
  FILE *f = fopen (path, "w");
  if (!f || fputs (text, f) == EOF || fclose (f) == EOF) {
    fprintf (stderr, "setup: %s: %m\n", path);
    exit (1);
  }
}

/* Layer ids: 64 hex digits made of one repeated digit. */
static const char *
lid (char c)
{
  static char ids[16][65];
  static int i;
  i = (i + 1) % 16;
  memset (ids[i], c, 64);
  ids[i][64] = '\0';
  return ids[i];
}

static char root[4096], runroot[4096], extra[4096];

static void
build_store (void)
{
  char json[8192];

  snprintf (root, sizeof root, "%s/root", top);
  snprintf (runroot, sizeof runroot, "%s/runroot", top);
  snprintf (extra, sizeof extra, "%s/extra", top);

  /* Layer 1 on layer 2; 3 incomplete; 4 on a missing 5; 6 and 7 a cycle;
   * 8 composefs; 9 volatile.
   */
  snprintf (json, sizeof json,
            "[{\"id\":\"%s\",\"parent\":\"%s\"},{\"id\":\"%s\"},"
            "{\"id\":\"%s\",\"flags\":{\"incomplete\":true}},"
            "{\"id\":\"%s\",\"parent\":\"%s\"},"
            "{\"id\":\"%s\",\"parent\":\"%s\"},{\"id\":\"%s\",\"parent\":\"%s\"},"
            "{\"id\":\"%s\"}]",
            lid ('1'), lid ('2'), lid ('2'), lid ('3'), lid ('4'), lid ('5'),
            lid ('6'), lid ('7'), lid ('7'), lid ('6'), lid ('8'));
  put (json, "%s/overlay-layers/layers.json", root);
  snprintf (json, sizeof json, "[{\"id\":\"%s\"}]", lid ('9'));
  put (json, "%s/overlay-layers/volatile-layers.json", runroot);
  put ("", "%s/overlay-layers/layers.lock", root);
  put ("", "%s/overlay-images/images.lock", root);

  put ("lower disk\n", "%s/overlay/%s/diff/disk/old.img", root, lid ('2'));
  put ("", "%s/overlay/%s/diff/disk/.wh.old.img", root, lid ('1'));
  put ("upper disk bytes\n", "%s/overlay/%s/diff/disk/new.img", root, lid ('1'));
  put ("x", "%s/overlay/%s/diff/disk/a.img", root, lid ('3'));
  put ("x", "%s/overlay/%s/diff/disk/a.img", root, lid ('4'));
  put ("x", "%s/overlay/%s/diff/disk/a.img", root, lid ('6'));
  put ("x", "%s/overlay/%s/diff/disk/a.img", root, lid ('7'));
  put ("x", "%s/overlay/%s/composefs-data/composefs.blob", root, lid ('8'));
  unit_mkdirs (strcat (strcpy (json, root), "/overlay/8888888888888888888888888888888888888888888888888888888888888888/diff"));
  put ("volatile\n", "%s/overlay/%s/diff/disk/v.img", root, lid ('9'));

  snprintf (json, sizeof json,
            "[{\"id\":\"i1\",\"names\":[\"localhost/one:latest\"],\"layer\":\"%s\"},"
            "{\"id\":\"i2\",\"layer\":\"%s\"},{\"id\":\"i3\",\"layer\":\"%s\"},"
            "{\"id\":\"i4\",\"layer\":\"%s\"},{\"id\":\"i5\"},"
            "{\"id\":\"i6\",\"layer\":\"%s\"},{\"id\":\"i7\",\"layer\":\"../x\"},"
            "{\"id\":\"i8\",\"layer\":\"%s\"},{\"id\":\"i9\",\"layer\":\"%s\"}]",
            lid ('1'), lid ('3'), lid ('4'), lid ('6'), lid ('8'), lid ('9'),
            lid ('a'));
  put (json, "%s/overlay-images/images.json", root);

  /* An additional image store: its own image on its own layer, a copy
   * of i1 (the main store's wins), no lock files.
   */
  snprintf (json, sizeof json,
            "[{\"id\":\"x1\",\"names\":[\"quay.io/extra:1\"],\"layer\":\"%s\"},"
            "{\"id\":\"i1\",\"names\":[\"shadow:1\"],\"layer\":\"%s\"}]",
            lid ('a'), lid ('a'));
  put (json, "%s/overlay-images/images.json", extra);
  snprintf (json, sizeof json, "[{\"id\":\"%s\"}]", lid ('a'));
  put (json, "%s/overlay-layers/layers.json", extra);
  put ("extra disk\n", "%s/overlay/%s/diff/disk/e.img", extra, lid ('a'));
}

/* A writer (another process, as podman) trying to lock PATH for writing
 * without waiting: 0 if it could, 1 if a reader holds it.
 */
static int
writer_blocked (const char *path)
{
  pid_t pid = fork ();
  if (pid == 0) {
    int fd = open (path, O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fd == -1)
      _exit (2);
    _exit (fcntl (fd, F_SETLK, &fl) == -1
           && (errno == EAGAIN || errno == EACCES) ? 1 : 0);
  }
  int status;
  waitpid (pid, &status, 0);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 3;
}

/* Every path and mtime under DIR, to see that nothing changed. */
static char snapshot_buf[65536];
static size_t snapshot_len;

static int
snap_entry (const char *path, const struct stat *st, int flag _unused_,
            struct FTW *ftw _unused_)
{
  snapshot_len += snprintf (snapshot_buf + snapshot_len,
                            sizeof snapshot_buf - snapshot_len, "%s %ld.%ld %ld\n",
                            path, (long) st->st_mtim.tv_sec,
                            (long) st->st_mtim.tv_nsec, (long) st->st_size);
  return snapshot_len >= sizeof snapshot_buf;
}

static char *
snapshot (void)
{
  snapshot_len = 0;
  snapshot_buf[0] = '\0';
  nftw (top, snap_entry, 16, FTW_PHYS);
  return strdup (snapshot_buf);
}

static const struct st_image *
image (const struct st_image **v, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (v[i]->id, id) == 0)
      return v[i];
  return NULL;
}

static void
disk_is (const struct store_set *set, const struct st_image **v, size_t n,
         const char *id, const char *member, char layer, uint64_t size)
{
  struct locate_request req = { 0 };
  struct disk_location loc;
  const struct st_image *img = image (v, n, id);
  disk_location_init (&loc);
  error_clear ();
  int r = img ? image_find_disk (set, img, &req, &loc) : -1;
  bool ok = r == 0 && !strcmp (loc.member, member)
    && !strcmp (loc.layer, lid (layer)) && loc.size == size && loc.fd >= 0
    && loc.offset == 0 && !strcmp (loc.transport, "containers-storage")
    && !strcmp (loc.image_id, id) && strstr (loc.file, lid (layer));
  check (ok, "image %s: %s in layer %.4s", id, member, lid (layer));
  if (!ok)
    printf ("  r=%d %s; %s %s\n", r, error_message (), loc.member, loc.layer);
  disk_location_clear (&loc);
}

static void
no_disk (const struct store_set *set, const struct st_image **v, size_t n,
         const char *id, const char *message)
{
  struct locate_request req = { 0 };
  struct disk_location loc;
  const struct st_image *img = image (v, n, id);
  disk_location_init (&loc);
  error_clear ();
  int r = img ? image_find_disk (set, img, &req, &loc) : 0;
  check (r == -1 && strstr (error_message (), message) && loc.fd == -1,
         "image %s: %s", id, error_message ());
  disk_location_clear (&loc);
}

static void
test_store (void)
{
  char *extras[] = { extra, NULL };
  struct store_config cfg = {
    .driver = NULL, .graphroot = root, .runroot = runroot,
    .image_stores = extras,
  };
  struct store_set set;
  char lock[8192];
  _cleanup_free_ char *before = snapshot ();

  int r = store_set_open (&set, &cfg);
  check (r == 0, "the store opens (%s)", r ? error_message () : "");
  if (r)
    return;
  check (!strcmp (set.driver, "overlay"), "overlay detected from the root");
  check (set.n == 2 && set.stores[0].nimages == 9 && set.stores[0].nlayers == 8
         && set.stores[1].nimages == 2 && set.stores[1].nlayers == 1,
         "9 images and 7+1 volatile layers, 2 and 1 in the image store");

  snprintf (lock, sizeof lock, "%s/overlay-layers/layers.lock", root);
  check (writer_blocked (lock) == 1, "layers.lock is read-locked while open");
  snprintf (lock, sizeof lock, "%s/overlay-images/images.lock", root);
  check (writer_blocked (lock) == 1, "images.lock is read-locked while open");

  const struct st_image **v;
  size_t n;
  store_set_images (&set, &v, &n);
  check (n == 10 && image (v, n, "x1") && image (v, n, "i1")->store == 0,
         "all images once, the main store's copy of i1");

  disk_is (&set, v, n, "i1", "/disk/new.img", '1', 17);
  disk_is (&set, v, n, "i8", "/disk/v.img", '9', 9);
  disk_is (&set, v, n, "x1", "/disk/e.img", 'a', 11);
  no_disk (&set, v, n, "i2", "is incomplete (an interrupted pull");
  no_disk (&set, v, n, "i3", "is not in the store's layers.json");
  no_disk (&set, v, n, "i4", "is its own ancestor");
  no_disk (&set, v, n, "i5", "the image has no layers, so no disk");
  no_disk (&set, v, n, "i6", "composefs layers are not supported yet");
  no_disk (&set, v, n, "i7", "layer id '../x' is not 64 hex digits");
  /* Layers of the image stores are visible to all, as in containers/storage. */
  disk_is (&set, v, n, "i9", "/disk/e.img", 'a', 11);

  struct locate_request req = { .disk = "/disk/old.img" };
  struct disk_location loc;
  disk_location_init (&loc);
  r = image_find_disk (&set, image (v, n, "i1"), &req, &loc);
  check (r == -1 && strstr (error_message (), "not found"),
         "--disk of a whited-out file: %s", error_message ());
  disk_location_clear (&loc);
  free (v);

  store_set_close (&set);
  snprintf (lock, sizeof lock, "%s/overlay-layers/layers.lock", root);
  check (writer_blocked (lock) == 0, "the locks are released on close");

  _cleanup_free_ char *after = snapshot ();
  check (!strcmp (before, after),
         "nothing created or modified in the stores (no lock file made "
         "in the image store either)");
}

static void
test_drivers (void)
{
  char vroot[4096];
  struct store_set set;
  snprintf (vroot, sizeof vroot, "%s/vfsroot", top);
  char json[512];
  snprintf (json, sizeof json, "[{\"id\":\"%s\"},{\"id\":\"%s\",\"parent\":\"%s\"}]",
            lid ('b'), lid ('c'), lid ('b'));
  put (json, "%s/vfs-layers/layers.json", vroot);
  snprintf (json, sizeof json, "[{\"id\":\"v1\",\"layer\":\"%s\"}]", lid ('c'));
  put (json, "%s/vfs-images/images.json", vroot);
  /* vfs: the top layer's directory is the whole tree. */
  put ("base only\n", "%s/vfs/dir/%s/disk/base.img", vroot, lid ('b'));
  put ("top tree\n", "%s/vfs/dir/%s/disk/top.img", vroot, lid ('c'));

  struct store_config cfg = { .graphroot = vroot, .runroot = vroot };
  int r = store_set_open (&set, &cfg);
  check (r == 0 && !strcmp (set.driver, "vfs"), "vfs detected from the root");
  if (r == 0) {
    const struct st_image **v;
    size_t n;
    store_set_images (&set, &v, &n);
    disk_is (&set, v, n, "v1", "/disk/top.img", 'c', 9);
    free (v);
    store_set_close (&set);
  }

  cfg.driver = (char *) "overlay";
  r = store_set_open (&set, &cfg);
  check (r == 0 && set.stores[0].nimages == 0,
         "the configured driver wins: no overlay images there");
  if (r == 0)
    store_set_close (&set);

  cfg.driver = (char *) "btrfs";
  r = store_set_open (&set, &cfg);
  check (r == -1 && strstr (error_message (), "storage driver 'btrfs' is not "
                            "supported"), "btrfs: %s", error_message ());

  cfg.driver = (char *) "overlay2";
  put ("[{\"id\":\"o\"}", "%s/overlay-images/images.json", vroot);
  r = store_set_open (&set, &cfg);
  check (r == -1 && strstr (error_message (), "overlay-images/images.json: "
                            "truncated JSON"),
         "overlay2 is overlay; a truncated images.json: %s", error_message ());

  put ("", "%s/overlay-images/images.json", vroot);
  r = store_set_open (&set, &cfg);
  check (r == 0 && set.stores[0].nimages == 0,
         "an empty images.json is an empty store");
  if (r == 0)
    store_set_close (&set);

  char missing[4096];
  snprintf (missing, sizeof missing, "%s/no-such-root", top);
  cfg.graphroot = missing;
  r = store_set_open (&set, &cfg);
  check (r == 0 && set.stores[0].nimages == 0 && access (missing, F_OK) == -1,
         "a root that does not exist is empty, and is not created");
  if (r == 0)
    store_set_close (&set);
}

int
main (void)
{
  unit_tmpdir (top);
  build_store ();
  test_store ();
  test_drivers ();
  return unit_summary ();
}
