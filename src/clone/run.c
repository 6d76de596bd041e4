/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: running programs for clone and commit, see run.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "clone/run.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"

static volatile sig_atomic_t interrupted;

static void
on_signal (int sig)
{
  interrupted = sig;
}

void
run_catch_signals (void)
{
  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
}

int
run_interrupted (void)
{
  return interrupted;
}

/* All that FD (a memfd the child wrote) holds, NUL-terminated. */
static char *
slurp (int fd)
{
  struct stat st;
  if (fstat (fd, &st) == -1)
    return strdup ("");
  char *buf = malloc (st.st_size + 1);
  if (!buf)
    return NULL;
  ssize_t n = pread (fd, buf, st.st_size, 0);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* A program's stderr as one line: its lines joined by "; ", the last
 * newline dropped (error () shows other control bytes as '?').
 */
static char *
one_line (char *s)
{
  size_t len = strlen (s);
  while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
    s[--len] = '\0';
  _cleanup_free_ char *copy = strdup (s);
  char *out = malloc (len * 2 + 1), *o = out;
  if (!copy || !out)
    return out;
  *o = '\0';
  for (char *line = strtok (copy, "\n"); line; line = strtok (NULL, "\n"))
    o += sprintf (o, "%s%s", o == out ? "" : "; ", line);
  return out;
}

int
run_program (const char *const *argv, int fd3, char **out, char **err)
{
  _cleanup_close_ int outfd = -1, errfd = -1;
  int status;

  outfd = memfd_create ("podman-disk-stdout", MFD_CLOEXEC);
  errfd = memfd_create ("podman-disk-stderr", MFD_CLOEXEC);
  if (outfd == -1 || errfd == -1)
    return error_errno (errno, "memfd_create");
  debug ("running %s %s ...", argv[0], argv[1] ? argv[1] : "");
  pid_t pid = process_fork ();
  if (pid == -1)
    return error_errno (errno, "fork");
  if (pid == 0) {
    int nul = open ("/dev/null", O_RDWR);
    int three = fd3 >= 0 ? fcntl (fd3, F_DUPFD, 10) : -1;
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    if (nul == -1 || dup2 (nul, 0) == -1 || dup2 (outfd, 1) == -1
        || dup2 (errfd, 2) == -1 || (fd3 >= 0 && (three == -1 || dup2 (three, 3) == -1)))
      _exit (126);
    close_range (fd3 >= 0 ? 4 : 3, ~0U, 0);
    execvp (argv[0], (char **) argv);
    dprintf (2, "cannot run %s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  if (process_wait (pid, &status, &interrupted) == -1)
    return -1;
  if (err) {
    _cleanup_free_ char *all = slurp (errfd);
    *err = all ? one_line (all) : NULL;
  }
  if (out)
    *out = slurp (outfd);
  if (WIFSIGNALED (status)) {
    if (out) {
      free (*out);
      *out = NULL;
    }
    return error ("%s was killed by SIG%s", argv[0], sigabbrev_np (WTERMSIG (status)));
  }
  if (WEXITSTATUS (status) == 127 && err && *err && strstr (*err, "cannot run "))
    return error ("%s", *err);
  return WEXITSTATUS (status);
}

int
run_podman (const struct store_options *store, const char *const *args,
            char **out)
{
  const char *argv[64] = { "podman" };
  size_t n = 1;
  _cleanup_free_ char *err = NULL;

  if (store->root) {
    argv[n++] = "--root";
    argv[n++] = store->root;
  }
  if (store->runroot) {
    argv[n++] = "--runroot";
    argv[n++] = store->runroot;
  }
  if (store->driver) {
    argv[n++] = "--storage-driver";
    argv[n++] = store->driver;
  }
  const char *verb = args[0];
  for (; *args && n < 63; args++)
    argv[n++] = *args;
  argv[n] = NULL;

  int r = run_program (argv, -1, out, &err);
  if (r == -1)
    return -1;
  if (r != 0) {
    if (out) {
      free (*out);
      *out = NULL;
    }
    /* podman says "Error: ..." already. */
    const char *msg = err && *err ? err : "no message";
    if (strncmp (msg, "Error: ", 7) == 0)
      msg += 7;
    return error ("podman %s failed: %s", verb, msg);
  }
  return 0;
}
