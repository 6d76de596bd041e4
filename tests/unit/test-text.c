/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the rule that makes text an image controls safe for a
 * terminal (src/common/text.c), in its three forms: in place, written to
 * a stream (with a column's padding), and JSON escaped; and the error
 * messages and debug lines that use it (src/common/error.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/text.h"

#include "unit.h"

/* Every form of the rule agrees on IN: WANT. */
static void
expect_safe (const char *what, const char *in, const char *want)
{
  char *s = strdup (in);
  char *out = NULL;
  size_t len = 0, n;
  FILE *f;

  if (!s || (f = open_memstream (&out, &len)) == NULL)
    unit_die ("test-text");
  text_sanitize (s);
  n = text_fputs (in, f);
  fclose (f);
  check (strcmp (s, want) == 0 && strcmp (out, want) == 0 && n == strlen (want),
         "%s: '%s' (stream '%s', %zu bytes)", what, s, out, n);
  free (s);
  free (out);
}

static char *
column (const char *in, int width)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  if (!f)
    unit_die ("open_memstream");
  text_fput_column (in, width, f);
  fputc ('|', f);
  fclose (f);
  return out;
}

static void
expect_json (const char *what, const char *in, const char *want)
{
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&out, &len);
  if (!f)
    unit_die ("open_memstream");
  text_fput_json (in, f);
  fclose (f);
  check (strcmp (out, want) == 0, "json %s: '%s'", what, out);
  free (out);
}

static void
expect_error (const char *want)
{
  check (strcmp (error_message (), want) == 0, "error '%s' (want '%s')",
         error_message (), want);
}

int
main (void)
{
  /* C0 controls (tab and newline included) and DEL: one '?' each. */
  expect_safe ("plain", "/disk/disk.img", "/disk/disk.img");
  expect_safe ("empty", "", "");
  expect_safe ("C0", "a\nb\rc\td\x1b[2Je\x01\x1f", "a?b?c?d?[2Je??");
  expect_safe ("DEL", "x\x7fy", "x?y");
  /* C1 controls as raw bytes: not UTF-8 either. */
  expect_safe ("C1 bytes", "a\x9b" "2Jb\x85\x80\x9f", "a?2Jb???");
  /* C1 controls in UTF-8: one '?' for the two bytes. */
  expect_safe ("C1 UTF-8", "a\xc2\x9b" "2Jb\xc2\x85\xc2\x80\xc2\x9f", "a?2Jb???");
  /* Just past the C1 range: U+00A0 (no-break space), U+00E9 (é). */
  expect_safe ("Latin-1", "\xc2\xa0\xc3\xa9t\xc3\xa9", "\xc2\xa0\xc3\xa9t\xc3\xa9");
  /* CJK (3 bytes), an emoji (4 bytes): kept. */
  expect_safe ("CJK", "/disk/\xe7\xa3\x81\xe7\x9b\x98.img", "/disk/\xe7\xa3\x81\xe7\x9b\x98.img");
  expect_safe ("emoji", "\xf0\x9f\x92\xbe", "\xf0\x9f\x92\xbe");
  /* Not UTF-8: each byte that starts no character is one '?'. */
  expect_safe ("lone continuation", "a\x80z", "a?z");
  expect_safe ("truncated", "a\xe7\xa3", "a??");
  expect_safe ("truncated before ASCII", "\xe7\xa3z", "??z");
  expect_safe ("overlong NUL", "\xc0\x80", "??");
  expect_safe ("overlong slash", "\xe0\x80\xaf", "???");
  expect_safe ("surrogate", "\xed\xa0\x80", "???");
  expect_safe ("above U+10FFFF", "\xf4\x90\x80\x80", "????");
  expect_safe ("latin-1 byte", "caf\xe9", "caf?");
  expect_safe ("0xff", "\xff\xfe", "??");
  /* Characters that reorder or break what a terminal shows. */
  expect_safe ("RLO", "evil\xe2\x80\xaegpj.img", "evil?gpj.img");
  expect_safe ("isolate", "\xe2\x81\xa6x\xe2\x81\xa9", "?x?");
  expect_safe ("line separator", "a\xe2\x80\xa8" "b\xe2\x80\xa9", "a?b?");
  /* The rule is idempotent: what it made stays as it is. */
  expect_safe ("again", "a?2Jb???", "a?2Jb???");
  /* (An embedded NUL cannot happen: the strings are C strings.) */

  /* A column: padded to its width after the rule; wider ones not cut. */
  char *c = column ("a\x1b[2J", 8);
  check (strcmp (c, "a?[2J   |") == 0, "column '%s'", c);
  free (c);
  c = column ("\xc2\x9b\xc3\xa9", 4);       /* bytes are counted, as printf */
  check (strcmp (c, "?\xc3\xa9 |") == 0, "column UTF-8 '%s'", c);
  free (c);
  c = column ("longer than the column", 4);
  check (strcmp (c, "longer than the column|") == 0, "wide column '%s'", c);
  free (c);
  c = column (NULL, 2);
  check (strcmp (c, "  |") == 0, "NULL column '%s'", c);
  free (c);

  /* JSON: exact, with what json-c leaves raw escaped as \uXXXX; JSON's
   * own whitespace (C0 outside strings) stays; bytes that JSON cannot
   * carry are U+FFFD.
   */
  expect_json ("plain", "{\n  \"member\":\"/disk/\\u001b[2J\"\n}",
               "{\n  \"member\":\"/disk/\\u001b[2J\"\n}");
  expect_json ("DEL", "\"a\x7f\"", "\"a\\u007f\"");
  expect_json ("C1", "\"a\xc2\x9b" "2J\xc2\x85\"", "\"a\\u009b2J\\u0085\"");
  expect_json ("RLO", "\"\xe2\x80\xae\"", "\"\\u202e\"");
  expect_json ("UTF-8 kept", "\"\xc3\xa9\xe7\xa3\x81\"", "\"\xc3\xa9\xe7\xa3\x81\"");
  expect_json ("not UTF-8", "\"\x9b\xff\xe7\xa3\"", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");

  /* Error messages follow the same rule, context included. */
  error ("%s: not found", "/disk/a\nb\xc2\x9b" "c\x9b");
  expect_error ("/disk/a?b?c?: not found");
  error ("x\xc2\x85");
  error_context ("layer %s", "\xe2\x80\xae\x1b");
  expect_error ("layer ??: x?");
  error ("found: %s", "d\xc3\xa9j\xc3\xa0 \xe7\xa3\x81");
  expect_error ("found: d\xc3\xa9j\xc3\xa0 \xe7\xa3\x81");

  /* error_print forgets what it printed: main then prints nothing more. */
  error ("printed once");
  fflush (stdout);
  FILE *saved = stderr;
  char *out = NULL;
  size_t len = 0;
  stderr = open_memstream (&out, &len);
  if (!stderr)
    unit_die ("open_memstream");
  error_print ();
  /* And debug lines too. */
  verbose = true;
  debug ("member %s", "a\x1b[2J\xc2\x9b");
  verbose = false;
  fclose (stderr);
  stderr = saved;
  check (strcmp (out, "podman-disk: printed once\n"
                 "podman-disk: debug: member a?[2J?\n") == 0, "printed '%s'", out);
  check (error_message ()[0] == '\0', "forgotten after error_print");
  free (out);

  return unit_summary ();
}
