/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: tar member offsets over a mapping, see tarscan.h. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/dl.h"
#include "common/error.h"
#include "image/tarscan.h"
#include "image/tarwalk.h"

static void
archive_freep (struct archive **a)
{
  if (*a)
    sym_archive_read_free (*a);
}
#define _cleanup_archive_ _cleanup_ (archive_freep)

const char *
tarscan_compression (const void *buf, size_t len)
{
  static const struct {
    const char *name;
    size_t len;
    const char *magic;
  } magics[] = {
    { "gzip", 2, "\x1f\x8b" },
    { "zstd", 4, "\x28\xb5\x2f\xfd" },
    { "xz", 6, "\xfd" "7zXZ\0" },
    { "bzip2", 3, "BZh" },
    { "lz4", 4, "\x04\x22\x4d\x18" },
    { "lzip", 4, "LZIP" },
    { "compress", 2, "\x1f\x9d" },
    /* These three libarchive would hand to an external program: named
     * here so that a layer never starts one.
     */
    { "lrzip", 4, "LRZI" },
    { "lzop", 9, "\x89LZO\0\r\n\x1a\n" },
    { "grzip", 12, "GRZipII\0\x02\x04:)" },
  };
  for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
    if (len >= magics[i].len && memcmp (buf, magics[i].magic, magics[i].len) == 0)
      return magics[i].name;
  return NULL;
}

/* How far ahead of the next header to have the kernel read.  A fault on
 * a mapping otherwise reads a whole read-ahead window around it (8 MiB on
 * some disks), synchronously: slow for a tar of many small files, and
 * wasteful next to a big member, whose data is never needed.  Where the
 * next member's data ends is only known once its header is read, so the
 * window is also what a member's data may lose to it.  It starts at
 * 64 KiB, and doubles up to 512 KiB while the headers come densely (each
 * request starts inside the previous one): a run of thousands of small
 * files costs a few dozen requests, not one per 32 KiB, each a system
 * call even when the pages are cached.  A member larger than the window
 * (a disk) has at most the window's size read ahead: 64 KiB after a few
 * files, 512 KiB after many; the next header past it starts at 64 KiB
 * again.
 */
#define PREFETCH_MIN (64 << 10)
#define PREFETCH_MAX (512 << 10)

struct prefetch {
  const char *buf;
  size_t len;
  size_t done;              /* requested up to here */
  size_t window;
};

static void
madvise_range (const char *buf, size_t offset, size_t len, int advice)
{
  static size_t page;
  if (!page)
    page = sysconf (_SC_PAGESIZE);
  uintptr_t start = (uintptr_t) (buf + offset) & ~(uintptr_t) (page - 1);
  /* Only advice: a failure changes nothing but speed. */
  madvise ((void *) start, (uintptr_t) (buf + offset + len) - start, advice);
}

static void
prefetch_init (struct prefetch *p, const void *buf, size_t len)
{
  *p = (struct prefetch) { .buf = buf, .len = len, .window = PREFETCH_MIN };
  madvise_range (buf, 0, len, MADV_RANDOM);
}

/* The next header is at POS: keep [POS, POS + window) requested, in steps
 * of at least half the window, and never more.
 */
static void
prefetch (struct prefetch *p, uint64_t pos)
{
  if (pos >= p->len || pos + p->window / 2 < p->done)
    return;
  if (pos > p->done)
    p->window = PREFETCH_MIN;         /* a big member was skipped */
  else if (p->done > 0 && p->window < PREFETCH_MAX)
    p->window *= 2;
  size_t start = pos > p->done ? pos : p->done;
  size_t end = p->len - pos > p->window ? pos + p->window : p->len;
  if (start < end)
    madvise_range (p->buf, start, end - start, MADV_WILLNEED);
  p->done = end;
}

static enum tnode_type
member_type (struct archive_entry *e)
{
  switch (sym_archive_entry_filetype (e)) {
  case AE_IFREG: return TN_REG;
  case AE_IFDIR: return TN_DIR;
  case AE_IFLNK: return TN_LNK;
  default: return TN_OTHER;
  }
}

/* Check one header and turn it into a member; OFFSET is where its data
 * starts in BUF.
 */
static int
read_member (struct archive_entry *e, size_t len, uint64_t header_offset,
             uint64_t offset, uint64_t base, const char *what,
             struct tar_member *m)
{
  const char *name = sym_archive_entry_pathname (e);
  int64_t size = sym_archive_entry_size (e);

  if (name == NULL || name[0] == '\0')
    return error ("%s: the member at byte %" PRIu64 " has no name",
                  what, base + header_offset);
  bool sparse = sym_archive_entry_sparse_count (e) > 0;
  if (!sym_archive_entry_size_is_set (e))
    size = 0;
  if (size < 0)
    return error ("%s: member '%s' has a negative size", what, name);
  /* A sparse member's size is what it expands to, not what it stores:
   * skipping it checks that its data fits.
   */
  if (!sparse && (offset > len || (uint64_t) size > len - offset))
    return error ("%s: member '%s' needs %" PRId64 " bytes at offset %"
                  PRIu64 " but the tar has only %zu bytes: the tar is "
                  "truncated; " TARSCAN_HINT, what, name, size, offset, len);

  *m = (struct tar_member) {
    .name = name,
    .type = member_type (e),
    .hardlink = sym_archive_entry_hardlink (e),
    .header_offset = base + header_offset,
    .offset = base + offset,
    .size = size,
    .flaw = sparse ? TF_SPARSE : TF_NONE,
  };
  if (m->hardlink) {
    /* pax lets a hard link carry data that replaces its target's: never
     * produced by the image tools, and not worth the ambiguity.
     */
    if (size > 0)
      m->flaw = TF_LINK_DATA;
    m->type = TN_REG;
    m->size = 0;
  }
  else if (m->type == TN_LNK) {
    m->symlink = sym_archive_entry_symlink (e);
    if (m->symlink == NULL)
      return error ("%s: symbolic link '%s' has no target", what, name);
    m->size = 0;
  }
  else if (m->type != TN_REG)
    m->size = 0;
  return 0;
}

static void
prefetch_ahead (void *p, uint64_t pos)
{
  prefetch (p, pos);
}

/* The scan by libarchive, from the start of BUF. */
static int
scan_libarchive (const void *buf, size_t len, uint64_t base, const char *what,
                 struct prefetch *pf, tarscan_cb cb, void *arg)
{
  _cleanup_archive_ struct archive *a = NULL;
  struct archive_entry *e;
  int r;

  if (dl_libarchive () == -1)
    return -1;
  if ((a = sym_archive_read_new ()) == NULL)
    return error_errno (ENOMEM, "archive_read_new");
  /* Every filter is known, but only so that a compressed tar is refused
   * by name; the tar format alone is read.
   */
  if (sym_archive_read_support_format_tar (a) != ARCHIVE_OK
      || sym_archive_read_support_filter_all (a) < ARCHIVE_WARN
      || sym_archive_read_open_memory (a, buf, len) != ARCHIVE_OK)
    return error ("%s is not a tar: %s; " TARSCAN_HINT, what,
                  sym_archive_error_string (a));
  if (sym_archive_filter_count (a) > 1)
    return error ("%s is %s-compressed: its members cannot be served in "
                  "place; " TARSCAN_HINT, what, sym_archive_filter_name (a, 0));

  for (;;) {
    uint64_t header_offset = sym_archive_filter_bytes (a, 0);
    prefetch (pf, header_offset);
    r = sym_archive_read_next_header (a, &e);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return error ("%s: bad tar header at byte %" PRIu64 ": %s; " TARSCAN_HINT,
                    what, base + header_offset, sym_archive_error_string (a));
    if (r == ARCHIVE_WARN)
      debug ("%s: %s", what, sym_archive_error_string (a));

    /* Consumed bytes = the headers, so this is where the data starts. */
    uint64_t offset = sym_archive_filter_bytes (a, 0);
    struct tar_member m;
    if (read_member (e, len, header_offset, offset, base, what, &m) == -1)
      return -1;
    if ((r = cb (&m, arg)) != 0)
      return r;
    /* Over a memory buffer this only moves a pointer. */
    if (sym_archive_read_data_skip (a) != ARCHIVE_OK)
      return error ("%s: member '%s': %s; " TARSCAN_HINT, what, m.name,
                    sym_archive_error_string (a));
  }
}

static int
scan (const void *buf, size_t len, uint64_t base, const char *what,
      bool walk, tarscan_cb cb, void *arg)
{
  const char *compression;
  int r;

  if (len == 0)
    return error ("%s is empty: not a tar; " TARSCAN_HINT, what);
  struct prefetch pf;
  prefetch_init (&pf, buf, len);
  prefetch (&pf, 0);
  if ((compression = tarscan_compression (buf, len)) != NULL)
    return error ("%s is %s-compressed: its members cannot be served in "
                  "place; " TARSCAN_HINT, what, compression);
  if (walk) {
    r = tarwalk_memory (buf, len, base, prefetch_ahead, &pf, cb, arg);
    if (r != TARWALK_UNSURE)
      return r;
    debug ("%s: read by libarchive", what);
  }
  return scan_libarchive (buf, len, base, what, &pf, cb, arg);
}

int
tarscan_memory (const void *buf, size_t len, uint64_t base,
                const char *what, tarscan_cb cb, void *arg)
{
  return scan (buf, len, base, what, true, cb, arg);
}

int
tarscan_memory_libarchive (const void *buf, size_t len, uint64_t base,
                           const char *what, tarscan_cb cb, void *arg)
{
  return scan (buf, len, base, what, false, cb, arg);
}
