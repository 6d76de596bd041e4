/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a small, strict TOML reader, see toml.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/toml.h"

/* Larger than any storage.conf; a bound keeps a hostile file harmless. */
#define TOML_MAX_FILE (4 * 1024 * 1024)
#define TOML_MAX_DEPTH 32

struct parser {
  const char *s;
  size_t len, pos;
  int line;
  const char *name;
  toml_key_cb cb;
  void *arg;
  char *table;                /* current table path, "" at the top */
};

static int __attribute__ ((format (printf, 2, 3)))
perr (struct parser *p, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return error ("%s:%d: %s", p->name, p->line, msg);
}

static int
peek (struct parser *p)
{
  return p->pos < p->len ? (unsigned char) p->s[p->pos] : -1;
}

static bool
looking_at (struct parser *p, const char *str)
{
  size_t n = strlen (str);
  return p->len - p->pos >= n && memcmp (p->s + p->pos, str, n) == 0;
}

static void
skip_blanks (struct parser *p)
{
  while (peek (p) == ' ' || peek (p) == '\t')
    p->pos++;
}

static void
skip_comment (struct parser *p)
{
  if (peek (p) == '#')
    while (p->pos < p->len && p->s[p->pos] != '\n')
      p->pos++;
}

/* A newline (\n or \r\n): true and consumed, else false. */
static bool
eat_newline (struct parser *p)
{
  if (peek (p) == '\n') {
    p->pos++;
    p->line++;
    return true;
  }
  if (looking_at (p, "\r\n")) {
    p->pos += 2;
    p->line++;
    return true;
  }
  return false;
}

/* Inside arrays: blanks, newlines and comments. */
static void
skip_space (struct parser *p)
{
  for (;;) {
    skip_blanks (p);
    skip_comment (p);
    if (!eat_newline (p))
      return;
  }
}

static int
expect_end_of_line (struct parser *p)
{
  skip_blanks (p);
  skip_comment (p);
  if (p->pos >= p->len || eat_newline (p))
    return 0;
  return perr (p, "unexpected '%c' after the value (one key = value per line)",
               p->s[p->pos]);
}

/* A growing string. */
struct buf {
  char *s;
  size_t len, cap;
};

static int
buf_add (struct buf *b, const char *data, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *s = realloc (b->s, cap);
    if (!s)
      return error_errno (errno, "realloc");
    b->s = s;
    b->cap = cap;
  }
  memcpy (b->s + b->len, data, n);
  b->len += n;
  b->s[b->len] = '\0';
  return 0;
}

static int
buf_add_utf8 (struct parser *p, struct buf *b, uint32_t c)
{
  char u[4];
  size_t n;
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return perr (p, "\\u escape U+%04" PRIX32 " is not a Unicode scalar value", c);
  if (c < 0x80) { u[0] = c; n = 1; }
  else if (c < 0x800) { u[0] = 0xC0 | (c >> 6); u[1] = 0x80 | (c & 0x3F); n = 2; }
  else if (c < 0x10000) {
    u[0] = 0xE0 | (c >> 12); u[1] = 0x80 | ((c >> 6) & 0x3F);
    u[2] = 0x80 | (c & 0x3F); n = 3;
  }
  else {
    u[0] = 0xF0 | (c >> 18); u[1] = 0x80 | ((c >> 12) & 0x3F);
    u[2] = 0x80 | ((c >> 6) & 0x3F); u[3] = 0x80 | (c & 0x3F); n = 4;
  }
  return buf_add (b, u, n);
}

static int
parse_escape (struct parser *p, struct buf *b)
{
  int c = peek (p);
  const char *simple = NULL;
  switch (c) {
  case 'b': simple = "\b"; break;
  case 't': simple = "\t"; break;
  case 'n': simple = "\n"; break;
  case 'f': simple = "\f"; break;
  case 'r': simple = "\r"; break;
  case 'e': simple = "\033"; break;
  case '"': simple = "\""; break;
  case '\\': simple = "\\"; break;
  case 'u': case 'U': {
    size_t n = c == 'u' ? 4 : 8;
    uint32_t v = 0;
    p->pos++;
    for (size_t i = 0; i < n; i++) {
      int h = peek (p);
      if (h >= '0' && h <= '9') v = v * 16 + (h - '0');
      else if (h >= 'a' && h <= 'f') v = v * 16 + (h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v = v * 16 + (h - 'A' + 10);
      else return perr (p, "\\%c escape needs %zu hex digits", c, n);
      p->pos++;
    }
    return buf_add_utf8 (p, b, v);
  }
  default:
    if (c == -1)
      return perr (p, "unterminated string");
    return perr (p, "unknown escape '\\%c' in a string", c);
  }
  p->pos++;
  return buf_add (b, simple, 1);
}

/* Control characters other than tab are not allowed in strings. */
static bool
is_bad_control (int c)
{
  return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

/* A string of any of the four kinds; *OUT is malloc'd. */
static int
parse_string (struct parser *p, char **out)
{
  struct buf b = { 0 };
  bool literal = peek (p) == '\'';
  bool multi = looking_at (p, literal ? "'''" : "\"\"\"");
  const char *quote = literal ? "'" : "\"";
  int start_line = p->line;

  if (buf_add (&b, "", 0) == -1)
    return -1;
  p->pos += multi ? 3 : 1;
  if (multi)
    eat_newline (p);     /* a newline right after the opening is trimmed */

  for (;;) {
    int c = peek (p);
    if (c == -1) {
      p->line = start_line;
      free (b.s);
      return perr (p, "unterminated string");
    }
    if (multi && looking_at (p, literal ? "'''" : "\"\"\"")) {
      /* Up to two quotes may end the content: """a"""" is a". */
      size_t q = 3;
      while (q < 5 && p->pos + q < p->len && p->s[p->pos + q] == quote[0])
        q++;
      if (buf_add (&b, p->s + p->pos, q - 3) == -1)
        goto fail;
      p->pos += q;
      break;
    }
    if (!multi && c == quote[0]) {
      p->pos++;
      break;
    }
    if (c == '\n' || looking_at (p, "\r\n")) {
      if (!multi) {
        free (b.s);
        return perr (p, "unterminated string (newline inside a one-line string)");
      }
      if (buf_add (&b, "\n", 1) == -1)
        goto fail;
      eat_newline (p);
      continue;
    }
    if (!literal && c == '\\') {
      p->pos++;
      if (multi) {
        /* A line-ending backslash trims the newline and following space. */
        size_t save = p->pos;
        skip_blanks (p);
        if (peek (p) == '\n' || looking_at (p, "\r\n")) {
          skip_space (p);
          continue;
        }
        p->pos = save;
      }
      if (parse_escape (p, &b) == -1)
        goto fail;
      continue;
    }
    if (is_bad_control (c)) {
      free (b.s);
      return perr (p, "control character 0x%02x in a string", c);
    }
    if (buf_add (&b, p->s + p->pos, 1) == -1)
      goto fail;
    p->pos++;
  }
  *out = b.s;
  return 0;

 fail:
  free (b.s);
  return -1;
}

static bool
is_bare_key_char (int c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
    || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A key, simple or dotted ("a.b", "a . \"b.c\""), appended to PATH
 * (which may already hold the table path).
 */
static int
parse_key (struct parser *p, struct buf *path)
{
  for (;;) {
    skip_blanks (p);
    if (path->len > 0 && buf_add (path, ".", 1) == -1)
      return -1;
    int c = peek (p);
    if (c == '"' || c == '\'') {
      _cleanup_free_ char *s = NULL;
      if (looking_at (p, "\"\"\"") || looking_at (p, "'''"))
        return perr (p, "a key cannot be a multi-line string");
      if (parse_string (p, &s) == -1)
        return -1;
      if (buf_add (path, s, strlen (s)) == -1)
        return -1;
    }
    else if (is_bare_key_char (c)) {
      size_t start = p->pos;
      while (is_bare_key_char (peek (p)))
        p->pos++;
      if (buf_add (path, p->s + start, p->pos - start) == -1)
        return -1;
    }
    else if (c == -1 || c == '\n' || c == '\r')
      return perr (p, "a key is missing");
    else
      return perr (p, "unexpected '%c' in a key", c);
    skip_blanks (p);
    if (peek (p) != '.')
      return 0;
    p->pos++;
  }
}

static int parse_value (struct parser *p, const char *path, bool emit,
                        int depth, enum toml_type *type, char **string);

static int
emit_value (struct parser *p, const char *path, struct toml_value *v, int line)
{
  v->file = p->name;
  v->line = line;
  return p->cb (path, v, p->arg);
}

static int
parse_integer (struct parser *p, int64_t *out)
{
  size_t start = p->pos;
  bool neg = false;
  int base = 10;
  uint64_t v = 0;
  size_t digits = 0;

  if (peek (p) == '+' || peek (p) == '-') {
    neg = peek (p) == '-';
    p->pos++;
  }
  if (looking_at (p, "inf") || looking_at (p, "nan"))
    return perr (p, "floating point values are not supported");
  if (p->pos == start && (looking_at (p, "0x") || looking_at (p, "0o")
                          || looking_at (p, "0b"))) {
    base = p->s[p->pos + 1] == 'x' ? 16 : p->s[p->pos + 1] == 'o' ? 8 : 2;
    p->pos += 2;
  }
  for (;;) {
    int c = peek (p), d;
    if (c == '_' && digits > 0 && p->pos + 1 < p->len
        && isxdigit ((unsigned char) p->s[p->pos + 1])) {
      p->pos++;
      continue;
    }
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else break;
    if (d >= base)
      return perr (p, "digit '%c' in a base %d integer", c, base);
    if (v > (UINT64_MAX - d) / base)
      return perr (p, "integer out of range");
    v = v * base + d;
    digits++;
    p->pos++;
  }
  int c = peek (p);
  if (c == '.' || c == 'e' || c == 'E' || c == ':'
      || (c == '-' && base == 10 && !neg && digits == 4))
    return perr (p, "floating point values and dates are not supported");
  if (digits == 0)
    return perr (p, "a value is missing or malformed");
  if (base == 10 && digits > 1 && p->s[start + (p->s[start] == '+' || neg)] == '0')
    return perr (p, "leading zeros are not allowed in an integer");
  if (v > (uint64_t) INT64_MAX + neg)
    return perr (p, "integer out of range");
  *out = neg ? (int64_t) (0 - v) : (int64_t) v;
  return 0;
}

static int
parse_array (struct parser *p, const char *path, int depth,
             char ***strings, bool *all_strings)
{
  size_t n = 0;
  char **v = calloc (1, sizeof *v);
  if (!v)
    return error_errno (errno, "calloc");
  int start_line = p->line;
  *all_strings = true;
  p->pos++;     /* '[' */
  for (;;) {
    skip_space (p);
    if (peek (p) == ']') {
      p->pos++;
      break;
    }
    enum toml_type type;
    char *s = NULL;
    if (parse_value (p, path, false, depth + 1, &type, &s) == -1)
      goto fail;
    if (type == TOML_STRING && *all_strings) {
      char **nv = realloc (v, (n + 2) * sizeof *v);
      if (!nv) {
        free (s);
        error_errno (errno, "realloc");
        goto fail;
      }
      v = nv;
      v[n++] = s;
      v[n] = NULL;
    }
    else {
      free (s);
      *all_strings = false;
    }
    skip_space (p);
    if (peek (p) == ',') {
      p->pos++;
      continue;
    }
    if (peek (p) == ']') {
      p->pos++;
      break;
    }
    if (peek (p) == -1) {
      p->line = start_line;
      perr (p, "unterminated array");
    }
    else
      perr (p, "expected ',' or ']' in an array, not '%c'", p->s[p->pos]);
    goto fail;
  }
  *strings = v;
  return 0;

 fail:
  strv_free (v);
  return -1;
}

/* { key = value, ... } on one line: each key is emitted as PATH.KEY. */
static int
parse_inline_table (struct parser *p, const char *path, bool emit, int depth)
{
  bool first = true;
  p->pos++;     /* '{' */
  for (;;) {
    skip_blanks (p);
    if (peek (p) == '}' && first) {
      p->pos++;
      return 0;
    }
    struct buf key = { 0 };
    if (buf_add (&key, path, strlen (path)) == -1)
      return -1;
    if (parse_key (p, &key) == -1) {
      free (key.s);
      return -1;
    }
    if (peek (p) != '=') {
      free (key.s);
      return perr (p, "expected '=' after a key in an inline table");
    }
    p->pos++;
    skip_blanks (p);
    enum toml_type type;
    int r = parse_value (p, key.s, emit, depth + 1, &type, NULL);
    free (key.s);
    if (r == -1)
      return -1;
    skip_blanks (p);
    first = false;
    if (peek (p) == ',') {
      p->pos++;
      continue;
    }
    if (peek (p) == '}') {
      p->pos++;
      return 0;
    }
    return perr (p, "expected ',' or '}' in an inline table");
  }
}

/* One value at the cursor.  With EMIT, scalars and arrays are handed to
 * the callback under PATH.  *TYPE says what it was; with STRING non-NULL a
 * string value is given back there (malloc'd).
 */
static int
parse_value (struct parser *p, const char *path, bool emit, int depth,
             enum toml_type *type, char **string)
{
  struct toml_value v = { 0 };
  int line = p->line, r;
  int c = peek (p);

  if (depth > TOML_MAX_DEPTH)
    return perr (p, "values nested too deeply");
  if (c == '"' || c == '\'') {
    char *s;
    if (parse_string (p, &s) == -1)
      return -1;
    v.type = *type = TOML_STRING;
    v.string = s;
    r = emit ? emit_value (p, path, &v, line) : 0;
    if (string && r == 0)
      *string = s;
    else
      free (s);
    return r;
  }
  if (c == '[') {
    char **strings = NULL;
    bool all_strings = true;
    if (parse_array (p, path, depth, &strings, &all_strings) == -1)
      return -1;
    v.type = *type = all_strings ? TOML_STRING_ARRAY : TOML_ARRAY;
    v.strings = all_strings ? strings : NULL;
    r = emit ? emit_value (p, path, &v, line) : 0;
    strv_free (strings);
    return r;
  }
  if (c == '{') {
    *type = TOML_ARRAY;      /* not a scalar: nothing to give back */
    return parse_inline_table (p, path, emit, depth);
  }
  if (looking_at (p, "true") || looking_at (p, "false")) {
    v.boolean = c == 't';
    p->pos += v.boolean ? 4 : 5;
    if (is_bare_key_char (peek (p)))
      return perr (p, "a value is malformed (strings need quotes)");
    v.type = *type = TOML_BOOL;
    return emit ? emit_value (p, path, &v, line) : 0;
  }
  if (c == '+' || c == '-' || (c >= '0' && c <= '9') || looking_at (p, "inf")
      || looking_at (p, "nan")) {
    if (parse_integer (p, &v.integer) == -1)
      return -1;
    if (is_bare_key_char (peek (p)))
      return perr (p, "a value is malformed (strings need quotes)");
    v.type = *type = TOML_INTEGER;
    return emit ? emit_value (p, path, &v, line) : 0;
  }
  if (c == -1 || c == '\n' || c == '\r' || c == '#')
    return perr (p, "a value is missing after '='");
  return perr (p, "a value is malformed (strings need quotes)");
}

/* [table] or [[array.of.tables]] */
static int
parse_table_header (struct parser *p)
{
  bool array = looking_at (p, "[[");
  struct buf path = { 0 };

  p->pos += array ? 2 : 1;
  if (buf_add (&path, "", 0) == -1 || parse_key (p, &path) == -1)
    goto fail;
  if (!looking_at (p, array ? "]]" : "]")) {
    perr (p, "a table header must end with '%s'", array ? "]]" : "]");
    goto fail;
  }
  p->pos += array ? 2 : 1;
  free (p->table);
  p->table = path.s;
  return expect_end_of_line (p);

 fail:
  free (path.s);
  return -1;
}

static int
parse_key_value (struct parser *p)
{
  struct buf path = { 0 };
  enum toml_type type;
  int r;

  if (buf_add (&path, p->table, strlen (p->table)) == -1)
    return -1;
  if (parse_key (p, &path) == -1)
    goto fail;
  if (peek (p) != '=') {
    perr (p, "expected '=' after the key '%s'", path.s);
    goto fail;
  }
  p->pos++;
  skip_blanks (p);
  r = parse_value (p, path.s, true, 0, &type, NULL);
  free (path.s);
  if (r != 0)
    return r;
  return expect_end_of_line (p);

 fail:
  free (path.s);
  return -1;
}

int
toml_parse (const char *text, size_t len, const char *name,
            toml_key_cb cb, void *arg)
{
  struct parser p = {
    .s = text, .len = len, .line = 1, .name = name, .cb = cb, .arg = arg,
  };
  int r = 0;

  if (memchr (text, '\0', len))
    return error ("%s: not a text file (it holds a NUL byte)", name);
  p.table = strdup ("");
  if (!p.table)
    return error_errno (errno, "strdup");
  while (r == 0 && p.pos < p.len) {
    skip_blanks (&p);
    skip_comment (&p);
    if (eat_newline (&p) || p.pos >= p.len)
      continue;
    if (peek (&p) == '[')
      r = parse_table_header (&p);
    else
      r = parse_key_value (&p);
  }
  free (p.table);
  return r;
}

int
toml_parse_file (const char *path, toml_key_cb cb, void *arg)
{
  /* O_NONBLOCK: a FIFO in its place is refused, not waited on. */
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;

  if (fd == -1) {
    if (errno == ENOENT)
      return 1;
    return error_errno (errno, "%s", path);
  }
  if (fstat (fd, &st) == -1)
    return error_errno (errno, "%s", path);
  if (!S_ISREG (st.st_mode))
    return error ("%s: not a regular file", path);
  if (st.st_size > TOML_MAX_FILE)
    return error ("%s: too large for a configuration file (%jd bytes)",
                  path, (intmax_t) st.st_size);

  _cleanup_free_ char *text = malloc (st.st_size + 1);
  if (!text)
    return error_errno (errno, "malloc");
  size_t got = 0;
  while (got < (size_t) st.st_size) {
    ssize_t n = read (fd, text + got, st.st_size - got);
    if (n == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "%s: read", path);
    }
    if (n == 0)
      break;
    got += n;
  }
  return toml_parse (text, got, path, cb, arg);
}

const char *
toml_type_name (enum toml_type type)
{
  switch (type) {
  case TOML_STRING: return "a string";
  case TOML_BOOL: return "a boolean";
  case TOML_INTEGER: return "an integer";
  case TOML_STRING_ARRAY: return "an array of strings";
  case TOML_ARRAY: return "an array or table";
  }
  return "a value";
}
