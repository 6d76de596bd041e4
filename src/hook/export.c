/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a container's export, see export.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "serve/socket.h"
#include "serve/spawn.h"
#include "serve/supervisor.h"
#include "hook/export.h"
#include "hook/label.h"

/* How long poststop waits for the watcher, which itself gives the server
 * 5 s to stop before killing it.
 */
#define STOP_WAIT_MS 8000

#define WATCHED_NAME "the container's process"

/* What the record says, before the server runs. */
static int
fill_record (const struct export_params *p, const struct disk_location *loc,
             struct export_record *rec)
{
  memset (rec, 0, sizeof *rec);
  rec->id = strdup (p->id);
  rec->kind = strdup (EXPORT_KIND_HOOK);
  rec->name = strdup (p->name);
  rec->image = strdup_or_null (p->image ? p->image : p->image_id);
  rec->image_id = strdup_or_null (p->image_id);
  rec->disk = strdup_or_null (loc->member);
  rec->file = strdup_or_null (loc->file);
  rec->layer = strdup_or_null (loc->layer);
  rec->format = strdup (diskfmt_name (loc->fmt.format));
  rec->cow = p->cow || p->persistent;
  /* What clients see: the guest view of a qcow2 (the server decodes it). */
  rec->size = loc->fmt.format == DISK_QCOW2 ? loc->fmt.virtual_size : loc->size;
  rec->container_pid = p->container_pid;
  rec->socket = registry_path (p->dir, p->id, "sock");
  rec->uri = rec->socket ? unix_uri (NULL, rec->socket) : NULL;
  if (p->volume_dir) {
    _cleanup_free_ char *inside = NULL;
    if (asprintf (&rec->volume_socket, "%s/%s.sock", p->volume_dir, p->name) == -1)
      rec->volume_socket = NULL;
    if (asprintf (&inside, "%s/%s.sock", CONTAINER_SOCKET_DIR, p->name) != -1)
      rec->container_uri = unix_uri (NULL, inside);
  }
  rec->started = registry_timestamp ();
  if (!rec->id || !rec->kind || !rec->name || !rec->format || !rec->socket || !rec->uri
      || !rec->started || (p->volume_dir && (!rec->volume_socket || !rec->container_uri)))
    return error_errno (ENOMEM, "export record");
  return 0;
}

/* ---- The registry as the server's record ---------------------------------- */

struct registry_record {
  struct server_record rec;
  const char *dir;
  const char *id;
  const struct export_params *p;   /* at the start, else NULL */
  struct export_record *r;         /* at the start, else NULL */
  bool written;
};

static int
registry_record_write (struct server_record *rec, const struct server *srv)
{
  struct registry_record *rr = (struct registry_record *) rec;
  struct export_record *r = rr->r;
  const struct export_params *p = rr->p;

  /* The pod's socket gets the container's label; the host's is the
   * host's own.
   */
  if (srv->also_socket && label_path (srv->also_socket, p->label) == -1)
    return -1;
  if ((r->server = strdup (server_name (srv->kind))) == NULL)
    return error_errno (errno, "export record");
  r->server_pid = srv->pid;
  r->server_start = process_start_time (srv->pid);
  r->watcher_pid = getpid ();
  r->watcher_start = process_start_time (getpid ());
  if (registry_write (p->dir, r) == -1)
    return -1;
  rr->written = true;
  syslog (LOG_INFO, "%.12s: exporting %s of %s with %s at %s%s%s", p->id,
          r->disk, r->image ? r->image : "?", r->server, r->uri,
          r->volume_socket ? " and " : "",
          r->volume_socket ? r->volume_socket : "");
  return 0;
}

/* Our files, if the record is still ours (a new export of the same
 * container after a restart must keep its own); before the record, what
 * was made for it.
 */
static void
registry_record_forget (struct server_record *rec,
                        const struct server *srv _unused_, const char *why)
{
  struct registry_record *rr = (struct registry_record *) rec;
  struct export_record r;
  int found = registry_read (rr->dir, rr->id, &r);

  if (found == 0 && r.watcher_pid == getpid ())
    registry_remove (rr->dir, rr->id, &r);
  else if (found == 1) {
    _cleanup_free_ char *log = registry_path (rr->dir, rr->id, "log");
    if (log)
      unlink (log);
  }
  export_record_clear (&r);
  if (rr->written)
    syslog (LOG_INFO, "%.12s: export stopped: %s", rr->id, why);
  rr->written = false;
}

static void
registry_record_init (struct registry_record *rr, const char *dir, const char *id)
{
  memset (rr, 0, sizeof *rr);
  rr->rec.write = registry_record_write;
  rr->rec.forget = registry_record_forget;
  rr->dir = dir;
  rr->id = id;
}

/* ---- The watcher: the supervisor of the export ----------------------------- */

/* Before the server starts: the log, which the watcher's stdio becomes. */
static int
open_log (struct supervisor *s)
{
  struct registry_record *rr = s->arg;
  _cleanup_free_ char *logpath = registry_path (rr->dir, rr->id, "log");
  int logfd = logpath ? open (logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND
                              | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;

  if (logfd == -1) {
    error_errno (errno, "cannot create %s", logpath);
    return -2;
  }
  /* In a shared volume the socket is for the pod's containers, whatever
   * their user (qemu runs as 107 in KubeVirt's): the volume's directory
   * says who may reach it.  Set by umask, as bind creates it: a chmod by
   * path could follow a symlink a container put there meanwhile.
   */
  if (rr->p->volume_dir)
    umask (0111);
  return logfd;
}

/* Watching needs none of the libraries that starting loaded (libnbd and
 * gnutls, libmount...): the watcher execs itself afresh, the same process
 * still, parent of the server, as the hook's _watch stage.
 */
static void
reexec_watcher (struct supervisor *s, const struct server *srv)
{
  struct registry_record *rr = s->arg;
  const struct export_params *p = rr->p;
  char cpid[32], spid[32], dev[64];

  fprintf (stderr, "%s (pid %d) serving %s of %s at %s\n", rr->r->server,
           (int) srv->pid, rr->r->disk, rr->r->image ? rr->r->image : "?",
           rr->r->uri);
  fflush (stderr);
  output_copy (srv->errfd, 0, STDERR_FILENO);
  snprintf (cpid, sizeof cpid, "%d", (int) p->container_pid);
  snprintf (spid, sizeof spid, "%d", (int) srv->pid);
  snprintf (dev, sizeof dev, "%ju:%ju", (uintmax_t) srv->socket_dev,
            (uintmax_t) srv->socket_ino);
  char *argv[] = {
    /* "--": without pidfds the descriptors are -1, not options. */
    (char *) "podman-disk", (char *) "hook", (char *) "--state-dir", (char *) p->dir,
    (char *) "--", (char *) EXPORT_WATCH_STAGE, (char *) p->id, cpid,
    (char *) (s->watched_fd >= 0 ? "3" : "-1"), (char *) (srv->errfd >= 0 ? "4" : "-1"),
    spid, srv->socket, dev, NULL,
  };
  execv ("/proc/self/exe", argv);
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
  struct registry_record rr;
  struct export_record r;

  server_block_signals ();
  server_init (&srv);
  registry_record_init (&rr, dir, id);
  rr.written = true;
  /* Without a pidfd the container is watched by polling. */
  container_fd = checked_fd (container_fd, "anon_inode:[pidfd]");
  srv.errfd = checked_fd (errfd, "/memfd:");
  srv.output_from = srv.errfd >= 0 ? output_end (srv.errfd) : 0;
  srv.pid = server_pid;
  /* Our child (the stage checked): the pidfd is of that very process. */
  srv.pidfd = process_pidfd (server_pid);
  if ((srv.socket = strdup (socket)) == NULL)
    _exit (1);
  srv.socket_dev = socket_dev;
  srv.socket_ino = socket_ino;
  srv.record = &rr.rec;
  if (registry_read (dir, id, &r) == 0 && r.server)
    server_parse_kind (r.server, &srv.kind);
  export_record_clear (&r);
  error_clear ();
  supervisor_watch (&srv, container_pid, container_fd, WATCHED_NAME);
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
  int r = socket_clear_stale (rec->socket);
  if (r == 1)
    return error ("%s is already served (by a process podman-disk does not "
                  "know): give this container another export name with "
                  "io.podman-disk.export=NAME", rec->socket);
  if (r == 0 && rec->volume_socket) {
    r = socket_clear_stale (rec->volume_socket);
    if (r == 1)
      return error ("%s is already served (another container of the pod?): give "
                    "this container another export name with "
                    "io.podman-disk.export=NAME", rec->volume_socket);
  }
  if (r == -1) {
    _cleanup_free_ char *why = strdup (error_message ());
    return error ("%s: remove it or choose another export name with "
                  "io.podman-disk.export=NAME", why ? why : "");
  }

  /* Taken now, while the runtime holds the process before it runs the
   * container's program: it cannot be another process.
   */
  _cleanup_close_ int container_fd = process_pidfd (p->container_pid);
  if (container_fd == -1 && errno == ESRCH)
    return error ("the container's process %d is gone", (int) p->container_pid);

  struct registry_record rr;
  registry_record_init (&rr, p->dir, p->id);
  rr.p = p;
  rr.r = rec;
  struct server_options opts = {
    .kind = SERVER_AUTO,
    .decode = true,
    .writable = p->cow,
    .persistent = p->persistent,
    /* In a pod, the server listens on both: the host's socket in the
     * registry, which only root can reach or replace, and the pod's in the
     * volume, which the pod's containers can replace for each other but
     * never for the host's clients.
     */
    .socket = rec->socket,
    .also_socket = rec->volume_socket,
  };
  struct supervisor s = {
    .loc = loc, .opts = &opts,
    .watched = p->container_pid, .watched_fd = container_fd,
    .watched_name = WATCHED_NAME,
    .record = &rr.rec, .prepare = open_log, .reexec = reexec_watcher, .arg = &rr,
  };
  struct server srv;
  r = supervisor_start (&s, &srv);
  server_clear (&srv);
  export_record_clear (rec);
  if (r == -1)
    return -1;
  /* What the watcher recorded: the pids are its. */
  return registry_read (p->dir, p->id, rec) == 0 ? 0
    : error ("the export started but its record %s/%s.json is gone", p->dir, p->id);
}

/* A record names processes; before one is signalled on its word, it must
 * be proven to be the export's: the pid started at the recorded time, runs
 * the program the record says (the server: nbdkit, qemu-nbd or
 * qemu-storage-daemon, serve's of several images; the
 * watcher: podman-disk, as the _watch stage of this container).
 */
static bool
server_proven (const struct export_record *rec)
{
  return rec->server && (strcmp (rec->server, "nbdkit") == 0
                         || strcmp (rec->server, "qemu-nbd") == 0
                         || strcmp (rec->server, "qemu-storage-daemon") == 0)
    && process_runs (rec->server_pid, rec->server_start, rec->server);
}

static bool
watcher_proven (const struct export_record *rec)
{
  const char *self = process_own_exe_name ();
  char stage[128];

  /* A background serve's supervisor is still the serve command. */
  if (export_record_is_serve (rec))
    snprintf (stage, sizeof stage, " serve ");
  else
    snprintf (stage, sizeof stage, " %s %s ", EXPORT_WATCH_STAGE, rec->id);
  /* (our own program's name may be a tool's that runs us: valgrind's) */
  return (process_runs (rec->watcher_pid, rec->watcher_start, "podman-disk")
          || (self && process_runs (rec->watcher_pid, rec->watcher_start, self)))
    && process_alive (rec->watcher_pid, rec->watcher_start, stage);
}

int
export_stop (const char *dir, const char *id)
{
  struct export_record rec;
  int r = registry_check (dir);

  if (r != 0)
    return r == 1 ? 0 : -1;
  r = registry_read (dir, id, &rec);
  if (r == 1)
    return 0;
  if (r == -1)
    return registry_remove (dir, id, NULL) == -1 ? -1 : 0;

  /* The watcher stops the server and removes the files... */
  if (watcher_proven (&rec)) {
    kill (rec.watcher_pid, SIGTERM);
    if (!process_wait_gone (rec.watcher_pid, rec.watcher_start, STOP_WAIT_MS)) {
      syslog (LOG_WARNING, "%.12s: the export's watcher %d did not stop: killed",
              id, (int) rec.watcher_pid);
      kill (rec.watcher_pid, SIGKILL);
    }
  }
  /* ...unless it was killed: then the server is told by PDEATHSIG, and
   * made sure of here.
   */
  if (server_proven (&rec)) {
    kill (rec.server_pid, SIGTERM);
    if (!process_wait_gone (rec.server_pid, rec.server_start, 5000)) {
      kill (rec.server_pid, SIGKILL);
      process_wait_gone (rec.server_pid, rec.server_start, 1000);
    }
  }
  r = registry_remove (dir, id, &rec);
  export_record_clear (&rec);
  return r;
}
