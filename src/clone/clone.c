/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: making and checking clones, see clone.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <json-c/json.h>

#include "clone/clone.h"
#include "clone/hold.h"
#include "clone/run.h"
#include "common/error.h"
#include "common/pathtrust.h"
#include "serve/qemuspec.h"

void
clone_info_clear (struct clone_info *info)
{
  free (info->dest);
  free (info->backing);
  free (info->base);
  free (info->base_format);
  free (info->base_id);
  free (info->image_id);
  free (info->image_name);
  free (info->hold);
  memset (info, 0, sizeof *info);
}

char *
clone_identity (const struct stat *st)
{
  char *s;
  if (asprintf (&s, "%ju:%ju:%jd:%jd.%09ld", (uintmax_t) st->st_dev,
                (uintmax_t) st->st_ino, (intmax_t) st->st_size,
                (intmax_t) st->st_mtim.tv_sec, st->st_mtim.tv_nsec) == -1)
    return NULL;
  return s;
}

char *
clone_abs_path (const char *dest)
{
  _cleanup_free_ char *copy1 = strdup (dest), *copy2 = strdup (dest);
  if (!copy1 || !copy2)
    return NULL;
  const char *dir = dirname (copy1), *name = basename (copy2);
  char real[PATH_MAX], *ret;

  if (!realpath (dir, real)) {
    /* The directory is gone too (release of a removed clone): as given. */
    if (dest[0] == '/')
      return strdup (dest);
    if (!getcwd (real, sizeof real))
      return NULL;
    return asprintf (&ret, "%s/%s", real, dest) == -1 ? NULL : ret;
  }
  return asprintf (&ret, "%s%s%s", real, strcmp (real, "/") ? "/" : "", name) == -1
    ? NULL : ret;
}

/* Why DEST cannot be a new clone, checked before anything is made, so
 * the common mistakes get their own line (the link at the end still
 * refuses whatever appears meanwhile).
 */
static int
check_new_dest (int dirfd, const char *name, const char *dest)
{
  struct stat st;

  if (!*name || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return error ("%s: give the path of the clone file to create", dest);
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
    if (errno == ENOENT)
      return 0;
    return error_errno (errno, "%s", dest);
  }
  if (S_ISLNK (st.st_mode))
    return error ("%s is a symbolic link: a clone is never created through one; "
                  "give the path of a new file", dest);
  if (S_ISBLK (st.st_mode))
    return error ("%s is a block device: a clone is a qcow2 file that grows as "
                  "the guest writes, see podman-disk-clone(1); 'podman-disk cp' "
                  "writes the whole disk to a device", dest);
  if (S_ISDIR (st.st_mode))
    return error ("%s is a directory: give the path of the clone file to create", dest);
  return error ("%s exists: a clone is never written over a file; remove it "
                "or choose another name", dest);
}

/* The base file by the path of the fd that was located and checked, so
 * a relative layout path is made absolute and symlinks resolved; the
 * path must still name that same file.
 */
static char *
base_path (const struct disk_location *loc, struct stat *st)
{
  char proc[64], buf[PATH_MAX];
  struct stat by_path;

  snprintf (proc, sizeof proc, "/proc/self/fd/%d", loc->fd);
  ssize_t n = loc->fd >= 0 ? readlink (proc, buf, sizeof buf - 1) : -1;
  if (n <= 0 || buf[0] != '/') {
    error ("cannot name the file of the disk (%s) by its path", loc->file);
    return NULL;
  }
  buf[n] = '\0';
  if (fstat (loc->fd, st) == -1 || stat (buf, &by_path) == -1
      || st->st_dev != by_path.st_dev || st->st_ino != by_path.st_ino) {
    error ("%s was removed or replaced while it was being cloned: try again", loc->file);
    return NULL;
  }
  return strdup (buf);
}

/* Create a temporary file of our own in DIRFD: NAME gets its name. */
static int
create_temp (int dirfd, char name[64])
{
  for (int tries = 0; tries < 100; tries++) {
    uint64_t r;
    if (getrandom (&r, sizeof r, 0) != sizeof r)
      return error_errno (errno, "getrandom");
    snprintf (name, 64, ".podman-disk-clone.%016" PRIx64, r);
    int fd = openat (dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     0644);
    if (fd >= 0 || errno != EEXIST)
      return fd >= 0 ? fd : error_errno (errno, "cannot create a file in the "
                                         "directory of the clone");
  }
  return error ("cannot create a temporary file in the directory of the clone");
}

/* qemu-img writes the qcow2 into FD (a file of ours, as its fd 3: no
 * name is opened that someone could swap).  A base is opened to check
 * the spec, read-only, never written.
 */
int
clone_write_qcow2 (int fd, const char *spec, const char *format, uint64_t size)
{
  char sizebuf[32];
  _cleanup_free_ char *err = NULL;

  snprintf (sizebuf, sizeof sizebuf, "%" PRIu64, size);
  const char *argv[12] = { "qemu-img", "create", "-q", "-f", "qcow2" };
  size_t n = 5;
  if (spec) {
    argv[n++] = "-F";
    argv[n++] = format;
    argv[n++] = "-b";
    argv[n++] = spec;
  }
  argv[n++] = "/dev/fd/3";
  argv[n++] = sizebuf;
  argv[n] = NULL;
  int r = run_program (argv, fd, NULL, &err);
  if (r == -1)
    return -1;
  if (r == 127)
    return error ("qemu-img not found: install qemu-utils (Debian) or qemu-img (Fedora)");
  if (r != 0)
    return error ("qemu-img create failed: %s", err && *err ? err : "no message");
  return 0;
}

/* The new clone's size: the disk's, or SIZE (never smaller), rounded up
 * to whole sectors as qcow2 wants.
 */
static int
clone_size (const struct disk_location *loc, uint64_t size, uint64_t *out)
{
  uint64_t disk = loc->fmt.virtual_size ? loc->fmt.virtual_size : loc->size;

  if (size == 0)
    size = disk;
  if (size < disk)
    return error ("--size %" PRIu64 " is smaller than the disk (%" PRIu64 " bytes): "
                  "a clone can only be larger than its image", size, disk);
  if (size > UINT64_MAX - 511)
    return error ("--size %" PRIu64 " is too large", size);
  *out = (size + 511) & ~UINT64_C (511);
  return 0;
}

/* clone_create, with HOLD: make a podman hold of STORE on LOC's image. */
static int
create (const struct disk_location *loc, const struct store_options *store,
        const char *dest, uint64_t size, bool hold)
{
  _cleanup_free_ char *abs = clone_abs_path (dest);
  _cleanup_free_ char *copy = strdup (dest), *copy2 = strdup (dest);
  _cleanup_close_ int dirfd = -1, fd = -1;
  _cleanup_free_ char *base = NULL, *spec = NULL, *id = NULL;
  char tmpname[64];
  struct stat st;

  if (!abs || !copy || !copy2)
    return error_errno (ENOMEM, "clone");
  const char *dir = dirname (copy), *name = basename (copy2);
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd == -1)
    return error_errno (errno, "%s: cannot open its directory %s", dest, dir);
  if (check_new_dest (dirfd, name, dest) == -1 || clone_size (loc, size, &size) == -1)
    return -1;
  if (!(base = base_path (loc, &st)) || !(id = clone_identity (&st)))
    return -1;
  if (!(spec = qemuspec_build (loc, true, base)))
    return -1;
  if (strlen (spec) > CLONE_MAX_BACKING)
    return error ("the path of the disk is too long for a qcow2 backing file "
                  "(%zu bytes of json: spec, at most %d): %s", strlen (spec),
                  CLONE_MAX_BACKING, base);

  if ((fd = create_temp (dirfd, tmpname)) == -1)
    return -1;
  /* podman makes the hold while qemu-img writes the clone: together they
   * take what the hold alone takes.  A hold whose clone then fails is
   * released.
   */
  struct clone_hold h;
  if (hold && clone_hold_begin (&h, store, loc, abs, base, id) == -1) {
    unlinkat (dirfd, tmpname, 0);
    return -1;
  }
  int r = clone_write_qcow2 (fd, spec, diskfmt_name (loc->fmt.format), size);
  if (r == 0 && fsetxattr (fd, CLONE_XATTR_BASE_ID, id, strlen (id), 0) == -1) {
    if (!hold)
      fprintf (stderr, "podman-disk: warning: %s: cannot record the identity of "
               "its base (%s): a change of %s will not be detected\n",
               dest, strerror (errno), base);
  }
  if (r == 0 && fdatasync (fd) == -1)
    r = error_errno (errno, "%s", dest);
  if (r == 0 && run_interrupted ())
    r = error ("interrupted");
  /* link, unlike rename, never replaces: DEST is created or we fail. */
  if (r == 0 && linkat (dirfd, tmpname, dirfd, name, 0) == -1)
    r = errno == EEXIST
      ? error ("%s appeared while the clone was made: it is left as it is", dest)
      : error_errno (errno, "cannot create %s", dest);
  unlinkat (dirfd, tmpname, 0);
  if (r == -1) {
    if (hold) {
      /* (the clone's error is the one to show) */
      _cleanup_free_ char *why = strdup (error_message ());
      if (clone_hold_end (&h) == 0)
        clone_release (store, abs);
      error ("%s", why ? why : "out of memory");
    }
    return -1;
  }
  if (hold && clone_hold_end (&h) == -1) {
    unlinkat (dirfd, name, 0);
    return -1;
  }
  /* The image might have gone between locate and hold: the file the
   * clone names must still be the one that was checked.
   */
  struct stat now;
  if (stat (base, &now) == -1 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
    if (hold)
      clone_release (store, abs);
    unlinkat (dirfd, name, 0);
    return error ("the image was removed while it was being cloned: try again");
  }
  return 0;
}

int
clone_create (const struct disk_location *loc,
              const struct store_options *store, const char *dest,
              uint64_t size)
{
  if (loc->transport && strcmp (loc->transport, "rootfs") == 0)
    return error ("a container's root filesystem goes away with the container: "
                  "clone its image instead");
  return create (loc, store, dest, size,
                 loc->transport && strcmp (loc->transport, "containers-storage") == 0);
}

int
clone_create_unheld (const struct disk_location *loc, const char *dest)
{
  return create (loc, NULL, dest, 0, false);
}

/* A qcow2 header's fields, big-endian. */
static uint32_t
be32 (const unsigned char *p)
{
  uint32_t v;
  memcpy (&v, p, sizeof v);
  return be32toh (v);
}
static uint64_t
be64 (const unsigned char *p)
{
  uint64_t v;
  memcpy (&v, p, sizeof v);
  return be64toh (v);
}

#define QCOW2_EXT_BACKING_FORMAT 0xe2792aca

/* The virtual size, backing file name and backing format of the qcow2 FD.
 * Only the first cluster is read: qemu-img create puts all of it there.
 */
static int
read_header (int fd, const char *dest, struct clone_info *info)
{
  unsigned char h[65536];
  ssize_t n = pread (fd, h, sizeof h, 0);

  if (n < 72 || memcmp (h, "QFI\xfb", 4) != 0)
    return error ("%s is not a qcow2 file: not a clone", dest);
  uint32_t version = be32 (h + 4);
  uint64_t boff = be64 (h + 8);
  uint32_t bsize = be32 (h + 16);
  info->virtual_size = be64 (h + 24);
  if (boff == 0 || bsize == 0)
    return error ("%s has no backing file: not a clone", dest);
  if (bsize > CLONE_MAX_BACKING || boff > (uint64_t) n || bsize > n - boff)
    return error ("%s: its backing file name is not where a clone has it", dest);
  info->backing = strndup ((const char *) h + boff, bsize);

  size_t ext = version >= 3 && n >= 104 ? be32 (h + 100) : 72;
  while (ext + 8 <= (size_t) n) {
    uint32_t type = be32 (h + ext), len = be32 (h + ext + 4);
    if (type == 0 || len > n - ext - 8)
      break;
    if (type == QCOW2_EXT_BACKING_FORMAT)
      info->base_format = strndup ((const char *) h + ext + 8, len);
    ext += 8 + ((len + 7) & ~7u);
  }
  return 0;
}

/* The file the backing spec opens: the innermost "file" node. */
static int
spec_file (const char *dest, struct clone_info *info)
{
  if (!info->backing || strncmp (info->backing, "json:", 5) != 0)
    return error ("%s: its backing file is %s, not a disk in place: not a clone "
                  "made by podman-disk", dest, info->backing ? info->backing : "?");
  json_object *root = json_tokener_parse (info->backing + 5), *node = root, *f, *d;
  while (node && json_object_object_get_ex (node, "file", &f)
         && json_object_is_type (f, json_type_object))
    node = f;
  if (node && node != root && json_object_object_get_ex (node, "driver", &d)
      && strcmp (json_object_get_string (d), "file") == 0
      && json_object_object_get_ex (node, "filename", &f))
    info->base = strdup (json_object_get_string (f));
  json_object_put (root);
  if (!info->base)
    return error ("%s: its backing json: spec names no file: not a clone made "
                  "by podman-disk", dest);
  return 0;
}

/* The state of a base file BASE recorded as ID. */
enum clone_state
clone_base_state (const char *base, const char *id, int *err)
{
  struct stat st;

  *err = 0;
  if (stat (base, &st) == -1) {
    *err = errno;
    return CLONE_BASE_GONE;
  }
  _cleanup_free_ char *now = clone_identity (&st);
  return now && strcmp (now, id) == 0 ? CLONE_INTACT : CLONE_BASE_CHANGED;
}

int
clone_base_verdict (const struct clone_info *info, int err)
{
  switch (info->state) {
  case CLONE_INTACT:
    return 0;
  case CLONE_BASE_GONE:
    if (err != ENOENT)
      return error_errno (err, "%s: its base %s cannot be checked", info->dest, info->base);
    return error ("%s: its base %s is gone (the image was removed anyway, podman "
                  "rmi --force?): the clone cannot be used, make a new one",
                  info->dest, info->base);
  case CLONE_BASE_CHANGED:
    return error ("%s: its base %s is not the file the clone was made on (the "
                  "image was removed and replaced?): its guest would see other "
                  "bytes, so it is refused; make a new clone", info->dest, info->base);
  case CLONE_DEST_GONE:
    return error ("%s is gone: 'podman-disk release %s' drops its hold", info->dest,
                  info->dest);
  }
  return -1;
}

int
clone_read_file (const char *dest, struct clone_info *info)
{
  char id[256];
  struct stat st;
  _cleanup_close_ int fd = open (dest, O_RDONLY | O_CLOEXEC);

  if (fd == -1)
    return error_errno (errno, "%s", dest);
  if (fstat (fd, &st) == -1)
    return error_errno (errno, "%s", dest);
  if (!S_ISREG (st.st_mode))
    return error ("%s is not a regular file: not a clone", dest);
  info->allocated = (uint64_t) st.st_blocks * 512;
  if (read_header (fd, dest, info) == -1 || spec_file (dest, info) == -1)
    return -1;
  ssize_t n = fgetxattr (fd, CLONE_XATTR_BASE_ID, id, sizeof id - 1);
  if (n > 0 && !info->base_id) {
    id[n] = '\0';
    info->base_id = strdup (id);
  }
  return 0;
}

int
clone_check (const char *dest, const struct store_options *store,
             struct clone_info *info)
{
  int err;

  memset (info, 0, sizeof *info);
  info->dest = clone_abs_path (dest);
  if (!info->dest)
    return error_errno (ENOMEM, "clone");
  if (clone_read_file (dest, info) == -1)
    return -1;
  /* Without the xattr (a filesystem without user xattrs), the hold;
   * with it, no podman is run: serve checks a clone in milliseconds.
   */
  if (!info->base_id && store && clone_hold_find (store, info) == -1)
    return -1;
  if (!info->base_id)
    return error ("%s: no record of the file its base was (a clone made by "
                  "podman-disk keeps it in an xattr%s)", dest,
                  store ? " and in its hold; is its hold in another store? give "
                  "podman's --root" : ", which this filesystem did not keep");
  info->state = clone_base_state (info->base, info->base_id, &err);
  return clone_base_verdict (info, err);
}

int
clone_location (const char *dest, const struct store_options *store,
                struct disk_location *loc)
{
  struct clone_info info;
  struct stat st, now;
  _cleanup_close_ int fd = open (dest, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

  if (fd == -1)
    return error_errno (errno, "cannot open the clone %s", dest);
  if (fstat (fd, &st) == -1)
    return error_errno (errno, "%s", dest);
  if (!S_ISREG (st.st_mode) || (st.st_uid != geteuid () && st.st_uid != 0))
    return error ("%s is not a regular file of yours: not served", dest);
  int r = clone_check (dest, store, &info);
  /* The file checked is the file opened. */
  if (r == 0 && (lstat (dest, &now) == -1 || now.st_dev != st.st_dev
                 || now.st_ino != st.st_ino))
    r = error ("%s changed while it was checked", dest);
  if (r == 0) {
    disk_location_clear (loc);
    loc->file = info.dest;
    info.dest = NULL;
    loc->fd = steal_fd (&fd);
    loc->size = st.st_size;
    loc->fmt.format = DISK_QCOW2;
    loc->fmt.virtual_size = info.virtual_size;
  }
  clone_info_clear (&info);
  return r;
}

/* DEST, which is there, is an intact clone of LOC's disk, at least SIZE
 * bytes: 0, or -1 with error () set.
 */
static int
clone_of (const struct disk_location *loc, const struct store_options *store,
          const char *dest, uint64_t size)
{
  struct stat disk;
  struct clone_info info;
  int r = clone_check (dest, store, &info);
  if (r == 0) {
    _cleanup_free_ char *id = fstat (loc->fd, &disk) == 0 ? clone_identity (&disk) : NULL;
    if (!id || strcmp (id, info.base_id) != 0)
      r = error ("%s is a clone of another disk (%s), not of this image's", dest, info.base);
    else if (size && info.virtual_size < size)
      r = error ("%s is a clone of %" PRIu64 " bytes, smaller than the size asked "
                 "for: grow it with qemu-img resize", dest, info.virtual_size);
  }
  clone_info_clear (&info);
  return r;
}

int
clone_ensure (const struct disk_location *loc,
              const struct store_options *store, const char *dest,
              uint64_t size)
{
  struct stat st;

  if (lstat (dest, &st) == -1 && errno == ENOENT)
    return clone_create (loc, store, dest, size);
  return clone_of (loc, store, dest, size);
}

int
clone_take_location (struct disk_location *loc,
                     const struct store_options *store, const char *dest,
                     bool create)
{
  _cleanup_location_ struct disk_location cl;
  struct stat st;

  disk_location_init (&cl);
  if (!create && lstat (dest, &st) == -1)
    return error_errno (errno, "the clone %s", dest);
  if ((create ? clone_ensure (loc, store, dest, 0)
       : clone_of (loc, store, dest, 0)) == -1
      || clone_location (dest, store, &cl) == -1)
    return -1;
  /* Written through this path from now on, by a server as root perhaps:
   * nobody else may be able to make it name another clone.
   */
  if (pathtrust_check (cl.file, cl.fd) == -1)
    return error_context ("not served: keep clones in a directory only you "
                          "and root can change");
  disk_location_move_origin (&cl, loc);
  disk_location_clear (loc);
  *loc = cl;
  disk_location_init (&cl);
  return 0;
}
