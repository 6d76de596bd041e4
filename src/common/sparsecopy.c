/* podman-disk: sparse copy of a byte range, see sparsecopy.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "error.h"
#include "sparsecopy.h"

/* The source is mapped this much at a time. */
#define WINDOW (64 * 1024 * 1024)

struct copier {
  int src, dst;
  uint64_t offset;           /* of the disk in SRC */
  uint64_t size;
  bool blockdev;
  bool kernel_copy;          /* copy_file_range works between SRC and DST */
  sparsecopy_progress_fn progress;
  void *arg;
};

/* What the scan of a window is in the middle of. */
enum run_kind { RUN_NONE, RUN_DATA, RUN_ZERO };

bool
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;

  /* Data usually shows at once; a zero block costs one memcmp of itself
   * against itself shifted by one byte, which glibc does at memory speed.
   */
  if (len == 0)
    return true;
  if (p[0] != 0)
    return false;
  return memcmp (p, p + 1, len - 1) == 0;
}

static int
write_error (int errnum, const struct copier *c)
{
  if (errnum == ENOSPC)
    return error ("no space left on the destination device");
  return error_errno (errnum, "write");
}

/* Destination bytes [DPOS, DPOS+LEN), which are BUF in the source. */
static int
copy_data (struct copier *c, const unsigned char *buf, uint64_t dpos, uint64_t len)
{
  while (len > 0 && c->kernel_copy) {
    loff_t soff = c->offset + dpos, doff = dpos;
    ssize_t n = copy_file_range (c->src, &soff, c->dst, &doff, len, 0);
    if (n > 0) {
      buf += n;
      dpos += n;
      len -= n;
    }
    else if (n == 0)
      return error ("the disk file ended early: was it truncated?");
    else if (errno == EINTR)
      continue;
    else if (errno == EXDEV || errno == EINVAL || errno == ENOSYS
             || errno == EOPNOTSUPP || errno == EBADF || errno == ETXTBSY)
      c->kernel_copy = false;           /* write from the mapping instead */
    else
      return write_error (errno, c);
  }
  while (len > 0) {
    ssize_t n = pwrite (c->dst, buf, len, dpos);
    if (n > 0) {
      buf += n;
      dpos += n;
      len -= n;
    }
    else if (n == -1 && errno != EINTR)
      return write_error (errno, c);
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
    ssize_t r = pwrite (c->dst, zeros, n, dpos);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return write_error (errno, c);
    dpos += r;
    len -= r;
  }
  return 0;
}

static int
flush_run (struct copier *c, enum run_kind kind, const unsigned char *base,
           uint64_t wstart, uint64_t start, uint64_t end)
{
  if (kind == RUN_DATA)
    return copy_data (c, base + (start - wstart), start, end - start);
  if (kind == RUN_ZERO)
    return zero_range (c, start, end - start);
  return 0;
}

/* The source bytes of destination [W, WEND): mapped, or read into *BUF
 * if the file cannot be mapped.  *UNMAP says what to undo.
 */
static const unsigned char *
get_window (struct copier *c, uint64_t w, uint64_t wend,
            void **unmap, size_t *unmap_len, unsigned char **buf)
{
  static long pagesize;
  uint64_t s = c->offset + w;
  uint64_t ps, len;
  void *m;

  if (!pagesize)
    pagesize = sysconf (_SC_PAGESIZE);
  ps = s - s % pagesize;
  len = c->offset + wend - ps;
  m = mmap (NULL, len, PROT_READ, MAP_SHARED, c->src, ps);
  if (m != MAP_FAILED) {
    madvise (m, len, MADV_SEQUENTIAL);
    *unmap = m;
    *unmap_len = len;
    return (const unsigned char *) m + (s - ps);
  }
  if (!*buf && (*buf = malloc (WINDOW)) == NULL) {
    error_errno (errno, "malloc");
    return NULL;
  }
  for (uint64_t done = 0; done < wend - w; ) {
    ssize_t n = pread (c->src, *buf + done, wend - w - done, s + done);
    if (n == 0)
      errno = EIO;
    if (n <= 0 && errno != EINTR) {
      error_errno (errno, "read");
      return NULL;
    }
    if (n > 0)
      done += n;
  }
  return *buf;
}

/* Copy destination [FROM, TO), data in the source: all-zero blocks of the
 * destination become holes, the rest is copied in runs.
 */
static int
copy_extent (struct copier *c, uint64_t from, uint64_t to)
{
  _cleanup_free_ unsigned char *buf = NULL;
  uint64_t w, wend;

  for (w = from; w < to; w = wend) {
    void *unmap = NULL;
    size_t unmap_len = 0;
    const unsigned char *base;
    enum run_kind kind = RUN_NONE;
    uint64_t start = w;
    int r = 0;

    /* Windows end on a block boundary, so blocks are never split. */
    wend = (w + WINDOW) / SPARSECOPY_BLOCK * SPARSECOPY_BLOCK;
    if (wend <= w || wend > to)
      wend = to;
    if ((base = get_window (c, w, wend, &unmap, &unmap_len, &buf)) == NULL)
      return -1;
    for (uint64_t p = w; p < wend && r == 0; ) {
      uint64_t bend = (p / SPARSECOPY_BLOCK + 1) * SPARSECOPY_BLOCK;
      if (bend > wend)
        bend = wend;
      enum run_kind k = is_zero (base + (p - w), bend - p) ? RUN_ZERO : RUN_DATA;
      if (k != kind) {
        r = flush_run (c, kind, base, w, start, p);
        kind = k;
        start = p;
      }
      p = bend;
    }
    if (r == 0)
      r = flush_run (c, kind, base, w, start, wend);
    if (unmap)
      munmap (unmap, unmap_len);
    if (r == -1 || (c->progress && c->progress (wend, c->arg) == -1))
      return -1;
  }
  return 0;
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
  uint64_t pos = 0;

  if (!blockdev && ftruncate (dst, 0) == -1)
    return error_errno (errno, "truncate");
  if (!blockdev && ftruncate (dst, size) == -1)
    return write_error (errno, &c);

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
    if (progress && progress (pos, arg) == -1)
      return -1;
  }
  if (blockdev && fsync (dst) == -1)
    return write_error (errno, &c);
  return 0;
}
