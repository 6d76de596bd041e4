/* podman-disk: load optional libraries on first use, see dl.h. */
#include <dlfcn.h>
#include <stdio.h>

#include "dl.h"
#include "error.h"

#ifndef LIBARCHIVE_SONAME
#define LIBARCHIVE_SONAME "libarchive.so.13"
#endif
#ifndef LIBNBD_SONAME
#define LIBNBD_SONAME "libnbd.so.0"
#endif

#ifndef LIBMOUNT_SONAME
#define LIBMOUNT_SONAME "libmount.so.1"
#endif
#ifndef LIBSELINUX_SONAME
#define LIBSELINUX_SONAME "libselinux.so.1"
#endif

#define DL_DEFINE(name) __typeof__ (name) *sym_##name;
DL_ARCHIVE_SYMBOLS (DL_DEFINE)
DL_NBD_SYMBOLS (DL_DEFINE)
DL_MOUNT_SYMBOLS (DL_DEFINE)
DL_SELINUX_SYMBOLS (DL_DEFINE)

static void *
dl_open (const char *soname, const char *package)
{
  void *h = dlopen (soname, RTLD_NOW | RTLD_LOCAL);
  if (!h)
    error ("cannot load %s (%s): install %s", soname, dlerror (), package);
  return h;
}

#define DL_LOAD(name)                                                   \
  if ((sym_##name = dlsym (h, #name)) == NULL)                          \
    return error ("%s has no symbol %s: the library is too old", soname, #name);

int
dl_libarchive (void)
{
  static void *h;
  const char *soname = LIBARCHIVE_SONAME;

  if (h)
    return 0;
  if ((h = dl_open (soname, "libarchive13 (Debian) or libarchive (Fedora)")) == NULL)
    return -1;
  DL_ARCHIVE_SYMBOLS (DL_LOAD)
  return 0;
}

int
dl_libnbd (void)
{
  static void *h;
  const char *soname = LIBNBD_SONAME;

  if (h)
    return 0;
  if ((h = dl_open (soname, "libnbd0 (Debian) or libnbd (Fedora)")) == NULL)
    return -1;
  DL_NBD_SYMBOLS (DL_LOAD)
  return 0;
}

int
dl_libmount (void)
{
  static void *h;
  const char *soname = LIBMOUNT_SONAME;

  if (h)
    return 0;
  if ((h = dl_open (soname, "libmount1 (Debian) or libmount (Fedora)")) == NULL)
    return -1;
  DL_MOUNT_SYMBOLS (DL_LOAD)
  return 0;
}

int
dl_libselinux (void)
{
  static void *h;
  const char *soname = LIBSELINUX_SONAME;

  if (h)
    return 0;
  if ((h = dl_open (soname, "libselinux1 (Debian) or libselinux (Fedora)")) == NULL)
    return -1;
  DL_SELINUX_SYMBOLS (DL_LOAD)
  return 0;
}

const char *
dl_libarchive_version (void)
{
  if (dl_libarchive () == -1)
    return NULL;
  return sym_archive_version_string ();
}

const char *
dl_libnbd_version (void)
{
  static char version[64];
  struct nbd_handle *nbd;

  if (dl_libnbd () == -1 || (nbd = sym_nbd_create ()) == NULL)
    return NULL;
  snprintf (version, sizeof version, "%s", sym_nbd_get_version (nbd));
  sym_nbd_close (nbd);
  return version;
}
