/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: disk format detection from the header, never by letting qemu
 * probe.  See diskfmt.h.
 *
 * qcow2 is checked field by field (docs/interop/qcow2.txt in qemu): any
 * header that would make qemu open another file (a backing file, an
 * external data file) is refused, and so is one qemu would reject or that
 * is plainly corrupt, so the error comes from here with a clear message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "image/diskfmt.h"
#include "common/error.h"

const char *
diskfmt_name (enum disk_format format)
{
  switch (format) {
  case DISK_RAW: return "raw";
  case DISK_QCOW2: return "qcow2";
  case DISK_VMDK: return "vmdk";
  case DISK_VHDX: return "vhdx";
  case DISK_VPC: return "vpc";
  case DISK_VDI: return "vdi";
  }
  return "unknown";
}

static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
    (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
be64 (const unsigned char *p)
{
  return (uint64_t) be32 (p) << 32 | be32 (p + 4);
}

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 |
    (uint32_t) p[1] << 8 | p[0];
}

static bool
starts_with (const unsigned char *buf, size_t len, const char *magic,
             size_t mlen)
{
  return len >= mlen && memcmp (buf, magic, mlen) == 0;
}

/* ---- qcow2 ---- */

/* Header fields, byte offsets in the qcow2 spec. */
#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_V2_HEADER_LENGTH 72
#define QCOW2_V3_HEADER_LENGTH 104
#define QCOW2_INCOMPAT_CORRUPT ((uint64_t) 1 << 1)
#define QCOW2_INCOMPAT_DATA_FILE ((uint64_t) 1 << 2)
/* dirty, corrupt, external data file, compression type, extended L2 */
#define QCOW2_INCOMPAT_KNOWN ((uint64_t) 0x1f)
#define QCOW2_EXT_END 0
#define QCOW2_EXT_DATA_FILE 0x44415441
#define QCOW2_MAX_VIRTUAL_SIZE ((uint64_t) 1 << 61)

struct qcow2_header {
  uint32_t version;
  uint64_t backing_file_offset;
  uint32_t backing_file_size;
  uint32_t cluster_bits;
  uint64_t size;
  uint32_t crypt_method;
  uint32_t l1_size;
  uint64_t l1_table_offset;
  uint64_t incompatible_features;      /* v3 */
  uint32_t header_length;              /* v3; 72 for v2 */
};

static void
qcow2_parse (const unsigned char *b, struct qcow2_header *h)
{
  memset (h, 0, sizeof *h);
  h->version = be32 (b + 4);
  h->backing_file_offset = be64 (b + 8);
  h->backing_file_size = be32 (b + 16);
  h->cluster_bits = be32 (b + 20);
  h->size = be64 (b + 24);
  h->crypt_method = be32 (b + 32);
  h->l1_size = be32 (b + 36);
  h->l1_table_offset = be64 (b + 40);
  h->header_length = QCOW2_V2_HEADER_LENGTH;
}

/* A file name stored in the header, quoted for a message: printable bytes
 * only, "?" if it lies beyond what was read.
 */
static void
quote_name (const unsigned char *buf, size_t len, uint64_t offset,
            uint64_t size, char *out, size_t outlen)
{
  size_t j = 0;

  if (offset >= len || size > len - offset || size == 0) {
    snprintf (out, outlen, "?");
    return;
  }
  for (uint64_t i = 0; i < size && j + 4 < outlen; i++) {
    unsigned char c = buf[offset + i];
    out[j++] = c >= 0x20 && c < 0x7f ? c : '?';
  }
  if (j + 4 >= outlen)
    out[j++] = '.', out[j++] = '.', out[j++] = '.';
  out[j] = '\0';
}

/* The external data file's name, from header extension "DATA" if any. */
static void
qcow2_data_file_name (const unsigned char *buf, size_t len,
                      uint32_t header_length, char *out, size_t outlen)
{
  size_t off = header_length;

  snprintf (out, outlen, "?");
  while (off <= len && len - off >= 8) {
    uint32_t type = be32 (buf + off), elen = be32 (buf + off + 4);
    off += 8;
    if (type == QCOW2_EXT_END || elen > len - off)
      return;
    if (type == QCOW2_EXT_DATA_FILE) {
      quote_name (buf, len, off, elen, out, outlen);
      return;
    }
    off += (elen + 7) & ~7u;
  }
}

static int
qcow2_check_v3 (const unsigned char *buf, size_t len,
                const struct qcow2_header *h)
{
  char name[256];

  if (h->header_length < QCOW2_V3_HEADER_LENGTH ||
      h->header_length > (1u << h->cluster_bits))
    return error ("qcow2 header_length %" PRIu32 " is invalid: corrupt "
                  "header", h->header_length);
  if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
    return error ("qcow2 image marked corrupt: refused (qemu-img check -r "
                  "all repairs a copy)");
  if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) {
    qcow2_data_file_name (buf, len, h->header_length, name, sizeof name);
    return error ("qcow2 with an external data file (%s) would open a host "
                  "path: refused", name);
  }
  if (h->incompatible_features & ~QCOW2_INCOMPAT_KNOWN)
    return error ("qcow2 with unknown incompatible features 0x%" PRIx64
                  ": refused", h->incompatible_features
                  & ~QCOW2_INCOMPAT_KNOWN);
  return 0;
}

static int
qcow2_check (const unsigned char *buf, size_t len, uint64_t size,
             const struct qcow2_header *h)
{
  char name[256];

  if (h->version != 2 && h->version != 3)
    return error ("qcow2 version %" PRIu32 " is not supported (2 and 3 are)",
                  h->version);
  if (h->cluster_bits < 9 || h->cluster_bits > 21)
    return error ("qcow2 cluster_bits %" PRIu32 " is out of range (9 to 21): "
                  "corrupt header", h->cluster_bits);
  if (h->version == 3 && qcow2_check_v3 (buf, len, h) == -1)
    return -1;
  if (h->backing_file_offset != 0) {
    quote_name (buf, len, h->backing_file_offset, h->backing_file_size,
                name, sizeof name);
    return error ("qcow2 with a backing file (%s) would open a host path: "
                  "refused", name);
  }
  if (h->crypt_method != 0)
    return error ("encrypted qcow2 (crypt_method %" PRIu32 ") is not "
                  "supported", h->crypt_method);
  if (h->size == 0 || h->size > QCOW2_MAX_VIRTUAL_SIZE)
    return error ("qcow2 virtual size %" PRIu64 " is out of range: corrupt "
                  "header", h->size);
  if ((uint64_t) h->l1_size * 8 > size ||
      h->l1_table_offset > size - (uint64_t) h->l1_size * 8)
    return error ("qcow2 L1 table (%" PRIu32 " entries at offset %" PRIu64
                  ") lies beyond the end of the disk (%" PRIu64 " bytes): "
                  "corrupt or truncated", h->l1_size, h->l1_table_offset,
                  size);
  return 0;
}

static int
probe_qcow2 (const unsigned char *buf, size_t len, uint64_t size,
             struct disk_format_info *out)
{
  struct qcow2_header h;

  if (len < QCOW2_V2_HEADER_LENGTH)
    return error ("qcow2 header truncated (%zu bytes)", len);
  qcow2_parse (buf, &h);
  if (h.version >= 3) {
    if (len < QCOW2_V3_HEADER_LENGTH)
      return error ("qcow2 header truncated (%zu bytes)", len);
    h.incompatible_features = be64 (buf + 72);
    h.header_length = be32 (buf + 100);
  }
  out->qcow2_version = h.version;
  out->cluster_bits = h.cluster_bits;
  out->virtual_size = h.size;
  return qcow2_check (buf, len, size, &h);
}

/* ---- the formats detected and refused for now ---- */

static bool
is_vmdk (const unsigned char *buf, size_t len)
{
  static const char descriptor[] = "# Disk DescriptorFile";
  return starts_with (buf, len, "KDMV", 4) ||
    starts_with (buf, len, descriptor, sizeof descriptor - 1);
}

static bool
is_vdi (const unsigned char *buf, size_t len)
{
  return starts_with (buf, len, "<<< ", 4) && len >= 68 &&
    le32 (buf + 64) == 0xbeda107f;
}

static enum disk_format
detect (const unsigned char *buf, size_t len)
{
  if (starts_with (buf, len, QCOW2_MAGIC, 4))
    return DISK_QCOW2;
  if (is_vmdk (buf, len))
    return DISK_VMDK;
  if (starts_with (buf, len, "vhdxfile", 8))
    return DISK_VHDX;
  /* A dynamic VHD starts with a copy of its footer; a fixed one has the
   * footer only at the end, is raw before it and is taken for raw.
   */
  if (starts_with (buf, len, "conectix", 8))
    return DISK_VPC;
  if (is_vdi (buf, len))
    return DISK_VDI;
  return DISK_RAW;
}

int
diskfmt_probe_buffer (const void *buf, size_t len, uint64_t size,
                      struct disk_format_info *out)
{
  memset (out, 0, sizeof *out);
  if (len > size)
    len = size;
  out->format = detect (buf, len);
  switch (out->format) {
  case DISK_RAW:
    out->virtual_size = size;
    return 0;
  case DISK_QCOW2:
    return probe_qcow2 (buf, len, size, out);
  default:
    return error ("%s disks are not supported yet: convert with "
                  "qemu-img convert -O qcow2", diskfmt_name (out->format));
  }
}

int
diskfmt_probe_fd (int fd, uint64_t offset, uint64_t size,
                  struct disk_format_info *out)
{
  unsigned char buf[DISKFMT_HEADER_SIZE];
  size_t want = size < sizeof buf ? size : sizeof buf, got = 0;

  memset (out, 0, sizeof *out);
  while (got < want) {
    ssize_t r = pread (fd, buf + got, want - got, offset + got);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return error_errno (errno, "reading the disk header at offset %"
                          PRIu64, offset);
    if (r == 0)
      return error ("disk header truncated: %zu of %zu bytes at offset %"
                    PRIu64 " (the file is shorter than it should be)",
                    got, want, offset);
    got += r;
  }
  return diskfmt_probe_buffer (buf, got, size, out);
}
