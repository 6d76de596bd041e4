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
run_start (const char *const *argv, int fd3, struct run_child *c)
{
  *c = (struct run_child) { .pid = -1, .outfd = -1, .errfd = -1, .name = argv[0] };
  c->outfd = memfd_create ("podman-disk-stdout", MFD_CLOEXEC);
  c->errfd = memfd_create ("podman-disk-stderr", MFD_CLOEXEC);
  if (c->outfd == -1 || c->errfd == -1) {
    int e = errno;
    run_child_close (c);
    return error_errno (e, "memfd_create");
  }
  debug ("running %s %s ...", argv[0], argv[1] ? argv[1] : "");
  pid_t pid = process_fork ();
  if (pid == -1) {
    int e = errno;
    run_child_close (c);
    return error_errno (e, "fork");
  }
  if (pid == 0) {
    int nul = open ("/dev/null", O_RDWR);
    int three = fd3 >= 0 ? fcntl (fd3, F_DUPFD, 10) : -1;
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    if (nul == -1 || dup2 (nul, 0) == -1 || dup2 (c->outfd, 1) == -1
        || dup2 (c->errfd, 2) == -1 || (fd3 >= 0 && (three == -1 || dup2 (three, 3) == -1)))
      _exit (126);
    close_range (fd3 >= 0 ? 4 : 3, ~0U, 0);
    execvp (argv[0], (char **) argv);
    dprintf (2, "cannot run %s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  c->pid = pid;
  return 0;
}

void
run_child_close (struct run_child *c)
{
  if (c->outfd >= 0)
    close (c->outfd);
  if (c->errfd >= 0)
    close (c->errfd);
  c->outfd = c->errfd = -1;
}

int
run_finish (struct run_child *c, char **out, char **err)
{
  int status;
  int r = process_wait (c->pid, &status, &interrupted);

  c->pid = -1;
  if (r == -1) {
    run_child_close (c);
    return -1;
  }
  if (err) {
    _cleanup_free_ char *all = slurp (c->errfd);
    *err = all ? one_line (all) : NULL;
  }
  if (out)
    *out = slurp (c->outfd);
  run_child_close (c);
  if (WIFSIGNALED (status)) {
    if (out) {
      free (*out);
      *out = NULL;
    }
    return error ("%s was killed by SIG%s", c->name, sigabbrev_np (WTERMSIG (status)));
  }
  if (WEXITSTATUS (status) == 127 && err && *err && strstr (*err, "cannot run "))
    return error ("%s", *err);
  return WEXITSTATUS (status);
}

int
run_program (const char *const *argv, int fd3, char **out, char **err)
{
  struct run_child c;

  if (run_start (argv, fd3, &c) == -1)
    return -1;
  return run_finish (&c, out, err);
}

/* ARGV: "podman", STORE's options, ARGS; room for 64 words. */
static void
podman_argv (const struct store_options *store, const char *const *args,
             const char **argv)
{
  size_t n = 0;

  argv[n++] = "podman";
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
  for (; *args && n < 63; args++)
    argv[n++] = *args;
  argv[n] = NULL;
}

int
run_podman_start (const struct store_options *store, const char *const *args,
                  struct run_child *c)
{
  const char *argv[64];

  podman_argv (store, args, argv);
  if (run_start (argv, -1, c) == -1)
    return -1;
  c->verb = args[0];
  return 0;
}

int
run_podman_finish (struct run_child *c, char **out)
{
  _cleanup_free_ char *err = NULL;
  const char *verb = c->verb;

  int r = run_finish (c, out, &err);
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

int
run_podman (const struct store_options *store, const char *const *args,
            char **out)
{
  struct run_child c;

  if (run_podman_start (store, args, &c) == -1)
    return -1;
  return run_podman_finish (&c, out);
}
