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

/* The same node tree as a json-c object, to change before it is written:
 * the caller's reference (json_object_put it).  NULL with error() set as
 * for qemuspec_build.
 */
struct json_object *qemuspec_tree (const struct disk_location *loc,
                                   bool decode, const char *filename);

/* "json:" and TREE's JSON text; puts TREE (NULL gives NULL).  Free the
 * result.
 */
char *qemuspec_filename (struct json_object *tree);

/* qemu's rule for a node name: an ASCII letter, then letters, digits,
 * '-', '.' and '_', at most QEMUSPEC_NODE_NAME_MAX characters.
 */
#define QEMUSPEC_NODE_NAME_MAX 31
bool qemuspec_node_name_ok (const char *name);

/* One -blockdev JSON object (no "json:"): the tree of qemuspec_build for
 * loc->file, with "node-name": NODE_NAME at the top.  Free the result;
 * NULL with error() set (NODE_NAME not a node name, or as qemuspec_build).
 */
char *qemuspec_blockdev (const struct disk_location *loc, bool decode,
                         const char *node_name);

/* One -drive value: "file=json:{...}" with QemuOpts' commas doubled,
 * "format=" the top node's driver, and "readonly=on", or "snapshot=on"
 * when SNAPSHOT (a temporary writable overlay over the read-only tree).
 * The caller appends its own ",if=...".  Free the result; NULL with
 * error() set as for qemuspec_build.
 */
char *qemuspec_drive (const struct disk_location *loc, bool decode,
                      bool snapshot);

#endif
