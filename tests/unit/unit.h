/* podman-disk unit tests: one check, counted, and the closing summary. */
#ifndef PODMAN_DISK_UNIT_H
#define PODMAN_DISK_UNIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int passed, failed;

/* Print "ok - WHAT" or "FAIL - WHAT" and count it. */
static inline void __attribute__ ((format (printf, 2, 3)))
check (bool ok, const char *fmt, ...)
{
  va_list ap;
  printf ("%s - ", ok ? "ok" : "FAIL");
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  if (ok)
    passed++;
  else
    failed++;
}

/* The last line of a unit test, and its exit status. */
static inline int
unit_summary (void)
{
  printf ("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

#endif
