/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: tar member offsets (src/image/tarscan.c) on tars made here by
 * GNU tar in every format it writes, checked against where the bytes
 * really are; nested tars; refusals; that a scan touches no data page;
 * and that the minimal walk (src/image/tarwalk.c) reads every one of
 * these but the sparse ones itself, with libarchive's very answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "image/tarscan.h"
#include "image/tarwalk.h"

#include "unit.h"

static char tmp[] = "/var/tmp/test-tarscan.XXXXXX";

static void
write_file (const char *name, size_t size, unsigned seed)
{
  char path[256];
  snprintf (path, sizeof path, "%s/src/%s", tmp, name);
  FILE *f = fopen (path, "w");
  if (!f)
    unit_die (path);
  for (size_t i = 0; i < size; i++)
    fputc ((int) ((i * 2654435761u + seed) >> 7) & 0xff, f);
  fclose (f);
}

struct mapping {
  void *p;
  size_t len;
};

static struct mapping
map_file (const char *path)
{
  struct mapping m = { NULL, 0 };
  struct stat st;
  int fd = open (path, O_RDONLY);
  if (fd == -1 || fstat (fd, &st) == -1)
    unit_die (path);
  m.len = st.st_size;
  if (m.len == 0) {
    close (fd);
    return m;
  }
  m.p = mmap (NULL, m.len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m.p == MAP_FAILED)
    unit_die ("mmap");
  close (fd);
  return m;
}

/* Every regular member's data must be the file's bytes, and the member's
 * own header must sit right before them.
 */
struct check {
  const char *base;          /* where the mapping starts */
  uint64_t base_offset;      /* what tarscan was told */
  int regular, total;
};

static int
check_member (const struct tar_member *m, void *arg)
{
  struct check *c = arg;
  c->total++;
  CHECK (m->header_offset + 512 <= m->offset);
  CHECK ((m->offset - m->header_offset) % 512 == 0);
  if (m->type != TN_REG || m->hardlink)
    return 0;
  c->regular++;

  char path[512];
  const char *name = m->name[0] == '.' && m->name[1] == '/' ? m->name + 2 : m->name;
  snprintf (path, sizeof path, "%s/src/%s", tmp, name);
  struct mapping f = map_file (path);
  CHECK (f.len == m->size);
  if (f.len == m->size && f.len > 0)
    CHECK (memcmp (c->base + (m->offset - c->base_offset), f.p, f.len) == 0,
           "%s: data is not at offset %lu", m->name, (unsigned long) m->offset);
  if (f.len)
    munmap (f.p, f.len);
  return 0;
}

static char long_name[160];

static void
make_tar (const char *format, const char *out)
{
  char fmt[64], dst[256], src[256];
  snprintf (fmt, sizeof fmt, "--format=%s", format);
  snprintf (dst, sizeof dst, "%s/%s", tmp, out);
  snprintf (src, sizeof src, "%s/src", tmp);
  char *const argv[] = { "tar", fmt, "-C", src, "-cf", dst, ".", NULL };
  if (unit_run (argv) != 0) {
    fprintf (stderr, "tar %s failed\n", format);
    exit (1);
  }
}

static void
test_formats (void)
{
  /* v7 and ustar cannot hold the long name: it goes in later. */
  static const char *const formats[] = { "v7", "ustar", "oldgnu", "gnu", "pax" };
  char src[256], path[512];

  snprintf (src, sizeof src, "%s/src", tmp);
  mkdir (src, 0755);
  snprintf (path, sizeof path, "%s/sub", src);
  mkdir (path, 0755);
  write_file ("small", 100, 1);
  write_file ("empty", 0, 2);
  write_file ("sub/block", 512, 3);
  write_file ("sub/big", 12 * 1024 * 1024 + 7, 4);
  snprintf (path, sizeof path, "%s/link", src);
  symlink ("sub/big", path);
  char a[512], b[512];
  snprintf (a, sizeof a, "%s/small", src);
  snprintf (b, sizeof b, "%s/hard", src);
  link (a, b);

  for (int pass = 0; pass < 2; pass++)
    for (size_t i = pass ? 2 : 0; i < sizeof formats / sizeof formats[0]; i++) {
      char out[64];
      snprintf (out, sizeof out, "%s-%d.tar", formats[i], pass);
      make_tar (formats[i], out);
      snprintf (path, sizeof path, "%s/%s", tmp, out);
      struct mapping t = map_file (path);
      struct check c = { .base = t.p };
      CHECK (tarscan_memory (t.p, t.len, 0, out, check_member, &c) != -1, "%s", out);
      /* ., sub, small, empty, block, big, link, hard (+ the long name) */
      CHECK (c.total == 8 + pass);
      CHECK (c.regular == 4 + pass);
      munmap (t.p, t.len);
      if (i == sizeof formats / sizeof formats[0] - 1 && pass == 0) {
        memset (long_name, 'n', 150);
        memcpy (long_name + 146, ".img", 5);
        write_file (long_name, 4096 + 3, 5);
      }
    }
}

/* A tar inside a tar: offsets in the outer file's coordinates. */
struct nested {
  const char *base;
  int found;
};

static int
nested_member (const struct tar_member *m, void *arg)
{
  struct nested *n = arg;
  if (strcmp (m->name, "./gnu-1.tar") && strcmp (m->name, "gnu-1.tar"))
    return 0;
  struct check c = { .base = n->base };
  n->found++;
  CHECK (tarscan_memory (n->base + m->offset, m->size, m->offset, "inner",
                         check_member, &c) != -1, "inner");
  CHECK (c.regular == 5);
  return 0;
}

static void
test_nested (void)
{
  char outer[256], inner[256];
  snprintf (outer, sizeof outer, "%s/outer.tar", tmp);
  snprintf (inner, sizeof inner, "%s", tmp);
  char *const argv[] = { "tar", "--format=pax", "-C", inner, "-cf", outer,
                         "gnu-1.tar", NULL };
  CHECK (unit_run (argv) == 0);
  struct mapping t = map_file (outer);
  struct nested n = { .base = t.p };
  CHECK (tarscan_memory (t.p, t.len, 0, "outer", nested_member, &n) == 0);
  CHECK (n.found == 1);
  munmap (t.p, t.len);
}

static int
ignore (const struct tar_member *m _unused_, void *arg _unused_)
{
  return 0;
}

static void
expect_refused (const char *file, size_t len, const char *text)
{
  char path[256];
  snprintf (path, sizeof path, "%s/%s", tmp, file);
  struct mapping t = map_file (path);
  if (len == 0)
    len = t.len;
  int r = tarscan_memory (t.p, len, 0, file, ignore, NULL);
  CHECK (r == -1, "%s", file);
  if (r == -1)
    CHECK (strstr (error_message (), text), "%s: wrong message", file);
  munmap (t.p, t.len);
}

/* A sparse member is no refusal of the tar: it is reported with its
 * flaw, for the caller to refuse if it uses that member.
 */
struct flagged {
  int sparse, members;
};

static int
count_flaws (const struct tar_member *m, void *arg)
{
  struct flagged *f = arg;
  f->members++;
  if (m->flaw == TF_SPARSE && strcmp (m->name, "holes") == 0
      && m->size == (64 << 20) + 1)
    f->sparse++;
  return 0;
}

static void
expect_sparse (const char *file)
{
  char path[256];
  snprintf (path, sizeof path, "%s/%s", tmp, file);
  struct mapping t = map_file (path);
  struct flagged f = { 0, 0 };
  CHECK (tarscan_memory (t.p, t.len, 0, file, count_flaws, &f) == 0, "%s", file);
  CHECK (f.sparse == 1 && f.members == 2, "%s: %d sparse of %d", file,
         f.sparse, f.members);
  munmap (t.p, t.len);
}

static void
test_refused (void)
{
  char path[256], src[256];

  /* Truncated inside the big member's data. */
  expect_refused ("gnu-1.tar", 3 * 1024 * 1024, "truncated");
  /* Cut inside a header. */
  expect_refused ("gnu-1.tar", 700, "");

  snprintf (path, sizeof path, "%s/gnu-1.tar", tmp);
  char *const gz[] = { "gzip", "-k", "-1", path, NULL };
  CHECK (unit_run (gz) == 0);
  expect_refused ("gnu-1.tar.gz", 0, "gzip-compressed");

  /* A sparse member, in the GNU and pax encodings, then a plain one. */
  snprintf (src, sizeof src, "%s/sparse", tmp);
  mkdir (src, 0755);
  snprintf (path, sizeof path, "%s/sparse/holes", tmp);
  int fd = open (path, O_WRONLY | O_CREAT, 0644);
  CHECK (fd >= 0 && pwrite (fd, "x", 1, 64 << 20) == 1 && close (fd) == 0);
  snprintf (path, sizeof path, "%s/sparse/plain", tmp);
  fd = open (path, O_WRONLY | O_CREAT, 0644);
  CHECK (fd >= 0 && write (fd, "plain", 5) == 5 && close (fd) == 0);
  static const char *const formats[] = { "gnu", "pax" };
  for (int i = 0; i < 2; i++) {
    char fmt[32], out[256], name[64];
    snprintf (fmt, sizeof fmt, "--format=%s", formats[i]);
    snprintf (name, sizeof name, "sparse-%s.tar", formats[i]);
    snprintf (out, sizeof out, "%s/%s", tmp, name);
    char *const argv[] = { "tar", "--sparse", fmt, "-C", src, "-cf", out,
                           "holes", "plain", NULL };
    CHECK (unit_run (argv) == 0);
    expect_sparse (name);
  }

  snprintf (path, sizeof path, "%s/not-a-tar", tmp);
  FILE *f = fopen (path, "w");
  fputs ("hello, this is not a tar at all\n", f);
  fclose (f);
  expect_refused ("not-a-tar", 0, "not a tar");
}

/* The scan must not read the data: after dropping the file from the page
 * cache, a scan leaves the big member's pages out of memory but for the
 * little tarscan asks the kernel to read ahead of each header (64 KiB:
 * 16 pages, and one more either side where the window is not aligned).
 */
struct where {
  uint64_t offset, size;
};

static int
find_big (const struct tar_member *m, void *arg)
{
  struct where *w = arg;
  if (strcmp (m->name, "./sub/big") == 0) {
    w->offset = m->offset;
    w->size = m->size;
  }
  return 0;
}

static void
test_no_data_read (void)
{
  char path[256];
  snprintf (path, sizeof path, "%s/pax-1.tar", tmp);
  int fd = open (path, O_RDONLY);
  CHECK (fd >= 0);
  struct mapping t = map_file (path);
  struct where big = { 0, 0 };
  size_t pages = (t.len + 4095) / 4096, resident = 0;
  unsigned char *vec = malloc (pages);

  fdatasync (fd);
  posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
  mincore (t.p, t.len, vec);
  for (size_t i = 0; i < pages; i++)
    resident += vec[i] & 1;
  if (resident > pages / 2) {
    printf ("page cache cannot be dropped here: data-read check skipped\n");
    goto out;
  }
  CHECK (tarscan_memory (t.p, t.len, 0, "pax-1.tar", find_big, &big) == 0);
  CHECK (big.size == 12 * 1024 * 1024 + 7);
  mincore (t.p, t.len, vec);
  resident = 0;
  for (size_t i = big.offset / 4096; i < (big.offset + big.size) / 4096; i++)
    resident += vec[i] & 1;
  printf ("pages of the 12 MiB member resident after the scan: %zu of %zu\n",
          resident, (size_t) (big.size / 4096));
  CHECK (resident <= 16 + 2, "%zu pages of the big member read", resident);
 out:
  free (vec);
  munmap (t.p, t.len);
  close (fd);
}

/* The walk and libarchive, member by member, as one text each. */
static int
describe (const struct tar_member *m, void *arg)
{
  FILE *f = arg;
  fprintf (f, "%s|%d|%s|%s|%lu|%lu|%lu|%d\n", m->name, m->type,
           m->hardlink ? m->hardlink : "-", m->symlink ? m->symlink : "-",
           (unsigned long) m->header_offset, (unsigned long) m->offset,
           (unsigned long) m->size, m->flaw);
  return 0;
}

static void
expect_walk (const char *file, bool sure)
{
  char path[256], *walked = NULL, *reference = NULL;
  size_t walked_len, reference_len;
  snprintf (path, sizeof path, "%s/%s", tmp, file);
  struct mapping t = map_file (path);
  FILE *w = open_memstream (&walked, &walked_len);
  FILE *r = open_memstream (&reference, &reference_len);
  CHECK (w && r);
  int rw = tarwalk_memory (t.p, t.len, 4096, NULL, NULL, describe, w);
  CHECK (tarscan_memory_libarchive (t.p, t.len, 4096, file, describe, r) == 0,
         "%s", file);
  fclose (w);
  fclose (r);
  if (sure) {
    CHECK (rw == 0, "%s: the walk is unsure", file);
    CHECK (strcmp (walked, reference) == 0, "%s: the walk read\n%slibarchive\n%s",
           file, walked, reference);
  }
  else
    CHECK (rw == TARWALK_UNSURE && walked_len == 0, "%s: walked", file);
  free (walked);
  free (reference);
  munmap (t.p, t.len);
}

static void
test_walk (void)
{
  static const char *const sure[] = {
    "v7-0.tar", "ustar-0.tar", "oldgnu-0.tar", "gnu-0.tar", "pax-0.tar",
    "oldgnu-1.tar", "gnu-1.tar", "pax-1.tar", "outer.tar",
  };
  for (size_t i = 0; i < sizeof sure / sizeof sure[0]; i++)
    expect_walk (sure[i], true);
  /* Sparse members: libarchive's to read. */
  expect_walk ("sparse-gnu.tar", false);
  expect_walk ("sparse-pax.tar", false);
}

int
main (void)
{
  unit_tmpdir (tmp);
  char *const tar_version[] = { "tar", "--version", NULL };
  int fd = dup (1);
  freopen ("/dev/null", "w", stdout);
  int have_tar = unit_run (tar_version) == 0;
  dup2 (fd, 1);
  close (fd);
  if (!have_tar) {
    printf ("SKIP: GNU tar is not installed\n");
    return 77;
  }
  test_formats ();
  test_nested ();
  test_refused ();
  test_no_data_read ();
  test_walk ();

  return unit_summary ();
}
