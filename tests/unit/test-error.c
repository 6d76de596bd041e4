/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: error messages stay one printable line (src/common/error.c),
 * whatever the names from an image hold: newlines, escapes, DEL.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

static int failed;

static void
expect (const char *want)
{
  bool ok = strcmp (error_message (), want) == 0;
  printf ("%s - '%s'\n", ok ? "ok" : "FAIL", error_message ());
  if (!ok) {
    printf ("     expected '%s'\n", want);
    failed++;
  }
}

int
main (void)
{
  error ("plain %s", "message");
  expect ("plain message");
  error ("%s: not found", "/disk/a\nb");
  expect ("/disk/a?b: not found");
  error ("symlink to %s", "\x1b[31mred\x7f\r");
  expect ("symlink to ?[31mred??");
  error ("found: %s", "d\xc3\xa9j\xc3\xa0");        /* UTF-8 stays */
  expect ("found: d\xc3\xa9j\xc3\xa0");
  error ("x");
  error_context ("layer %s", "a\tb");
  expect ("layer a?b: x");
  error_errno (2, "open %s", "\n");
  expect ("open ?: No such file or directory");
  return failed ? 1 : 0;
}
