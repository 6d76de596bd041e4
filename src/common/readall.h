/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: read a whole small file or stream, bounded. */
#ifndef PODMAN_DISK_READALL_H
#define PODMAN_DISK_READALL_H

#include <stddef.h>

/* Read a whole (small) file or stream: at most MAX bytes, else an error
 * naming WHAT.  The buffer is NUL-terminated; free it.  0, or -1 with
 * error () set.
 */
int read_all_fd (int fd, size_t max, const char *what, char **buf, size_t *len);
/* The same for the regular file PATH, opened without following a FIFO's
 * wait (O_NONBLOCK) and refused if it is not a regular file.
 */
int read_all_file (const char *path, size_t max, char **buf, size_t *len);

#endif
