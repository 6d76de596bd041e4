/* podman-disk: start, watch and stop an NBD server, see server.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "common/dl.h"
#include "common/error.h"
#include "serve/pin.h"
#include "serve/qemuspec.h"
#include "serve/server.h"

/* The descriptors a server is given (see server.h). */
#define LISTEN_FD 3
#define DISK_FD 4
#define DISK_FD_PATH "/dev/fd/4"

/* How long a server may take to become ready, and to stop on SIGTERM. */
#define READY_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 5000

extern char **environ;

void
server_init (struct server *srv)
{
  memset (srv, 0, sizeof *srv);
  srv->errfd = -1;
}

void
server_clear (struct server *srv)
{
  free (srv->uri);
  free (srv->socket);
  free (srv->port);
  free (srv->export_name);
  free (srv->pidfile);
  if (srv->errfd >= 0)
    close (srv->errfd);
  server_init (srv);
}

const char *
server_name (enum server_kind kind)
{
  switch (kind) {
  case SERVER_NBDKIT: return "nbdkit";
  case SERVER_QEMU_NBD: return "qemu-nbd";
  default: return "auto";
  }
}

int
server_parse_kind (const char *name, enum server_kind *out)
{
  if (strcmp (name, "nbdkit") == 0)
    *out = SERVER_NBDKIT;
  else if (strcmp (name, "qemu-nbd") == 0)
    *out = SERVER_QEMU_NBD;
  else if (strcmp (name, "auto") == 0)
    *out = SERVER_AUTO;
  else
    return -1;
  return 0;
}

static bool
decodes_qcow2 (const struct disk_location *loc, const struct server_options *opts)
{
  return opts->decode && loc->fmt.format == DISK_QCOW2;
}

int
server_choose (const struct disk_location *loc,
               const struct server_options *opts, enum server_kind *out)
{
  if (opts->kind == SERVER_AUTO) {
    *out = decodes_qcow2 (loc, opts) ? SERVER_QEMU_NBD : SERVER_NBDKIT;
    return 0;
  }
  if (opts->kind == SERVER_NBDKIT && decodes_qcow2 (loc, opts))
    return error ("nbdkit cannot decode the qcow2 disk: use --server qemu-nbd, "
                  "or --no-decode to export its bytes as stored");
  /* qemu sees files in 512-byte sectors: it would refuse the raw window,
   * or export a whole file rounded up with bytes that are not the disk's.
   */
  if (opts->kind == SERVER_QEMU_NBD && !decodes_qcow2 (loc, opts)
      && loc->size % 512)
    return error ("qemu-nbd cannot export %" PRIu64 " bytes exactly (not a "
                  "multiple of 512): use --server nbdkit", loc->size);
  *out = opts->kind;
  return 0;
}

/* ---- Small string helpers ---------------------------------------------- */

struct strv {
  char **v;
  size_t n;
};

static void __attribute__ ((format (printf, 2, 3)))
push (struct strv *s, const char *fmt, ...)
{
  va_list ap;
  char *str;

  va_start (ap, fmt);
  if (vasprintf (&str, fmt, ap) == -1)
    abort ();
  va_end (ap);
  s->v = realloc (s->v, (s->n + 2) * sizeof *s->v);
  if (!s->v)
    abort ();
  s->v[s->n++] = str;
  s->v[s->n] = NULL;
}

/* RFC 3986 percent-encoding of S, keeping the unreserved characters and
 * those in KEEP.
 */
static void
pct_encode (FILE *f, const char *s, const char *keep)
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

/* ---- Argument vectors ---------------------------------------------------- */

/* qemu-nbd --snapshot puts a writable overlay on top of the image's node,
 * which it refuses when that node says read-only: the file node under it
 * stays read-only, so the image still cannot be written.
 */
static char *
spec_without_top_read_only (char *spec)
{
  const char *prefix = "json:";
  json_object *o = json_tokener_parse (spec + strlen (prefix));
  char *ret;

  free (spec);
  if (!o)
    return NULL;
  json_object_object_del (o, "read-only");
  if (asprintf (&ret, "%s%s", prefix, json_object_to_json_string_ext (
                  o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) == -1)
    ret = NULL;
  json_object_put (o);
  return ret;
}

/* How long "nbdkit --version" may take: it answers in milliseconds; a
 * program that does not must not hang a serve or a hook.
 */
#define VERSION_TIMEOUT_MS 2000

static int64_t now_ms (void);

/* What "EXE --version" prints first, or "" (EXE not run, silent, or not
 * done within VERSION_TIMEOUT_MS: then killed).  It gets no stdin and no
 * stderr of ours, and dies with us, so it holds nothing of the caller's
 * (a hook's runtime waits for the hook's output to close).
 */
static void
program_version (const char *exe, char *buf, size_t len)
{
  int p[2], status;
  size_t got = 0;

  buf[0] = '\0';
  if (pipe2 (p, O_CLOEXEC) == -1)
    return;
  fflush (stdout);
  fflush (stderr);
  pid_t pid = fork ();
  if (pid == 0) {
    int null = open ("/dev/null", O_RDWR);
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (null == -1 || dup2 (null, STDIN_FILENO) == -1
        || dup2 (p[1], STDOUT_FILENO) == -1 || dup2 (null, STDERR_FILENO) == -1)
      _exit (127);
    execl (exe, exe, "--version", (char *) NULL);
    _exit (127);
  }
  close (p[1]);
  if (pid == -1) {
    close (p[0]);
    return;
  }
  int64_t deadline = now_ms () + VERSION_TIMEOUT_MS;
  for (;;) {
    struct pollfd pfd = { .fd = p[0], .events = POLLIN };
    int64_t left = deadline - now_ms ();
    if (left <= 0 || got >= len - 1)
      break;
    int r = poll (&pfd, 1, left);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ssize_t n = read (p[0], buf + got, len - 1 - got);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += n;
  }
  buf[got] = '\0';
  close (p[0]);
  kill (pid, SIGKILL);         /* done or not: it has said all we read */
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
}

bool
server_nbdkit_takes_fd (const char *exe)
{
  char version[256];
  int major, minor;

  program_version (exe, version, sizeof version);
  if (sscanf (version, "nbdkit %d.%d", &major, &minor) != 2)
    return false;
  bool takes_fd = major > 1 || minor >= 34;
  debug ("%s is nbdkit %d.%d: the disk goes as %s", exe, major, minor,
         takes_fd ? "fd=4" : "file=" PIN_PATH);
  return takes_fd;
}

char **
server_argv (const struct disk_location *loc,
             const struct server_options *opts,
             enum server_kind kind, const char *exe)
{
  struct strv a = { NULL, 0 };

  push (&a, "%s", exe);
  if (kind == SERVER_NBDKIT) {
    push (&a, "--foreground");
    /* nbdkit answers to any export name unless told, qemu-nbd to its own:
     * the same for both.
     */
    if (opts->export_name && *opts->export_name)
      push (&a, "--filter=exportname");
    /* The cow filter opens the plugin read-only below its overlay. */
    push (&a, opts->writable ? "--filter=cow" : "--readonly");
    push (&a, "--filter=offset");
    push (&a, "file");
    /* fd= (nbdkit 1.34) serves the very file.  file= is resolved by
     * realpath at start and that path opened again for every connection:
     * it gets a name that only leads to the disk (serve/pin.h).
     */
    if (server_nbdkit_takes_fd (exe))
      push (&a, "fd=%d", DISK_FD);
    else
      push (&a, "file=%s", PIN_PATH);
    push (&a, "offset=%" PRIu64, loc->offset);
    push (&a, "range=%" PRIu64, loc->size);
    if (opts->export_name && *opts->export_name) {
      push (&a, "exportname=%s", opts->export_name);
      push (&a, "exportname-strict=true");
    }
  }
  else {
    char *spec = qemuspec_build (loc, opts->decode, DISK_FD_PATH);
    if (!spec) {                        /* error() says why */
      strv_free (a.v);
      return NULL;
    }
    if (opts->writable && !(spec = spec_without_top_read_only (spec))) {
      strv_free (a.v);
      error ("cannot build the qemu json: spec of the disk");
      return NULL;
    }
    push (&a, opts->writable ? "--snapshot" : "--read-only");
    push (&a, "--persistent");          /* not just the first client */
    push (&a, "--shared=0");            /* any number of clients */
    if (opts->export_name && *opts->export_name)
      push (&a, "--export-name=%s", opts->export_name);
    push (&a, "%s", spec);
    free (spec);
  }
  return a.v;
}

char *
server_find_program (const char *name)
{
  const char *path = getenv ("PATH");
  char *ret;

  if (strchr (name, '/'))
    return access (name, X_OK) == 0 ? strdup (name) : NULL;
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; ; p += strcspn (p, ":") + 1) {
    int len = strcspn (p, ":");
    struct stat st;
    if (asprintf (&ret, "%.*s%s%s", len, p, len ? "/" : "", name) == -1)
      abort ();
    if (stat (ret, &st) == 0 && S_ISREG (st.st_mode) && access (ret, X_OK) == 0)
      return ret;
    free (ret);
    if (p[len] == '\0')
      return NULL;
  }
}

/* The server's program, or NULL with error () saying what to install. */
static char *
find_server (enum server_kind kind)
{
  char *exe = server_find_program (server_name (kind));

  if (exe)
    return exe;
  if (kind == SERVER_NBDKIT)
    error ("nbdkit not found: install nbdkit (Debian: nbdkit, "
           "Fedora: nbdkit nbdkit-basic-filters)");
  else
    error ("qemu-nbd not found: install qemu-utils (Debian) or "
           "qemu-img (Fedora)");
  return NULL;
}

/* ---- The listening socket ------------------------------------------------ */

/* Root of the host, not root of a user namespace (podman unshare, where
 * /run belongs to the host's root and the user's runtime dir is the place).
 */
static bool
host_root (void)
{
  char buf[128];
  unsigned long inside, outside, count;
  FILE *f;
  bool initial = false;

  if (geteuid () != 0)
    return false;
  if ((f = fopen ("/proc/self/uid_map", "re")) == NULL)
    return true;
  if (fgets (buf, sizeof buf, f)
      && sscanf (buf, "%lu %lu %lu", &inside, &outside, &count) == 3)
    initial = inside == 0 && outside == 0 && count == 4294967295UL;
  fclose (f);
  return initial;
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

/* Whether NAME is one of ours in the run directory. */
static bool
default_socket_name (const char *name)
{
  size_t prefix = strspn (name, socket_chars);

  return prefix >= 1 && prefix <= 12 && name[prefix] == '-'
    && strspn (name + prefix + 1, socket_chars) == SOCKET_SUFFIX_LEN
    && strcmp (name + prefix + 1 + SOCKET_SUFFIX_LEN, ".sock") == 0;
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
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct stat st;
    if (!default_socket_name (de->d_name)
        || fstatat (dirfd (d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1
        || !S_ISSOCK (st.st_mode)
        || snprintf (sun.sun_path, sizeof sun.sun_path, "%s/%s", dir,
                     de->d_name) >= (int) sizeof sun.sun_path)
      continue;
    _cleanup_close_ int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect (fd, (struct sockaddr *) &sun, sizeof sun) == -1
        && errno == ECONNREFUSED) {
      debug ("removing %s: no server listens on it", sun.sun_path);
      unlinkat (dirfd (d), de->d_name, 0);
    }
  }
}

/* PATH made absolute by the current directory, or NULL with error () set. */
static char *
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

static int
listen_unix (const struct disk_location *loc, const struct server_options *opts,
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
      unsigned char rnd[SOCKET_SUFFIX_LEN];
      char suffix[sizeof rnd + 1];
      if (getrandom (rnd, sizeof rnd, 0) != sizeof rnd)
        return error_errno (errno, "getrandom");
      for (size_t i = 0; i < sizeof rnd; i++)
        suffix[i] = socket_chars[rnd[i] % (sizeof socket_chars - 1)];
      suffix[sizeof rnd] = '\0';
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

static int
listen_tcp (const struct server_options *opts, struct server *srv, int *fdp)
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
  srv->port = strdup (opts->port);
  *fdp = steal_fd (&fd);
  return 0;
}

static char *
make_uri (const struct server_options *opts, const struct server *srv)
{
  char *uri = NULL;
  size_t len;
  FILE *f = open_memstream (&uri, &len);

  if (!f)
    abort ();
  if (srv->socket) {
    fputs ("nbd+unix:///", f);
    pct_encode (f, srv->export_name, "/");
    fputs ("?socket=", f);
    pct_encode (f, srv->socket, "/");
  }
  else {
    const char *address = opts->address ? opts->address : "127.0.0.1";
    if (strchr (address, ':'))
      fprintf (f, "nbd://[%s]:%s/", address, srv->port);
    else
      fprintf (f, "nbd://%s:%s/", address, srv->port);
    pct_encode (f, srv->export_name, "/");
  }
  fclose (f);
  return uri;
}

static void
remove_socket (struct server *srv)
{
  struct stat st;

  if (srv->socket && srv->socket_ino
      && lstat (srv->socket, &st) == 0 && S_ISSOCK (st.st_mode)
      && st.st_dev == srv->socket_dev && st.st_ino == srv->socket_ino)
    unlink (srv->socket);
  srv->socket_ino = 0;
  if (srv->pidfile) {
    unlink (srv->pidfile);
    free (srv->pidfile);
    srv->pidfile = NULL;
  }
}

/* ---- The server process --------------------------------------------------- */

/* Once the server is ready, it still writes a line for each client that
 * fails its handshake, for as long as it runs: its stderr gets a fixed
 * size, SERVER_OUTPUT_MORE bytes beyond what it wrote so far; the rest of
 * its writes fail.  Unwritten, that room is a hole that takes no memory.
 */
static int
bound_output (struct server *srv)
{
  off_t end = server_output_end (srv->errfd);

  if (end == -1 || ftruncate (srv->errfd, end + SERVER_OUTPUT_MORE) == -1
      || fcntl (srv->errfd, F_ADD_SEALS,
                F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) == -1)
    return error_errno (errno, "cannot bound the server's stderr");
  return 0;
}

off_t
server_output_end (int errfd)
{
  /* The server's descriptor shares our file offset: where it wrote last. */
  return lseek (errfd, 0, SEEK_CUR);
}

/* The server's stderr so far, on one line: "; " between its lines. */
static char *
server_stderr (const struct server *srv)
{
  char buf[2048];
  ssize_t n = 0;
  off_t size;
  char *out, *o;

  if (srv->errfd >= 0 && (size = server_output_end (srv->errfd)) > 0) {
    /* The end says most: where it failed. */
    off_t from = size > (off_t) sizeof buf - 1 ? size - (off_t) sizeof buf + 1 : 0;
    n = pread (srv->errfd, buf, sizeof buf - 1, from);
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
    /* qemu-nbd quotes the whole json: spec: the disk is what it means. */
    char *spec = strstr (line, "'json:{"), *end;
    if (spec && (end = strchr (spec + 1, '\'')) != NULL) {
      o += sprintf (o, "%s%.*s'the disk'", o == out ? "" : "; ",
                    (int) (spec - line), line);
      line = end + 1;
    }
    else if (o != out)
      o += sprintf (o, "; ");
    o += sprintf (o, "%s", line);
  }
  *o = '\0';
  return out;
}

static void
describe_status (int status, char *buf, size_t len)
{
  if (WIFEXITED (status))
    snprintf (buf, len, "status %d", WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    snprintf (buf, len, "killed by %s", sigabbrev_np (WTERMSIG (status))
              ? sigabbrev_np (WTERMSIG (status)) : "a signal");
  else
    snprintf (buf, len, "wait status %d", status);
}

/* The server was reaped with STATUS: clean up and say what happened. */
static void
server_exited (struct server *srv, int status)
{
  _cleanup_free_ char *err = server_stderr (srv);
  char how[64];

  srv->pid = 0;
  remove_socket (srv);
  describe_status (status, how, sizeof how);
  if (*err)
    error ("%s exited (%s): %s", server_name (srv->kind), how, err);
  else
    error ("%s exited (%s)", server_name (srv->kind), how);
}

/* The environment of a socket-activated server: ours without any
 * LISTEN_* and NOTIFY_SOCKET, plus LISTEN_FDS=1 and LISTEN_PID (whose
 * value the child writes in PIDBUF, known only after fork).
 */
static char **
activation_env (char *pidbuf)
{
  size_t n = 0;
  char **env;

  for (char **e = environ; *e; e++)
    n++;
  env = malloc ((n + 3) * sizeof *env);
  if (!env)
    abort ();
  n = 0;
  for (char **e = environ; *e; e++)
    if (strncmp (*e, "LISTEN_", 7) && strncmp (*e, "NOTIFY_SOCKET=", 14))
      env[n++] = *e;
  env[n++] = (char *) "LISTEN_FDS=1";
  env[n++] = pidbuf;
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

static int
spawn (const char *exe, char **argv, int listenfd, int diskfd,
       struct server *srv)
{
  char pidbuf[32] = "LISTEN_PID=";
  _cleanup_free_ char **env = activation_env (pidbuf);
  pid_t parent = getpid ();
  pid_t pid;

  srv->errfd = memfd_create ("podman-disk-server-stderr",
                              MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (srv->errfd == -1)
    return error_errno (errno, "memfd_create");
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == -1)
    return error_errno (errno, "fork");
  if (pid == 0) {
    sigset_t none;
    int nul, l, d, e;

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
    nul = open ("/dev/null", O_RDWR);
    l = fcntl (listenfd, F_DUPFD, 10);
    d = fcntl (diskfd, F_DUPFD, 10);
    e = fcntl (srv->errfd, F_DUPFD, 10);
    if (nul == -1 || l == -1 || d == -1 || e == -1
        || dup2 (nul, 0) == -1 || dup2 (nul, 1) == -1 || dup2 (e, 2) == -1
        || dup2 (l, LISTEN_FD) == -1 || dup2 (d, DISK_FD) == -1)
      _exit (126);
    close_range (DISK_FD + 1, ~0U, 0);
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
  return 0;
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reap the server if it exited within MS milliseconds: true if it did. */
static bool
reap_within (struct server *srv, int ms, int *status)
{
  int64_t deadline = now_ms () + ms;

  *status = 0;
  for (;;) {
    pid_t r = waitpid (srv->pid, status, WNOHANG);
    if (r == srv->pid || (r == -1 && errno == ECHILD))
      return true;
    if (now_ms () >= deadline)
      return false;
    nanosleep (&(struct timespec) { 0, 2 * 1000 * 1000 }, NULL);
  }
}

/* Whether the server holds the disk file open under a descriptor of its
 * own (not the one it inherited): 1 yes, 0 no, -1 cannot tell (/proc not
 * readable, as across user namespaces).
 */
static int
server_opened_disk (pid_t pid, int diskfd)
{
  char dir[64];
  struct stat want, st;
  _cleanup_closedir_ DIR *d = NULL;
  struct dirent *de;

  if (fstat (diskfd, &want) == -1)
    return -1;
  snprintf (dir, sizeof dir, "/proc/%d/fd", (int) pid);
  if ((d = opendir (dir)) == NULL)
    return -1;
  while ((de = readdir (d)) != NULL) {
    int fd = atoi (de->d_name);
    if (de->d_name[0] == '.' || fd <= DISK_FD)
      continue;
    if (fstatat (dirfd (d), de->d_name, &st, 0) == 0
        && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
      return 1;
  }
  return 0;
}

/* Fail the start: the server's stderr if it said something, else WHY. */
static int
not_ready (struct server *srv, const char *why)
{
  int status;
  /* A server that failed is usually exiting: give it a moment. */
  bool exited = reap_within (srv, 1000, &status);
  _cleanup_free_ char *err = server_stderr (srv);
  char how[64];

  if (exited) {
    srv->pid = 0;
    describe_status (status, how, sizeof how);
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

/* Connect to the listening socket, which the server inherited: the
 * connection waits in its backlog until the server accepts it, or is reset
 * when the server dies.
 */
static int
wait_ready (struct server *srv, const struct sockaddr_storage *addr,
            socklen_t addrlen, uint64_t want_size, bool want_ro, int diskfd)
{
  struct nbd_handle *h;
  int sock, r = -1;
  int64_t deadline = now_ms () + READY_TIMEOUT_MS;
  char why[512];

  if (dl_libnbd () == -1)
    return -1;
  if ((h = sym_nbd_create ()) == NULL)
    return error ("nbd_create: %s", sym_nbd_get_error ());
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
  if (sym_nbd_set_export_name (h, srv->export_name) == -1) {
    close (sock);
    error ("libnbd: %s", sym_nbd_get_error ());
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
  else if (server_opened_disk (srv->pid, diskfd) == 0)
    error ("%s opened another file than the disk located: was the image "
           "removed meanwhile?", server_name (srv->kind));
  else
    r = 0;
  sym_nbd_shutdown (h, 0);
 out:
  sym_nbd_close (h);
  return r;
}

void
server_block_signals (void)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGCHLD);
  sigprocmask (SIG_BLOCK, &set, NULL);
  /* Ignored, it would never be queued: children would reap themselves. */
  signal (SIGCHLD, SIG_DFL);
}

int
server_start (const struct disk_location *loc,
              const struct server_options *opts, struct server *srv)
{
  _cleanup_free_ char *exe = NULL;
  _cleanup_strv_ char **argv = NULL;
  _cleanup_close_ int listenfd = -1;
  struct sockaddr_storage addr;
  socklen_t addrlen = sizeof addr;
  uint64_t want_size;

  server_init (srv);
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
  if ((exe = find_server (srv->kind)) == NULL)
    return -1;
  if ((argv = server_argv (loc, opts, srv->kind, exe)) == NULL)
    return -1;
  if (verbose) {
    _cleanup_free_ char *line = NULL;
    size_t len;
    FILE *f = open_memstream (&line, &len);
    for (char **a = argv; *a; a++)
      fprintf (f, "%s%s", a == argv ? "" : " ", *a);
    fclose (f);
    debug ("starting %s", line);
  }
  srv->export_name = strdup (opts->export_name ? opts->export_name : "");

  if ((opts->port ? listen_tcp (opts, srv, &listenfd)
       : listen_unix (loc, opts, srv, &listenfd)) == -1)
    goto fail;
  if (listen (listenfd, SOMAXCONN) == -1
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
  srv->uri = make_uri (opts, srv);

  if (spawn (exe, argv, listenfd, loc->fd, srv) == -1)
    goto fail;
  /* Only the server holds the socket now: if it dies, clients see it. */
  close (steal_fd (&listenfd));
  want_size = decodes_qcow2 (loc, opts) ? loc->fmt.virtual_size : loc->size;
  if (wait_ready (srv, &addr, addrlen, want_size, !opts->writable, loc->fd) == -1
      || bound_output (srv) == -1)
    goto fail;
  debug ("%s (pid %d) ready at %s", server_name (srv->kind), (int) srv->pid, srv->uri);
  return 0;

 fail:
  server_stop (srv);
  server_clear (srv);
  return -1;
}

int
server_write_pidfile (struct server *srv, const char *pidfile)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d\n", (int) srv->pid);
  _cleanup_free_ char *path = absolute_path (pidfile);
  _cleanup_close_ int fd = -1;

  if (!path)
    return -1;
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1 || write (fd, buf, n) != n)
    return error_errno (errno, "cannot write the pid file %s", pidfile);
  free (srv->pidfile);
  srv->pidfile = steal_pointer (&path);
  return 0;
}

enum server_event
server_wait (struct server *srv, pid_t child, int *value)
{
  sigset_t set;
  int status;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGCHLD);
  for (;;) {
    if (srv->pid > 0 && waitpid (srv->pid, &status, WNOHANG) == srv->pid) {
      server_exited (srv, status);
      return SERVER_EXITED;
    }
    if (child > 0 && waitpid (child, &status, WNOHANG) == child) {
      *value = status;
      return SERVER_CHILD_EXITED;
    }
    int sig = sigwaitinfo (&set, NULL);
    if (sig > 0 && sig != SIGCHLD) {
      *value = sig;
      return SERVER_SIGNAL;
    }
  }
}

void
server_stop (struct server *srv)
{
  int status;

  if (srv->pid > 0) {
    kill (srv->pid, SIGTERM);
    if (!reap_within (srv, STOP_TIMEOUT_MS, &status)) {
      kill (srv->pid, SIGKILL);
      waitpid (srv->pid, &status, 0);
    }
    srv->pid = 0;
  }
  remove_socket (srv);
}

/* ---- Detached servers -------------------------------------------------------- */

/* The report of the supervisor to the caller: NUL-separated fields.
 * -1 if the caller is gone.
 */
static int
report (int fd, const char *const *fields, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    const char *s = fields[i] ? fields[i] : "";
    if (write (fd, s, strlen (s) + 1) == -1)
      return -1;
  }
  return 0;
}

/* In the supervisor: start the server, tell the caller, then watch. */
static void __attribute__ ((noreturn))
supervise (const struct disk_location *loc, const struct server_options *opts,
           const char *pidfile, int reportfd)
{
  struct server srv;
  char pid[32], sup[32];
  int nul, value;

  setsid ();
  signal (SIGPIPE, SIG_IGN);
  server_block_signals ();
  if (server_start (loc, opts, &srv) == -1
      || (pidfile && server_write_pidfile (&srv, pidfile) == -1)
      /* (both took their paths as absolute ones) */
      || (chdir ("/") == -1 && error_errno (errno, "chdir /"))) {
    const char *fields[] = { "ERR", error_message () };
    server_stop (&srv);
    report (reportfd, fields, 2);
    _exit (1);
  }
  nul = open ("/dev/null", O_RDWR);
  if (nul == -1 || dup2 (nul, 0) == -1 || dup2 (nul, 1) == -1
      || dup2 (nul, 2) == -1) {
    server_stop (&srv);
    _exit (1);
  }
  snprintf (pid, sizeof pid, "%d", (int) srv.pid);
  snprintf (sup, sizeof sup, "%d", (int) getpid ());
  const char *fields[] = {
    "OK", pid, sup, server_name (srv.kind), srv.uri, srv.socket, srv.port,
    srv.export_name,
  };
  /* A caller killed meanwhile learns nothing: no export nobody knows of. */
  if (report (reportfd, fields, sizeof fields / sizeof fields[0]) == -1) {
    server_stop (&srv);
    _exit (1);
  }
  /* Nothing of the caller's stays open here, the disk fd included (the
   * server has its own), and closing the report pipe tells the caller.
   * Nobody reads the server's stderr any more either.
   */
  close (srv.errfd);
  srv.errfd = -1;
  close_range (3, ~0U, 0);
  for (;;) {
    switch (server_wait (&srv, 0, &value)) {
    case SERVER_SIGNAL:
      server_stop (&srv);
      _exit (0);
    case SERVER_EXITED:
      _exit (0);
    case SERVER_CHILD_EXITED:
      break;
    }
  }
}

int
server_start_detached (const struct disk_location *loc,
                       const struct server_options *opts,
                       const char *pidfile, struct server *srv)
{
  int p[2], status;
  pid_t pid;
  char buf[8192];
  size_t len = 0;
  ssize_t n;

  server_init (srv);
  if (pipe2 (p, O_CLOEXEC) == -1)
    return error_errno (errno, "pipe");
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == -1) {
    close (p[0]);
    close (p[1]);
    return error_errno (errno, "fork");
  }
  if (pid == 0) {
    /* Fork again so that the supervisor is nobody's child but init's. */
    close (p[0]);
    pid = fork ();
    if (pid == -1) {
      const char *fields[] = { "ERR", "fork failed" };
      report (p[1], fields, 2);
      _exit (1);
    }
    if (pid > 0)
      _exit (0);
    supervise (loc, opts, pidfile, p[1]);
  }
  close (p[1]);
  waitpid (pid, &status, 0);
  while (len < sizeof buf - 1
         && ((n = read (p[0], buf + len, sizeof buf - 1 - len)) > 0
             || (n == -1 && errno == EINTR)))
    if (n > 0)
      len += n;
  close (p[0]);
  buf[len] = '\0';

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
  srv->uri = strdup (f[4]);
  srv->socket = *f[5] ? strdup (f[5]) : NULL;
  srv->port = *f[6] ? strdup (f[6]) : NULL;
  srv->export_name = strdup (f[7]);
  if (pidfile)
    srv->pidfile = strdup (pidfile);
  return 0;
}
