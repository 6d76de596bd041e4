/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: whether a server just started serves what it should, see
 * serve/ready.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/dl.h"
#include "common/error.h"
#include "common/proc.h"
#include "serve/ready.h"
#include "serve/spawn.h"
#include "serve/tls.h"

#define READY_TIMEOUT_MS 30000

/* Whether process PID holds the file WANT open under a descriptor of its
 * own (not a disk it inherited, DISK_FD to LAST_INHERITED; its own may be
 * below, in the room of a second socket): 1 yes, 0 no, -1 cannot tell.
 */
static int
process_opened (pid_t pid, const struct stat *want, int last_inherited)
{
  char dir[64];
  struct stat st;
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;

  snprintf (dir, sizeof dir, "/proc/%d/fd", (int) pid);
  if ((d = opendir (dir)) == NULL)
    return -1;
  while ((de = readdir (d)) != NULL) {
    int fd = atoi (de->d_name);
    if (de->d_name[0] == '.' || (fd >= DISK_FD && fd <= last_inherited))
      continue;
    if (fstatat (dirfd (d), de->d_name, &st, 0) == 0
        && st.st_dev == want->st_dev && st.st_ino == want->st_ino)
      return 1;
  }
  return 0;
}

/* Whether the server (or, behind a proxy, its child) holds the disk file
 * open under a descriptor of its own: 1 yes, 0 no, -1 cannot tell (/proc
 * not readable, as across user namespaces).
 */
static int
server_opened_disk (pid_t pid, int diskfd, int last_inherited)
{
  struct stat want;
  char path[64];

  if (fstat (diskfd, &want) == -1)
    return -1;
  int r = process_opened (pid, &want, last_inherited);
  if (r != 0)
    return r;
  snprintf (path, sizeof path, "/proc/%d/task/%d/children", (int) pid, (int) pid);
  _cleanup_fclose_ FILE *f = fopen (path, "re");
  int child;
  while (f && fscanf (f, "%d", &child) == 1)
    if (process_opened (child, &want, last_inherited) == 1)
      return 1;
  return 0;
}

/* Fail the start: the server's stderr if it said something, else WHY. */
static int
not_ready (struct server *srv, const char *why)
{
  int status;
  /* A server that failed is usually exiting: give it a moment. */
  bool exited = process_reap_within (srv->pid, 1000, &status);
  _cleanup_free_ char *err = output_line (srv->errfd, 0);
  char how[64];

  if (exited) {
    srv->pid = 0;
    process_describe_status (status, how, sizeof how);
    if (*err)
      return error ("%s exited before it was ready (%s): %s",
                    server_name (srv->kind), how, err);
    return error ("%s exited before it was ready (%s)",
                  server_name (srv->kind), how);
  }
  if (*err)
    return error ("%s is not serving the disk: %s (%s)",
                  server_name (srv->kind), why, err);
  return error ("%s is not serving the disk: %s", server_name (srv->kind), why);
}

/* Connect to the listening socket before the server runs: the connection
 * waits in its backlog until the server accepts it, or is reset when the
 * server dies.  Before, because an inherited socket's name may be gone
 * once the server serves: libnbd removes the socket file of the server it
 * started (nbdinfo -- [ podman-disk serve ... ]) as soon as its client is
 * done, which can be before we look.  Nonblocking, as a full backlog
 * (a Unix socket's EAGAIN) must not wait for the server that is not
 * started yet: then ready_wait connects after the start.  The connected
 * socket, -1 for "later", or -2 with error () set.
 */
int
ready_probe_early (const struct sockaddr_storage *addr, socklen_t addrlen)
{
  _cleanup_close_ int sock = socket (addr->ss_family,
                                     SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int err = 0;
  socklen_t len = sizeof err;

  if (sock == -1) {
    error_errno (errno, "socket");
    return -2;
  }
  if (connect (sock, (const struct sockaddr *) addr, addrlen) == -1) {
    if (errno == EAGAIN)
      return -1;
    if (errno != EINPROGRESS) {
      error_errno (errno, "cannot connect to the listening socket");
      return -2;
    }
    /* TCP: the kernel completes the handshake, the server need not run. */
    struct pollfd pfd = { .fd = sock, .events = POLLOUT };
    if (poll (&pfd, 1, 5000) != 1)
      return -1;
    if (getsockopt (sock, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err)
      return -1;
  }
  if (fcntl (sock, F_SETFL, fcntl (sock, F_GETFL) & ~O_NONBLOCK) == -1) {
    error_errno (errno, "fcntl");
    return -2;
  }
  return steal_fd (&sock);
}

/* The probe speaks TLS as a client of the export would, with the
 * server's own credentials: its PSK file (and first username), or its
 * certificate directory, whose ca-cert.pem signed the server's
 * certificate; with --tls-verify-peer, the server's certificate shown as
 * the client's, from *PROBE_DIR (made here, for the caller to remove).
 * It connects to the socket we bound, to the server we started: no name
 * to check the certificate against (verify-peer off on our side).
 */
static int
probe_tls (struct nbd_handle *h, const struct server_options *opts,
           const struct server *srv, char **probe_dir)
{
  const char *certificates = opts->tls_certificates;

  if (opts->tls == SERVER_TLS_OFF)
    return 0;
  if (certificates && opts->tls_verify_peer) {
    if ((*probe_dir = tls_probe_dir_make (certificates)) == NULL)
      return -1;
    certificates = *probe_dir;
  }
  if (sym_nbd_set_tls (h, LIBNBD_TLS_REQUIRE) == -1
      || (opts->tls_psk
          && (sym_nbd_set_tls_psk_file (h, opts->tls_psk) == -1
              || sym_nbd_set_tls_username (h, srv->tls_username) == -1))
      || (certificates
          && (sym_nbd_set_tls_certificates (h, certificates) == -1
              || sym_nbd_set_tls_verify_peer (h, false) == -1)))
    return error ("libnbd: %s", sym_nbd_get_error ());
  return 0;
}

int
ready_wait (struct server *srv, const struct server_options *opts, int sock,
            const struct sockaddr_storage *addr, socklen_t addrlen,
            uint64_t want_size, bool want_ro, int diskfd)
{
  struct nbd_handle *h;
  int r = -1;
  int64_t deadline = now_ms () + READY_TIMEOUT_MS;
  char why[512];
  char *probe_dir = NULL;

  if (dl_libnbd () == -1
      || ((h = sym_nbd_create ()) == NULL
          && error ("nbd_create: %s", sym_nbd_get_error ()))) {
    if (sock >= 0)
      close (sock);
    return -1;
  }
  if (sock == -1) {
    sock = socket (addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock == -1) {
      error_errno (errno, "socket");
      goto out;
    }
    if (connect (sock, (const struct sockaddr *) addr, addrlen) == -1) {
      snprintf (why, sizeof why, "connect: %s", strerror (errno));
      close (sock);
      not_ready (srv, why);
      goto out;
    }
  }
  if (sym_nbd_set_export_name (h, srv->export_name) == -1) {
    close (sock);
    error ("libnbd: %s", sym_nbd_get_error ());
    goto out;
  }
  if (probe_tls (h, opts, srv, &probe_dir) == -1) {
    close (sock);
    goto out;
  }
  /* libnbd owns the socket from here; this already talks to the server,
   * which may have died.
   */
  if (sym_nbd_aio_connect_socket (h, sock) == -1) {
    snprintf (why, sizeof why, "%s", sym_nbd_get_error ());
    not_ready (srv, why);
    goto out;
  }
  while (!sym_nbd_aio_is_ready (h)) {
    if (sym_nbd_aio_is_dead (h) || sym_nbd_aio_is_closed (h)
        || sym_nbd_poll (h, 100) == -1) {
      snprintf (why, sizeof why, "%s", sym_nbd_get_error ());
      not_ready (srv, why);
      goto out;
    }
    /* Peek only: not_ready reaps it and tells why. */
    siginfo_t info = { .si_pid = 0 };
    if (waitid (P_PID, srv->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0
        && info.si_pid == srv->pid) {
      not_ready (srv, "exited");
      goto out;
    }
    if (now_ms () > deadline) {
      not_ready (srv, "no answer in 30 seconds");
      goto out;
    }
  }

  uint64_t size = sym_nbd_get_size (h);
  int ro = sym_nbd_is_read_only (h);
  if (size != want_size)
    error ("%s exports %" PRIu64 " bytes, expected %" PRIu64 " (this is a bug)",
           server_name (srv->kind), size, want_size);
  else if (want_ro && ro != 1)
    error ("%s exports the disk writable (this is a bug)",
           server_name (srv->kind));
  else if (!want_ro && ro != 0)
    error ("%s exports the disk read-only despite --writable",
           server_name (srv->kind));
  else if (server_opened_disk (srv->pid, diskfd, DISK_FD + (opts->n_exports
                                                           ? (int) opts->n_exports - 1
                                                           : 0)) == 0)
    error ("%s opened another file than the disk located: was the image "
           "removed meanwhile?", server_name (srv->kind));
  else
    r = 0;
  sym_nbd_shutdown (h, 0);
 out:
  sym_nbd_close (h);
  tls_dir_remove (probe_dir);
  free (probe_dir);
  return r;
}
