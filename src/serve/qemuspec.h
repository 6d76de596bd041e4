/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the qemu json: filename that opens a disk in place. */
#ifndef PODMAN_DISK_QEMUSPEC_H
#define PODMAN_DISK_QEMUSPEC_H

#include <stdbool.h>

#include "location.h"

/* "json:{...}": a read-only file node for FILENAME (loc->file when NULL,
 * e.g. "/dev/fd/N" for a server that inherits the fd), a raw node with
 * offset and size over it, and a qcow2 node on top for qcow2 disks when
 * DECODE.  The format is always named: qemu never probes.  Free the result.
 * NULL with error() set when qemu cannot open the disk exactly (a raw
 * window whose size is not a multiple of 512) or out of memory.
 */
char *qemuspec_build (const struct disk_location *loc, bool decode,
                      const char *filename);

#endif
