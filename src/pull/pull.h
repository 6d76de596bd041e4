/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: pull on demand, as podman run does (--pull).
 *
 * Pulling is podman's: `podman pull` runs on the same store (--root,
 * --runroot, --storage-driver, the reference's [DRIVER@ROOT+RUNROOT]),
 * with the user's credentials options, so registries.conf (mirrors,
 * short names, insecure registries), policy.json and auth files mean
 * what they mean to podman.  Its progress goes to stderr; a failed pull is
 * one line naming the registry and the reason.  Only names in
 * containers-storage are pulled: oci:, archives and rootfs: are read
 * where they are.
 *
 * Disk artifacts (the disk pushed as a blob, ORAS style, or podman
 * machine's disk images picked by --disktype) are no images: podman 4.3
 * cannot pull them, and podman >= 5.4 pulls them with `podman artifact
 * pull` into its artifact store, where the storage source finds them.
 * Before 5.4 they are copied by skopeo into podman-disk's own OCI layout
 * (the artifact cache: $PODMAN_DISK_CACHE_DIR/artifacts, else
 * $XDG_CACHE_HOME/podman-disk/artifacts, else /var/cache/podman-disk/
 * artifacts for root and ~/.cache/podman-disk/artifacts for others),
 * never into containers/storage, and served from there.
 */
#ifndef PODMAN_DISK_PULL_PULL_H
#define PODMAN_DISK_PULL_PULL_H

#include <stdbool.h>

#include "location.h"

/* podman's --pull values. */
enum pull_policy {
  PULL_NEVER,      /* only what is in the store (locate, json: default) */
  PULL_MISSING,    /* pull when the store has no such image (serve, cp) */
  PULL_ALWAYS,     /* pull every time */
  PULL_NEWER,      /* pull when the registry's differs: podman 4.3's pull
                      fetches the manifest and only the blobs it lacks */
};

struct pull_options {
  enum pull_policy policy;
  const char *authfile;      /* --authfile FILE */
  const char *creds;         /* --creds USER[:PASSWORD] */
  const char *cert_dir;      /* --cert-dir DIR */
  const char *tls_verify;    /* --tls-verify[=true|false]: "true", "false" or NULL */
  const char *platform;      /* --platform, taken over from the request */
  const char *disktype;      /* --disktype, likewise */
};

/* "always", "missing", "never", "newer": 0, or -1 when ARG is none. */
int pull_parse_policy (const char *arg, enum pull_policy *policy);
const char *pull_policy_name (enum pull_policy policy);

/* Check PULL against REF for command CMD, before anything else runs:
 * 0, or EXIT_USAGE after a usage message.  For a name that may be
 * pulled, --platform and --disktype move from REQ to PULL: they choose
 * what podman pulls, not what the store holds.
 */
int pull_check_request (const char *cmd, const char *ref,
                        struct pull_options *pull, struct locate_request *req);

/* source_locate, with a pull first when PULL's policy says so: 0, or -1
 * with error () set.
 */
int pull_locate (const char *ref, const struct pull_options *pull,
                 const struct locate_request *req, struct disk_location *loc);

#endif
