/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the supervisor of a server that outlives its command.
 *
 * One mechanism for every export that runs in the background (serve
 * without --foreground or --run, and the OCI hook's export of a
 * container): a double fork makes a supervisor that is nobody's child but
 * init's (or the subreaper's), in its own session, stdio on /dev/null or
 * a log; it starts the server as its child (serve/server.h), records it
 * (struct server_record: a pidfile, the hook's registry), tells the
 * caller on a pipe, and watches, in server_wait's one loop, until
 *   - the server exits,
 *   - the watched process exits (the container's: its pidfd is taken by
 *     the caller while the runtime keeps that process waiting, so it
 *     cannot be another process), or
 *   - SIGTERM, SIGINT or SIGHUP arrives (serve's pidfile, poststop,
 *     exports --prune),
 * then stops the server, removes its socket and forgets the record.  The
 * server has PR_SET_PDEATHSIG, so it goes with the supervisor even if that
 * is killed.
 *
 * The report on the pipe is NUL-separated fields: "OK", the server's pid,
 * the supervisor's pid, the server's name, URI, socket, port and export
 * name; or "ERR" and the message.  A caller that went away before the
 * report leaves no export behind.
 */
#ifndef PODMAN_DISK_SERVE_SUPERVISOR_H
#define PODMAN_DISK_SERVE_SUPERVISOR_H

#include <sys/types.h>

#include "serve/server.h"

struct supervisor {
  const struct disk_location *loc;
  const struct server_options *opts;
  pid_t watched;                 /* stop the server when it exits; 0: none */
  int watched_fd;                /* its pidfd (see above), or -1 */
  const char *watched_name;      /* "the container's process" */
  struct server_record *record;  /* or NULL */
  /* In the supervisor, before the server starts: the descriptor its stdio
   * goes to once it reported (a log), -1 for /dev/null, or -2 with
   * error () set.  NULL: /dev/null.
   */
  int (*prepare) (struct supervisor *s);
  /* Once reported, with the watched pidfd as fd 3 and the server's stderr
   * as fd 4 (both without close-on-exec) and no other descriptor but
   * stdio: replace the process image by one that goes on in
   * supervisor_watch, to watch without the libraries that starting
   * loaded.  Returns if it could not (then this one watches).  Or NULL.
   */
  void (*reexec) (struct supervisor *s, const struct server *srv);
  void *arg;
};

/* Start S's server under a new supervisor.  Returns once the server is
 * ready: 0 with SRV's uri, pid, supervisor, kind, socket, port and export
 * name filled (do not server_stop it: signal SRV->supervisor or
 * SRV->pid), or -1 with error () set and nothing left behind.
 */
int supervisor_start (struct supervisor *s, struct server *srv);

/* The supervisor's watch, in a supervisor (or the image it re-executed):
 * see above.  Says why it stopped on stderr ("stopping: WHY", or how the
 * server exited).  Never returns.
 */
void supervisor_watch (struct server *srv, pid_t watched, int watched_fd,
                       const char *watched_name)
  __attribute__ ((noreturn));

/* A pidfile as a server record: PATH (made absolute here) gets the
 * server's pid, written whole and never through a symlink (a temporary
 * file in its directory, renamed), and is removed when the server is
 * forgotten if it is still that file.  -1 with error () set.
 */
struct pidfile_record {
  struct server_record rec;
  char *path;
  dev_t dev;
  ino_t ino;
};
int pidfile_record_init (struct pidfile_record *p, const char *path);
void pidfile_record_clear (struct pidfile_record *p);

/* serve in the background: the server of LOC under a supervisor,
 * recorded in the registry of exports (registry/registry.h: STATE_DIR, or
 * the default one) as IMAGE's, kind serve, under a new id (SRV's
 * record_id), and in PIDFILE if not NULL, which the entry names.  Dead
 * serves' entries (and their pid files) are removed first.
 */
int server_start_detached (const struct disk_location *loc,
                           const struct server_options *opts, const char *image,
                           const char *state_dir, const char *pidfile,
                           struct server *srv);

#endif
