/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: sparse copy of a byte range, see sparsecopy.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "serve/sparsecopy.h"

/* The most a copy_file_range or a progress step moves at a time. */
#define CHUNK (64 * 1024 * 1024)
/* The read/write fallback's buffer, also the zero test's. */
#define BUFSIZE (1024 * 1024)
/* The zero test looks at this much of a block first: data shows at once. */
#define PROBE 16

struct copier {
  int src, dst;
  uint64_t offset;           /* of the disk in SRC */
  uint64_t size;
  bool blockdev;
  bool kernel_copy;          /* copy_file_range works between SRC and DST */
  unsigned char *buf;        /* BUFSIZE bytes */
  uint64_t reported;         /* progress said so far */
  sparsecopy_progress_fn progress;
  void *arg;
};

/* What the scan of an extent is in the middle of. */
enum run_kind { RUN_NONE, RUN_DATA, RUN_ZERO };

bool
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;

  /* A zero block costs one memcmp of itself against itself shifted by one
   * byte, which glibc does at memory speed.
   */
  if (len == 0)
    return true;
  if (p[0] != 0)
    return false;
  return memcmp (p, p + 1, len - 1) == 0;
}

static int
write_error (int errnum)
{
  if (errnum == ENOSPC)
    return error ("no space left on the destination device");
  return error_errno (errnum, "write");
}

static int
pread_full (int fd, void *buf, size_t len, uint64_t off)
{
  while (len > 0) {
    ssize_t n = pread (fd, buf, len, off);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == 0)
      return error ("the disk file ended early: was it truncated?");
    if (n == -1)
      return error_errno (errno, "read");
    buf = (char *) buf + n;
    len -= n;
    off += n;
  }
  return 0;
}

static int
pwrite_full (int fd, const void *buf, size_t len, uint64_t off)
{
  while (len > 0) {
    ssize_t n = pwrite (fd, buf, len, off);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0)
      return write_error (n == 0 ? EIO : errno);
    buf = (const char *) buf + n;
    len -= n;
    off += n;
  }
  return 0;
}

/* Tell the caller how far the destination is done, never backwards. */
static int
report (struct copier *c, uint64_t done)
{
  if (done <= c->reported)
    return 0;
  c->reported = done;
  return c->progress ? c->progress (done, c->arg) : 0;
}

/* Destination bytes [DPOS, DPOS+LEN), data in the source: by the kernel,
 * or read and written where it cannot (another filesystem type, a block
 * device).
 */
static int
copy_data (struct copier *c, uint64_t dpos, uint64_t len)
{
  while (len > 0) {
    size_t n = len < CHUNK ? len : CHUNK;
    if (c->kernel_copy) {
      loff_t soff = c->offset + dpos, doff = dpos;
      ssize_t r = copy_file_range (c->src, &soff, c->dst, &doff, n, 0);
      if (r == 0)
        return error ("the disk file ended early: was it truncated?");
      if (r == -1) {
        if (errno == EINTR)
          continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS
            && errno != EOPNOTSUPP && errno != EBADF && errno != ETXTBSY)
          return write_error (errno);
        c->kernel_copy = false;
        continue;
      }
      n = r;
    }
    else {
      if (n > BUFSIZE)
        n = BUFSIZE;
      if (pread_full (c->src, c->buf, n, c->offset + dpos) == -1
          || pwrite_full (c->dst, c->buf, n, dpos) == -1)
        return -1;
    }
    dpos += n;
    len -= n;
    if (report (c, dpos) == -1)
      return -1;
  }
  return 0;
}

/* Zero destination bytes [DPOS, DPOS+LEN): nothing to do in a file
 * truncated to size (they are a hole), but a block device has old data.
 */
static int
zero_range (struct copier *c, uint64_t dpos, uint64_t len)
{
  static const unsigned char zeros[SPARSECOPY_BLOCK];

  if (!c->blockdev || len == 0)
    return 0;
  if (dpos % 512 == 0 && len % 512 == 0
      && fallocate (c->dst, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                    dpos, len) == 0)
    return 0;
  while (len > 0) {
    size_t n = len < sizeof zeros ? len : sizeof zeros;
    if (pwrite_full (c->dst, zeros, n, dpos) == -1)
      return -1;
    dpos += n;
    len -= n;
  }
  return 0;
}

/* Whether destination block [DPOS, DPOS+LEN) is all zero: 1 yes, 0 no,
 * -1 error.  A data block usually says so in its first bytes, a small
 * pread; only a block that starts with zeros is read whole.
 */
static int
block_is_zero (struct copier *c, uint64_t dpos, size_t len)
{
  unsigned char probe[PROBE];
  size_t n = len < PROBE ? len : PROBE;

  if (pread_full (c->src, probe, n, c->offset + dpos) == -1)
    return -1;
  if (!is_zero (probe, n))
    return 0;
  if (len <= PROBE)
    return 1;
  if (pread_full (c->src, c->buf, len, c->offset + dpos) == -1)
    return -1;
  return is_zero (c->buf, len);
}

static int
flush_run (struct copier *c, enum run_kind kind, uint64_t start, uint64_t end)
{
  int r = 0;

  if (kind == RUN_DATA)
    r = copy_data (c, start, end - start);
  else if (kind == RUN_ZERO)
    r = zero_range (c, start, end - start);
  return r == -1 ? -1 : report (c, end);
}

/* Copy destination [FROM, TO), data in the source: all-zero blocks of the
 * destination become holes, the rest is copied in runs.
 */
static int
copy_extent (struct copier *c, uint64_t from, uint64_t to)
{
  enum run_kind kind = RUN_NONE;
  uint64_t start = from, p = from;
  unsigned blocks = 0;

  while (p < to) {
    uint64_t bend = (p / SPARSECOPY_BLOCK + 1) * SPARSECOPY_BLOCK;
    if (bend > to)
      bend = to;
    int z = block_is_zero (c, p, bend - p);
    if (z == -1)
      return -1;
    enum run_kind k = z ? RUN_ZERO : RUN_DATA;
    if (k != kind) {
      if (flush_run (c, kind, start, p) == -1)
        return -1;
      kind = k;
      start = p;
    }
    p = bend;
    /* Copy data as it is found, while what was probed is in the cache. */
    if (kind == RUN_DATA && p - start >= CHUNK) {
      if (flush_run (c, kind, start, p) == -1)
        return -1;
      start = p;
    }
    /* A long run of zeros is only scanned: say how far it got. */
    if (kind == RUN_ZERO && ++blocks % (CHUNK / SPARSECOPY_BLOCK) == 0
        && report (c, p) == -1)
      return -1;
  }
  return flush_run (c, kind, start, to);
}

int
sparsecopy (int src, uint64_t offset, uint64_t size, int dst, bool blockdev,
            sparsecopy_progress_fn progress, void *arg)
{
  struct copier c = {
    .src = src, .dst = dst, .offset = offset, .size = size,
    .blockdev = blockdev, .kernel_copy = true,
    .progress = progress, .arg = arg,
  };
  _cleanup_free_ unsigned char *buf = c.buf = malloc (BUFSIZE);
  uint64_t pos = 0;

  if (!buf)
    return error_errno (errno, "malloc");

  /* Skipped ranges must read as zeros: empty the file first, but only if
   * it is not empty already: ext4 takes a truncation to zero for a file
   * being replaced, and flushes it all at close (auto_da_alloc).
   */
  struct stat st;
  if (!blockdev && (fstat (dst, &st) == -1
                    || (st.st_size > 0 && ftruncate (dst, 0) == -1)))
    return error_errno (errno, "truncate");
  if (!blockdev && ftruncate (dst, size) == -1)
    return write_error (errno);

  /* The source's own holes are skipped without reading them. */
  while (pos < size) {
    off_t data = lseek (src, offset + pos, SEEK_DATA);
    off_t hole;
    if (data == -1 && errno == ENXIO)
      data = offset + size;             /* a hole up to the end of the file */
    else if (data == -1)
      data = offset + pos;              /* no SEEK_DATA: all data */
    if ((uint64_t) data > offset + size)
      data = offset + size;
    hole = lseek (src, data, SEEK_HOLE);
    if (hole == -1 || hole <= data || (uint64_t) hole > offset + size)
      hole = offset + size;
    if (zero_range (&c, pos, data - offset - pos) == -1)
      return -1;
    if (hole > data && copy_extent (&c, data - offset, hole - offset) == -1)
      return -1;
    pos = hole - offset;
    if (report (&c, pos) == -1)
      return -1;
  }
  if (blockdev && fsync (dst) == -1)
    return write_error (errno);
  return 0;
}

/* write(2) all of BUF, retrying on EINTR and short writes. */
static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write (fd, buf, len);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      return -1;
    buf += n;
    len -= n;
  }
  return 0;
}

int
streamcopy (int src, uint64_t offset, uint64_t size, int dst,
            sparsecopy_progress_fn progress, void *arg)
{
  off_t pos = offset;
  uint64_t done = 0;
  bool use_sendfile = true;
  _cleanup_free_ char *buf = NULL;

  while (done < size) {
    size_t chunk = use_sendfile ? CHUNK : BUFSIZE;
    size_t want = size - done > chunk ? chunk : size - done;
    ssize_t n;
    if (use_sendfile) {
      n = sendfile (dst, src, &pos, want);
      if (n == -1 && (errno == EINVAL || errno == ENOSYS)) {
        use_sendfile = false;          /* e.g. DST opened with O_APPEND */
        continue;
      }
    }
    else {
      if (!buf && (buf = malloc (BUFSIZE)) == NULL)
        return error_errno (errno, "malloc");
      n = pread (src, buf, want, pos);
      if (n > 0 && write_all (dst, buf, n) == -1)
        n = -1;
      else if (n > 0)
        pos += n;
    }
    if (n == -1 && errno == EINTR)
      n = 0;
    else if (n == -1)
      return error_errno (errno, "copy");
    else if (n == 0 && !use_sendfile)
      return error ("the disk file ended early (truncated?)");
    else if (n == 0)
      use_sendfile = false;            /* let pread say why */
    done += n;
    if (progress && progress (done, arg) == -1)
      return -1;
  }
  return 0;
}
