/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: one supervisor for every background export, and the one
 * loop that waits for a server: see serve/supervisor.h and serve/server.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "hook/export.h"
#include "registry/registry.h"
#include "serve/socket.h"
#include "serve/spawn.h"
#include "serve/supervisor.h"

/* ---- The loop -------------------------------------------------------------- */

static void
stop_signals (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGTERM);
  sigaddset (set, SIGHUP);
  sigaddset (set, SIGCHLD);
}

void
server_block_signals (void)
{
  sigset_t set;

  stop_signals (&set);
  sigprocmask (SIG_BLOCK, &set, NULL);
  /* Ignored, it would never be queued: children would reap themselves. */
  signal (SIGCHLD, SIG_DFL);
}

/* Whether WATCHED (with pidfd FD, or -1) exited: our child is reaped
 * (*VALUE its status), another's process is only seen gone (*VALUE 0).
 */
static bool
watched_exited (pid_t watched, int fd, int *value)
{
  int status;
  pid_t r = waitpid (watched, &status, WNOHANG);

  *value = 0;
  if (r == watched) {
    *value = status;
    return true;
  }
  if (r == -1 && errno == ECHILD) {
    if (fd >= 0) {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      return poll (&pfd, 1, 0) == 1;
    }
    return kill (watched, 0) == -1 && errno == ESRCH;
  }
  return false;
}

enum server_event
server_wait_fd (struct server *srv, pid_t watched, int watched_fd, int *value)
{
  sigset_t set;
  _cleanup_close_ int sfd = -1, own_fd = -1;
  int status;

  stop_signals (&set);
  sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (watched > 0 && watched_fd < 0)
    watched_fd = own_fd = process_pidfd (watched);
  for (;;) {
    if (srv->pid > 0 && waitpid (srv->pid, &status, WNOHANG) == srv->pid) {
      server_reaped (srv, status);
      return SERVER_EXITED;
    }
    if (watched > 0 && watched_exited (watched, watched_fd, value))
      return SERVER_WATCHED_EXITED;
    struct pollfd pfd[3] = {
      { .fd = sfd, .events = POLLIN },
      { .fd = srv->pid > 0 ? srv->pidfd : -1, .events = POLLIN },
      { .fd = watched > 0 ? watched_fd : -1, .events = POLLIN },
    };
    /* Without pidfds (kernels before 5.3) our children still raise
     * SIGCHLD; another's process is looked at each second.
     */
    int timeout = sfd < 0 || (watched > 0 && watched_fd < 0)
      || (srv->pid > 0 && srv->pidfd < 0 && sfd < 0) ? 1000 : -1;
    if (poll (pfd, 3, timeout) == -1 && errno != EINTR) {
      error_errno (errno, "poll");
      *value = SIGTERM;        /* nothing can be watched: stop */
      return SERVER_SIGNAL;
    }
    struct signalfd_siginfo si;
    while (sfd >= 0 && read (sfd, &si, sizeof si) == sizeof si)
      if (si.ssi_signo != SIGCHLD) {
        *value = si.ssi_signo;
        return SERVER_SIGNAL;
      }
  }
}

enum server_event
server_wait (struct server *srv, pid_t watched, int *value)
{
  return server_wait_fd (srv, watched, -1, value);
}

void
supervisor_watch (struct server *srv, pid_t watched, int watched_fd,
                  const char *watched_name)
{
  char why[256];
  int value;

  for (;;) {
    switch (server_wait_fd (srv, watched, watched_fd, &value)) {
    case SERVER_EXITED:
      /* Reaped, socket removed, record forgotten: say how it ended. */
      fprintf (stderr, "%s\n", error_message ());
      _exit (0);
    case SERVER_WATCHED_EXITED:
      snprintf (why, sizeof why, "%s exited", watched_name ? watched_name
                : "the watched process");
      break;
    case SERVER_SIGNAL:
      snprintf (why, sizeof why, "stop signal");
      break;
    }
    fprintf (stderr, "stopping: %s\n", why);
    server_stop_because (srv, why);
    _exit (0);
  }
}

/* ---- The supervisor -------------------------------------------------------- */

/* The report to the caller: NUL-separated fields.  -1 if the caller is
 * gone.
 */
static int
report (int fd, const char *const *fields, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    const char *s = fields[i] ? fields[i] : "";
    size_t len = strlen (s) + 1;
    while (len > 0) {
      ssize_t w = write (fd, s, len);
      if (w == -1 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      s += w;
      len -= w;
    }
  }
  return 0;
}

static void __attribute__ ((noreturn))
report_failure (int reportfd, struct supervisor *s, struct server *srv)
{
  const char *fields[] = { "ERR", error_message () };

  report (reportfd, fields, 2);
  /* Whatever was made before the failure: the record forgets it. */
  if (!srv->record)
    srv->record = s->record;
  server_stop_because (srv, error_message ());
  _exit (1);
}

/* Stdio on LOGFD, or /dev/null: the caller's pipes must close. */
static int
redirect_stdio (int logfd)
{
  _cleanup_close_ int nul = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int out = logfd >= 0 ? logfd : nul;

  fflush (stdout);
  fflush (stderr);
  if (nul == -1 || dup2 (nul, 0) == -1 || dup2 (out, 1) == -1 || dup2 (out, 2) == -1)
    return error_errno (errno, "cannot redirect the supervisor's output");
  return 0;
}

/* Only the descriptors watching needs: at 3 the watched pidfd and at 4
 * the server's stderr, without close-on-exec, the server's pidfd at 5;
 * nothing else but stdio.
 */
static void
keep_only (struct server *srv, int *watched_fd)
{
  int w = *watched_fd >= 0 ? fcntl (*watched_fd, F_DUPFD, 10) : -1;
  int e = srv->errfd >= 0 ? fcntl (srv->errfd, F_DUPFD, 10) : -1;
  int p = srv->pidfd >= 0 ? fcntl (srv->pidfd, F_DUPFD, 10) : -1;

  *watched_fd = w >= 0 && dup2 (w, 3) == 3 ? 3 : -1;
  srv->errfd = e >= 0 && dup2 (e, 4) == 4 ? 4 : -1;
  srv->pidfd = p >= 0 && dup2 (p, 5) == 5 ? 5 : -1;
  if (srv->pidfd >= 0)
    fcntl (srv->pidfd, F_SETFD, FD_CLOEXEC);
  close_range (6, ~0U, 0);
  if (*watched_fd < 0)
    close (3);
  if (srv->errfd < 0)
    close (4);
  if (srv->pidfd < 0)
    close (5);
}

/* In the supervisor: start the server, record it, tell the caller, watch. */
static void __attribute__ ((noreturn))
supervise (struct supervisor *s, int reportfd)
{
  struct server srv;
  char pid[32], sup[32];
  int logfd = -1, watched_fd = s->watched_fd;

  server_init (&srv);
  setsid ();
  signal (SIGPIPE, SIG_IGN);
  server_block_signals ();
  if ((s->prepare && (logfd = s->prepare (s)) == -2)
      || server_start (s->loc, s->opts, &srv) == -1
      /* (its paths were made absolute) */
      || (chdir ("/") == -1 && error_errno (errno, "chdir /"))
      || (s->record && server_record (&srv, s->record) == -1))
    report_failure (reportfd, s, &srv);
  if (redirect_stdio (logfd) == -1)
    report_failure (reportfd, s, &srv);
  snprintf (pid, sizeof pid, "%d", (int) srv.pid);
  snprintf (sup, sizeof sup, "%d", (int) getpid ());
  const char *fields[] = {
    "OK", pid, sup, server_name (srv.kind), srv.uri, srv.socket, srv.port,
    srv.export_name,
  };
  /* A caller killed meanwhile learns nothing: no export nobody knows of.
   * Closing the report pipe tells the caller we are done.
   */
  if (report (reportfd, fields, sizeof fields / sizeof fields[0]) == -1) {
    error ("the caller went away before the export was ready");
    report_failure (reportfd, s, &srv);
  }
  close (reportfd);
  keep_only (&srv, &watched_fd);
  if (s->reexec)
    s->reexec (s, &srv);
  supervisor_watch (&srv, s->watched, watched_fd, s->watched_name);
}

/* Read the whole report from FD (up to LEN - 1 bytes): its length. */
static size_t
read_report (int fd, char *buf, size_t len)
{
  size_t got = 0;
  ssize_t n;

  while (got < len - 1
         && ((n = read (fd, buf + got, len - 1 - got)) > 0
             || (n == -1 && errno == EINTR)))
    if (n > 0)
      got += n;
  buf[got] = '\0';
  return got;
}

int
supervisor_start (struct supervisor *s, struct server *srv)
{
  int fd, status;
  pid_t pid;
  char buf[8192];

  server_init (srv);
  if ((pid = process_fork_pipe (&fd)) == -1)
    return -1;
  if (pid == 0) {
    /* Fork again so that the supervisor is nobody's child but init's. */
    pid = fork ();
    if (pid == -1) {
      const char *fields[] = { "ERR", "fork failed" };
      report (fd, fields, 2);
      _exit (1);
    }
    if (pid > 0)
      _exit (0);
    supervise (s, fd);
  }
  process_wait (pid, &status, NULL);
  size_t len = read_report (fd, buf, sizeof buf);
  close (fd);

  /* Split the NUL-separated fields. */
  const char *f[8] = { NULL };
  size_t nf = 0;
  for (size_t i = 0; i < len && nf < 8; i += strlen (buf + i) + 1)
    f[nf++] = buf + i;
  if (nf >= 2 && strcmp (f[0], "ERR") == 0)
    return error ("%s", f[1]);
  if (nf < 8 || strcmp (f[0], "OK") != 0)
    return error ("the supervisor of the NBD server failed before it was ready");
  srv->pid = atoi (f[1]);
  srv->supervisor = atoi (f[2]);
  server_parse_kind (f[3], &srv->kind);
  if ((srv->uri = strdup (f[4])) == NULL
      || (*f[5] && (srv->socket = strdup (f[5])) == NULL)
      || (*f[6] && (srv->port = strdup (f[6])) == NULL)
      || (srv->export_name = strdup (f[7])) == NULL) {
    server_clear (srv);
    return error_errno (ENOMEM, "the supervisor's report");
  }
  return 0;
}

/* ---- A pidfile as a record ------------------------------------------------- */

static int
pidfile_write (struct server_record *rec, const struct server *srv)
{
  struct pidfile_record *p = (struct pidfile_record *) rec;
  _cleanup_free_ char *copy = strdup (p->path);
  _cleanup_free_ char *tmp = NULL;
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d\n", (int) srv->pid);
  struct stat st;

  if (!copy || asprintf (&tmp, "%s/.%s.XXXXXX", dirname (copy),
                         basename (p->path)) == -1)
    return error_errno (ENOMEM, "pid file");
  /* A new file of ours (mkostemp: O_EXCL, so never through a symlink),
   * then renamed over PATH: whatever was there, a symlink included, is
   * replaced, never followed or written into.
   */
  _cleanup_close_ int fd = mkostemp (tmp, O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "cannot write the pid file %s", p->path);
  if (fchmod (fd, 0644) == -1 || write (fd, buf, n) != n || fstat (fd, &st) == -1
      || rename (tmp, p->path) == -1) {
    int e = errno;
    unlink (tmp);
    return error_errno (e, "cannot write the pid file %s", p->path);
  }
  p->dev = st.st_dev;
  p->ino = st.st_ino;
  return 0;
}

static void
pidfile_forget (struct server_record *rec, const struct server *srv _unused_,
                const char *why _unused_)
{
  struct pidfile_record *p = (struct pidfile_record *) rec;
  struct stat st;

  /* Only the file we wrote, not what someone put there since. */
  if (p->ino && lstat (p->path, &st) == 0 && S_ISREG (st.st_mode)
      && st.st_dev == p->dev && st.st_ino == p->ino)
    unlink (p->path);
  p->ino = 0;
}

int
pidfile_record_init (struct pidfile_record *p, const char *path)
{
  memset (p, 0, sizeof *p);
  p->rec.write = pidfile_write;
  p->rec.forget = pidfile_forget;
  /* Absolute: the supervisor works from /. */
  if ((p->path = absolute_path (path)) == NULL)
    return -1;
  return 0;
}

void
pidfile_record_clear (struct pidfile_record *p)
{
  free (p->path);
  p->path = NULL;
}

/* ---- serve's entry in the registry of exports ---------------------------- */

/* The record of a background serve: its entry in the registry that the
 * hook's exports are in too (registry/registry.h), so that exports lists it
 * and stop finds it; and its --pidfile, which the entry names so that a
 * pid file left by a killed supervisor is removed with the entry.
 */
struct serve_entry {
  struct server_record rec;
  const char *dir;
  const char *id;
  const char *image;
  const struct disk_location *loc;
  const struct server_options *opts;
  struct pidfile_record *pidfile;      /* or NULL */
  bool written;
};

static int
serve_entry_fill (const struct serve_entry *e, const struct server *srv,
                  struct export_record *r)
{
  const struct disk_location *loc = e->loc;
  bool decoded = loc->fmt.format == DISK_QCOW2 && e->opts->decode;

  memset (r, 0, sizeof *r);
  r->id = strdup (e->id);
  r->kind = strdup (EXPORT_KIND_SERVE);
  r->name = srv->export_name && *srv->export_name ? strdup (srv->export_name) : NULL;
  r->image = strdup_or_null (e->image);
  r->image_id = strdup_or_null (loc->image_id);
  r->disk = strdup_or_null (loc->member);
  r->file = strdup_or_null (loc->file);
  r->layer = strdup_or_null (loc->layer);
  r->format = strdup (diskfmt_name (loc->fmt.format));
  r->size = decoded ? loc->fmt.virtual_size : loc->size;
  r->cow = e->opts->writable || e->opts->persistent;
  r->server = strdup (server_name (srv->kind));
  r->uri = strdup_or_null (srv->uri);
  r->socket = strdup_or_null (srv->socket);
  r->server_pid = srv->pid;
  r->server_start = process_start_time (srv->pid);
  r->watcher_pid = getpid ();
  r->watcher_start = process_start_time (getpid ());
  r->started = registry_timestamp ();
  if (e->pidfile) {
    r->pidfile = strdup (e->pidfile->path);
    r->pidfile_dev = e->pidfile->dev;
    r->pidfile_ino = e->pidfile->ino;
  }
  if (!r->id || !r->kind || !r->format || !r->server || !r->started
      || (e->pidfile && !r->pidfile))
    return error_errno (ENOMEM, "export record");
  return 0;
}

static int
serve_entry_write (struct server_record *rec, const struct server *srv)
{
  struct serve_entry *e = (struct serve_entry *) rec;
  struct export_record r;
  int ret;

  if (e->pidfile && pidfile_write (&e->pidfile->rec, srv) == -1)
    return -1;
  ret = serve_entry_fill (e, srv, &r);
  if (ret == 0)
    ret = registry_write (e->dir, &r);
  export_record_clear (&r);
  if (ret == -1) {
    if (e->pidfile)
      pidfile_forget (&e->pidfile->rec, srv, NULL);
    return -1;
  }
  e->written = true;
  return 0;
}

static void
serve_entry_forget (struct server_record *rec, const struct server *srv,
                    const char *why)
{
  struct serve_entry *e = (struct serve_entry *) rec;
  struct export_record r;

  if (e->pidfile)
    pidfile_forget (&e->pidfile->rec, srv, why);
  /* Only our own entry (its files: the socket was removed already). */
  if (e->written && registry_read (e->dir, e->id, &r) == 0) {
    if (r.watcher_pid == getpid ())
      registry_remove (e->dir, e->id, NULL);
    export_record_clear (&r);
  }
  e->written = false;
}

/* Entries of background serves that are gone (a supervisor killed by
 * SIGKILL takes its server with it: PDEATHSIG), with their pid files:
 * removed before another serve starts.  The hook's are the hook's.
 */
static int
prune_dead_serve (const struct export_record *rec, void *arg)
{
  const char *dir = arg;

  /* Dead as exports --prune sees it: the server is gone. */
  if (export_record_is_serve (rec) && !export_record_alive (rec)
      && export_stop (dir, rec->id) == -1)
    error_print ();
  return 0;
}

int
server_start_detached (const struct disk_location *loc,
                       const struct server_options *opts, const char *image,
                       const char *state_dir, const char *pidfile,
                       struct server *srv)
{
  struct pidfile_record pf = { .path = NULL };
  _cleanup_free_ char *dir = NULL, *id = NULL;
  struct serve_entry e = {
    .rec = { .write = serve_entry_write, .forget = serve_entry_forget },
    .image = image, .loc = loc, .opts = opts,
    .pidfile = pidfile ? &pf : NULL,
  };
  struct supervisor s = {
    .loc = loc, .opts = opts, .watched_fd = -1, .record = &e.rec,
  };
  int r;

  if (registry_dir (state_dir, &dir) == -1 || registry_create (dir) == -1
      || registry_list (dir, prune_dead_serve, dir) == -1
      || (id = registry_new_serve_id (dir)) == NULL)
    return -1;
  e.dir = dir;
  e.id = id;
  if (pidfile && pidfile_record_init (&pf, pidfile) == -1)
    return -1;
  r = supervisor_start (&s, srv);
  pidfile_record_clear (&pf);
  if (r == 0 && (srv->record_id = strdup (id)) == NULL) {
    kill (srv->supervisor, SIGTERM);
    r = error_errno (ENOMEM, "export id");
  }
  return r;
}
