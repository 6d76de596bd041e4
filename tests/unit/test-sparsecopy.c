/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of src/serve/sparsecopy.c: the copy is byte-exact, keeps the
 * source's holes, makes all-zero blocks holes, whatever the offset of the
 * disk in its file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/error.h"
#include "serve/sparsecopy.h"

#include "unit.h"

#define MiB (1024 * 1024)

static char tmpdir[] = "/var/tmp/test-sparsecopy.XXXXXX";

static void
pwrite_all (int fd, const void *buf, size_t len, off_t off)
{
  if (pwrite (fd, buf, len, off) != (ssize_t) len)
    unit_die ("pwrite");
}

static uint64_t last_done;
static int calls;

static int
progress (uint64_t done, void *arg)
{
  uint64_t size = *(uint64_t *) arg;
  CHECK (done >= last_done && done <= size, "progress %lu after %lu",
         (unsigned long) done, (unsigned long) last_done);
  last_done = done;
  calls++;
  return 0;
}

/* A disk of SIZE bytes at OFFSET of a file: random data, zeros written as
 * data, a real hole, data again; copy it and check.
 */
static void
test_copy (uint64_t offset, uint64_t size, uint64_t data_size)
{
  char src_path[128], dst_path[128];
  unsigned char *disk = calloc (1, size), *got = malloc (size);
  int src, dst;
  struct stat st;

  fprintf (stderr, "-- offset %lu size %lu\n", (unsigned long) offset, (unsigned long) size);
  snprintf (src_path, sizeof src_path, "%s/src", tmpdir);
  snprintf (dst_path, sizeof dst_path, "%s/dst", tmpdir);
  for (uint64_t i = 0; i < data_size / 2; i++)
    disk[i] = rand () | 1;
  for (uint64_t i = size - data_size / 2; i < size; i++)
    disk[i] = rand ();
  /* A lone non-zero byte inside a zero area: its block must be copied. */
  disk[size / 3 + 7] = 0x42;

  src = open (src_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (src == -1)
    unit_die (src_path);
  pwrite_all (src, "JUNKJUNK", 8, 0);
  if (offset > 8)
    pwrite_all (src, disk, 1, offset - 1);        /* junk before */
  /* First half: written, zeros included (allocated like a layer file). */
  pwrite_all (src, disk, size / 2, offset);
  /* Second half: the zeros are a real hole, the data is written. */
  pwrite_all (src, disk + size - data_size / 2, data_size / 2,
              offset + size - data_size / 2);
  pwrite_all (src, "JUNK", 4, offset + size);      /* junk after */
  CHECK (disk[size / 2] == 0 || data_size >= size, "layout");

  dst = open (dst_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (dst == -1)
    unit_die (dst_path);
  last_done = 0;
  calls = 0;
  CHECK (sparsecopy (src, offset, size, dst, false, progress, &size) == 0, "copy");
  CHECK (calls > 0 && last_done == size, "progress ended at %lu", (unsigned long) last_done);
  CHECK (fstat (dst, &st) == 0 && (uint64_t) st.st_size == size, "size %ld", (long) st.st_size);
  CHECK (pread (dst, got, size, 0) == (ssize_t) size, "read back");
  CHECK (memcmp (got, disk, size) == 0, "bytes differ");
  /* Allocated: the data, plus at most a block for the lone byte and a
   * block at each end of the data.
   */
  uint64_t allocated = (uint64_t) st.st_blocks * 512;
  fprintf (stderr, "   data %lu allocated %lu\n", (unsigned long) data_size,
           (unsigned long) allocated);
  CHECK (allocated <= data_size + 4 * SPARSECOPY_BLOCK, "not sparse: %lu allocated",
         (unsigned long) allocated);
  close (src);
  close (dst);
  free (disk);
  free (got);
}

int
main (void)
{
  unit_tmpdir (tmpdir);
  srand (7);
  CHECK (is_zero ("\0\0\0\0", 4) && !is_zero ("\0\0\0\1", 4) && is_zero ("", 0), "is_zero");
  test_copy (0, 64 * MiB, 8 * MiB);
  test_copy (1234, 64 * MiB + 4321, 8 * MiB);       /* unaligned both ways */
  test_copy (4096, 200 * MiB, 16 * MiB);            /* several 64 MiB chunks */
  test_copy (512, 3 * MiB, 3 * MiB);                /* all data */
  test_copy (512, 100, 100);                        /* smaller than a block */
  return unit_summary ();
}
