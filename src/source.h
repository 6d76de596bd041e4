/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: from an image reference to a disk location.
 *
 * The sources, one per kind of transport (containers-transports(5)), in a
 * table the way libnbd keeps its struct rw_ops: each says whether a
 * reference is its own, locates the disk of one image, and lists the
 * images it holds.  The transport of a reference is read here once
 * (source_for); the source reads the rest of the reference itself.
 *
 *   containers-storage   src/storage/: a name, an id, containers-storage:...
 *   layout               src/layout/: oci:, oci-archive:, docker-archive:
 *   rootfs               src/hook/rootfs.c: rootfs:DIR, a running
 *                        container's mounted root filesystem (the hook's)
 *   remote               docker://, docker-daemon:, dir:, sif: are refused
 *                        with what to do instead: only local bytes are read
 */
#ifndef PODMAN_DISK_SOURCE_H
#define PODMAN_DISK_SOURCE_H

#include <stdbool.h>

#include "location.h"

struct source {
  const char *name;
  /* Is REF this source's?  The last source of the table takes the rest. */
  bool (*matches) (const char *ref);
  int (*locate) (const char *ref, const struct locate_request *req,
                 struct disk_location *loc);
  /* Every image of REF (for containers-storage, REF is NULL: the whole
   * store); NULL when the source cannot list.
   */
  int (*list) (const char *ref, const struct locate_request *req,
               disk_list_cb cb, void *arg);
  /* Whether --platform and --verify mean anything here (layouts keep
   * blobs to check and indexes to pick from; a store neither).
   */
  bool picks_platform;
};

/* The source of REF; for NULL, containers-storage (the default store). */
const struct source *source_for (const char *ref);

/* The disk of REF: 0, or -1 with error () set. */
int source_locate (const char *ref, const struct locate_request *req,
                   struct disk_location *loc);

/* Whether REQ's options apply to REF: 0, or EXIT_USAGE after a usage
 * message for command CMD (--platform and --verify are for layouts and
 * archives only).
 */
int source_check_request (const char *cmd, const char *ref,
                          const struct locate_request *req);

/* A source failed because the disk belongs to a user of the rootless
 * user namespace: the command is to be run again inside it, which main
 * does (rootless_reexec), the one place that decides it.
 */
bool source_needs_userns (void);
/* Run this very command again in podman's rootless user namespace
 * (podman unshare) and exit as it exits; returns when that cannot be.
 */
void source_rerun_in_userns (void);

#endif
