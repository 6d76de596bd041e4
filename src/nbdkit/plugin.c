/* SPDX-License-Identifier: Apache-2.0 */
/* nbdkit-podman-disk-plugin: the disk of a containerDisk image served by
 * nbdkit in place, or every disk of a store by export name.  See
 * man/nbdkit-podman-disk-plugin.1.md.
 *
 *   nbdkit podman-disk IMAGE [root=DIR] [runroot=DIR] [driver=overlay|vfs]
 *                            [disk=PATH] [platform=OS/ARCH] [verify=true]
 *   nbdkit podman-disk [root=...]        the whole store, by export name
 *   nbdkit podman-disk fd=N offset=N size=N   bytes someone else located
 *
 * An IMAGE is located once, before the server listens; its disk is read
 * from the fd that locate opened.  Without one, each connection locates
 * the export it names.  Locating is serialised (podman-disk's error
 * record and caches are one per process); reads run in parallel.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "common/error.h"
#include "nbdkit/plugin.h"
#include "source.h"

/* -D podman-disk.verbose=1: podman-disk's own debug lines on stderr. */
NBDKIT_DLL_PUBLIC int podman_disk_debug_verbose = 0;

static char *image;                 /* the magic parameter, or NULL */
static struct locate_request req;
static char *disk_path, *platform;  /* owned copies behind req */
static char *root, *runroot, *driver;
static int given_fd = -1;           /* fd=N */
static uint64_t given_offset, given_size;
static bool have_offset, have_size;

/* The disk of IMAGE or of fd=N: one for every connection. */
static struct served_disk the_disk;
static bool have_disk;

static pthread_mutex_t locate_lock = PTHREAD_MUTEX_INITIALIZER;

static void
podman_disk_load (void)
{
  disk_location_init (&the_disk.loc);
  /* A rootless disk that needs podman's user namespace is an error
   * that says to run nbdkit under podman unshare: the plugin never runs
   * its host process again, as the CLI does.
   */
  setenv ("PODMAN_DISK_UNSHARE", "no", 1);
}

static void
podman_disk_unload (void)
{
  disk_location_clear (&the_disk.loc);
  free (the_disk.description);
  free (image);
  free (disk_path);
  free (platform);
  free (root);
  free (runroot);
  free (driver);
}

int
report_error (const char *what)
{
  const char *msg = error_message ();
  /* The message is one printable line already (common/error.c). */
  nbdkit_error ("%s", msg[0] ? msg : what);
  error_clear ();
  return -1;
}

/* Parameters whose value is kept: *SLOT, once. */
static int
set_once (char **slot, const char *key, const char *value, bool absolute)
{
  if (*slot) {
    nbdkit_error ("%s given twice", key);
    return -1;
  }
  if (!*value) {
    nbdkit_error ("%s is empty", key);
    return -1;
  }
  /* A path stays right after nbdkit changes to / as it daemonises. */
  *slot = absolute ? nbdkit_absolute_path (value) : strdup (value);
  if (!*slot) {
    if (!absolute)
      nbdkit_error ("strdup: %m");
    return -1;
  }
  return 0;
}

static int
parse_u64 (const char *key, const char *value, uint64_t *out, bool *seen)
{
  if (*seen) {
    nbdkit_error ("%s given twice", key);
    return -1;
  }
  *seen = true;
  return nbdkit_parse_uint64_t (key, value, out);
}

static int
podman_disk_config (const char *key, const char *value)
{
  if (strcmp (key, "image") == 0)
    return set_once (&image, key, value, false);
  if (strcmp (key, "root") == 0)
    return set_once (&root, key, value, true);
  if (strcmp (key, "runroot") == 0)
    return set_once (&runroot, key, value, true);
  if (strcmp (key, "driver") == 0) {
    if (strcmp (value, "overlay") && strcmp (value, "vfs")) {
      nbdkit_error ("driver must be overlay or vfs, not '%s'", value);
      return -1;
    }
    return set_once (&driver, key, value, false);
  }
  if (strcmp (key, "disk") == 0)
    return set_once (&disk_path, key, value, false);
  if (strcmp (key, "platform") == 0) {
    if (!locate_platform_valid (value)) {
      nbdkit_error ("platform must be OS/ARCH or OS/ARCH/VARIANT "
                    "(e.g. linux/arm64), not '%s'", value);
      return -1;
    }
    return set_once (&platform, key, value, false);
  }
  if (strcmp (key, "verify") == 0) {
    int r = nbdkit_parse_bool (value);
    if (r == -1)
      return -1;
    req.verify = r;
    return 0;
  }
  if (strcmp (key, "fd") == 0) {
    if (given_fd != -1) {
      nbdkit_error ("fd given twice");
      return -1;
    }
    if (nbdkit_parse_int ("fd", value, &given_fd) == -1)
      return -1;
    if (given_fd < 0) {
      nbdkit_error ("fd must be 0 or more, not %d", given_fd);
      given_fd = -1;
      return -1;
    }
    return 0;
  }
  if (strcmp (key, "offset") == 0)
    return parse_u64 (key, value, &given_offset, &have_offset);
  if (strcmp (key, "size") == 0)
    return parse_u64 (key, value, &given_size, &have_size);
  nbdkit_error ("unknown parameter '%s'", key);
  return -1;
}

/* The checks of the CLI's source_check_request, as nbdkit errors. */
static int
check_request (void)
{
  if (given_fd >= 0) {
    if (image || root || runroot || driver || disk_path || platform || req.verify) {
      nbdkit_error ("fd= serves bytes located by someone else: it takes "
                    "offset= and size= only, not an image or its options");
      return -1;
    }
    if (!have_offset || !have_size) {
      nbdkit_error ("fd= needs offset= and size= (podman-disk locate shows them)");
      return -1;
    }
    return 0;
  }
  if (have_offset || have_size) {
    nbdkit_error ("offset= and size= go with fd= only");
    return -1;
  }
  if (image && source_for (image)->picks_platform) {
    if (root || runroot || driver) {
      nbdkit_error ("root=, runroot= and driver= apply to containers-storage "
                    "images, not to '%s'", image);
      return -1;
    }
    return 0;
  }
  if (!image && disk_path) {
    nbdkit_error ("disk= names the disk of one IMAGE; serving the whole "
                  "store, each image's disk is the one under /disk/");
    return -1;
  }
  const char *what = image ? image : "the whole store";
  if (platform) {
    nbdkit_error ("platform= applies to oci:, oci-archive: and "
                  "docker-archive: references, not to %s%s%s",
                  image ? "'" : "", what, image ? "'" : "");
    return -1;
  }
  if (req.verify) {
    nbdkit_error ("verify= applies to oci:, oci-archive: and docker-archive: "
                  "references, not to %s%s%s (containers-storage keeps no "
                  "layer blobs to check)", image ? "'" : "", what,
                  image ? "'" : "");
    return -1;
  }
  return 0;
}

static int
podman_disk_config_complete (void)
{
  if (check_request () == -1)
    return -1;
  req.disk = disk_path;
  req.platform = platform;
  /* The store options, as the CLI's --root, --runroot, --storage-driver. */
  req.store.root = root;
  req.store.runroot = runroot;
  req.store.driver = driver;
  verbose = podman_disk_debug_verbose;
  return 0;
}

#define podman_disk_config_help \
  "[image=]IMAGE        the image: NAME, ID, oci:DIR[:REF], oci-archive:FILE,\n" \
  "                     docker-archive:FILE (none: every disk of the store,\n" \
  "                     by export name)\n" \
  "root=DIR             storage root directory (as podman --root)\n" \
  "runroot=DIR          storage state directory (as podman --runroot)\n" \
  "driver=overlay|vfs   storage driver (as podman --storage-driver)\n" \
  "disk=PATH            the disk member (default: the one file under /disk/)\n" \
  "platform=OS/ARCH     image to pick from a multi-platform layout\n" \
  "verify=true          check the sha256 digest of every layer read\n" \
  "fd=N offset=N size=N serve bytes already located (podman-disk serve)"

char *
disk_description (const struct disk_location *loc)
{
  char *s;
  const char *fmt = diskfmt_name (loc->fmt.format);
  int r = loc->image_id
    ? asprintf (&s, "%s, %" PRIu64 " bytes, image %.12s", fmt, loc->size,
                loc->image_id + (strncmp (loc->image_id, "sha256:", 7) ? 0 : 7))
    : asprintf (&s, "%" PRIu64 " bytes", loc->size);
  return r == -1 ? NULL : s;
}

/* fd=N: a readable regular file or block device, long enough. */
static int
use_given_fd (void)
{
  struct stat st;

  if (fstat (given_fd, &st) == -1) {
    nbdkit_error ("fd=%d: %m", given_fd);
    return -1;
  }
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    nbdkit_error ("fd=%d is not a regular file or block device", given_fd);
    return -1;
  }
  if (S_ISREG (st.st_mode)
      && (given_offset > (uint64_t) st.st_size
          || given_size > (uint64_t) st.st_size - given_offset)) {
    nbdkit_error ("fd=%d: offset %" PRIu64 " + size %" PRIu64 " lie beyond "
                  "the end of the file (%" PRIu64 " bytes)", given_fd,
                  given_offset, given_size, (uint64_t) st.st_size);
    return -1;
  }
  /* A descriptor of our own, close-on-exec, in place of the given one:
   * no --run command inherits the disk, and podman-disk serve's readiness
   * check sees the server hold the file it located (serve/ready.c).
   */
  int fd = fcntl (given_fd, F_DUPFD_CLOEXEC, 0);
  if (fd == -1) {
    nbdkit_error ("fd=%d: %m", given_fd);
    return -1;
  }
  close (given_fd);
  the_disk.loc.fd = fd;
  the_disk.loc.offset = given_offset;
  the_disk.loc.size = given_size;
  the_disk.loc.fmt.virtual_size = given_size;
  if (asprintf (&the_disk.loc.file, "fd %d", given_fd) == -1) {
    the_disk.loc.file = NULL;
    nbdkit_error ("asprintf: %m");
    return -1;
  }
  the_disk.description = disk_description (&the_disk.loc);
  return 0;
}

static int
podman_disk_get_ready (void)
{
  if (given_fd >= 0) {
    if (use_given_fd () == -1)
      return -1;
    have_disk = true;
    return 0;
  }
  if (!image)
    return 0;           /* the store mode: each connection locates */
  error_clear ();
  if (source_locate (image, &req, &the_disk.loc) == -1)
    return report_error ("the disk could not be located");
  the_disk.description = disk_description (&the_disk.loc);
  have_disk = true;
  nbdkit_debug ("%s: %s at offset %" PRIu64 " of %s", image,
                the_disk.loc.member ? the_disk.loc.member : "the disk",
                the_disk.loc.offset, the_disk.loc.file);
  return 0;
}

static int
podman_disk_list_exports (int readonly, int is_tls,
                          struct nbdkit_exports *exports)
{
  (void) readonly;
  (void) is_tls;
  if (have_disk)
    return nbdkit_add_export (exports, "", the_disk.description);
  pthread_mutex_lock (&locate_lock);
  int r = store_list_exports (&req, exports);
  pthread_mutex_unlock (&locate_lock);
  return r;
}

static const char *
podman_disk_default_export (int readonly, int is_tls)
{
  (void) readonly;
  (void) is_tls;
  /* The store mode has none: a client names the image it wants. */
  return "";
}

static void *
podman_disk_open (int readonly)
{
  (void) readonly;
  if (have_disk)
    return &the_disk;

  const char *name = nbdkit_export_name ();
  struct served_disk *d = calloc (1, sizeof *d);
  if (!d) {
    nbdkit_error ("calloc: %m");
    return NULL;
  }
  disk_location_init (&d->loc);
  pthread_mutex_lock (&locate_lock);
  int r = store_open_export (name ? name : "", &req, d);
  pthread_mutex_unlock (&locate_lock);
  if (r == -1) {
    disk_location_clear (&d->loc);
    free (d);
    return NULL;
  }
  return d;
}

static void
podman_disk_close (void *handle)
{
  struct served_disk *d = handle;
  if (d == &the_disk)
    return;
  disk_location_clear (&d->loc);
  free (d->description);
  free (d);
}

static const char *
podman_disk_export_description (void *handle)
{
  const struct served_disk *d = handle;
  return d->description;
}

static int64_t
podman_disk_get_size (void *handle)
{
  const struct served_disk *d = handle;
  return d->loc.size;
}

static int
podman_disk_can_multi_conn (void *handle)
{
  (void) handle;
  return 1;             /* read-only: every connection sees the same bytes */
}

static int
podman_disk_can_cache (void *handle)
{
  (void) handle;
  return NBDKIT_CACHE_NATIVE;
}

static int
podman_disk_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
                   uint32_t flags)
{
  (void) flags;
  return disk_pread (handle, buf, count, offset);
}

static int
podman_disk_extents (void *handle, uint32_t count, uint64_t offset,
                     uint32_t flags, struct nbdkit_extents *extents)
{
  return disk_extents (handle, count, offset, flags, extents);
}

static int
podman_disk_cache (void *handle, uint32_t count, uint64_t offset,
                   uint32_t flags)
{
  (void) flags;
  return disk_cache (handle, count, offset);
}

static void
podman_disk_dump_plugin (void)
{
  printf ("podman_disk_version=%s\n", PACKAGE_VERSION);
}

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct nbdkit_plugin plugin = {
  .name               = "podman-disk",
  .longname           = "podman-disk: the disk of a containerDisk image, in place",
  .version            = PACKAGE_VERSION,
  .description        = "Serve the VM disk of a container image (a KubeVirt "
                        "containerDisk) from containers/storage or an OCI "
                        "layout, in place.",
  .load               = podman_disk_load,
  .unload             = podman_disk_unload,
  .config             = podman_disk_config,
  .config_complete    = podman_disk_config_complete,
  .config_help        = podman_disk_config_help,
  .magic_config_key   = "image",
  .dump_plugin        = podman_disk_dump_plugin,
  .get_ready          = podman_disk_get_ready,
  .list_exports       = podman_disk_list_exports,
  .default_export     = podman_disk_default_export,
  .open               = podman_disk_open,
  .close              = podman_disk_close,
  .export_description = podman_disk_export_description,
  .get_size           = podman_disk_get_size,
  .can_multi_conn     = podman_disk_can_multi_conn,
  .can_cache          = podman_disk_can_cache,
  .pread              = podman_disk_pread,
  .extents            = podman_disk_extents,
  .cache              = podman_disk_cache,
  .errno_is_preserved = 1,
};

NBDKIT_REGISTER_PLUGIN (plugin)
