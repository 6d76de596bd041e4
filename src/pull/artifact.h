/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: disk artifacts (pull/pull.h): the disk pushed as a blob,
 * or podman machine's disk images picked by --disktype.  podman >= 5.4
 * pulls them into its artifact store; before, skopeo copies them into
 * podman-disk's own artifact cache, an OCI layout of the user's own.
 */
#ifndef PODMAN_DISK_PULL_ARTIFACT_H
#define PODMAN_DISK_PULL_ARTIFACT_H

#include "location.h"
#include "pull/pull.h"
#include "pull/tool.h"
#include "storage/reference.h"

/* A previously pulled artifact for one of NAME's candidates: 0 with LOC,
 * 1 when there is none, -1 with error ().
 */
int cached_artifact (const struct image_name *name, const char *disktype,
                     const struct locate_request *req, struct disk_location *loc);

/* Pull the artifact QUALIFIED (the full name of REF) and locate it. */
int artifact_pull (const char *ref, const char *qualified,
                   const struct store_args *st, const struct pull_options *pull,
                   const struct locate_request *req, struct disk_location *loc);

#endif
