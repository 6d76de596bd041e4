/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the socket of systemd socket activation, see serve/activation.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "common/error.h"
#include "serve/activation.h"
#include "serve/argv.h"

static void
unset_listen_env (void)
{
  unsetenv ("LISTEN_PID");
  unsetenv ("LISTEN_FDS");
  unsetenv ("LISTEN_FDNAMES");
}

/* S, all of it, as a positive decimal number in *OUT: 0, else -1. */
static int
parse_positive (const char *s, long *out)
{
  char *end;

  if (!s || !*s || strspn (s, "0123456789") != strlen (s))
    return -1;
  errno = 0;
  *out = strtol (s, &end, 10);
  return errno == 0 && *out > 0 ? 0 : -1;
}

/* FD is a listening SOCK_STREAM socket: 0, else -1 with error () set. */
static int
check_listening (int fd)
{
  int type, accepting;
  socklen_t len = sizeof type;

  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
    return error_errno (errno, "socket activation: fd %d is not a socket", fd);
  if (type != SOCK_STREAM)
    return error ("socket activation: fd %d is not a stream socket "
                  "(ListenStream=, not ListenDatagram=)", fd);
  len = sizeof accepting;
  if (getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == -1)
    return error_errno (errno, "socket activation: fd %d", fd);
  if (!accepting)
    return error ("socket activation: fd %d is not a listening socket "
                  "(Accept=yes passes connections: use Accept=no)", fd);
  return 0;
}

static int
take (int *fdp)
{
  const char *pidvar = getenv ("LISTEN_PID");
  const char *fdsvar = getenv ("LISTEN_FDS");
  long pid, fds;

  if (!pidvar)
    return 0;
  if (parse_positive (pidvar, &pid) == -1)
    return error ("socket activation: LISTEN_PID is not a process ID: '%s'",
                  pidvar);
  if (pid != getpid ())
    return 0;                   /* meant for another process */
  if (!fdsvar)
    return error ("socket activation: LISTEN_PID is set but LISTEN_FDS is not");
  if (parse_positive (fdsvar, &fds) == -1 || fds != 1)
    return error ("socket activation: LISTEN_FDS=%s, but serve takes exactly "
                  "one listening socket (LISTEN_FDS=1)", fdsvar);
  if (check_listening (LISTEN_FD) == -1)
    return -1;
  /* Ours alone, for the server: no other child inherits it. */
  if (fcntl (LISTEN_FD, F_SETFD, FD_CLOEXEC) == -1)
    return error_errno (errno, "socket activation: fd %d", LISTEN_FD);
  *fdp = LISTEN_FD;
  return 1;
}

int
socket_activation_take (int *fdp)
{
  int r = take (fdp);

  unset_listen_env ();
  return r;
}
