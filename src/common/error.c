/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: error message recording, see error.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/text.h"

bool verbose;

static char message[4096];
static bool not_container_disk;

static int __attribute__ ((format (printf, 2, 0)))
vset (const char *suffix, const char *fmt, va_list ap)
{
  int n = vsnprintf (message, sizeof message, fmt, ap);
  not_container_disk = false;
  if (suffix && n >= 0 && (size_t) n < sizeof message)
    snprintf (message + n, sizeof message - n, ": %s", suffix);
  /* Messages name things taken from images (file names, symlink
   * targets, JSON strings): one safe line, see common/text.h.
   */
  text_sanitize (message);
  return -1;
}

int
error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vset (NULL, fmt, ap);
  va_end (ap);
  return -1;
}

int
error_errno (int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vset (strerror (errnum), fmt, ap);
  va_end (ap);
  return -1;
}

int
error_context (const char *fmt, ...)
{
  char old[sizeof message];
  va_list ap;
  int n;

  memcpy (old, message, sizeof old);
  va_start (ap, fmt);
  n = vsnprintf (message, sizeof message, fmt, ap);
  va_end (ap);
  if (n >= 0 && (size_t) n < sizeof message - 2) {
    message[n++] = ':';
    message[n++] = ' ';
    memccpy (message + n, old, '\0', sizeof message - n);
    message[sizeof message - 1] = '\0';
  }
  text_sanitize (message);
  return -1;
}

int
error_not_container_disk (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vset (NULL, fmt, ap);
  va_end (ap);
  not_container_disk = true;
  return -1;
}

bool
error_is_not_container_disk (void)
{
  return not_container_disk;
}

const char *
error_message (void)
{
  return message;
}

void
error_clear (void)
{
  message[0] = '\0';
  not_container_disk = false;
}

void
error_print (void)
{
  fprintf (stderr, "podman-disk: %s\n",
           message[0] ? message : "unknown error (this is a bug)");
  error_clear ();
}

int
usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "podman-disk%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry 'podman-disk%s%s --help' for more information.\n",
           cmd ? " " : "", cmd ? cmd : "");
  return EXIT_USAGE;
}

void
debug (const char *fmt, ...)
{
  va_list ap;
  _cleanup_free_ char *msg = NULL;
  int r;

  if (!verbose)
    return;
  va_start (ap, fmt);
  r = vasprintf (&msg, fmt, ap);
  va_end (ap);
  if (r == -1)
    return;
  fprintf (stderr, "podman-disk: debug: %s\n", text_sanitize (msg));
}
