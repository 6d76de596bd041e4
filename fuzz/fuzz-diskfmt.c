/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: disk format detection from a header (src/image/diskfmt.c).
 *
 * The input is the start of a disk.  It is probed as the whole disk, as a
 * disk twice as long (header read in full, data beyond it) and as one
 * shorter than the header (a truncated member).  Properties: what is
 * accepted is raw or a sane qcow2 whose tables lie inside the disk; what is
 * refused says why in one printable line.
 */
#include <inttypes.h>

#include "image/diskfmt.h"
#include "fuzz.h"

static void
probe (const uint8_t *data, size_t len, uint64_t size)
{
  struct disk_format_info info;

  error_clear ();
  if (diskfmt_probe_buffer (data, len, size, &info) == -1) {
    fuzz_check_error_message ();
    return;
  }
  FUZZ_CHECK (info.format == DISK_RAW || info.format == DISK_QCOW2,
              "accepted format %s", diskfmt_name (info.format));
  if (info.format == DISK_RAW) {
    FUZZ_CHECK (info.virtual_size == size, "raw virtual size %" PRIu64
                " != size %" PRIu64, info.virtual_size, size);
    return;
  }
  FUZZ_CHECK (info.qcow2_version == 2 || info.qcow2_version == 3,
              "qcow2 version %" PRIu32, info.qcow2_version);
  FUZZ_CHECK (info.cluster_bits >= 9 && info.cluster_bits <= 21,
              "cluster_bits %" PRIu32, info.cluster_bits);
  FUZZ_CHECK (info.virtual_size > 0 && info.virtual_size <= (uint64_t) 1 << 61,
              "virtual size %" PRIu64, info.virtual_size);
  /* Accepted qcow2 never names another file. */
  FUZZ_CHECK (len >= 72, "qcow2 accepted from %zu header bytes", len);
  for (int i = 8; i < 16; i++)
    FUZZ_CHECK (data[i] == 0, "qcow2 with a backing file offset accepted");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  size_t len = size > DISKFMT_HEADER_SIZE ? DISKFMT_HEADER_SIZE : size;

  probe (data, len, size);
  probe (data, len, (uint64_t) size * 2 + 1);
  probe (data, len, size / 2);
  probe (data, len, UINT64_MAX);
  return 0;
}
