/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the minimal tar header walk (src/image/tarwalk.c) against
 * libarchive, its reference (tarscan_memory_libarchive).
 *
 * The input is a tar.  Both read it; whenever the walk is sure
 * (anything but TARWALK_UNSURE), libarchive must accept the tar too and
 * report the same members in the same order: name, type, hard link and
 * symlink targets, header offset, data offset, size and flaw.  An unsure
 * walk has called nothing (tarscan then asks libarchive itself).  Also:
 * the walk's ahead hook sees only offsets inside the tar, in order.
 *
 * A mutated header almost never keeps a valid checksum, and both readers
 * stop at the first bad one: each input is also compared with the
 * checksum of every 512-byte block made right, so that mutations reach
 * the fields after it.
 */
#include <inttypes.h>

#include "image/tarscan.h"
#include "image/tarwalk.h"
#include "fuzz.h"

#define BASE 512          /* reported offsets are BASE + offset in the tar */

struct copy {
  char *name, *hardlink, *symlink;
  enum tnode_type type;
  uint64_t header_offset, offset, size;
  enum tar_flaw flaw;
};

struct list {
  struct copy *v;
  size_t n;
};

static char *
dup_or_null (const char *s)
{
  char *d;
  if (!s)
    return NULL;
  if (!(d = strdup (s)))
    abort ();
  return d;
}

static int
keep (const struct tar_member *m, void *arg)
{
  struct list *l = arg;
  l->v = realloc (l->v, (l->n + 1) * sizeof *l->v);
  if (!l->v)
    abort ();
  l->v[l->n++] = (struct copy) {
    .name = dup_or_null (m->name),
    .hardlink = dup_or_null (m->hardlink),
    .symlink = dup_or_null (m->symlink),
    .type = m->type,
    .header_offset = m->header_offset,
    .offset = m->offset,
    .size = m->size,
    .flaw = m->flaw,
  };
  return 0;
}

static void
list_free (struct list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free (l->v[i].name);
    free (l->v[i].hardlink);
    free (l->v[i].symlink);
  }
  free (l->v);
}

static bool
same_string (const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

struct ahead {
  size_t len;
  uint64_t last;
  bool any;
};

static void
check_ahead (void *arg, uint64_t offset)
{
  struct ahead *a = arg;
  FUZZ_CHECK (offset < a->len, "read ahead at %" PRIu64 " past %zu",
              offset, a->len);
  FUZZ_CHECK (!a->any || offset > a->last, "read ahead at %" PRIu64
              " after %" PRIu64, offset, a->last);
  a->last = offset;
  a->any = true;
}

static void
compare (const uint8_t *data, size_t size)
{
  struct list walk = { NULL, 0 }, ref = { NULL, 0 };
  struct ahead ahead = { .len = size };

  /* tarscan refuses these by name before it walks. */
  if (size == 0 || tarscan_compression (data, size))
    return;
  error_clear ();
  int w = tarwalk_memory (data, size, BASE, check_ahead, &ahead, keep, &walk);
  FUZZ_CHECK (w == 0 || w == TARWALK_UNSURE, "walk returned %d", w);
  if (w == TARWALK_UNSURE) {
    FUZZ_CHECK (walk.n == 0, "an unsure walk reported %zu members", walk.n);
    return;
  }
  error_clear ();
  int r = tarscan_memory_libarchive (data, size, BASE, "fuzz.tar", keep, &ref);
  FUZZ_CHECK (r == 0, "the walk read a tar that libarchive refuses: %s",
              error_message ());
  FUZZ_CHECK (walk.n == ref.n, "walk: %zu members, libarchive: %zu",
              walk.n, ref.n);
  for (size_t i = 0; i < walk.n; i++) {
    const struct copy *a = &walk.v[i], *b = &ref.v[i];
    FUZZ_CHECK (strcmp (a->name, b->name) == 0,
                "member %zu: name '%s', libarchive '%s'", i, a->name, b->name);
    FUZZ_CHECK (a->type == b->type, "%s: type %d, libarchive %d",
                a->name, a->type, b->type);
    FUZZ_CHECK (same_string (a->hardlink, b->hardlink),
                "%s: hard link '%s', libarchive '%s'", a->name,
                a->hardlink ? a->hardlink : "(none)",
                b->hardlink ? b->hardlink : "(none)");
    FUZZ_CHECK (same_string (a->symlink, b->symlink),
                "%s: symlink '%s', libarchive '%s'", a->name,
                a->symlink ? a->symlink : "(none)",
                b->symlink ? b->symlink : "(none)");
    FUZZ_CHECK (a->header_offset == b->header_offset,
                "%s: header at %" PRIu64 ", libarchive %" PRIu64, a->name,
                a->header_offset, b->header_offset);
    FUZZ_CHECK (a->offset == b->offset, "%s: data at %" PRIu64
                ", libarchive %" PRIu64, a->name, a->offset, b->offset);
    FUZZ_CHECK (a->size == b->size, "%s: size %" PRIu64 ", libarchive %"
                PRIu64, a->name, a->size, b->size);
    FUZZ_CHECK (a->flaw == b->flaw, "%s: flaw %d, libarchive %d", a->name,
                a->flaw, b->flaw);
  }
  list_free (&walk);
  list_free (&ref);
}

/* Every non-zero 512-byte block gets the checksum of its bytes (data
 * blocks too: their bytes are anything anyway).
 */
static void
fix_checksums (uint8_t *data, size_t size)
{
  for (size_t b = 0; b + 512 <= size; b += 512) {
    uint8_t *h = data + b;
    unsigned sum = 0;
    bool zero = true;
    for (size_t i = 0; i < 512; i++)
      zero &= h[i] == 0;
    if (zero)
      continue;
    memset (h + 148, ' ', 8);
    for (size_t i = 0; i < 512; i++)
      sum += h[i];
    char field[9];
    snprintf (field, sizeof field, "%06o", sum & 0777777);
    memcpy (h + 148, field, 7);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  uint8_t *fixed = malloc (size ? size : 1);

  if (!fixed)
    abort ();
  compare (data, size);
  memcpy (fixed, data, size);
  fix_checksums (fixed, size);
  compare (fixed, size);
  free (fixed);
  return 0;
}
