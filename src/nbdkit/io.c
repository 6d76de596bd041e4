/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk plugin: reads, extents and cache hints on a located disk,
 * see plugin.h.  Only the fd the locate opened is read, never a path:
 * what was checked is what is served.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "nbdkit/plugin.h"

int
disk_pread (const struct served_disk *d, void *buf, uint32_t count,
            uint64_t offset)
{
  char *p = buf;
  uint64_t pos = d->loc.offset + offset;

  while (count > 0) {
    ssize_t r = pread (d->loc.fd, p, count, pos);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      nbdkit_error ("%s: read at offset %" PRIu64 ": %m", d->loc.file, pos);
      return -1;
    }
    if (r == 0) {
      /* The file is shorter than when it was located. */
      nbdkit_error ("%s: unexpected end of file at offset %" PRIu64
                    " (the file was truncated after it was located)",
                    d->loc.file, pos);
      errno = EIO;
      return -1;
    }
    p += r;
    pos += r;
    count -= r;
  }
  return 0;
}

/* Add the extent [START, END) of the file, in the disk's offsets. */
static int
add_extent (const struct served_disk *d, struct nbdkit_extents *extents,
            uint64_t start, uint64_t end, uint32_t type)
{
  return nbdkit_add_extent (extents, start - d->loc.offset, end - start, type);
}

/* The data and holes of the file, clipped to the disk's range: a disk
 * that is a tar member shares its file with other members' bytes, which
 * never show.
 */
int
disk_extents (const struct served_disk *d, uint32_t count, uint64_t offset,
              uint32_t flags, struct nbdkit_extents *extents)
{
  const uint32_t hole = NBDKIT_EXTENT_HOLE | NBDKIT_EXTENT_ZERO;
  uint64_t pos = d->loc.offset + offset;
  uint64_t end = pos + count;

  while (pos < end) {
    off_t data = lseek (d->loc.fd, pos, SEEK_DATA);
    if (data == -1 && errno == ENXIO)
      /* No data from here to the end of the file. */
      return add_extent (d, extents, pos, end, hole);
    if (data == -1 && (errno == EINVAL || errno == EOPNOTSUPP))
      /* No SEEK_DATA on this file system: all of it is data. */
      return add_extent (d, extents, pos, end, 0);
    if (data == -1) {
      nbdkit_error ("%s: lseek SEEK_DATA: %m", d->loc.file);
      return -1;
    }
    if ((uint64_t) data > pos) {
      uint64_t stop = (uint64_t) data < end ? (uint64_t) data : end;
      if (add_extent (d, extents, pos, stop, hole) == -1)
        return -1;
      pos = stop;
      if (flags & NBDKIT_FLAG_REQ_ONE)
        return 0;
      continue;
    }
    off_t next_hole = lseek (d->loc.fd, pos, SEEK_HOLE);
    if (next_hole == -1) {
      nbdkit_error ("%s: lseek SEEK_HOLE: %m", d->loc.file);
      return -1;
    }
    uint64_t stop = (uint64_t) next_hole < end ? (uint64_t) next_hole : end;
    if (stop <= pos)          /* the file shrank under us */
      stop = end;
    if (add_extent (d, extents, pos, stop, 0) == -1)
      return -1;
    pos = stop;
    if (flags & NBDKIT_FLAG_REQ_ONE)
      return 0;
  }
  return 0;
}

int
disk_cache (const struct served_disk *d, uint32_t count, uint64_t offset)
{
  int r = posix_fadvise (d->loc.fd, d->loc.offset + offset, count,
                         POSIX_FADV_WILLNEED);
  if (r != 0) {
    errno = r;
    nbdkit_error ("%s: posix_fadvise: %m", d->loc.file);
    return -1;
  }
  return 0;
}
