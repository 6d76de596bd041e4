/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: load optional libraries on first use, see dl.h. */
#include <dlfcn.h>
#include <stdio.h>

#include "common/dl.h"
#include "common/error.h"

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

/* A loader: the library once, and each of its symbols.  It counts as
 * loaded only when every symbol was found: a failure is said again at the
 * next call, never a null function pointer.
 */
#define DL_LOAD(name)                                                   \
  if ((sym_##name = dlsym (lib, #name)) == NULL) {                      \
    dlclose (lib);                                                      \
    return error ("%s has no symbol %s: the library is too old", soname, #name); \
  }
#define DL_LOADER(fn, SONAME, SYMBOLS, package)                         \
  int                                                                   \
  fn (void)                                                             \
  {                                                                     \
    static void *loaded;                                                \
    const char *soname = SONAME;                                        \
    void *lib;                                                          \
                                                                        \
    if (loaded)                                                         \
      return 0;                                                         \
    if ((lib = dl_open (soname, package)) == NULL)                      \
      return -1;                                                        \
    SYMBOLS (DL_LOAD)                                                   \
    loaded = lib;                                                       \
    return 0;                                                           \
  }

DL_LOADER (dl_libarchive, LIBARCHIVE_SONAME, DL_ARCHIVE_SYMBOLS,
           "libarchive13 (Debian) or libarchive (Fedora)")
DL_LOADER (dl_libnbd, LIBNBD_SONAME, DL_NBD_SYMBOLS,
           "libnbd0 (Debian) or libnbd (Fedora)")
DL_LOADER (dl_libmount, LIBMOUNT_SONAME, DL_MOUNT_SYMBOLS,
           "libmount1 (Debian) or libmount (Fedora)")
DL_LOADER (dl_libselinux, LIBSELINUX_SONAME, DL_SELINUX_SYMBOLS,
           "libselinux1 (Debian) or libselinux (Fedora)")

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
