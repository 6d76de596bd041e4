/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: disk format detection from the header, never by qemu probing. */
#ifndef PODMAN_DISK_DISKFMT_H
#define PODMAN_DISK_DISKFMT_H

#include <stddef.h>
#include <stdint.h>

enum disk_format {
  DISK_RAW = 0,        /* anything unrecognised, ISO included */
  DISK_QCOW2,
  DISK_VMDK,           /* detected, refused for now */
  DISK_VHDX,           /* detected, refused for now */
  DISK_VPC,            /* detected, refused for now */
  DISK_VDI,            /* detected, refused for now */
};

struct disk_format_info {
  enum disk_format format;
  uint64_t virtual_size;   /* guest-visible size; = size for raw */
  uint32_t qcow2_version;  /* 2 or 3 for qcow2, else 0 */
  uint32_t cluster_bits;   /* qcow2 only */
};

/* How many header bytes diskfmt_probe_buffer wants to see (fewer is fine
 * when the member is smaller).
 */
#define DISKFMT_HEADER_SIZE 4096

/* Detect the format of a member of SIZE bytes whose first LEN bytes are BUF.
 * Returns 0, or -1 with an error message when the disk must be refused
 * (qcow2 with a backing file or external data file, corrupt qcow2 header,
 * vmdk, vhdx, vpc, vdi).
 */
int diskfmt_probe_buffer (const void *buf, size_t len, uint64_t size,
                          struct disk_format_info *out);

/* The same, reading the header with pread at OFFSET of FD. */
int diskfmt_probe_fd (int fd, uint64_t offset, uint64_t size,
                      struct disk_format_info *out);

/* "raw", "qcow2", "vmdk", ...: also the qemu driver name. */
const char *diskfmt_name (enum disk_format format);

#endif
