/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: rootless stores and podman's user namespace, see disk.h.
 *
 * In a rootless store, files belong to the users of the rootless user
 * namespace (uid 107 in the image is a subordinate uid on the host).  A
 * disk shipped 0440 is then unreadable to the user outside that namespace,
 * as it is to podman itself, which works inside it.  podman-disk enters it
 * the way the user would, by running itself again under "podman unshare".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "storage/disk.h"

bool storage_needs_userns;

/* The arguments this process was started with (argv[0] included), from
 * /proc/self/cmdline: getopt and main only permute or replace pointers,
 * never the strings.
 */
static char **
own_arguments (void)
{
  static char buf[65536];
  _cleanup_close_ int fd = open ("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  size_t len = 0, n = 0;
  ssize_t r;

  if (fd == -1)
    return NULL;
  while (len < sizeof buf - 1
         && (r = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += r;
  if (len == 0 || len >= sizeof buf - 1)
    return NULL;
  buf[len] = '\0';
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\0';
  char **v = calloc (n + 1, sizeof *v);
  if (!v)
    return NULL;
  n = 0;
  for (char *a = buf; a < buf + len; a += strlen (a) + 1)
    v[n++] = a;
  return v;
}

static bool
is_plain_word (const char *a)
{
  return *a && strspn (a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789-_./:=@+,%[]") == strlen (a);
}

/* ARGS as one shell command line, quoted where needed. */
static char *
shell_quote (char **args)
{
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream (&out, &outlen);
  if (!f)
    return NULL;
  for (char **a = args; *a; a++) {
    if (a != args)
      fputc (' ', f);
    if (is_plain_word (*a)) {
      fputs (*a, f);
      continue;
    }
    fputc ('\'', f);
    for (const char *p = *a; *p; p++)
      if (*p == '\'')
        fputs ("'\\''", f);
      else
        fputc (*p, f);
    fputc ('\'', f);
  }
  fclose (f);
  return out;
}

int
rootless_permission_error (const char *what)
{
  _cleanup_free_ char *old = strdup (what);
  _cleanup_free_ char **args = own_arguments ();
  _cleanup_free_ char *cmd = args ? shell_quote (args) : NULL;

  storage_needs_userns = true;
  return error ("%s: the file belongs to a user of your rootless podman's "
                "user namespace; run the command in it: podman unshare %s",
                old ? old : "permission denied",
                cmd ? cmd : "podman-disk ...");
}

bool
rootless_can_reexec (void)
{
  const char *env = getenv ("PODMAN_DISK_UNSHARE");
  return geteuid () != 0
    && getenv ("_CONTAINERS_USERNS_CONFIGURED") == NULL
    && !(env && strcmp (env, "no") == 0);
}

/* Whether process PID runs the program of EXE (same file). */
static bool
runs_exe (pid_t pid, const struct stat *exe)
{
  char path[64];
  struct stat st;

  snprintf (path, sizeof path, "/proc/%d/exe", (int) pid);
  return stat (path, &st) == 0
    && st.st_dev == exe->st_dev && st.st_ino == exe->st_ino;
}

/* Whether PID descends from ANCESTOR. */
static bool
descends_from (pid_t pid, pid_t ancestor)
{
  for (int depth = 0; pid > 1 && depth < 64; depth++)
    if ((pid = process_parent (pid)) == ancestor)
      return true;
  return false;
}

/* Hand SIG to the podman-disk that CHILD (podman unshare) runs: podman
 * passes no signal on.  Before it runs, to CHILD itself.
 */
static void
forward_signal (pid_t child, int sig, const struct stat *exe)
{
  _cleanup_closedir_ DIR *d = opendir ("/proc");
  struct dirent *de;
  bool sent = false;

  while (d && (de = readdir (d)) != NULL) {
    pid_t pid = atoi (de->d_name);
    if (pid > 0 && pid != child && runs_exe (pid, exe) && descends_from (pid, child)) {
      kill (pid, sig);
      sent = true;
    }
  }
  if (!sent)
    kill (child, sig);
}

/* Run V (podman unshare -- EXE_PATH ...) as our child: its wait status,
 * or -1 if podman could not be run.  We stay as its parent, rather than
 * exec it, to pass SIGINT, SIGTERM and SIGHUP on to the podman-disk
 * inside: a serve --foreground or --run stopped by kill must stop its
 * server.
 */
static int
run_unshare (char **v, const char *exe_path)
{
  sigset_t set, old;
  struct stat exe;
  int status, p[2], e = 0;
  pid_t pid;

  /* By its path: /proc/self/exe may be a tool running us (valgrind). */
  if (stat (exe_path, &exe) == -1 || pipe2 (p, O_CLOEXEC) == -1)
    return -1;
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGCHLD);
  sigprocmask (SIG_BLOCK, &set, &old);
  signal (SIGCHLD, SIG_DFL);
  if ((pid = fork ()) == 0) {
    /* (serve blocks these before it locates: not for podman.) */
    sigprocmask (SIG_UNBLOCK, &set, NULL);
    execvp ("podman", v);
    e = errno;
    if (write (p[1], &e, sizeof e) != sizeof e)
      _exit (126);
    _exit (127);
  }
  close (p[1]);
  /* The pipe closes at the exec: then podman runs.  Else errno comes. */
  if (pid == -1 || read (p[0], &e, sizeof e) == sizeof e) {
    close (p[0]);
    if (pid > 0)
      waitpid (pid, NULL, 0);
    sigprocmask (SIG_SETMASK, &old, NULL);
    debug ("podman unshare: %s", strerror (pid == -1 ? errno : e));
    return -1;
  }
  close (p[0]);
  for (;;) {
    int sig = sigwaitinfo (&set, NULL);
    if (sig == SIGCHLD && waitpid (pid, &status, WNOHANG) == pid)
      return status;
    if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)
      forward_signal (pid, sig, &exe);
  }
}

/* End as a child that ended with wait STATUS: its exit code, or killed by
 * the same signal.
 */
static void __attribute__ ((noreturn))
exit_like (int status)
{
  if (WIFEXITED (status))
    exit (WEXITSTATUS (status));
  sigset_t killed;
  sigemptyset (&killed);
  sigaddset (&killed, WTERMSIG (status));
  signal (WTERMSIG (status), SIG_DFL);
  sigprocmask (SIG_UNBLOCK, &killed, NULL);
  raise (WTERMSIG (status));
  exit (128 + WTERMSIG (status));
}

/* This very command under podman unshare: its wait status, or -1. */
static int
unshare_self (void)
{
  _cleanup_free_ char **args = own_arguments ();
  char exe[PATH_MAX];
  ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);

  if (!args || len <= 0)
    return -1;
  exe[len] = '\0';

  size_t n = 0;
  while (args[n])
    n++;
  _cleanup_free_ char **v = calloc (n + 4, sizeof *v);
  if (!v)
    return -1;
  v[0] = (char *) "podman";
  v[1] = (char *) "unshare";
  v[2] = (char *) "--";
  v[3] = exe;             /* this very binary, wherever argv[0] pointed */
  memcpy (v + 4, args + 1, (n - 1) * sizeof *v);

  debug ("entering podman's rootless user namespace: podman unshare %s", exe);
  fflush (stdout);
  fflush (stderr);
  return run_unshare (v, exe);
}

void
rootless_reexec (void)
{
  if (!rootless_can_reexec ())
    return;
  /* No loop: inside, podman sets _CONTAINERS_USERNS_CONFIGURED, and this
   * says not to try again whatever happens.
   */
  setenv ("PODMAN_DISK_UNSHARE", "no", 1);
  int status = unshare_self ();
  unsetenv ("PODMAN_DISK_UNSHARE");
  if (status != -1)
    exit_like (status);
}
