/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: processes.
 *
 * What /proc says of a process (its start time, parent and program), and
 * the one way podman-disk starts and waits for its children:
 *
 *   process_fork     makes sure the child can be waited for: an ignored
 *                    SIGCHLD, inherited from whoever started us, would
 *                    make the kernel reap children by itself, and every
 *                    waitpid fail with ECHILD (a wait loop would then spin
 *                    for ever);
 *   process_wait     waits for it, through EINTR, and fails (does not
 *                    loop) when the child cannot be waited for.
 *
 * A process that is not our child is named by pid and start time (the
 * pair does not repeat), and proven by its program too before anything is
 * done to it on the word of a record (process_runs); a pidfd taken while
 * the process could not be another one is better still (process_pidfd).
 */
#ifndef PODMAN_DISK_PROC_H
#define PODMAN_DISK_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The start time of PID from /proc/PID/stat (clock ticks since boot), 0
 * if the process does not exist.
 */
uint64_t process_start_time (pid_t pid);

/* The parent of PID from /proc/PID/stat, 0 if it does not exist. */
pid_t process_parent (pid_t pid);

/* PID still runs (a zombie does not: it has exited, its parent has not
 * reaped it yet) and is the same process (START, when not 0) and its
 * command line contains WORD (when not NULL).
 */
bool process_alive (pid_t pid, uint64_t start, const char *word);

/* PID runs, is the process started at START (not 0) and runs the program
 * named EXE_NAME (the last component of /proc/PID/exe): proof enough to
 * signal it on the word of a record.  False when that cannot be read.
 */
bool process_runs (pid_t pid, uint64_t start, const char *exe_name);

/* The last component of our own program (/proc/self/exe), or NULL. */
const char *process_own_exe_name (void);

/* A pidfd of PID (pidfd_open), or -1 with errno (ENOSYS before 5.3). */
int process_pidfd (pid_t pid);

/* fork () after flushing stdio, with SIGCHLD's action made the default if
 * it was ignored (see above).  In the child, SIGCHLD is the default too.
 */
pid_t process_fork (void);

/* process_fork with a pipe from the child to us, both ends close-on-exec:
 * in the parent (the child's pid) *FD is the read end, in the child (0)
 * the write end.  -1 with error () set and nothing open.
 */
pid_t process_fork_pipe (int *fd);

/* Wait for our child PID: 0 with its wait STATUS, or -1 with error () set
 * (it cannot be waited for).  Each time a signal interrupts the wait and
 * *STOP (if STOP) is set, the child gets SIGTERM.
 */
int process_wait (pid_t pid, int *status, const volatile sig_atomic_t *stop);

/* Reap our child PID if it exits within MS milliseconds: true with its
 * STATUS if it did (or cannot be waited for: status 0).
 */
bool process_reap_within (pid_t pid, int ms, int *status);

/* Wait up to MS milliseconds for PID (not our child, started at START) to
 * exit: true if it did.
 */
bool process_wait_gone (pid_t pid, uint64_t start, int ms);

/* "status N", "killed by TERM" from a wait status. */
void process_describe_status (int status, char *buf, size_t len);

/* Whether this process is in a user namespace other than the initial one
 * (rootless podman's, where uid 0 is a user's): false if it cannot tell.
 */
bool process_in_user_namespace (void);

#endif
