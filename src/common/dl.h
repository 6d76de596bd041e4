/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: heavy optional libraries, loaded on first use.
 *
 * Locating a disk must not pay for libraries it does not use: loading
 * libnbd (gnutls and friends) costs a C program about 3 ms and libarchive
 * about 2 ms, ten times the rest of a locate.  So, as systemd does, they are
 * dlopen'ed by the code paths that need them, and called through sym_NAME
 * pointers whose types come from the libraries' own headers.
 *
 * To use another function, add it to the list in dl.c.
 */
#ifndef PODMAN_DISK_DL_H
#define PODMAN_DISK_DL_H

#include <archive.h>
#include <archive_entry.h>
#include <libnbd.h>
#include <libmount.h>
#include <selinux/selinux.h>

#define DL_ARCHIVE_SYMBOLS(X)                                           \
  X (archive_version_string)                                            \
  X (archive_read_new) X (archive_read_free)                            \
  X (archive_read_support_format_tar)                                   \
  X (archive_read_support_format_all)                                   \
  X (archive_read_support_filter_all)                                   \
  X (archive_read_open_memory) X (archive_read_open_fd)                 \
  X (archive_read_next_header) X (archive_read_data_skip)               \
  X (archive_read_data_block)                                           \
  X (archive_filter_bytes) X (archive_filter_count)                     \
  X (archive_filter_code) X (archive_filter_name)                       \
  X (archive_format) X (archive_format_name)                            \
  X (archive_error_string) X (archive_errno)                            \
  X (archive_entry_pathname) X (archive_entry_size)                     \
  X (archive_entry_size_is_set) X (archive_entry_filetype)              \
  X (archive_entry_hardlink) X (archive_entry_symlink)                  \
  X (archive_entry_sparse_count) X (archive_entry_rdevmajor)            \
  X (archive_entry_rdevminor) X (archive_entry_mode)

#define DL_NBD_SYMBOLS(X)                                               \
  X (nbd_create) X (nbd_close) X (nbd_get_error) X (nbd_get_errno)      \
  X (nbd_get_version)                                                   \
  X (nbd_set_export_name) X (nbd_connect_uri) X (nbd_connect_unix)      \
  X (nbd_connect_tcp) X (nbd_get_size) X (nbd_is_read_only)             \
  X (nbd_pread) X (nbd_shutdown) X (nbd_can_flush)                     \
  X (nbd_pwrite) X (nbd_poll) X (nbd_aio_connect_socket)               \
  X (nbd_aio_is_ready) X (nbd_aio_is_dead) X (nbd_aio_is_closed)      \
  X (nbd_set_tls) X (nbd_set_tls_certificates) X (nbd_set_tls_psk_file) \
  X (nbd_set_tls_username) X (nbd_set_tls_verify_peer)

/* The OCI hook: the rootfs overlay mount, and the socket's SELinux label. */
#define DL_MOUNT_SYMBOLS(X)                                             \
  X (mnt_new_table_from_file) X (mnt_unref_table)                       \
  X (mnt_table_find_target) X (mnt_fs_get_fstype)                       \
  X (mnt_fs_get_fs_options) X (mnt_optstr_get_option)

#define DL_SELINUX_SYMBOLS(X)                                           \
  X (is_selinux_enabled) X (lsetfilecon)

#define DL_DECLARE(name) extern __typeof__ (name) *sym_##name;
DL_ARCHIVE_SYMBOLS (DL_DECLARE)
DL_NBD_SYMBOLS (DL_DECLARE)
DL_MOUNT_SYMBOLS (DL_DECLARE)
DL_SELINUX_SYMBOLS (DL_DECLARE)
#undef DL_DECLARE

/* Load the library: 0, or -1 with error () saying what to install. */
int dl_libarchive (void);
int dl_libnbd (void);
int dl_libmount (void);
int dl_libselinux (void);

/* Version strings for --version, NULL if the library is missing. */
const char *dl_libarchive_version (void);
const char *dl_libnbd_version (void);

#endif
