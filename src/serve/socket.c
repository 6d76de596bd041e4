/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a server's listening socket and its URI, see serve/socket.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "serve/server.h"
#include "serve/socket.h"

/* RFC 3986 percent-encoding (see socket.h). */
void
uri_encode (FILE *f, const char *s, const char *keep)
{
  for (; *s; s++) {
    unsigned char c = *s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || strchr ("-._~", c)
        || (c && strchr (keep, c)))
      fputc (c, f);
    else
      fprintf (f, "%%%02X", c);
  }
}

/* Close F, the memstream of *URI: *URI, or NULL with error () set. */
static char *
uri_finish (FILE *f, char **uri)
{
  if (fclose (f) == EOF) {
    free (*uri);
    error_errno (errno, "URI");
    return NULL;
  }
  return *uri;
}

/* nbd+unix, or nbds+unix with TLS; USER@ if not NULL. */
static char *
unix_uri_tls (const char *export_name, const char *socket, bool tls,
              const char *user)
{
  char *uri = NULL;
  size_t len;
  FILE *f = open_memstream (&uri, &len);

  if (!f) {
    error_errno (errno, "open_memstream");
    return NULL;
  }
  fputs (tls ? "nbds+unix://" : "nbd+unix://", f);
  if (user) {
    uri_encode (f, user, "");
    fputc ('@', f);
  }
  fputc ('/', f);
  uri_encode (f, export_name ? export_name : "", "/");
  fputs ("?socket=", f);
  uri_encode (f, socket, "/");
  return uri_finish (f, &uri);
}

char *
unix_uri (const char *export_name, const char *socket)
{
  return unix_uri_tls (export_name, socket, false, NULL);
}

/* Root of the host, not root of a user namespace (podman unshare, where
 * /run belongs to the host's root and the user's runtime dir is the place).
 */
static bool
host_root (void)
{
  return geteuid () == 0 && !process_in_user_namespace ();
}

char *
server_run_dir (void)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  char *dir;
  struct stat st;
  int r;

  if (host_root () || ((!xdg || !*xdg) && geteuid () == 0))
    r = asprintf (&dir, "/run/podman-disk");
  else if (xdg && *xdg)
    r = asprintf (&dir, "%s/podman-disk", xdg);
  else
    r = asprintf (&dir, "/tmp/podman-disk-%u", (unsigned) geteuid ());
  if (r == -1)
    abort ();
  if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
    error_errno (errno, "cannot create the socket directory %s", dir);
    free (dir);
    return NULL;
  }
  /* It may have been there before: it must be ours and private. */
  if (lstat (dir, &st) == -1 || !S_ISDIR (st.st_mode)
      || st.st_uid != geteuid ()) {
    error ("%s is not a directory owned by uid %u: remove it, or choose a "
           "socket with --socket", dir, (unsigned) geteuid ());
    free (dir);
    return NULL;
  }
  if ((st.st_mode & 07777) != 0700 && chmod (dir, 0700) == -1) {
    error_errno (errno, "cannot make %s private (mode 0700)", dir);
    free (dir);
    return NULL;
  }
  return dir;
}

static int
bind_unix (const char *path, int *fdp)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  _cleanup_close_ int fd = -1;

  if (strlen (path) >= sizeof sun.sun_path)
    return error ("%s: socket path too long (at most %zu bytes)",
                  path, sizeof sun.sun_path - 1);
  strcpy (sun.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return error_errno (errno, "socket");
  if (bind (fd, (struct sockaddr *) &sun, sizeof sun) == -1) {
    if (errno == EADDRINUSE)
      return -2;       /* the caller says why */
    return error_errno (errno, "cannot create the socket %s", path);
  }
  *fdp = steal_fd (&fd);
  return 0;
}

/* The prefix of a default socket's name: the short image id, so that
 * 'ls /run/podman-disk' says what is served.
 */
static void
socket_prefix (const struct disk_location *loc, char *buf, size_t len)
{
  const char *id = loc->image_id ? loc->image_id : "";
  size_t n = 0;

  if (strncmp (id, "sha256:", 7) == 0)
    id += 7;
  for (; *id && n < 12 && n + 1 < len; id++)
    if ((*id >= '0' && *id <= '9') || (*id >= 'a' && *id <= 'z'))
      buf[n++] = *id;
  if (n == 0)
    n = snprintf (buf, len, "disk");
  buf[n] = '\0';
}

/* The default socket of a server: RUNDIR/PREFIX-SUFFIX.sock, the image's
 * short id and 8 random characters of these.
 */
static const char socket_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
#define SOCKET_SUFFIX_LEN 8

int
random_name (char *out, size_t len)
{
  unsigned char rnd[64];

  if (len >= sizeof rnd)
    abort ();
  if (getrandom (rnd, len, 0) != (ssize_t) len)
    return error_errno (errno, "getrandom");
  for (size_t i = 0; i < len; i++)
    out[i] = socket_chars[rnd[i] % (sizeof socket_chars - 1)];
  out[len] = '\0';
  return 0;
}

/* Whether NAME is one of ours in the run directory. */
static bool
default_socket_name (const char *name)
{
  size_t prefix = strspn (name, socket_chars);

  return prefix >= 1 && prefix <= 12 && name[prefix] == '-'
    && strspn (name + prefix + 1, socket_chars) == SOCKET_SUFFIX_LEN
    && strcmp (name + prefix + 1 + SOCKET_SUFFIX_LEN, ".sock") == 0;
}

int
socket_listened (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct stat st;

  if (lstat (path, &st) == -1)
    return errno == ENOENT ? 0 : error_errno (errno, "%s", path);
  if (!S_ISSOCK (st.st_mode))
    return error ("%s exists and is not a socket", path);
  if (strlen (path) >= sizeof sun.sun_path)
    return error ("%s: socket path too long", path);
  strcpy (sun.sun_path, path);
  _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return error_errno (errno, "socket");
  if (connect (fd, (struct sockaddr *) &sun, sizeof sun) == 0)
    return 1;
  if (errno == ECONNREFUSED)
    return 0;
  return error_errno (errno, "%s exists and cannot be checked", path);
}

int
socket_clear_stale (const char *path)
{
  int r = socket_listened (path);

  if (r != 0)
    return r;
  if (unlink (path) == -1 && errno != ENOENT)
    return error_errno (errno, "cannot remove the stale socket %s", path);
  return 0;
}

/* Sockets of servers that are gone without cleaning up (their supervisor
 * was killed by SIGKILL): in our own private directory, nothing listens
 * on them any more.  Removed when a new server starts.
 */
static void
sweep_stale_sockets (const char *dir)
{
  _cleanup_closedir_ DIR *d = opendir (dir);
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL) {
    _cleanup_free_ char *path = NULL;
    if (!default_socket_name (de->d_name)
        || asprintf (&path, "%s/%s", dir, de->d_name) == -1)
      continue;
    if (socket_clear_stale (path) == -1)
      error_clear ();
  }
}

/* PATH made absolute by the current directory, or NULL with error () set. */
char *
absolute_path (const char *path)
{
  _cleanup_free_ char *cwd = NULL;
  char *abs;

  if (path[0] == '/')
    return strdup (path);
  if ((cwd = getcwd (NULL, 0)) == NULL) {
    error_errno (errno, "cannot resolve %s: getcwd", path);
    return NULL;
  }
  if (asprintf (&abs, "%s/%s", strcmp (cwd, "/") ? cwd : "", path) == -1)
    abort ();
  return abs;
}

int
socket_listen_unix (const struct disk_location *loc, const struct server_options *opts,
             struct server *srv, int *fdp)
{
  struct stat st;
  int r;

  if (opts->socket) {
    /* Absolute in the URI: clients may run elsewhere (--run 'cd ...'). */
    if ((srv->socket = absolute_path (opts->socket)) == NULL)
      return -1;
    if (lstat (srv->socket, &st) == 0)
      return error ("%s: socket path exists: remove it or choose another",
                    srv->socket);
    r = bind_unix (srv->socket, fdp);
    if (r == -2)
      return error ("%s: socket path exists: remove it or choose another",
                    srv->socket);
    if (r == -1)
      return -1;
  }
  else {
    _cleanup_free_ char *dir = server_run_dir ();
    char prefix[16];

    if (!dir)
      return -1;
    sweep_stale_sockets (dir);
    socket_prefix (loc, prefix, sizeof prefix);
    for (int tries = 0; ; tries++) {
      char suffix[SOCKET_SUFFIX_LEN + 1];
      if (random_name (suffix, SOCKET_SUFFIX_LEN) == -1)
        return -1;
      if (asprintf (&srv->socket, "%s/%s-%s.sock", dir, prefix, suffix) == -1)
        abort ();
      r = bind_unix (srv->socket, fdp);
      if (r == 0)
        break;
      free (srv->socket);
      srv->socket = NULL;
      if (r == -1)
        return -1;
      if (tries == 16)
        return error ("cannot find a free socket name in %s", dir);
    }
  }
  /* Remember which file is ours: only that one is ever removed. */
  if (lstat (srv->socket, &st) == 0) {
    srv->socket_dev = st.st_dev;
    srv->socket_ino = st.st_ino;
  }
  return 0;
}

int
socket_listen_also (const struct server_options *opts, struct server *srv, int *fdp)
{
  struct stat st;

  if ((srv->also_socket = absolute_path (opts->also_socket)) == NULL)
    return -1;
  int r = bind_unix (srv->also_socket, fdp);
  if (r == -2)
    return error ("%s: socket path exists: remove it or choose another",
                  srv->also_socket);
  if (r == -1)
    return -1;
  if (lstat (srv->also_socket, &st) == 0) {
    srv->also_dev = st.st_dev;
    srv->also_ino = st.st_ino;
  }
  return 0;
}

int
socket_listen_tcp (const struct server_options *opts, struct server *srv, int *fdp)
{
  const char *address = opts->address ? opts->address : "127.0.0.1";
  struct addrinfo hints = {
    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    .ai_family = AF_UNSPEC,
    .ai_socktype = SOCK_STREAM,
  };
  struct addrinfo *res;
  _cleanup_close_ int fd = -1;
  int r, one = 1;

  r = getaddrinfo (address, opts->port, &hints, &res);
  if (r != 0)
    return error ("cannot listen on %s: %s", address, gai_strerror (r));
  fd = socket (res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  if (fd == -1) {
    freeaddrinfo (res);
    return error_errno (errno, "socket");
  }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  r = bind (fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo (res);
  if (r == -1) {
    if (errno == EADDRINUSE)
      return error ("port %s on %s is in use: choose another with --port",
                    opts->port, address);
    return error_errno (errno, "cannot listen on %s port %s", address, opts->port);
  }
  if ((srv->port = strdup (opts->port)) == NULL)
    return error_errno (errno, "strdup");
  *fdp = steal_fd (&fd);
  return 0;
}

int
socket_inherited (int fd, struct server *srv)
{
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  char host[NI_MAXHOST], port[NI_MAXSERV];
  int r;

  if (getsockname (fd, (struct sockaddr *) &addr, &len) == -1)
    return error_errno (errno, "socket activation: getsockname");
  if (addr.ss_family == AF_UNIX) {
    struct sockaddr_un *sun = (struct sockaddr_un *) &addr;
    size_t n = len - offsetof (struct sockaddr_un, sun_path);
    /* An NBD URI names a socket by its path. */
    if (len <= offsetof (struct sockaddr_un, sun_path) || sun->sun_path[0] == '\0')
      return error ("socket activation: the inherited Unix socket has no "
                    "path (abstract or unnamed): give it one");
    if ((srv->socket = strndup (sun->sun_path, n)) == NULL)
      return error_errno (errno, "strndup");
    return 0;
  }
  if (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)
    return error ("socket activation: the inherited socket is neither a Unix "
                  "nor a TCP one (family %d)", addr.ss_family);
  r = getnameinfo ((struct sockaddr *) &addr, len, host, sizeof host,
                   port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  if (r != 0)
    return error ("socket activation: getnameinfo: %s", gai_strerror (r));
  if ((srv->address = strdup (host)) == NULL || (srv->port = strdup (port)) == NULL)
    return error_errno (errno, "strdup");
  return 0;
}

/* Whether ADDRESS is the any address of IPv4 or IPv6. */
static bool
wildcard_address (const char *address)
{
  struct in_addr a4;
  struct in6_addr a6;

  if (inet_pton (AF_INET, address, &a4) == 1)
    return a4.s_addr == htonl (INADDR_ANY);
  if (inet_pton (AF_INET6, address, &a6) == 1)
    return IN6_IS_ADDR_UNSPECIFIED (&a6);
  return false;
}

char *
socket_uri (const struct server_options *opts, const struct server *srv)
{
  char *uri = NULL;
  size_t len;
  FILE *f;

  bool tls = opts->tls != SERVER_TLS_OFF;
  const char *user = srv->tls_username;
  char host[HOST_NAME_MAX + 1];

  if (srv->socket)
    return unix_uri_tls (srv->export_name, srv->socket, tls, user);
  const char *address = srv->address ? srv->address
    : opts->address ? opts->address : "127.0.0.1";
  if (wildcard_address (address)) {
    if (gethostname (host, sizeof host) == -1) {
      error_errno (errno, "gethostname");
      return NULL;
    }
    host[sizeof host - 1] = '\0';
    address = host;
  }
  if ((f = open_memstream (&uri, &len)) == NULL) {
    error_errno (errno, "open_memstream");
    return NULL;
  }
  fputs (tls ? "nbds://" : "nbd://", f);
  if (user) {
    uri_encode (f, user, "");
    fputc ('@', f);
  }
  if (strchr (address, ':'))
    fprintf (f, "[%s]:%s/", address, srv->port);
  else
    fprintf (f, "%s:%s/", address, srv->port);
  uri_encode (f, srv->export_name, "/");
  return uri_finish (f, &uri);
}

char *
socket_guestfs_uri (const struct server *srv)
{
  char *uri = NULL;
  size_t len;
  FILE *f;

  if (!srv->socket) {
    if ((uri = strdup (srv->uri)) == NULL)
      error_errno (errno, "strdup");
    return uri;
  }
  if ((f = open_memstream (&uri, &len)) == NULL) {
    error_errno (errno, "open_memstream");
    return NULL;
  }
  /* libguestfs knows no nbd+unix: an empty host and a socket= query say
   * Unix socket to it; the path without its '/' is the export name.
   */
  fputs ("nbd://", f);
  if (*srv->export_name) {
    fputc ('/', f);
    uri_encode (f, srv->export_name, "/");
  }
  fputs ("?socket=", f);
  uri_encode (f, srv->socket, "/");
  return uri_finish (f, &uri);
}

static void
remove_if_ours (const char *path, dev_t dev, ino_t ino)
{
  struct stat st;

  if (path && ino && lstat (path, &st) == 0 && S_ISSOCK (st.st_mode)
      && st.st_dev == dev && st.st_ino == ino)
    unlink (path);
}

void
socket_remove (struct server *srv)
{
  remove_if_ours (srv->socket, srv->socket_dev, srv->socket_ino);
  remove_if_ours (srv->also_socket, srv->also_dev, srv->also_ino);
  srv->socket_ino = srv->also_ino = 0;
}

