/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: running podman and skopeo for a pull (pull/pull.h).
 *
 * A tool runs with an argument vector, never a shell, stdin from
 * /dev/null; its stdout is kept, its progress on stderr passed on, and its
 * error ("Error: ..." from podman, level=fatal from skopeo) kept for the
 * one line podman-disk prints.
 */
#ifndef PODMAN_DISK_PULL_TOOL_H
#define PODMAN_DISK_PULL_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "pull/pull.h"

#define MAX_ARGS 40

/* What a tool did. */
struct tool_run {
  char *out;           /* stdout, NUL-terminated */
  size_t out_len;
  char *err;           /* the error lines, joined by "; " */
  char *trying;        /* podman's last "Trying to pull NAME..." */
  int status;          /* the exit code, or 128 + the signal */
};

/* An argv under construction, of at most MAX_ARGS words. */
struct args {
  char *v[MAX_ARGS + 1];
  size_t n;
  char *owned[8];            /* strings built here, freed with it */
  size_t n_owned;
};

/* The store of the request, the reference's own parts first. */
struct store_args {
  const char *root, *runroot, *driver;
};

void tool_run_free (struct tool_run *r);
/* Run ARGV (argv[0] looked up in $PATH): 0 when it ran (its exit in
 * R->status), -1 with error () when it could not.  RELAY: pass its
 * progress on to our stderr; OUT_TO_ERR: its stdout is progress too.
 */
int run_tool_out (char *const argv[], bool relay, bool out_to_err,
                  struct tool_run *r);
int run_tool (char *const argv[], bool relay, struct tool_run *r);

void args_free (struct args *a);
void args_add (struct args *a, const char *s);
void args_addf (struct args *a, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
/* "podman" and its store options. */
void podman_store_args (struct args *a, const struct store_args *st);
/* podman's ("") and skopeo's ("src-") credential and TLS options. */
void credential_args (struct args *a, const struct pull_options *pull,
                      const char *prefix);

/* WHAT (a tool) failed to pull NAME: one line naming the registry and the
 * reason; returns -1.
 */
int pull_failed (const char *what, const char *name, const struct tool_run *r);

#endif
