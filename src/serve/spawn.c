/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: start a server, wait until it serves, stop it, and what it
 * said: see serve/server.h and serve/spawn.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/param.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/dl.h"
#include "common/error.h"
#include "common/proc.h"
#include "serve/pin.h"
#include "serve/qsd.h"
#include "serve/ready.h"
#include "serve/server.h"
#include "serve/socket.h"
#include "serve/spawn.h"
#include "serve/tls.h"

/* How long a server may take to become ready, and to stop on SIGTERM. */
#define STOP_TIMEOUT_MS 5000

extern char **environ;

/* The server is reaped: its pidfd must not be polled again. */
static void
close_pidfd (struct server *srv)
{
  if (srv->pidfd >= 0)
    close (srv->pidfd);
  srv->pidfd = -1;
}

/* The server is gone: so is the PSK directory made for it. */
static void
remove_tls_dir (struct server *srv)
{
  _cleanup_free_ char *dir = steal_pointer (&srv->tls_dir);

  tls_dir_remove (dir);
}

void
server_init (struct server *srv)
{
  *srv = (struct server) { .pidfd = -1, .errfd = -1 };
}

void
server_clear (struct server *srv)
{
  char *strings[] = { srv->uri, srv->socket, srv->also_socket, srv->port,
                      srv->address, srv->export_name, srv->tls_username,
                      srv->tls_dir, srv->record_id };

  for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
    free (strings[i]);
  close_pidfd (srv);
  if (srv->errfd >= 0)
    close (srv->errfd);
  server_init (srv);
}
/* ---- What the server says ------------------------------------------------ */

int
output_capture (void)
{
  int fd = memfd_create ("podman-disk-server-stderr", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd == -1)
    error_errno (errno, "memfd_create");
  return fd;
}

/* Once the server is ready, it still writes a line for each client that
 * fails its handshake, for as long as it runs: its stderr gets a fixed
 * size, SERVER_OUTPUT_MORE bytes beyond what it wrote so far; the rest of
 * its writes fail.  Unwritten, that room is a hole that takes no memory.
 */
int
output_bound (int fd)
{
  off_t end = output_end (fd);

  if (end == -1 || ftruncate (fd, end + SERVER_OUTPUT_MORE) == -1
      || fcntl (fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) == -1)
    return error_errno (errno, "cannot bound the server's stderr");
  return 0;
}

off_t
output_end (int fd)
{
  /* The server's descriptor shares our file offset: where it wrote last. */
  return fd >= 0 ? lseek (fd, 0, SEEK_CUR) : -1;
}

char *
output_line (int fd, off_t from)
{
  char buf[2048];
  ssize_t n = 0;
  off_t end = output_end (fd);
  char *out, *o;

  if (end > from) {
    /* The end says most: where it failed. */
    if (end - from > (off_t) sizeof buf - 1)
      from = end - (off_t) sizeof buf + 1;
    n = pread (fd, buf, sizeof buf - 1, from);
    if (n < 0)
      n = 0;
  }
  buf[n] = '\0';
  out = o = malloc (n * 2 + 16);
  if (!out)
    abort ();
  for (char *line = strtok (buf, "\n"); line; line = strtok (NULL, "\n")) {
    while (*line == ' ' || *line == '\t')
      line++;
    if (!*line)
      continue;
    /* qemu quotes the whole json: spec: the disk is what it means. */
    char *spec = strstr (line, "'json:{"), *end_quote;
    if (spec && (end_quote = strchr (spec + 1, '\'')) != NULL) {
      o += sprintf (o, "%s%.*s'the disk'", o == out ? "" : "; ",
                    (int) (spec - line), line);
      line = end_quote + 1;
    }
    else if (o != out)
      o += sprintf (o, "; ");
    o += sprintf (o, "%s", line);
  }
  *o = '\0';
  return out;
}

off_t
output_copy (int fd, off_t from, int to)
{
  char buf[4096];
  off_t end = output_end (fd);
  ssize_t n;

  while (from < end
         && (n = pread (fd, buf, MIN ((off_t) sizeof buf, end - from), from)) > 0) {
    if (write (to, buf, n) != n)
      break;
    from += n;
  }
  return from;
}

/* ---- The server process --------------------------------------------------- */

int
server_record (struct server *srv, struct server_record *rec)
{
  if (rec->write (rec, srv) == -1)
    return -1;
  srv->record = rec;
  return 0;
}

void
server_forget (struct server *srv, const char *why)
{
  struct server_record *rec = srv->record;

  srv->record = NULL;
  if (rec)
    rec->forget (rec, srv, why);
}

void
server_reaped (struct server *srv, int status)
{
  _cleanup_free_ char *err = output_line (srv->errfd, srv->output_from);
  char how[64];

  srv->pid = 0;
  close_pidfd (srv);
  socket_remove (srv);
  remove_tls_dir (srv);
  process_describe_status (status, how, sizeof how);
  if (*err)
    error ("%s exited (%s): %s", server_name (srv->kind), how, err);
  else
    error ("%s exited (%s)", server_name (srv->kind), how);
  server_forget (srv, error_message ());
}

/* The environment of a socket-activated server: ours without any
 * LISTEN_*, NOTIFY_SOCKET and TMPDIR, plus LISTEN_FDS (FDSVAR), LISTEN_PID
 * (whose value the child writes in PIDBUF, known only after fork) and
 * TMPVAR, its private TMPDIR.
 */
static char **
activation_env (char *fdsvar, char *pidbuf, char *tmpvar)
{
  size_t n = 0;
  char **env;

  for (char **e = environ; *e; e++)
    n++;
  env = malloc ((n + 4) * sizeof *env);
  if (!env)
    abort ();
  n = 0;
  for (char **e = environ; *e; e++)
    if (strncmp (*e, "LISTEN_", 7) && strncmp (*e, "NOTIFY_SOCKET=", 14)
        && strncmp (*e, "TMPDIR=", 7))
      env[n++] = *e;
  env[n++] = fdsvar;
  env[n++] = pidbuf;
  env[n++] = tmpvar;
  env[n] = NULL;
  return env;
}

/* Whether ARGV names the disk by PIN_PATH, which the child must set up. */
static bool
takes_pinned_disk (char **argv)
{
  for (; *argv; argv++)
    if (strcmp (*argv, "file=" PIN_PATH) == 0)
      return true;
  return false;
}

/* Debug line: WHAT and the words of ARGV. */
static void
debug_argv (const char *what, char **argv)
{
  _cleanup_free_ char *line = NULL;
  size_t len;
  FILE *f = open_memstream (&line, &len);

  if (!f)
    return;
  for (char **a = argv; *a; a++)
    fprintf (f, "%s%s", a == argv ? "" : " ", *a);
  if (fclose (f) == 0)
    debug ("%s %s", what, line);
}

/* The server's own temporary directory: its writable overlay (nbdkit's
 * cow filter, qemu-nbd --snapshot) is made there by name, so never in the
 * caller's TMPDIR, where another user could have put a name first.  A new
 * directory, mode 0700, under /var/tmp (room for an overlay that grows),
 * removed with what is in it as soon as the server is ready: by then the
 * server holds its overlay open, and no name of it is left for anyone.
 */
#define SERVER_TMPDIR "/var/tmp/podman-disk-server.XXXXXX"

static int
make_tmpdir (char *dir)
{
  if (mkdtemp (dir) == NULL)
    return error_errno (errno, "cannot create a temporary directory %s", dir);
  return 0;
}

static void
remove_tmpdir (const char *dir)
{
  _cleanup_closedir_ DIR *d = opendir (dir);

  /* (unlinkat refuses "." and "..": EISDIR) */
  for (struct dirent *de; d && (de = readdir (d)) != NULL; )
    unlinkat (dirfd (d), de->d_name, 0);
  rmdir (dir);
}

/* Start EXE with ARGV as our child: its listening sockets LISTENFDS[0..N)
 * from LISTEN_FD on, the disks DISKFDS[0..NDISKS) from DISK_FD on
 * (serve/server.h; several: serve/qsd.h).
 */
static int
spawn (const char *exe, char **argv, const int *listenfds, int n,
       const int *diskfds, int ndisks, const char *tmpdir, struct server *srv)
{
  char pidbuf[32] = "LISTEN_PID=", fdsvar[32];
  _cleanup_free_ char *tmpvar = NULL;
  if (asprintf (&tmpvar, "TMPDIR=%s", tmpdir) == -1)
    return error_errno (errno, "TMPDIR");
  snprintf (fdsvar, sizeof fdsvar, "LISTEN_FDS=%d", n);
  _cleanup_free_ char **env = activation_env (fdsvar, pidbuf, tmpvar);
  pid_t parent = getpid ();
  pid_t pid;

  if ((srv->errfd = output_capture ()) == -1)
    return -1;
  pid = process_fork ();
  if (pid == -1)
    return error_errno (errno, "fork");
  if (pid == 0) {
    sigset_t none;
    int nul, l[LISTEN_FDS_MAX], d[ndisks], e;
    /* Above every descriptor dup2 writes. */
    int high = DISK_FD + ndisks + 10;

    /* Whatever our caller ignored (a shell's background job ignores
     * SIGINT), the server must stop on SIGTERM and SIGINT.
     */
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    signal (SIGPIPE, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGINT, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    /* Terminal signals are for podman-disk, which stops the server in
     * order; and the server goes when podman-disk goes.
     */
    setpgid (0, 0);
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    if (getppid () != parent)
      _exit (1);
    /* Out of the way first, then in place: no dup2 overwrites another. */
    nul = open ("/dev/null", O_RDWR);
    for (int i = 0; i < n; i++)
      if ((l[i] = fcntl (listenfds[i], F_DUPFD, high)) == -1)
        _exit (126);
    for (int i = 0; i < ndisks; i++)
      if ((d[i] = fcntl (diskfds[i], F_DUPFD, high)) == -1)
        _exit (126);
    e = fcntl (srv->errfd, F_DUPFD, high);
    if (nul == -1 || e == -1
        || dup2 (nul, 0) == -1 || dup2 (nul, 1) == -1 || dup2 (e, 2) == -1)
      _exit (126);
    for (int i = 0; i < ndisks; i++)
      if (dup2 (d[i], DISK_FD + i) == -1)
        _exit (126);
    for (int i = 0; i < n; i++)
      if (dup2 (l[i], LISTEN_FD + i) == -1)
        _exit (126);
    /* Between the sockets and the disk, nothing (one socket: fd 4). */
    for (int fd = LISTEN_FD + n; fd < DISK_FD; fd++)
      close (fd);
    close_range (DISK_FD + ndisks, ~0U, 0);
    /* The server needs no path of ours (its disk and socket are
     * descriptors): it keeps no directory of the caller's busy.
     */
    if (chdir ("/") == -1
        || (takes_pinned_disk (argv) && pin_fd (DISK_FD) == -1))
      _exit (125);
    snprintf (pidbuf + strlen ("LISTEN_PID="), sizeof pidbuf - strlen ("LISTEN_PID="),
              "%d", (int) getpid ());
    execve (exe, argv, env);
    dprintf (2, "cannot run %s: %s\n", exe, strerror (errno));
    _exit (127);
  }
  srv->pid = pid;
  /* Our child, not reaped yet: the pidfd cannot name another process. */
  srv->pidfd = process_pidfd (pid);
  return 0;
}

/* Several disks (serve/qsd.h): each export answers, with its disk's size,
 * read-only, from its own file, each on its own early probe PROBES[I]
 * (one connection reaches one export; see ready_probe_early for why
 * early).  SRV's export name is each one's meanwhile, and "" again after.
 * Every probe is closed.
 */
static int
ready_wait_exports (struct server *srv, const struct server_options *opts,
                    int *probes, const struct sockaddr_storage *addr,
                    socklen_t addrlen)
{
  char *name = srv->export_name;
  int r = 0;

  for (size_t i = 0; i < opts->n_exports; i++) {
    int probe = steal_fd (&probes[i]);
    if (r == -1) {
      if (probe >= 0)
        close (probe);
      continue;
    }
    srv->export_name = (char *) opts->exports[i].name;
    r = ready_wait (srv, opts, probe, addr, addrlen,
                    qsd_export_size (opts, i), !opts->writable,
                    opts->exports[i].loc->fd);
  }
  srv->export_name = name;
  return r;
}

/* Close the open ones of FDS[0..N) (probes, overlays), marking them -1. */
static void
close_fds (int *fds, size_t n)
{
  for (size_t i = 0; fds && i < n; i++)
    if (fds[i] >= 0)
      close (steal_fd (&fds[i]));
}

int
server_start (const struct disk_location *loc,
              const struct server_options *opts, struct server *srv)
{
  _cleanup_free_ char *exe = NULL, *plugin = NULL;
  _cleanup_strv_ char **argv = NULL;
  /* An inherited socket is taken, whatever happens: closed here. */
  _cleanup_close_ int listenfd = opts->listen_fd > 0 ? opts->listen_fd : -1;
  _cleanup_close_ int alsofd = -1;
  _cleanup_free_ int *diskfds = NULL, *probes = NULL;
  struct sockaddr_storage addr;
  socklen_t addrlen = sizeof addr;
  uint64_t want_size;
  char tmpdir[] = SERVER_TMPDIR;

  server_init (srv);
  if (opts->n_exports) {
    /* Several disks (serve/qsd.h); LOC is the first, for the socket's name. */
    if (qsd_check_exports (opts) == -1)
      return -1;
    srv->kind = SERVER_QSD;
  }
  else {
    if (loc->fd < 0)
      return error ("%s: the disk file is not open (this is a bug)",
                    loc->file ? loc->file : "disk");
    /* an old nbdkit opens the file by name (serve/pin.h): say it clearly. */
    struct stat st;
    if (fstat (loc->fd, &st) == 0 && st.st_nlink == 0)
      return error ("%s: the disk file was removed since it was located "
                    "(was the image removed?)", loc->file ? loc->file : "disk");
    if (server_choose (loc, opts, &srv->kind) == -1)
      return -1;
  }
  if ((exe = server_find (srv->kind)) == NULL)
    return -1;
  /* TLS with a PSK: its username for the URI and the probe; qemu-nbd
   * (not behind nbdkit) gets the file as keys.psk in a directory.
   */
  struct server_options tlsopts = *opts;
  if (opts->tls != SERVER_TLS_OFF && opts->tls_psk) {
    if ((srv->tls_username = tls_psk_username (opts->tls_psk)) == NULL)
      goto fail;
    if ((srv->kind == SERVER_QEMU_NBD || srv->kind == SERVER_QSD)
        && !server_needs_proxy (opts, srv->kind)) {
      if ((srv->tls_dir = tls_psk_dir_make (opts->tls_psk)) == NULL)
        goto fail;
      tlsopts.tls_psk_dir = srv->tls_dir;
    }
  }
  opts = &tlsopts;
  if (server_needs_proxy (opts, srv->kind)) {
    _cleanup_free_ char *qemu_nbd = steal_pointer (&exe);
    if ((exe = server_find (SERVER_NBDKIT)) == NULL)
      goto fail;
    srv->kind = SERVER_NBDKIT;
    argv = server_argv_proxied (loc, opts, exe, qemu_nbd);
  }
  else if (srv->kind == SERVER_QSD)
    argv = server_argv_qsd (opts, exe);
  else {
    if (srv->kind == SERVER_NBDKIT)
      tlsopts.nbdkit_plugin = plugin = server_find_plugin ();
    argv = server_argv (loc, opts, srv->kind, exe);
  }
  if (argv == NULL)
    goto fail;
  if (verbose)
    debug_argv ("starting", argv);
  if ((srv->export_name = strdup (opts->export_name ? opts->export_name : "")) == NULL) {
    error_errno (errno, "strdup");
    goto fail;
  }

  if (listenfd >= 0) {
    /* Listening already (checked by socket_activation_take). */
    if (socket_inherited (listenfd, srv) == -1)
      goto fail;
  }
  else if ((opts->port ? socket_listen_tcp (opts, srv, &listenfd)
            : socket_listen_unix (loc, opts, srv, &listenfd)) == -1)
    goto fail;
  if (opts->also_socket && socket_listen_also (opts, srv, &alsofd) == -1)
    goto fail;
  if ((opts->listen_fd <= 0 && listen (listenfd, SOMAXCONN) == -1)
      || (alsofd >= 0 && listen (alsofd, SOMAXCONN) == -1)
      || getsockname (listenfd, (struct sockaddr *) &addr, &addrlen) == -1) {
    error_errno (errno, "listen");
    goto fail;
  }
  /* Wildcard addresses are reached on loopback. */
  if (addr.ss_family == AF_INET
      && ((struct sockaddr_in *) &addr)->sin_addr.s_addr == htonl (INADDR_ANY))
    ((struct sockaddr_in *) &addr)->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (addr.ss_family == AF_INET6
      && IN6_IS_ADDR_UNSPECIFIED (&((struct sockaddr_in6 *) &addr)->sin6_addr))
    ((struct sockaddr_in6 *) &addr)->sin6_addr = in6addr_loopback;
  if ((srv->uri = socket_uri (opts, srv)) == NULL)
    goto fail;

  /* One probe per export; the disks' fds, and with several writable
   * ones each export's overlay after them (serve/qsd.h).
   */
  size_t ndisks = opts->n_exports ? opts->n_exports : 1;
  size_t noverlays = opts->n_exports && opts->writable ? opts->n_exports : 0;
  if ((diskfds = calloc (ndisks + noverlays, sizeof *diskfds)) == NULL
      || (probes = calloc (ndisks, sizeof *probes)) == NULL) {
    error_errno (errno, "calloc");
    goto fail;
  }
  for (size_t i = 0; i < ndisks; i++) {
    diskfds[i] = opts->n_exports ? opts->exports[i].loc->fd : loc->fd;
    probes[i] = -1;
  }
  if (make_tmpdir (tmpdir) == -1)
    goto fail;
  if (noverlays && qsd_make_overlays (opts, tmpdir, diskfds + ndisks) == -1) {
    remove_tmpdir (tmpdir);
    goto fail;
  }
  for (size_t i = 0; i < ndisks; i++)
    if ((probes[i] = ready_probe_early (&addr, addrlen)) == -2) {
      probes[i] = -1;
      close_fds (probes, ndisks);
      close_fds (diskfds + ndisks, noverlays);
      remove_tmpdir (tmpdir);
      goto fail;
    }
  int probe = probes[0];
  int listenfds[LISTEN_FDS_MAX] = { listenfd, alsofd };
  int r = spawn (exe, argv, listenfds, alsofd >= 0 ? 2 : 1, diskfds,
                 ndisks + noverlays, tmpdir, srv);
  close_fds (diskfds + ndisks, noverlays);   /* the server's now */
  /* Only the server holds the sockets now: if it dies, clients see it. */
  close (steal_fd (&listenfd));
  if (alsofd >= 0)
    close (steal_fd (&alsofd));
  want_size = decodes_qcow2 (loc, opts) ? loc->fmt.virtual_size : loc->size;
  if (r == 0 && opts->n_exports)
    r = ready_wait_exports (srv, &tlsopts, probes, &addr, addrlen);
  else if (r == 0)
    r = ready_wait (srv, &tlsopts, probe, &addr, addrlen, want_size,
                    !opts->writable && !opts->persistent, loc->fd);
  else
    close_fds (probes, ndisks);
  remove_tmpdir (tmpdir);
  if (r == -1 || output_bound (srv->errfd) == -1)
    goto fail;
  debug ("%s (pid %d) ready at %s", server_name (srv->kind), (int) srv->pid, srv->uri);
  return 0;

 fail:
  server_stop (srv);
  server_clear (srv);
  return -1;
}

void
server_stop_because (struct server *srv, const char *why)
{
  int status;

  if (srv->pid > 0) {
    kill (srv->pid, SIGTERM);
    if (!process_reap_within (srv->pid, STOP_TIMEOUT_MS, &status)) {
      kill (srv->pid, SIGKILL);
      process_wait (srv->pid, &status, NULL);
    }
    srv->pid = 0;
  }
  close_pidfd (srv);
  socket_remove (srv);
  remove_tls_dir (srv);
  server_forget (srv, why);
}

void
server_stop (struct server *srv)
{
  server_stop_because (srv, "stopped");
}

