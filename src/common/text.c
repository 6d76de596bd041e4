/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: text an image controls, made safe for a terminal; see text.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/text.h"

/* The length of the well-formed UTF-8 character at S (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), its code point
 * in *CP; 0 if the byte at S does not start one.
 */
static size_t
utf8_char (const unsigned char *s, uint32_t *cp)
{
  size_t len;
  uint32_t min;

  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    len = 2; min = 0x80; *cp = s[0] & 0x1f;
  }
  else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    len = 3; min = 0x800; *cp = s[0] & 0x0f;
  }
  else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    len = 4; min = 0x10000; *cp = s[0] & 0x07;
  }
  else
    return 0;
  /* A continuation byte is 10xxxxxx; the NUL that ends S is not one. */
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    *cp = (*cp << 6) | (s[i] & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
    return 0;
  return len;
}

/* Characters that control a terminal, or reorder or break what it shows. */
static bool
unsafe_char (uint32_t cp)
{
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)
    || (cp >= 0x2028 && cp <= 0x2029)
    || (cp >= 0x202a && cp <= 0x202e)
    || (cp >= 0x2066 && cp <= 0x2069);
}

/* The next character of S: its length in bytes (at least 1), and whether
 * it may be shown as it is.
 */
static size_t
next_char (const char *s, bool *safe)
{
  uint32_t cp;
  size_t len = utf8_char ((const unsigned char *) s, &cp);

  if (len == 0) {
    *safe = false;          /* one byte that is not UTF-8 */
    return 1;
  }
  *safe = !unsafe_char (cp);
  return len;
}

char *
text_sanitize (char *s)
{
  char *out = s;
  const char *in = s;
  bool safe;

  while (*in) {
    size_t len = next_char (in, &safe);
    if (safe) {
      memmove (out, in, len);
      out += len;
    }
    else
      *out++ = '?';
    in += len;
  }
  *out = '\0';
  return s;
}

size_t
text_fputs (const char *s, FILE *f)
{
  size_t n = 0;
  bool safe;

  while (s && *s) {
    size_t len = next_char (s, &safe);
    if (safe) {
      fwrite (s, 1, len, f);
      n += len;
    }
    else {
      fputc ('?', f);
      n++;
    }
    s += len;
  }
  return n;
}

void
text_fput_column (const char *s, int width, FILE *f)
{
  size_t n = text_fputs (s, f);
  if (width > 0 && (size_t) width > n)
    fprintf (f, "%*s", (int) (width - n), "");
}

void
text_fput_json (const char *json, FILE *f)
{
  const char *s = json;
  uint32_t cp;

  while (*s) {
    size_t len = utf8_char ((const unsigned char *) s, &cp);
    /* Only in strings: outside them JSON is plain ASCII, and the C0
     * controls there are json-c's own newlines.
     */
    if (len == 0) {
      fputs ("\\ufffd", f);        /* JSON cannot carry it (see text.h) */
      len = 1;
    }
    else if (unsafe_char (cp) && cp >= 0x20)
      fprintf (f, "\\u%04x", (unsigned) cp);
    else
      fwrite (s, 1, len, f);
    s += len;
  }
}
