/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: processes, see proc.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/proc.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* /proc/PID/stat into BUF from field 3 on ("STATE PPID ..."), or NULL.
 * "PID (COMM) STATE ...": COMM may hold anything, ')' and spaces
 * included, so the fields are counted from the last ')', which ends
 * field 2.
 */
static const char *
stat_fields (pid_t pid, char *buf, size_t len)
{
  char path[64];
  _cleanup_close_ int fd = -1;
  ssize_t n;

  if (pid <= 0)
    return NULL;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if ((fd = open (path, O_RDONLY | O_CLOEXEC)) == -1
      || (n = read (fd, buf, len - 1)) <= 0)
    return NULL;
  buf[n] = '\0';
  char *p = strrchr (buf, ')');
  return p && p[1] == ' ' ? p + 2 : NULL;
}

/* Field FIELD (1-based, >= 4) of /proc/PID/stat as a number, or 0. */
static uint64_t
stat_field (pid_t pid, int field)
{
  char buf[1024];
  const char *p = stat_fields (pid, buf, sizeof buf);

  for (int f = 3; f < field && p; f++)
    if ((p = strchr (p, ' ')) != NULL)
      p++;
  return p ? strtoull (p, NULL, 10) : 0;
}

/* A zombie has exited: only its pid is left, for its parent to reap. */
static bool
process_zombie (pid_t pid)
{
  char buf[1024];
  const char *p = stat_fields (pid, buf, sizeof buf);

  return p && *p == 'Z';
}

uint64_t
process_start_time (pid_t pid)
{
  return stat_field (pid, 22);
}

pid_t
process_parent (pid_t pid)
{
  return (pid_t) stat_field (pid, 4);
}

bool
process_alive (pid_t pid, uint64_t start, const char *word)
{
  char path[64];

  if (pid <= 0 || (kill (pid, 0) == -1 && errno == ESRCH))
    return false;
  if (start && process_start_time (pid) != start)
    return false;           /* the pid was reused */
  if (process_zombie (pid))
    return false;
  if (!word)
    return true;
  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC);
  char buf[8192];
  ssize_t n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (n <= 0)
    return false;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
  return strstr (buf, word) != NULL;
}

/* The last component of the program PID runs ("self" for us), in BUF. */
static const char *
exe_name (const char *pid, char *buf, size_t len)
{
  char path[64];
  ssize_t n;
  const char *deleted = " (deleted)";     /* replaced since it started */

  snprintf (path, sizeof path, "/proc/%s/exe", pid);
  if ((n = readlink (path, buf, len - 1)) <= 0)
    return NULL;
  buf[n] = '\0';
  if ((size_t) n > strlen (deleted) && strcmp (buf + n - strlen (deleted), deleted) == 0)
    buf[n - strlen (deleted)] = '\0';
  const char *slash = strrchr (buf, '/');
  return slash ? slash + 1 : buf;
}

const char *
process_own_exe_name (void)
{
  static char buf[4096];
  return exe_name ("self", buf, sizeof buf);
}

bool
process_runs (pid_t pid, uint64_t start, const char *want)
{
  char id[32], buf[4096];
  const char *name;

  if (pid <= 0 || start == 0 || !want || process_start_time (pid) != start)
    return false;
  snprintf (id, sizeof id, "%d", (int) pid);
  name = exe_name (id, buf, sizeof buf);
  /* Read after the program: the pid must still be that process. */
  return name && strcmp (name, want) == 0 && process_start_time (pid) == start;
}

int
process_pidfd (pid_t pid)
{
  return syscall (SYS_pidfd_open, pid, 0);
}

pid_t
process_fork (void)
{
  struct sigaction sa;

  if (sigaction (SIGCHLD, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
    signal (SIGCHLD, SIG_DFL);
  fflush (stdout);
  fflush (stderr);
  return fork ();
}

pid_t
process_fork_pipe (int *fd)
{
  int p[2];
  pid_t pid;

  if (pipe2 (p, O_CLOEXEC) == -1)
    return error_errno (errno, "pipe");
  pid = process_fork ();
  if (pid == -1) {
    error_errno (errno, "fork");
    close (p[0]);
    close (p[1]);
    return -1;
  }
  close (p[pid == 0 ? 0 : 1]);
  *fd = p[pid == 0 ? 1 : 0];
  return pid;
}

int
process_wait (pid_t pid, int *status, const volatile sig_atomic_t *stop)
{
  for (;;) {
    if (waitpid (pid, status, 0) == pid)
      return 0;
    if (errno != EINTR)
      return error_errno (errno, "cannot wait for process %d", (int) pid);
    if (stop && *stop)
      kill (pid, SIGTERM);
  }
}

bool
process_reap_within (pid_t pid, int ms, int *status)
{
  int64_t deadline = now_ms () + ms;

  *status = 0;
  for (;;) {
    pid_t r = waitpid (pid, status, WNOHANG);
    if (r == pid || (r == -1 && errno != EINTR))
      return true;
    if (now_ms () >= deadline)
      return false;
    nanosleep (&(struct timespec) { 0, 2 * 1000 * 1000 }, NULL);
  }
}

bool
process_wait_gone (pid_t pid, uint64_t start, int ms)
{
  _cleanup_close_ int fd = process_pidfd (pid);

  if (fd >= 0) {
    /* Taken after a check of START: still that process, or gone. */
    if (start && process_start_time (pid) != start)
      return true;
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int64_t deadline = now_ms () + ms;
    int r;
    do
      r = poll (&pfd, 1, deadline - now_ms () > 0 ? deadline - now_ms () : 0);
    while (r == -1 && errno == EINTR);
    return r == 1;
  }
  if (errno == ESRCH)
    return true;
  /* No pidfd (kernel < 5.3): look every 10 ms. */
  for (int waited = 0; waited < ms; waited += 10) {
    if (!process_alive (pid, start, NULL))
      return true;
    nanosleep (&(struct timespec) { 0, 10 * 1000 * 1000 }, NULL);
  }
  return !process_alive (pid, start, NULL);
}

void
process_describe_status (int status, char *buf, size_t len)
{
  if (WIFEXITED (status))
    snprintf (buf, len, "status %d", WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    snprintf (buf, len, "killed by %s", sigabbrev_np (WTERMSIG (status))
              ? sigabbrev_np (WTERMSIG (status)) : "a signal");
  else
    snprintf (buf, len, "wait status %d", status);
}

bool
process_in_user_namespace (void)
{
  char line[128];
  unsigned long inside, outside, count;
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/uid_map", "re");

  if (!f || !fgets (line, sizeof line, f)
      || sscanf (line, "%lu %lu %lu", &inside, &outside, &count) != 3)
    return false;
  return !(inside == 0 && outside == 0 && count == 4294967295UL);
}
