/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: what a container's annotations ask of the hook.
 *
 *   io.podman-disk.export=true|NAME        export this container's disk
 *   io.podman-disk.export/CNAME=true|NAME  the same, for the container
 *                                          named CNAME only
 *   io.podman-disk.disk=/PATH              the disk member (as --disk)
 *   io.podman-disk.writable=cow            clients may write; the writes go
 *                                          to a throw-away overlay
 *   io.podman-disk.writable=persistent:/DEST
 *                                          clients may write; the writes go
 *                                          into DEST, a clone of the disk
 *                                          (podman-disk clone) that must be
 *                                          there: the hook runs no podman
 *                                          while podman starts the container,
 *                                          so it cannot hold the image for a
 *                                          new one
 *
 * "false" means no export.  NAME ([A-Za-z0-9_.-]{1,64}) names the socket a
 * shared volume at /run/podman-disk gets (NAME.sock); with "true" it is the
 * container's name.  Every io.podman-disk.* key may take the /CNAME form,
 * which wins over the plain one for that container.  podman kube play gives
 * a pod's annotations to every container of the pod, so the /CNAME form is
 * how a YAML marks one of them.
 */
#ifndef PODMAN_DISK_HOOK_REQUEST_H
#define PODMAN_DISK_HOOK_REQUEST_H

#include <stdbool.h>

struct json_object;
struct oci_state;
struct oci_config;

#define ANNOTATION_PREFIX "io.podman-disk."
#define ANNOTATION_EXPORT "io.podman-disk.export"
#define ANNOTATION_DISK "io.podman-disk.disk"
#define ANNOTATION_WRITABLE "io.podman-disk.writable"
#define PERSISTENT_PREFIX "persistent:"

/* Who the container is, for the /CNAME form and the records. */
struct container_ident {
  char *id;
  char **names;            /* containers/storage names, NULL-terminated */
  char *image_id;          /* from containers/storage, or NULL */
  char *image_name;        /* the name it was created from, or NULL */
  char *k8s_name;          /* CRI-O's io.kubernetes.container.name, or NULL */
  char *hostname;          /* podman kube play names a pod's containers
                              POD-CNAME, and POD is their hostname */
  bool in_pod;             /* io.kubernetes.cri-o.SandboxID is set */
};

/* From the state and config, and the names and image from the
 * containers.json of the store the bundle is in (BUNDLE/../../, podman's
 * layout); a container not found there just has no names.  Never locks
 * the store: containers/storage replaces that file by rename, so a read
 * is consistent.
 */
int container_ident_load (struct container_ident *ci,
                          const struct oci_state *st,
                          const struct oci_config *cfg);
/* The containers.json part, on its own for the tests. */
int container_ident_read_storage (struct container_ident *ci,
                                  const char *containers_json);
void container_ident_clear (struct container_ident *ci);

/* Is CNAME this container's name? */
bool container_ident_matches (const struct container_ident *ci,
                              const char *cname);
/* The short name: the Kubernetes container name, the storage name, or
 * the first 12 characters of the id.
 */
const char *container_ident_short_name (const struct container_ident *ci);

struct export_request {
  bool wanted;
  char *name;              /* socket name in a shared volume: NAME.sock */
  char *disk;              /* the member, or NULL for the /disk/ rule */
  bool cow;                /* io.podman-disk.writable=cow */
  char *persistent;        /* io.podman-disk.writable=persistent:DEST: DEST */
};

/* Read ANNOTATIONS.  0 with req->wanted false when no export applies to
 * this container; -1 with a message naming the annotation when one that
 * applies has a value that is not allowed.
 */
int export_request_parse (struct json_object *annotations,
                          const struct container_ident *ci,
                          struct export_request *req);
void export_request_clear (struct export_request *req);

/* [A-Za-z0-9_.-]{1,64} */
bool export_name_valid (const char *name);

#endif
