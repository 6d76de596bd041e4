/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: containers/storage as a source of disks. */
#ifndef PODMAN_DISK_STORAGE_H
#define PODMAN_DISK_STORAGE_H

#include "location.h"

/* REF: a name, an id or id prefix, sha256:ID, NAME@sha256:DIGEST, or
 * containers-storage:[DRIVER@ROOT+RUNROOT]REF.
 */
int storage_locate (const char *ref, const struct locate_request *req,
                    struct disk_location *loc);

/* The artifact REF of podman's artifact store under GRAPHROOT (podman
 * artifact add): 0 with its disk in LOC, 1 when there is no such artifact,
 * -1 on error.
 */
int storage_artifact_locate (const char *graphroot, const char *ref,
                             const struct locate_request *req,
                             struct disk_location *loc);

/* Call CB for every image of the store REQ->store names (and its
 * additional image stores); REF is not used (NULL).
 */
int storage_list (const char *ref, const struct locate_request *req,
                  disk_list_cb cb, void *arg);

#endif
