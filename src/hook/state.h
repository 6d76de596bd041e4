/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: what an OCI hook is told about its container.
 *
 * The runtime writes the container's state (runtime-spec "state": id,
 * status, pid, bundle, annotations) on the hook's stdin; the bundle's
 * config.json says where the root filesystem is, what is mounted into it
 * and which SELinux label its files carry.  Both are untrusted input as far
 * as the parser goes: every field is type-checked, and the id, which names
 * files of ours, is checked to be a plain name.
 */
#ifndef PODMAN_DISK_HOOK_OCI_H
#define PODMAN_DISK_HOOK_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;

struct oci_state {
  char *id;                /* container id: a plain name, safe in a path */
  char *status;            /* "creating", "created", "running", "stopped" */
  pid_t pid;               /* 0 when absent (podman's own poststop) */
  char *bundle;            /* absolute path */
  struct json_object *annotations;   /* an object, never NULL */
};

int oci_state_parse (const char *buf, size_t len, struct oci_state *st);
void oci_state_clear (struct oci_state *st);

struct oci_mount {
  char *destination;       /* path in the container */
  char *source;            /* path on the host for bind mounts, else NULL */
  char *type;              /* "bind", "tmpfs", ... or NULL */
  bool bind;               /* type "bind", or a "bind"/"rbind" option */
};

struct oci_config {
  char *root_path;         /* absolute: relative root.path is against the bundle */
  char *mount_label;       /* linux.mountLabel, or NULL */
  char *hostname;          /* "hostname", else HOSTNAME= of process.env, or NULL */
  struct json_object *annotations;   /* an object, never NULL */
  struct oci_mount *mounts;
  size_t n_mounts;
};

/* BUNDLE is used to make a relative root.path absolute. */
int oci_config_parse (const char *buf, size_t len, const char *bundle,
                      struct oci_config *cfg);
/* Read and parse BUNDLE/config.json. */
int oci_config_load (const char *bundle, struct oci_config *cfg);
void oci_config_clear (struct oci_config *cfg);

/* The host directory bind-mounted at DESTINATION, or NULL. */
const char *oci_config_bind_source (const struct oci_config *cfg,
                                    const char *destination);

#endif
