/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk serve: what serve of one disk (cmd-serve.c) and of several
 * (cmd-serve-multi.c) share.
 */
#ifndef PODMAN_DISK_CMD_SERVE_H
#define PODMAN_DISK_CMD_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/cli.h"
#include "location.h"
#include "pull/pull.h"
#include "serve/server.h"

/* cmd-serve.c: --run's CMD with SRV's export in its environment, until it
 * exits (its exit code); the foreground until a stop signal; socket
 * activation's serve.
 */
int run_captive (struct server *srv, const struct server_options *opts,
                 const char *cmd, int diskfd);
int stay_in_foreground (struct server *srv);
int serve_activated (struct disk_location *loc, struct server_options *opts);

/* How serve runs, whatever it serves. */
struct serve_how {
  bool foreground;
  bool activated;            /* socket activation: OPTS's listen_fd */
  const char *pidfile;
  const char *run;
  enum output_format format;
  const char *clone;         /* --writable=persistent:DEST */
  const char *state_dir;     /* --state-dir: the registry of exports */
};

/* Print what serve prints once SRV answers, in FORMAT: its URI (or, for
 * OPTS's several exports, print_uris's one a line).
 */
int serve_print (const struct server *srv, const struct server_options *opts,
                 enum output_format format);
/* cmd-serve-multi.c: every export's URI, one a line; with --format json
 * an array of what serve prints for one.
 */
int print_uris (const struct server *srv, const struct server_options *opts,
                enum output_format format);

/* LOC's server (the first of OPTS's exports, if several) in the
 * background, recorded as IMAGE's with HOW's pid file and state
 * directory; prints its URIs.  An exit code.
 */
int serve_in_background (const struct disk_location *loc,
                         const struct server_options *opts, const char *image,
                         const struct serve_how *how);
/* --foreground or --run: the server as our child until it or HOW's
 * command ends.  An exit code.
 */
int serve_here (const struct disk_location *loc, const struct server_options *opts,
                const struct serve_how *how);

/* serve IMAGES[0..N) (or, ALL, every image of the store that holds a
 * disk) from one qemu-storage-daemon (serve/qsd.h), each under its
 * export name: the reference as given, for ALL the image's first name or
 * its ID.  An exit code.
 */
int serve_multi (char **images, size_t n, bool all, struct locate_request *req,
                 const struct pull_options *pull, struct server_options *opts,
                 const struct serve_how *how);

#endif
