/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: one error message, composed where the failure is
 * understood and printed once by main as "podman-disk: MESSAGE".
 *
 * The convention, as crun's: a function that fails records the message
 * (error (), error_errno ()), callers on the way up may put context in
 * front of it (error_context ()) and return -1, and a command returns
 * EXIT_ERROR; main then prints the recorded message, once.  A command
 * that reports an error and goes on (a warning in a list, one export of
 * several that cannot be pruned) prints it itself with error_print (),
 * which forgets it, so that main does not print it again.
 *
 * Messages quote names an image chooses: they are made safe for a
 * terminal by the rule of common/text.h.
 */
#ifndef PODMAN_DISK_ERROR_H
#define PODMAN_DISK_ERROR_H

#include <stdbool.h>

/* Exit codes, documented in podman-disk(1). */
enum {
  EXIT_OK = 0,
  EXIT_ERROR = 1,        /* the command failed: main prints the message */
  EXIT_USAGE = 2,        /* bad command line */
};

/* Record the message; always returns -1 so callers can "return error (...)". */
int error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
/* The same with ": strerror(errnum)" appended. */
int error_errno (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* Put context in front of the recorded message: "CONTEXT: MESSAGE". */
int error_context (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* error () for an image that is no containerDisk at all (no /disk/): list
 * passes over such images without a word, while it warns of any other
 * failure.  error_is_not_container_disk says whether the recorded error
 * is one of these (error_context keeps that, any other error clears it).
 */
int error_not_container_disk (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));
bool error_is_not_container_disk (void);

const char *error_message (void);   /* "" if none */
void error_clear (void);
/* Print "podman-disk: MESSAGE" on stderr now, and forget the message. */
void error_print (void);

/* Usage errors print at once, with a hint, and make main exit 2. */
int usage_error (const char *cmd, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

extern bool verbose;
/* With --log-level debug: "podman-disk: debug: MESSAGE", made safe as
 * error messages are.
 */
void debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
