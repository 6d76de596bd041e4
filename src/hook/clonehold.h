/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the hold of a clone the OCI hook made on first use.
 *
 * The hook runs while podman starts the container and holds its lock: a
 * podman command run by the hook itself could wait for ever.  So the hook
 * makes the clone (qemu-img only, clone_create_unheld) and leaves its hold
 * (clone/hold.h: a created, never started container of the image) to a
 * detached process of its own, which runs podman once the hook has
 * returned; podman waits, if need be, until the start is done.  Until
 * then the container itself keeps its image from podman rmi.
 *
 * The store is the container's, as podman lays it out: the graph root and
 * the driver from the bundle, GRAPHROOT/DRIVER-containers/ID/userdata; the
 * run root from the source of the bind mount of /run/.containerenv,
 * RUNROOT/DRIVER-containers/ID/userdata/.containerenv.
 */
#ifndef PODMAN_DISK_HOOK_CLONEHOLD_H
#define PODMAN_DISK_HOOK_CLONEHOLD_H

#include "location.h"

/* The store of container ID from its BUNDLE and the source of its
 * /run/.containerenv (NULL if none): 0 with STORE's strings allocated
 * (clonehold_store_clear frees them), or -1 with error () set when they
 * are not podman's layout.
 */
int clonehold_store (const char *bundle, const char *containerenv,
                     const char *id, struct store_options *store);
void clonehold_store_clear (struct store_options *store);

/* Start the detached process that holds IMAGE_ID for the clone DEST in
 * STORE.  Returns at once; the process says on syslog if it fails.
 */
void clonehold_start (const struct store_options *store, const char *image_id,
                      const char *dest);

#endif
