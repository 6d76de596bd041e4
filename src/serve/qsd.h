/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: several disks from one server, qemu-storage-daemon.
 *
 * serve IMAGE1 IMAGE2 ... (and serve --all) start one
 * qemu-storage-daemon: one --blockdev chain per disk, opened from its
 * inherited descriptor as qemu-nbd opens the one disk of serve (the disk
 * of export I is DISK_FD + I, opened as /dev/fd/N: the same file, even if
 * it was removed since), every format named (never probed), read-only;
 * one --nbd-server on the listening socket podman-disk bound (fd 3,
 * addr.type=fd), and one read-only NBD --export per disk under its own
 * name; with --writable, each export is a writable qcow2 overlay of its
 * own over its disk, in an anonymous file (QSD_OVERLAY_FD).  Everything else (the socket, the supervisor, readiness, stopping)
 * is serve's own: see serve/server.h, with OPTS's exports set.
 */
#ifndef PODMAN_DISK_SERVE_QSD_H
#define PODMAN_DISK_SERVE_QSD_H

#include <stdint.h>

#include "serve/server.h"

/* The descriptor a server of several disks gets export I's disk as. */
#define QSD_DISK_FD(i) (DISK_FD + (int) (i))

/* With --writable, export I of N's copy-on-write overlay: an anonymous
 * qcow2 file (thrown away with the server, the image never written) that
 * the server inherits after the disks.
 */
#define QSD_OVERLAY_FD(n, i) (DISK_FD + (int) (n) + (int) (i))

/* OPTS's overlays (OPTS->writable): for each export, a qcow2 of its size
 * with no name, in directory DIR, into FDS[0..n_exports).  0, or -1 with
 * error () set and FDS closed.
 */
int qsd_make_overlays (const struct server_options *opts, const char *dir, int *fds);

/* The argument vector (free with strv_free) of qemu-storage-daemon EXE
 * serving OPTS's exports; NULL with error () set (a disk qemu cannot
 * open exactly, see qemuspec.h).
 */
char **server_argv_qsd (const struct server_options *opts, const char *exe);

/* The size export I serves. */
uint64_t qsd_export_size (const struct server_options *opts, size_t i);

/* Check that each of OPTS's exports is a disk still there to serve:
 * 0, or -1 with error () set.
 */
int qsd_check_exports (const struct server_options *opts);

/* The URI of OPTS's export I on SRV (whose URI is that of the default
 * export).  NULL with error () set.
 */
char *qsd_export_uri (const struct server_options *opts,
                      const struct server *srv, size_t i);

#endif
