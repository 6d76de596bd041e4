/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: which containers/storage store to read, found like podman.
 *
 * Files (containers-storage.conf(5), containers-config(5)):
 *   - CONTAINERS_STORAGE_CONF, when set, is the only file read;
 *   - otherwise one main storage.conf, the first that exists of
 *     $XDG_CONFIG_HOME/containers/ (rootless only; default ~/.config),
 *     /etc/containers/ and /usr/share/containers/,
 *   - then the *.conf drop-ins of storage.conf.d/ (and storage.rootful.conf.d/,
 *     or storage.rootless.conf.d/ and storage.rootless.conf.d/UID/) under
 *     /usr/share/containers/, /etc/containers/ and, rootless, the user's
 *     config dir, in file name order, a later directory's file replacing an
 *     earlier one of the same name; each file overrides the keys it sets.
 * Rootless (euid != 0, or inside "podman unshare": _CONTAINERS_ROOTLESS_UID),
 * the system files' graphroot and runroot are not the user's store: the
 * store is the user's own files' graphroot, else rootless_storage_path, else
 * $XDG_DATA_HOME/containers/storage; runroot $XDG_RUNTIME_DIR/containers.
 * Then STORAGE_DRIVER and STORAGE_OPTS (X.imagestore=DIR), then the global
 * flags --root, --runroot, --storage-driver; as podman does, --root and
 * --storage-driver drop the files' driver options, additional image stores
 * included.
 */
#ifndef PODMAN_DISK_STORAGE_CONFIG_H
#define PODMAN_DISK_STORAGE_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

struct store_config {
  char *driver;          /* NULL: detected from what the root holds */
  char *graphroot;
  char *runroot;
  char **image_stores;   /* additional image stores, NULL-terminated */
  bool rootless;         /* the user's own store (as podman sees it) */
};

/* Where the files are looked for, so the unit test can move them. */
struct config_dirs {
  const char *usr;       /* "/usr/share/containers" */
  const char *etc;       /* "/etc/containers" */
  uid_t uid;             /* the rootless uid, 0 for root */
};

/* The uid podman's store belongs to: _CONTAINERS_ROOTLESS_UID inside
 * "podman unshare", else the effective uid.
 */
uid_t config_rootless_uid (void);

/* Files and environment only (no global flags). */
int store_config_read (struct store_config *cfg, const struct config_dirs *dirs);

/* The store podman would use: files, environment, then OPTS (podman's
 * --root, --runroot and --storage-driver).
 */
struct store_options;
int store_config_load (struct store_config *cfg, const struct store_options *opts);

void store_config_free (struct store_config *cfg);

#endif
