/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk unit tests: checks, counted, the closing summary, and the
 * setup helpers several tests share.  Everything here is static inline so
 * that a test gets no unused-function warning for what it does not use.
 */
#ifndef PODMAN_DISK_UNIT_H
#define PODMAN_DISK_UNIT_H

#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"

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

/* CHECK's failure: count it and say where (see CHECK below). */
static inline void __attribute__ ((format (printf, 4, 5)))
unit_fail_at (const char *file, int line, const char *expr, const char *fmt, ...)
{
  va_list ap;
  failed++;
  fprintf (stderr, "FAIL %s:%d: %s:", file, line, expr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, " [error: %s]\n", error_message ());
}

/* CHECK (COND) or CHECK (COND, "FORMAT", ...): count COND, quietly when it
 * holds; when not, print on stderr
 *   FAIL FILE:LINE: COND: MESSAGE [error: the last error_message ()]
 * The message is evaluated only then, after COND (so it can show what COND
 * left behind).  FORMAT must be a string literal: " " is pasted in front
 * of it, which also gives CHECK (COND) a format that is not empty.
 */
#define CHECK(cond, ...)                                                \
  ((cond) ? (void) passed++                                             \
          : unit_fail_at (__FILE__, __LINE__, #cond, " " __VA_ARGS__))

/* The last line of a unit test, and its exit status. */
static inline int
unit_summary (void)
{
  printf ("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

/* perror (WHAT) and exit 1, for a test whose setup failed. */
static inline void __attribute__ ((noreturn))
unit_die (const char *what)
{
  perror (what);
  exit (1);
}

static inline int
unit_remove_entry (const char *path, const struct stat *st __attribute__ ((unused)),
                   int flag __attribute__ ((unused)),
                   struct FTW *ftw __attribute__ ((unused)))
{
  return remove (path);
}

/* Remove PATH and everything under it; symlinks are not followed. */
static inline int
unit_remove_tree (const char *path)
{
  return nftw (path, unit_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The directory unit_tmpdir made, and the process that made it: a forked
 * child that calls exit() must not remove it under its parent.
 */
static const char *unit_tmpdir_path;
static pid_t unit_tmpdir_owner;

static inline void
unit_remove_tmpdir (void)
{
  if (getpid () == unit_tmpdir_owner
      && unit_remove_tree (unit_tmpdir_path) != 0)
    fprintf (stderr, "could not remove %s\n", unit_tmpdir_path);
}

/* mkdtemp (TEMPLATE), removed with all its contents when the test exits
 * (also by unit_die or a skip).  Exits 1 if it cannot be made.
 */
static inline void
unit_tmpdir (char *template)
{
  if (!mkdtemp (template))
    unit_die ("mkdtemp");
  unit_tmpdir_path = template;
  unit_tmpdir_owner = getpid ();
  atexit (unit_remove_tmpdir);
}

/* mkdir -p PATH (errors show up when the test uses it). */
static inline void
unit_mkdirs (const char *path)
{
  char p[4096];
  snprintf (p, sizeof p, "%s", path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      mkdir (p, 0755);
      *s = '/';
    }
  mkdir (p, 0755);
}

/* Run ARGV (found on $PATH, no shell) and wait: its exit status, or -1 if
 * it could not be started or was killed by a signal.
 */
static inline int
unit_run (char *const argv[])
{
  pid_t pid;
  int status;
  if (posix_spawnp (&pid, argv[0], NULL, NULL, argv, environ) != 0
      || waitpid (pid, &status, 0) == -1)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

#endif
