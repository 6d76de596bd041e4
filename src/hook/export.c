/* podman-disk: a container's export and its watcher, see export.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "serve/server.h"
#include "hook/export.h"
#include "hook/label.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* How long poststop waits for the watcher, which itself gives the server
 * 5 s to stop before killing it.
 */
#define STOP_WAIT_MS 8000

static int
pidfd_open_ (pid_t pid)
{
  return syscall (SYS_pidfd_open, pid, 0);
}

/* Wait up to MS for PID to exit (it is not our child): true if it did. */
static bool
wait_gone (pid_t pid, uint64_t start, int ms)
{
  int fd = pidfd_open_ (pid);

  if (fd >= 0) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r;
    while ((r = poll (&pfd, 1, ms)) == -1 && errno == EINTR)
      ;
    close (fd);
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

/* Remove a stale socket left at PATH by an export that is gone (a crash,
 * a reboot with a persistent volume): only a socket nobody listens on.
 */
static int
clear_stale_socket (const char *path, const char *what)
{
  struct stat sb;
  struct sockaddr_un sun = { .sun_family = AF_UNIX };

  if (lstat (path, &sb) == -1)
    return 0;
  if (!S_ISSOCK (sb.st_mode))
    return error ("%s exists and is not a socket: remove it or choose another "
                  "export name with io.podman-disk.export=NAME", path);
  if (strlen (path) >= sizeof sun.sun_path)
    return error ("%s: socket path too long", path);
  strcpy (sun.sun_path, path);
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return error_errno (errno, "socket");
  if (connect (fd, (struct sockaddr *) &sun, sizeof sun) == 0)
    return error ("%s is already served (%s): give this container another "
                  "export name with io.podman-disk.export=NAME", path, what);
  if (errno != ECONNREFUSED)
    return error_errno (errno, "%s exists and cannot be checked", path);
  if (unlink (path) == -1 && errno != ENOENT)
    return error_errno (errno, "cannot remove the stale socket %s", path);
  return 0;
}

static char *
now_rfc3339 (void)
{
  char buf[64];
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return strdup (buf);
}

static char *
unix_uri (const char *socket)
{
  char *uri;
  /* Our paths are plain: ids, export names and the volume's directory;
   * the few characters a URI query cannot hold are encoded.
   */
  size_t n = strlen (socket);
  char *enc = malloc (3 * n + 1), *o = enc;
  if (!enc)
    return NULL;
  for (const char *s = socket; *s; s++) {
    unsigned char c = *s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || strchr ("-._~/", c))
      *o++ = c;
    else
      o += sprintf (o, "%%%02X", c);
  }
  *o = '\0';
  if (asprintf (&uri, "nbd+unix:///?socket=%s", enc) == -1)
    uri = NULL;
  free (enc);
  return uri;
}

static char *
strdup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

/* What the record says, before the server runs. */
static int
fill_record (const struct export_params *p, const struct disk_location *loc,
             struct export_record *rec)
{
  memset (rec, 0, sizeof *rec);
  rec->id = strdup (p->id);
  rec->name = strdup (p->name);
  rec->image = strdup_or_null (p->image ? p->image : p->image_id);
  rec->image_id = strdup_or_null (p->image_id);
  rec->disk = strdup_or_null (loc->member);
  rec->file = strdup_or_null (loc->file);
  rec->layer = strdup_or_null (loc->layer);
  rec->format = strdup (diskfmt_name (loc->fmt.format));
  rec->cow = p->cow;
  /* What clients see: the guest view of a qcow2 (the server decodes it). */
  rec->size = loc->fmt.format == DISK_QCOW2 ? loc->fmt.virtual_size : loc->size;
  rec->container_pid = p->container_pid;
  rec->socket = registry_path (p->dir, p->id, "sock");
  rec->uri = rec->socket ? unix_uri (rec->socket) : NULL;
  if (p->volume_dir) {
    _cleanup_free_ char *inside = NULL;
    if (asprintf (&rec->volume_socket, "%s/%s.sock", p->volume_dir, p->name) == -1)
      rec->volume_socket = NULL;
    if (asprintf (&inside, "%s/%s.sock", CONTAINER_SOCKET_DIR, p->name) != -1)
      rec->container_uri = unix_uri (inside);
  }
  rec->started = now_rfc3339 ();
  if (!rec->id || !rec->name || !rec->format || !rec->socket || !rec->uri
      || !rec->started || (p->volume_dir && (!rec->volume_socket || !rec->container_uri)))
    return error_errno (ENOMEM, "export record");
  return 0;
}

/* The watcher's report to the hook: "OK" or "ERR\0message". */
static int
report (int fd, const char *status, const char *message)
{
  size_t a = strlen (status) + 1, b = message ? strlen (message) + 1 : 0;
  char buf[a + b];
  memcpy (buf, status, a);
  if (message)
    memcpy (buf + a, message, b);
  return write (fd, buf, a + b) == (ssize_t) (a + b) ? 0 : -1;
}

/* In the watcher: our files, if the record is still ours (a new export of
 * the same container after a restart must keep its own).
 */
static void
remove_own_files (const char *dir, const char *id)
{
  struct export_record rec;
  int r = registry_read (dir, id, &rec);

  if (r == 0 && rec.watcher_pid == getpid ())
    registry_remove (dir, id, &rec);
  else if (r == 1) {
    /* Not recorded (yet): what we made before the record. */
    _cleanup_free_ char *log = registry_path (dir, id, "log");
    if (log)
      unlink (log);
  }
  export_record_clear (&rec);
}

/* The server's output (its stderr is a memfd, see server.h) from byte
 * FROM on, on one line, at most the last 2 KiB.
 */
static char *
server_output (int errfd, off_t from)
{
  char buf[2048];
  ssize_t n = 0;
  off_t end = errfd >= 0 ? server_output_end (errfd) : -1;

  if (end > from) {
    if (end - from > (off_t) sizeof buf - 1)
      from = end - (off_t) sizeof buf + 1;
    n = pread (errfd, buf, sizeof buf - 1, from);
  }
  buf[n > 0 ? n : 0] = '\0';
  for (char *c = buf; *c; c++)
    if (*c == '\n' && c[1])
      *c = ';';
    else if (*c == '\n')
      *c = '\0';
  return strdup (buf);
}

/* Copy the server's output so far to our log (stderr). */
static off_t
log_server_output (int errfd)
{
  char buf[4096];
  off_t off = 0, end = errfd >= 0 ? server_output_end (errfd) : -1;
  ssize_t n;

  while (off < end
         && (n = pread (errfd, buf, MIN ((off_t) sizeof buf, end - off), off)) > 0) {
    if (write (2, buf, n) != n)
      break;
    off += n;
  }
  return off;
}

/* Our child PID exited (not reaped yet). */
static bool
server_exited (pid_t pid)
{
  siginfo_t info = { .si_pid = 0 };
  return waitid (P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0
    && info.si_pid == pid;
}

/* The watcher's life after the server is ready: wait for the container
 * process to exit, the server to exit or a stop signal, then stop the
 * server and clean up.  The server's output from byte ERR_FROM of its
 * memfd on is new since the start.
 */
static void __attribute__ ((noreturn))
watch (const char *dir, const char *id, pid_t container_pid,
       struct server *srv, int container_fd, off_t err_from)
{
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGHUP);
  int sfd = signalfd (-1, &set, SFD_CLOEXEC);
  int server_fd = pidfd_open_ (srv->pid);
  const char *why = NULL;
  struct pollfd pfd[3] = {
    { .fd = sfd, .events = POLLIN },
    { .fd = container_fd, .events = POLLIN },
    { .fd = server_fd, .events = POLLIN },
  };
  int status;

  while (!why) {
    /* Without pidfds (old kernels) look once a second. */
    int timeout = container_fd >= 0 && server_fd >= 0 ? -1 : 1000;
    int r = poll (pfd, 3, timeout);
    if (r == -1 && errno != EINTR) {
      why = "poll failed";
      break;
    }
    if (pfd[0].revents)
      why = "stop signal";
    else if (pfd[1].revents || (container_fd < 0 && kill (container_pid, 0) == -1
                                && errno == ESRCH))
      why = "the container's process exited";
    else if (pfd[2].revents || (server_fd < 0 && server_exited (srv->pid)))
      why = "the server exited";
  }
  if (strcmp (why, "the server exited") == 0
      && waitpid (srv->pid, &status, 0) == srv->pid) {
    /* Unexpected: say how, and what it said. */
    _cleanup_free_ char *out = server_output (srv->errfd, err_from);
    srv->pid = 0;
    fprintf (stderr, "the server exited (%s %d)%s%s\n",
             WIFSIGNALED (status) ? "signal" : "status",
             WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status),
             out && *out ? ": " : "", out ? out : "");
    syslog (LOG_WARNING, "%.12s: export stopped: the server exited (%s %d)%s%s", id,
            WIFSIGNALED (status) ? "signal" : "status",
            WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status),
            out && *out ? ": " : "", out ? out : "");
  }
  else {
    fprintf (stderr, "stopping: %s\n", why);
    syslog (LOG_INFO, "%.12s: export stopped: %s", id, why);
  }
  server_stop (srv);
  remove_own_files (dir, id);
  _exit (0);
}

/* FD is a descriptor of KIND ("anon_inode:[pidfd]", "/memfd:..."):
 * anything else (a watcher started by hand) is not used.
 */
static int
checked_fd (int fd, const char *kind)
{
  char path[64], target[256];

  if (fd < 0)
    return -1;
  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink (path, target, sizeof target - 1);
  if (n <= 0 || (target[n] = '\0', strncmp (target, kind, strlen (kind)) != 0))
    return -1;
  fcntl (fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

void
export_watch (const char *dir, const char *id, pid_t container_pid,
              int container_fd, int errfd, pid_t server_pid, const char *socket,
              dev_t socket_dev, ino_t socket_ino)
{
  struct server srv;

  server_block_signals ();
  server_init (&srv);
  /* Without a pidfd the container is watched by polling. */
  container_fd = checked_fd (container_fd, "anon_inode:[pidfd]");
  srv.errfd = checked_fd (errfd, "/memfd:");
  srv.pid = server_pid;
  srv.socket = strdup (socket);
  srv.socket_dev = socket_dev;
  srv.socket_ino = socket_ino;
  watch (dir, id, container_pid, &srv, container_fd,
         srv.errfd >= 0 ? server_output_end (srv.errfd) : 0);
}

/* Move the descriptors the watcher keeps to 3 (the container's pidfd) and
 * 4 (the server's stderr), without close-on-exec, and close all others.
 */
static void
keep_only (int *container_fd, int *errfd)
{
  int c = *container_fd >= 0 ? fcntl (*container_fd, F_DUPFD, 10) : -1;
  int e = *errfd >= 0 ? fcntl (*errfd, F_DUPFD, 10) : -1;

  *container_fd = c >= 0 && dup2 (c, 3) == 3 ? 3 : -1;
  *errfd = e >= 0 && dup2 (e, 4) == 4 ? 4 : -1;
  close_range (5, ~0U, 0);
  if (*container_fd < 0)
    close (3);
  if (*errfd < 0)
    close (4);
}

/* Watching needs none of the libraries that starting loaded (libnbd and
 * gnutls, libmount...): the watcher execs itself afresh, the same process
 * still, parent of the server.  Only returns if that fails.
 */
static void
reexec_watcher (const struct export_params *p, const struct server *srv,
                int container_fd)
{
  char cpid[32], spid[32], cfd[32], efd[32], dev[64];

  snprintf (cpid, sizeof cpid, "%d", (int) p->container_pid);
  snprintf (spid, sizeof spid, "%d", (int) srv->pid);
  snprintf (cfd, sizeof cfd, "%d", container_fd);
  snprintf (efd, sizeof efd, "%d", srv->errfd);
  snprintf (dev, sizeof dev, "%ju:%ju", (uintmax_t) srv->socket_dev,
            (uintmax_t) srv->socket_ino);
  char *argv[] = {
    /* "--": without pidfds the descriptors are -1, not options. */
    (char *) "podman-disk", (char *) "hook", (char *) "--state-dir", (char *) p->dir,
    (char *) "--", (char *) EXPORT_WATCH_STAGE, (char *) p->id, cpid, cfd, efd, spid, srv->socket, dev,
    NULL,
  };
  execv ("/proc/self/exe", argv);
}

/* The watcher: start the server, record it, tell the hook, watch. */
static void __attribute__ ((noreturn))
watcher (const struct export_params *p, const struct disk_location *loc,
         struct export_record *rec, int reportfd, int container_fd)
{
  struct server srv;
  struct server_options opts = {
    .kind = SERVER_AUTO,
    .decode = true,
    .writable = p->cow,
    .socket = p->volume_dir ? rec->volume_socket : rec->socket,
  };
  _cleanup_free_ char *logpath = registry_path (p->dir, p->id, "log");
  int logfd;

  server_init (&srv);
  setsid ();
  /* Not the bundle's directory: keep nothing of the container's busy. */
  if (chdir ("/") == -1) {
    error_errno (errno, "chdir /");
    goto fail;
  }
  signal (SIGPIPE, SIG_IGN);
  server_block_signals ();
  logfd = logpath ? open (logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND
                          | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
  if (logfd == -1) {
    error_errno (errno, "cannot create %s", logpath);
    goto fail;
  }
  /* In a shared volume the socket is for the pod's containers, whatever
   * their user (qemu runs as 107 in KubeVirt's): the volume's directory
   * says who may reach it.  Set by umask, as bind creates it: a chmod by
   * path could follow a symlink a container put there meanwhile.
   */
  if (p->volume_dir)
    umask (0111);
  if (server_start (loc, &opts, &srv) == -1)
    goto fail;
  /* Host clients use the registry's path: a symlink to the volume's. */
  if (p->volume_dir && symlink (rec->volume_socket, rec->socket) == -1) {
    error_errno (errno, "cannot create %s", rec->socket);
    goto fail;
  }
  if (label_path (opts.socket, p->volume_dir ? p->label : NULL) == -1)
    goto fail;
  rec->server = strdup (server_name (srv.kind));
  rec->server_pid = srv.pid;
  rec->server_start = process_start_time (srv.pid);
  rec->watcher_pid = getpid ();
  rec->watcher_start = process_start_time (getpid ());
  if (registry_write (p->dir, rec) == -1)
    goto fail;

  /* From now on our stdio is the log: the hook's pipes must close so that
   * the runtime sees the hook end.
   */
  int nul = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nul == -1 || dup2 (nul, 0) == -1 || dup2 (logfd, 1) == -1 || dup2 (logfd, 2) == -1) {
    error_errno (errno, "cannot redirect to %s", logpath);
    goto fail;
  }
  fprintf (stderr, "%s (pid %d) serving %s of %s at %s\n", rec->server,
           (int) srv.pid, rec->disk, rec->image ? rec->image : "?", rec->uri);
  /* If the hook is gone (killed at its timeout), the container will not
   * start: do not stay.
   */
  if (report (reportfd, "OK", NULL) == -1) {
    error ("the hook went away before the export was ready");
    goto fail;
  }
  syslog (LOG_INFO, "%.12s: exporting %s of %s with %s at %s%s%s", p->id,
          rec->disk, rec->image ? rec->image : "?", rec->server, rec->uri,
          rec->volume_socket ? " and " : "",
          rec->volume_socket ? rec->volume_socket : "");
  /* Keep only what watching needs: the container's pidfd, the server's
   * output.
   */
  off_t err_from = log_server_output (srv.errfd);
  keep_only (&container_fd, &srv.errfd);
  reexec_watcher (p, &srv, container_fd);
  watch (p->dir, p->id, p->container_pid, &srv, container_fd, err_from);

 fail:
  report (reportfd, "ERR", error_message ());
  server_stop (&srv);
  remove_own_files (p->dir, p->id);
  if (p->volume_dir) {
    /* The symlink, if it was made: it points at our volume socket. */
    char target[4096];
    ssize_t n = readlink (rec->socket, target, sizeof target - 1);
    if (n > 0 && (target[n] = '\0', strcmp (target, rec->volume_socket) == 0))
      unlink (rec->socket);
  }
  if (logpath)
    unlink (logpath);
  _exit (1);
}

/* An export of ID is recorded already: the same container process (the
 * hook configured for two stages) keeps it; an older run is stopped.
 */
static int
previous_export (const struct export_params *p, bool *keep)
{
  struct export_record old;
  int r = registry_read (p->dir, p->id, &old);

  *keep = false;
  if (r == -1) {
    /* A record we cannot read is not worth failing the container for. */
    syslog (LOG_WARNING, "%.12s: replacing an unreadable record: %s", p->id,
            error_message ());
    error_clear ();
    return registry_remove (p->dir, p->id, NULL);
  }
  if (r == 1)
    return 0;
  *keep = old.container_pid == p->container_pid && export_record_alive (&old);
  export_record_clear (&old);
  if (*keep)
    return 0;
  return export_stop (p->dir, p->id);
}

int
export_start (const struct export_params *p, const struct disk_location *loc,
              struct export_record *rec)
{
  bool keep;
  int fds[2];
  pid_t pid;
  int status;

  if (previous_export (p, &keep) == -1)
    return -1;
  if (keep)
    return registry_read (p->dir, p->id, rec) == 0 ? 0 : -1;
  if (fill_record (p, loc, rec) == -1)
    return -1;
  /* Leftovers of a crash: this id's socket or link, the volume's
   * NAME.sock.  The registry is ours: a link there is our own.
   */
  struct stat sb;
  if (lstat (rec->socket, &sb) == 0 && S_ISLNK (sb.st_mode) && unlink (rec->socket) == -1)
    return error_errno (errno, "cannot remove the stale %s", rec->socket);
  if (clear_stale_socket (rec->socket, "by a process podman-disk does not know") == -1)
    return -1;
  if (rec->volume_socket
      && clear_stale_socket (rec->volume_socket, "another container of the pod?") == -1)
    return -1;

  /* Taken now, while the runtime holds the process before it runs the
   * container's program: it cannot be another process.
   */
  _cleanup_close_ int container_fd = pidfd_open_ (p->container_pid);
  if (container_fd == -1 && errno == ESRCH)
    return error ("the container's process %d is gone", (int) p->container_pid);

  if (pipe2 (fds, O_CLOEXEC) == -1)
    return error_errno (errno, "pipe");
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == -1) {
    close (fds[0]);
    close (fds[1]);
    return error_errno (errno, "fork");
  }
  if (pid == 0) {
    close (fds[0]);
    /* Fork again: the watcher is nobody's child but init's. */
    pid = fork ();
    if (pid == -1) {
      report (fds[1], "ERR", "fork failed");
      _exit (1);
    }
    if (pid > 0)
      _exit (0);
    watcher (p, loc, rec, fds[1], container_fd);
  }
  close (fds[1]);
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;

  char buf[8192];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf - 1
         && ((n = read (fds[0], buf + len, sizeof buf - 1 - len)) > 0
             || (n == -1 && errno == EINTR)))
    if (n > 0)
      len += n;
  close (fds[0]);
  buf[len] = '\0';
  if (len >= 3 && strcmp (buf, "OK") == 0) {
    /* What the watcher recorded: the pids are its. */
    export_record_clear (rec);
    return registry_read (p->dir, p->id, rec) == 0 ? 0
      : error ("the export started but its record %s/%s.json is gone", p->dir, p->id);
  }
  export_record_clear (rec);
  if (len > 4 && strcmp (buf, "ERR") == 0)
    return error ("%s", buf + 4);
  return error ("the export's watcher died before the server was ready");
}

int
export_stop (const char *dir, const char *id)
{
  struct export_record rec;
  int r = registry_read (dir, id, &rec);

  if (r == 1)
    return 0;
  if (r == -1)
    return registry_remove (dir, id, NULL) == -1 ? -1 : 0;

  /* The watcher stops the server and removes the files... */
  if (process_alive (rec.watcher_pid, rec.watcher_start, NULL)) {
    kill (rec.watcher_pid, SIGTERM);
    if (!wait_gone (rec.watcher_pid, rec.watcher_start, STOP_WAIT_MS)) {
      syslog (LOG_WARNING, "%.12s: the export's watcher %d did not stop: killed",
              id, (int) rec.watcher_pid);
      kill (rec.watcher_pid, SIGKILL);
    }
  }
  /* ...unless it was killed: then the server is told by PDEATHSIG, and
   * made sure of here.
   */
  if (export_record_alive (&rec)) {
    kill (rec.server_pid, SIGTERM);
    if (!wait_gone (rec.server_pid, rec.server_start, 5000)) {
      kill (rec.server_pid, SIGKILL);
      wait_gone (rec.server_pid, rec.server_start, 1000);
    }
  }
  r = registry_remove (dir, id, &rec);
  export_record_clear (&rec);
  return r;
}
