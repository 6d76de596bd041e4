/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: running the programs a clone needs (qemu-img, podman),
 * argv vectors only, never a shell.
 */
#ifndef PODMAN_DISK_CLONE_RUN_H
#define PODMAN_DISK_CLONE_RUN_H

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

/* "podman" with STORE's --root, --runroot and --storage-driver in front
 * of ARGS (NULL-terminated), as run_program runs it.  A failure (exit
 * status not 0) is -1 with error () set to "podman ARGS[0]: ITS MESSAGE".
 */
int run_podman (const struct store_options *store, const char *const *args,
                char **out);

/* Catch SIGINT, SIGTERM and SIGHUP (no SA_RESTART) so that a command
 * can remove its temporary files: run_interrupted () then says which.
 */
void run_catch_signals (void);
int run_interrupted (void);

#endif
