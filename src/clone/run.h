/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: running the programs a clone needs (qemu-img, podman),
 * argv vectors only, never a shell.
 */
#ifndef PODMAN_DISK_CLONE_RUN_H
#define PODMAN_DISK_CLONE_RUN_H

#include <sys/types.h>

#include "location.h"

/* Run ARGV (ARGV[0] looked up in $PATH) with /dev/null as stdin, FD3 as
 * its fd 3 (or none when -1), and every other fd of ours closed.  Its
 * stdout is returned in *OUT (NULL: discarded), its stderr as one line in
 * *ERR (NULL: discarded); free both.  Returns its exit status, or -1 with
 * error () set when it could not run or was killed by a signal.  A
 * SIGINT, SIGTERM or SIGHUP that run_catch_signals caught is passed on to
 * it as SIGTERM.
 */
int run_program (const char *const *argv, int fd3, char **out, char **err);

/* run_program in two steps, so that a command can do something else
 * while the program runs: run_start starts ARGV (0, or -1 with error ()
 * set) and fills C; run_finish waits for it and returns what run_program
 * returns.  Every started child must be finished.  (ARGV[0] must outlive
 * C: its name in messages.)
 */
struct run_child {
  pid_t pid;
  int outfd, errfd;             /* memfds of its stdout and stderr */
  const char *name;             /* ARGV[0] */
  const char *verb;             /* run_podman_start: ARGS[0] */
};
int run_start (const char *const *argv, int fd3, struct run_child *c);
int run_finish (struct run_child *c, char **out, char **err);
/* Closes C's memfds (run_finish does). */
void run_child_close (struct run_child *c);

/* "podman" with STORE's --root, --runroot and --storage-driver in front
 * of ARGS (NULL-terminated), as run_program runs it.  A failure (exit
 * status not 0) is -1 with error () set to "podman ARGS[0]: ITS MESSAGE".
 */
int run_podman (const struct store_options *store, const char *const *args,
                char **out);
/* run_podman in two steps, as run_start and run_finish.  ARGS[0] must
 * outlive C.
 */
int run_podman_start (const struct store_options *store, const char *const *args,
                      struct run_child *c);
int run_podman_finish (struct run_child *c, char **out);

/* Catch SIGINT, SIGTERM and SIGHUP (no SA_RESTART) so that a command
 * can remove its temporary files: run_interrupted () then says which.
 */
void run_catch_signals (void);
int run_interrupted (void);

#endif
