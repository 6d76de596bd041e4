/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the SELinux label of the sockets the hook makes. */
#ifndef PODMAN_DISK_HOOK_LABEL_H
#define PODMAN_DISK_HOOK_LABEL_H

/* Give PATH itself (a symlink is not followed) the SELinux context LABEL,
 * the container's linux.mountLabel (container_file_t with its categories),
 * so that confined containers sharing the directory may connect.  Nothing
 * when LABEL is NULL or SELinux is disabled; libselinux is only loaded
 * when it is enabled.
 */
int label_path (const char *path, const char *label);

#endif
