/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a minimal walk over tar headers, see tarwalk.h.
 *
 * Every rule here restates what libarchive 3.6's tar reader
 * (archive_read_support_format_tar.c) does with the same bytes; where its
 * answer depends on more than these rules (state carried between members,
 * charset conversions, heuristics), the walk is unsure instead.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "image/tarwalk.h"

#define BLOCK 512
#define MAX_SPECIAL_BODY (1 << 20)   /* libarchive's limit for L, K, x, g */
#define MAX_CHAIN 16                 /* special headers before a member
                                        (libarchive gives up after 32) */

/* Field offsets in a header block (ustar; GNU reuses the prefix area). */
enum {
  H_NAME = 0, H_MODE = 100, H_UID = 108, H_GID = 116, H_SIZE = 124,
  H_MTIME = 136, H_CHKSUM = 148, H_TYPE = 156, H_LINKNAME = 157,
  H_MAGIC = 257, H_DEVMAJOR = 329, H_DEVMINOR = 337, H_PREFIX = 345,
  GNU_SPARSE = 386, GNU_ISEXTENDED = 482, GNU_REALSIZE = 483,
};

struct view {
  const char *p;
  size_t n;
};

static struct view
cstring (const char *p, size_t max)
{
  return (struct view) { p, strnlen (p, max) };
}

/* --- numbers, as libarchive's tar_atol ------------------------------- */

static int64_t
atol_base_n (const char *p, size_t n, int base)
{
  int64_t l = 0, limit = INT64_MAX / base, last = INT64_MAX % base;
  int64_t maxval = INT64_MAX;
  int sign = 1;

  while (n && (*p == ' ' || *p == '\t'))
    p++, n--;
  if (n && *p == '-') {
    sign = -1;
    p++, n--;
    maxval = INT64_MIN;
    limit = -(INT64_MIN / base);
    last = -(INT64_MIN % base);
  }
  for (; n && *p >= '0' && *p - '0' < base; p++, n--) {
    int digit = *p - '0';
    if (l > limit || (l == limit && digit >= last))
      return maxval;
    l = l * base + digit;
  }
  return sign < 0 ? -l : l;
}

/* Base-256: big-endian two's complement, the top bit of the first byte
 * ignored.
 */
static int64_t
atol_256 (const unsigned char *p, size_t n)
{
  unsigned char c = *p, neg;
  uint64_t l;

  if (c & 0x40) {
    neg = 0xff;
    c |= 0x80;
    l = ~(uint64_t) 0;
  }
  else {
    neg = 0;
    c &= 0x7f;
    l = 0;
  }
  while (n > sizeof (int64_t)) {
    --n;
    if (c != neg)
      return neg ? INT64_MIN : INT64_MAX;
    c = *++p;
  }
  if ((c ^ neg) & 0x80)
    return neg ? INT64_MIN : INT64_MAX;
  while (--n > 0) {
    l = (l << 8) | c;
    c = *++p;
  }
  return (int64_t) ((l << 8) | c);
}

static int64_t
tar_atol (const char *p, size_t n)
{
  if (*p & 0x80)
    return atol_256 ((const unsigned char *) p, n);
  return atol_base_n (p, n, 8);
}

/* A size libarchive accepts: not negative, no overflow. */
static bool
field_size (const char *h, uint64_t *size)
{
  int64_t s = tar_atol (h + H_SIZE, 12);
  if (s < 0 || s == INT64_MAX)
    return false;
  *size = s;
  return true;
}

/* --- one header block ------------------------------------------------- */

static bool
block_is_null (const char *h)
{
  static const char zero[BLOCK];
  return memcmp (h, zero, BLOCK) == 0;
}

/* The sum of the 512 bytes of H, as unsigned bytes: eight at a time, in
 * 16-bit lanes that cannot overflow (64 words of at most 2 * 255 each).
 */
static unsigned
block_sum (const char *h)
{
  const uint64_t lanes = 0x00ff00ff00ff00ffull;
  uint64_t acc = 0;

  for (size_t i = 0; i < BLOCK; i += 8) {
    uint64_t w;
    memcpy (&w, h + i, 8);
    acc += (w & lanes) + ((w >> 8) & lanes);
  }
  return (acc * 0x0001000100010001ull) >> 48;
}

/* The checksum, as unsigned bytes or as the signed bytes of old tars; the
 * field itself counts as spaces.
 */
static bool
checksum_ok (const char *h)
{
  const unsigned char *u = (const unsigned char *) h;
  int sum_u = (int) block_sum (h) + 8 * ' ';

  for (size_t i = 0; i < 8; i++) {
    char c = h[H_CHKSUM + i];
    if (c != ' ' && c != '\0' && (c < '0' || c > '7'))
      return false;
    sum_u -= u[H_CHKSUM + i];
  }
  int sum = (int) tar_atol (h + H_CHKSUM, 8);
  if (sum == sum_u)
    return true;
  /* Signed, each byte from 0x80 up counts 256 less. */
  int high = 0;
  for (size_t i = 0; i < BLOCK; i++)
    high += (i < H_CHKSUM || i >= H_CHKSUM + 8) && u[i] >= 0x80;
  return sum == sum_u - 256 * high;
}

/* libarchive's validate_number_field, part of its bid on the first header. */
static bool
number_field_ok (const char *p, size_t n)
{
  unsigned char marker = p[0];
  size_t i = 0;

  if (marker == 128 || marker == 255 || marker == 0)
    return true;
  while (i < n && p[i] == ' ')
    i++;
  while (i < n && p[i] >= '0' && p[i] <= '7')
    i++;
  for (; i < n; i++)
    if (p[i] != ' ' && p[i] != '\0')
      return false;
  return true;
}

/* The first block decides what libarchive reads: its tar reader must bid
 * on it, and none of its decompression filters may.  The filters with
 * printable magic numbers (bzip2, lzip, lrzip, grzip) are refused before
 * the walk; a name of printable ASCII padded with NULs leaves no room for
 * the others (lzma's dictionary sizes all have a zero low byte followed
 * by a non-zero one; uudecode needs a line ending before the first
 * control character).
 */
static bool
first_block_ok (const char *h)
{
  size_t k = 0;
  char t = h[H_TYPE];

  while (k < 100 && h[k] >= 0x20 && h[k] <= 0x7e)
    k++;
  if (k == 100)
    return false;
  for (size_t i = k; i < 100; i++)
    if (h[i] != '\0')
      return false;
  if (t != '\0' && !(t >= '0' && t <= '9') && !(t >= 'A' && t <= 'Z')
      && !(t >= 'a' && t <= 'z'))
    return false;
  return number_field_ok (h + H_MODE, 8) && number_field_ok (h + H_UID, 8)
    && number_field_ok (h + H_GID, 8) && number_field_ok (h + H_MTIME, 12)
    && number_field_ok (h + H_SIZE, 12) && number_field_ok (h + H_DEVMAJOR, 8)
    && number_field_ok (h + H_DEVMINOR, 8);
}

/* --- a member: its special headers, then its own ---------------------- */

enum link_kind { LINK_NONE, LINK_HARD, LINK_SYM };

struct member {
  struct view name[2];       /* ustar: prefix and name; else one piece */
  bool slash;                /* a '/' between the two */
  struct view link;
  enum link_kind link_kind;
  char type;                 /* the typeflag of the member's own header */
  uint64_t size;             /* data bytes that follow the header */
};

static bool
ascii (struct view v)
{
  for (size_t i = 0; i < v.n; i++)
    if ((unsigned char) v.p[i] >= 0x80)
      return false;
  return true;
}

static bool
is_regular (char type)
{
  return type == '0' || type == '\0';
}

/* The member's own header H (not a special one). */
static bool
parse_member_header (const char *h, struct member *m)
{
  uint64_t size;

  *m = (struct member) { .type = h[H_TYPE] };
  if (!field_size (h, &size))
    return false;
  if (memcmp (h + H_MAGIC, "ustar  \0", 8) == 0) {
    /* GNU: no prefix; a realsize or an old sparse map changes the size. */
    if (h[GNU_REALSIZE] != 0 || h[GNU_SPARSE] != 0 || h[GNU_ISEXTENDED] != 0)
      return false;
    m->name[0] = cstring (h + H_NAME, 100);
  }
  else if (memcmp (h + H_MAGIC, "ustar", 5) == 0 && h[H_PREFIX] != '\0') {
    m->name[0] = cstring (h + H_PREFIX, 155);
    m->slash = m->name[0].p[m->name[0].n - 1] != '/';
    m->name[1] = cstring (h + H_NAME, 100);
  }
  else
    m->name[0] = cstring (h + H_NAME, 100);

  switch (m->type) {
  case '0': case '\0':
    m->size = size;
    return true;
  case '1':
    /* libarchive's rules for the size of a hard link depend on what came
     * before; and an empty target on the previous entries.
     */
    m->link = cstring (h + H_LINKNAME, 100);
    m->link_kind = LINK_HARD;
    return size == 0 && m->link.n > 0;
  case '2':
    m->link = cstring (h + H_LINKNAME, 100);
    m->link_kind = LINK_SYM;
    return m->link.n > 0;
  case '3': case '4': case '5': case '6':
    return true;              /* no data, whatever the size field says */
  default:
    return false;
  }
}

/* Keys of a pax header that change what libarchive reports beyond path,
 * linkpath and size, or make it warn or fail: unsure.
 */
static bool
pax_key_unsure (struct view key)
{
  static const char *const prefixes[] = {
    "GNU.", "SCHILY.acl", "SCHILY.realsize", "SUN.", "hdrcharset",
  };
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    size_t n = strlen (prefixes[i]);
    if (key.n >= n && memcmp (key.p, prefixes[i], n) == 0)
      return true;
  }
  return false;
}

static bool
key_is (struct view key, const char *s)
{
  return key.n == strlen (s) && memcmp (key.p, s, key.n) == 0;
}

/* Apply the pax records of BODY to M, as libarchive's pax_header. */
static bool
apply_pax (const char *body, size_t len, struct member *m)
{
  struct view path = { NULL, 0 }, link = { NULL, 0 };

  while (len > 0) {
    size_t line = 0, i = 0;
    for (; i < len && body[i] != ' '; i++) {
      if (body[i] < '0' || body[i] > '9')
        return false;
      line = line * 10 + (body[i] - '0');
      if (line > 999999)
        return false;
    }
    if (i == len || line < 1 || line > len || body[line - 1] != '\n'
        || i + 1 >= line - 1)
      return false;
    /* The record is body[i + 1, line - 1): KEY=VALUE. */
    const char *rec = body + i + 1, *end = body + line - 1;
    const char *eq = memchr (rec, '=', end - rec);
    if (!eq || eq == rec || memchr (rec, '\0', eq - rec))
      return false;
    struct view key = { rec, eq - rec };
    struct view value = cstring (eq + 1, end - (eq + 1));

    if (pax_key_unsure (key))
      return false;
    if (key_is (key, "path"))
      path = value;
    else if (key_is (key, "linkpath"))
      link = value;
    else if (key_is (key, "uname") || key_is (key, "gname")) {
      if (!ascii (value))
        return false;           /* a conversion warning */
    }
    else if (key_is (key, "size")) {
      /* Strict digits: libarchive's own parse is laxer. */
      uint64_t size = 0;
      if (value.n == 0 || value.n > 18)
        return false;
      for (size_t j = 0; j < value.n; j++) {
        if (value.p[j] < '0' || value.p[j] > '9')
          return false;
        size = size * 10 + (value.p[j] - '0');
      }
      if (!is_regular (m->type))
        return false;
      m->size = size;
    }
    body += line;
    len -= line;
  }
  if (!ascii (path) || !ascii (link))
    return false;
  if (link.n > 0) {
    if (m->link_kind == LINK_NONE)
      return false;           /* would turn the member into a hard link */
    m->link = link;
  }
  if (path.n > 0) {
    m->name[0] = path;
    m->name[1] = (struct view) { NULL, 0 };
    m->slash = false;
  }
  return true;
}

/* A special header: its type and body, applied once the member's own
 * header is read, innermost first (so the first one in the tar wins).
 */
struct special {
  char type;
  const char *body;
  size_t len;
};

static bool
apply_special (const struct special *s, struct member *m)
{
  struct view v = cstring (s->body, s->len);

  switch (s->type) {
  case 'L':
    m->name[0] = v;
    m->name[1] = (struct view) { NULL, 0 };
    m->slash = false;
    return true;
  case 'K':
    if (m->link_kind == LINK_NONE || v.n == 0)
      return false;
    m->link = v;
    return true;
  case 'x':
    return apply_pax (s->body, s->len, m);
  default:                    /* 'g': kept by libarchive, never applied */
    return true;
  }
}

/* --- the walk ---------------------------------------------------------- */

struct found {
  size_t name, link;         /* offsets in the string arena */
  enum tnode_type type;
  bool hard;
  uint64_t header_offset, offset, size;
};

struct walk {
  const char *buf;
  size_t len;
  struct found *v;
  size_t n, alloc;
  char *str;
  size_t str_len, str_alloc;
};

static int
grow (void **p, size_t *alloc, size_t need, size_t size)
{
  if (need <= *alloc)
    return 0;
  size_t n = *alloc ? *alloc : 1024 / size + 1;
  while (n < need)
    n *= 2;
  void *q = reallocarray (*p, n, size);
  if (!q)
    return error_errno (errno, "reallocarray");
  *p = q;
  *alloc = n;
  return 0;
}

static int
push_string (struct walk *w, const struct view *parts, size_t nparts,
             size_t *offset)
{
  size_t need = w->str_len + 1;
  for (size_t i = 0; i < nparts; i++)
    need += parts[i].n;
  if (grow ((void **) &w->str, &w->str_alloc, need, 1) == -1)
    return -1;
  *offset = w->str_len;
  for (size_t i = 0; i < nparts; i++)
    if (parts[i].n > 0) {
      memcpy (w->str + w->str_len, parts[i].p, parts[i].n);
      w->str_len += parts[i].n;
    }
  w->str[w->str_len++] = '\0';
  return 0;
}

/* libarchive reads a member whose last path element starts with "._" as
 * AppleDouble metadata of the next one.
 */
static bool
apple_double (const char *name)
{
  const char *last = name;
  for (const char *p = name; *p; p++)
    if (p[0] == '/' && p[1] != '\0')
      last = p + 1;
  return last[0] == '.' && last[1] == '_' && last[2] != '\0';
}

/* Record the member M whose data starts at OFFSET; its padded data must
 * lie inside the tar.  1 if done, 0 if unsure, -1 on error.
 */
static int
record (struct walk *w, const struct member *m, uint64_t header_offset,
        uint64_t offset, uint64_t *next)
{
  struct found f = { .header_offset = header_offset, .offset = offset };
  struct view name[3] = { m->name[0], { "/", m->slash }, m->name[1] };

  if (push_string (w, name, 3, &f.name) == -1)
    return -1;
  const char *s = w->str + f.name;
  size_t n = strlen (s);
  if (n == 0 || apple_double (s))
    return 0;

  uint64_t size = m->size;
  switch (m->type) {
  case '0': case '\0':
    f.type = TN_REG;
    if (s[n - 1] == '/') {    /* an old tar's way to say directory */
      f.type = TN_DIR;
      size = 0;
    }
    break;
  case '1': f.type = TN_REG; f.hard = true; break;
  case '2': f.type = TN_LNK; break;
  case '5': f.type = TN_DIR; break;
  default: f.type = TN_OTHER; break;
  }
  if (m->link_kind != LINK_NONE
      && push_string (w, &m->link, 1, &f.link) == -1)
    return -1;
  if (f.type == TN_REG && !f.hard)
    f.size = size;

  /* tarscan checks the size the header states (libarchive keeps it for
   * a directory named like one), and the padded data must be there.
   */
  uint64_t padded = (size + BLOCK - 1) & ~(uint64_t) (BLOCK - 1);
  if (offset > w->len || m->size > w->len - offset
      || size > UINT64_MAX - BLOCK || padded > w->len - offset)
    return 0;
  *next = offset + padded;

  if (grow ((void **) &w->v, &w->alloc, w->n + 1, sizeof *w->v) == -1)
    return -1;
  w->v[w->n++] = f;
  return 1;
}

/* Read one member at *POS: its special headers, its header.  1 if one
 * was recorded, 2 at the end of the tar, 0 if unsure, -1 on error.
 */
static int
walk_member (struct walk *w, uint64_t *pos, tarwalk_ahead_fn ahead,
             void *ahead_arg)
{
  struct special chain[MAX_CHAIN];
  size_t nchain = 0;
  uint64_t header_offset = *pos, p = *pos;
  struct member m;

  for (;;) {
    if (p == w->len && nchain == 0)
      return 2;               /* no end blocks: libarchive accepts it */
    if (w->len - p < BLOCK)
      return 0;
    if (ahead)
      ahead (ahead_arg, p);
    const char *h = w->buf + p;
    if (h[0] == '\0' && block_is_null (h))
      return nchain == 0 ? 2 : 0;
    if (!checksum_ok (h))
      return 0;
    if (p == 0 && !first_block_ok (h))
      return 0;
    p += BLOCK;

    char t = h[H_TYPE];
    if (t != 'L' && t != 'K' && t != 'x' && t != 'g')
      break;
    /* libarchive keeps one body per kind: a second L, K or x before the
     * same member replaces the first's body, which is then applied twice.
     */
    if (t != 'g')
      for (size_t i = 0; i < nchain; i++)
        if (chain[i].type == t)
          return 0;
    uint64_t len;
    if (nchain == MAX_CHAIN || !field_size (h, &len) || len > MAX_SPECIAL_BODY)
      return 0;
    uint64_t padded = (len + BLOCK - 1) & ~(uint64_t) (BLOCK - 1);
    if (padded > w->len - p)
      return 0;
    chain[nchain++] = (struct special) { t, w->buf + p, len };
    p += padded;
  }

  if (!parse_member_header (w->buf + p - BLOCK, &m))
    return 0;
  while (nchain > 0)
    if (!apply_special (&chain[--nchain], &m))
      return 0;
  return record (w, &m, header_offset, p, pos);
}

int
tarwalk_memory (const void *buf, size_t len, uint64_t base,
                tarwalk_ahead_fn ahead, void *ahead_arg,
                tarscan_cb cb, void *arg)
{
  struct walk w = { .buf = buf, .len = len };
  uint64_t pos = 0;
  int r;

  if (len < BLOCK)
    return TARWALK_UNSURE;
  while ((r = walk_member (&w, &pos, ahead, ahead_arg)) == 1)
    ;
  if (r != 2) {
    free (w.v);
    free (w.str);
    return r == -1 ? -1 : TARWALK_UNSURE;
  }

  r = 0;
  for (size_t i = 0; i < w.n && r == 0; i++) {
    const struct found *f = &w.v[i];
    const char *link = f->type == TN_LNK || f->hard ? w.str + f->link : NULL;
    struct tar_member m = {
      .name = w.str + f->name,
      .type = f->type,
      .hardlink = f->hard ? link : NULL,
      .symlink = f->type == TN_LNK ? link : NULL,
      .header_offset = base + f->header_offset,
      .offset = base + f->offset,
      .size = f->size,
      .flaw = TF_NONE,
    };
    r = cb (&m, arg);
  }
  free (w.v);
  free (w.str);
  return r;
}
