/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of src/serve/server.c: serve hand-made disk locations (raw and
 * qcow2 at a non-zero offset in a bigger file) with nbdkit and qemu-nbd,
 * and check the bytes a libnbd client reads, the flags, the errors and that
 * nothing is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/dl.h"
#include "common/error.h"
#include "location.h"
#include "serve/server.h"
#include "serve/supervisor.h"

#include "unit.h"

#define DISK_SIZE (4 * 1024 * 1024)

static char tmpdir[] = "/tmp/test-server.XXXXXX";
static unsigned char *disk;          /* the guest bytes */

static char *
path (const char *name)
{
  char *p;
  if (asprintf (&p, "%s/%s", tmpdir, name) == -1)
    unit_die ("asprintf");
  return p;
}

static void
write_file (const char *name, const void *buf, size_t len, int flags)
{
  _cleanup_free_ char *p = path (name);
  int fd = open (p, O_WRONLY | O_CREAT | flags, 0644);
  if (fd == -1 || write (fd, buf, len) != (ssize_t) len || close (fd) == -1)
    unit_die (p);
}

static unsigned char *
read_file (const char *name, size_t *len)
{
  _cleanup_free_ char *p = path (name);
  struct stat st;
  int fd = open (p, O_RDONLY);
  unsigned char *buf;
  if (fd == -1 || fstat (fd, &st) == -1)
    unit_die (p);
  buf = malloc (st.st_size);
  if (read (fd, buf, st.st_size) != st.st_size)
    unit_die (p);
  close (fd);
  *len = st.st_size;
  return buf;
}

/* A location of SIZE bytes at OFFSET of the file NAME. */
static void
make_location (struct disk_location *loc, const char *name, uint64_t offset,
               uint64_t size, enum disk_format format, uint64_t virtual_size)
{
  disk_location_init (loc);
  loc->file = path (name);
  loc->fd = open (loc->file, O_RDONLY | O_CLOEXEC);
  if (loc->fd == -1)
    unit_die (loc->file);
  loc->image_id = strdup ("sha256:0123456789abcdef0123");
  loc->offset = offset;
  loc->size = size;
  loc->fmt.format = format;
  loc->fmt.virtual_size = virtual_size;
}

/* Read the whole export at URI and compare with WANT. */
static void
check_export (const char *uri, const void *want, uint64_t want_size, bool ro)
{
  struct nbd_handle *h = sym_nbd_create ();
  unsigned char *buf = malloc (want_size);

  CHECK (h && sym_nbd_connect_uri (h, uri) == 0, "connect %s: %s", uri,
         sym_nbd_get_error ());
  CHECK (sym_nbd_get_size (h) == (int64_t) want_size, "size %" PRIi64,
         sym_nbd_get_size (h));
  CHECK (sym_nbd_is_read_only (h) == ro, "read-only %d", sym_nbd_is_read_only (h));
  for (uint64_t off = 0; off < want_size; off += 1024 * 1024) {
    uint64_t n = want_size - off < 1024 * 1024 ? want_size - off : 1024 * 1024;
    CHECK (sym_nbd_pread (h, buf + off, n, off, 0) == 0, "pread: %s",
           sym_nbd_get_error ());
  }
  CHECK (memcmp (buf, want, want_size) == 0, "bytes differ at %s", uri);
  sym_nbd_shutdown (h, 0);
  sym_nbd_close (h);
  free (buf);
}

static bool
gone (const char *p)
{
  struct stat st;
  return p && lstat (p, &st) == -1 && errno == ENOENT;
}

/* Wait until PID is gone (not our child: zombies of init count as gone). */
static bool
process_gone (pid_t pid)
{
  for (int i = 0; i < 1000; i++) {
    char p[64], state = 0;
    snprintf (p, sizeof p, "/proc/%d/stat", (int) pid);
    FILE *f = fopen (p, "r");
    if (!f)
      return true;
    if (fscanf (f, "%*d (%*[^)]) %c", &state) != 1)
      state = 0;
    fclose (f);
    if (state == 'Z')
      return true;
    nanosleep (&(struct timespec) { 0, 10 * 1000 * 1000 }, NULL);
  }
  return false;
}

static void
serve_and_check (struct disk_location *loc, struct server_options *opts,
                 const void *want, uint64_t want_size, const char *what)
{
  struct server srv;
  fprintf (stderr, "-- %s\n", what);
  CHECK (server_start (loc, opts, &srv) == 0, "%s: start", what);
  if (!srv.pid)
    return;
  fprintf (stderr, "   %s pid %d %s\n", server_name (srv.kind), (int) srv.pid, srv.uri);
  check_export (srv.uri, want, want_size, !opts->writable);
  _cleanup_free_ char *sock = srv.socket ? strdup (srv.socket) : NULL;
  pid_t pid = srv.pid;
  server_stop (&srv);
  CHECK (!sock || gone (sock), "%s: socket %s left", what, sock);
  CHECK (kill (pid, 0) == -1, "%s: server %d still there", what, (int) pid);
  server_clear (&srv);
}

static void
test_raw (void)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true };
  _cleanup_free_ char *sock = path ("raw.sock");

  /* Odd offset and size: nbdkit has no alignment needs. */
  make_location (&loc, "raw.img", 1234, DISK_SIZE - 1, DISK_RAW, DISK_SIZE - 1);
  serve_and_check (&loc, &opts, disk, DISK_SIZE - 1, "nbdkit raw, default socket");
  disk_location_clear (&loc);

  make_location (&loc, "raw.img", 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  opts.socket = sock;
  opts.export_name = "my disk/1";
  serve_and_check (&loc, &opts, disk, DISK_SIZE, "nbdkit raw, --socket, export name");
  opts.kind = SERVER_QEMU_NBD;
  serve_and_check (&loc, &opts, disk, DISK_SIZE, "qemu-nbd raw");
  disk_location_clear (&loc);
}

static void
test_qcow2 (void)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true };
  size_t qlen;
  _cleanup_free_ unsigned char *q = read_file ("q.qcow2", &qlen);

  make_location (&loc, "qcow2.img", 8192, qlen, DISK_QCOW2, DISK_SIZE);
  serve_and_check (&loc, &opts, disk, DISK_SIZE, "qemu-nbd qcow2 decoded");
  opts.decode = false;
  serve_and_check (&loc, &opts, q, qlen, "nbdkit qcow2 --no-decode");
  opts.kind = SERVER_QEMU_NBD;
  serve_and_check (&loc, &opts, q, qlen, "qemu-nbd qcow2 --no-decode");

  struct server srv;
  opts.kind = SERVER_NBDKIT;
  opts.decode = true;
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "nbdkit cannot decode"), "nbdkit decode");
  disk_location_clear (&loc);
}

/* Writes reach the client and never the image. */
static void
test_writable (enum server_kind kind, bool qcow2)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true, .writable = true, .kind = kind };
  struct server srv;
  size_t before_len, after_len;
  const char *file = qcow2 ? "qcow2.img" : "raw.img";
  _cleanup_free_ unsigned char *before = read_file (file, &before_len);
  unsigned char pattern[65536], buf[65536];

  fprintf (stderr, "-- writable %s %s\n", server_name (kind), file);
  if (qcow2) {
    size_t qlen;
    free (read_file ("q.qcow2", &qlen));
    make_location (&loc, file, 8192, qlen, DISK_QCOW2, DISK_SIZE);
  }
  else
    make_location (&loc, file, 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  memset (pattern, 0xa5, sizeof pattern);
  CHECK (server_start (&loc, &opts, &srv) == 0, "writable start");
  if (srv.pid) {
    struct nbd_handle *h = sym_nbd_create ();
    CHECK (sym_nbd_connect_uri (h, srv.uri) == 0, "connect: %s", sym_nbd_get_error ());
    CHECK (sym_nbd_is_read_only (h) == 0, "read-only");
    CHECK (sym_nbd_pwrite (h, pattern, sizeof pattern, 65536, 0) == 0,
           "pwrite: %s", sym_nbd_get_error ());
    CHECK (sym_nbd_pread (h, buf, sizeof buf, 65536, 0) == 0, "pread");
    CHECK (memcmp (buf, pattern, sizeof buf) == 0, "written bytes not read back");
    CHECK (sym_nbd_pread (h, buf, sizeof buf, 0, 0) == 0, "pread");
    CHECK (memcmp (buf, disk, sizeof buf) == 0, "unwritten bytes changed");
    sym_nbd_shutdown (h, 0);
    sym_nbd_close (h);
    server_stop (&srv);
    server_clear (&srv);
  }
  _cleanup_free_ unsigned char *after = read_file (file, &after_len);
  CHECK (before_len == after_len && memcmp (before, after, after_len) == 0,
         "the image was written");
  disk_location_clear (&loc);
}

static int
free_port (void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  if (bind (fd, (struct sockaddr *) &sin, sizeof sin) == -1
      || getsockname (fd, (struct sockaddr *) &sin, &len) == -1)
    unit_die ("bind");
  close (fd);
  return ntohs (sin.sin_port);
}

static void
test_tcp (void)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true };
  struct server srv;
  char port[16];
  int fd;
  struct sockaddr_in sin = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };

  make_location (&loc, "raw.img", 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  snprintf (port, sizeof port, "%d", free_port ());
  opts.port = port;
  serve_and_check (&loc, &opts, disk, DISK_SIZE, "nbdkit tcp");

  /* A port someone listens on: a fresh one the kernel picks, so that
   * nothing else (the last server's lingering connections, another test
   * run) can be on it.
   */
  socklen_t len = sizeof sin;
  fd = socket (AF_INET, SOCK_STREAM, 0);
  if (bind (fd, (struct sockaddr *) &sin, sizeof sin) == -1 || listen (fd, 1) == -1
      || getsockname (fd, (struct sockaddr *) &sin, &len) == -1)
    unit_die ("bind");
  snprintf (port, sizeof port, "%d", ntohs (sin.sin_port));
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "is in use"), "port in use");
  close (fd);
  disk_location_clear (&loc);
}

static void
test_errors (void)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true };
  struct server srv;
  _cleanup_free_ char *sock = path ("exists.sock");
  _cleanup_free_ char *nodir = path ("nodir/x.sock");
  const char *oldpath = getenv ("PATH");
  _cleanup_free_ char *saved = strdup (oldpath ? oldpath : "/usr/bin:/bin");

  make_location (&loc, "raw.img", 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  write_file ("exists.sock", "", 0, O_TRUNC);
  opts.socket = sock;
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "socket path exists"), "socket exists");
  opts.socket = nodir;
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "No such file"), "socket dir missing");
  opts.socket = NULL;

  setenv ("PATH", tmpdir, 1);
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "nbdkit not found: install nbdkit"), "nbdkit missing");
  opts.kind = SERVER_QEMU_NBD;
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "qemu-nbd not found: install qemu-utils"),
         "qemu-nbd missing");
  setenv ("PATH", saved, 1);
  disk_location_clear (&loc);

  /* Random bytes said to be qcow2: qemu-nbd dies, and says why. */
  make_location (&loc, "raw.img", 0, DISK_SIZE, DISK_QCOW2, DISK_SIZE);
  opts.kind = SERVER_AUTO;
  opts.socket = sock;
  unlink (sock);
  CHECK (server_start (&loc, &opts, &srv) == -1
         && strstr (error_message (), "qemu-nbd exited before it was ready")
         && strstr (error_message (), "qcow2"), "qemu-nbd died");
  fprintf (stderr, "   (%s)\n", error_message ());
  CHECK (gone (sock), "socket left after a failed start");
  disk_location_clear (&loc);

  /* The file behind the fd was removed: nbdkit opens by path. */
  write_file ("gone.img", disk, DISK_SIZE, O_TRUNC);
  make_location (&loc, "gone.img", 0, DISK_SIZE, DISK_RAW, DISK_SIZE);
  unlink (loc.file);
  CHECK (server_start (&loc, &opts, &srv) == -1, "removed image served");
  fprintf (stderr, "   (%s)\n", error_message ());
  CHECK (gone (sock), "socket left after a failed start");
  disk_location_clear (&loc);
}

/* The server dies under us: server_wait says so and removes the socket. */
static void
test_killed (void)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true };
  struct server srv;
  int value;

  fprintf (stderr, "-- killed server\n");
  server_block_signals ();
  make_location (&loc, "raw.img", 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  CHECK (server_start (&loc, &opts, &srv) == 0, "start");
  _cleanup_free_ char *sock = strdup (srv.socket);
  kill (srv.pid, SIGKILL);
  CHECK (server_wait (&srv, 0, &value) == SERVER_EXITED, "not exited");
  CHECK (strstr (error_message (), "killed by KILL"), "message");
  CHECK (gone (sock), "socket left");
  server_clear (&srv);
  disk_location_clear (&loc);
}

static void
test_detached (enum server_kind kind, int sig_to_server)
{
  struct disk_location loc;
  struct server_options opts = { .decode = true, .kind = kind };
  struct server srv;
  _cleanup_free_ char *pidfile = path ("pid");
  _cleanup_free_ char *state = path ("state");

  fprintf (stderr, "-- detached %s, then signal %d\n", server_name (kind), sig_to_server);
  make_location (&loc, "raw.img", 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  CHECK (server_start_detached (&loc, &opts, "raw", state, pidfile, &srv) == 0, "start");
  /* Recorded in the registry of exports too, under a serve's id. */
  _cleanup_free_ char *record = NULL;
  CHECK (srv.record_id && strncmp (srv.record_id, "serve-", 6) == 0
         && asprintf (&record, "%s/%s.json", state, srv.record_id) > 0
         && !gone (record), "registry record");
  disk_location_clear (&loc);     /* the caller may go: the export stays */
  if (!srv.pid)
    return;
  fprintf (stderr, "   server %d supervisor %d %s\n", (int) srv.pid,
           (int) srv.supervisor, srv.uri);
  check_export (srv.uri, disk, DISK_SIZE, true);
  size_t len;
  _cleanup_free_ char *pid = (char *) read_file ("pid", &len);
  CHECK (atoi (pid) == srv.pid, "pidfile %.*s", (int) len, pid);
  kill (sig_to_server ? srv.pid : srv.supervisor, sig_to_server ? sig_to_server : SIGTERM);
  CHECK (process_gone (srv.pid), "server still there");
  CHECK (process_gone (srv.supervisor), "supervisor still there");
  CHECK (gone (srv.socket), "socket left");
  CHECK (gone (pidfile), "pidfile left");
  CHECK (!record || gone (record), "record left");
  server_clear (&srv);

  /* A failure comes back to the caller, and leaves nothing. */
  opts.socket = "/nonexistent/dir/x.sock";
  make_location (&loc, "raw.img", 1234, DISK_SIZE, DISK_RAW, DISK_SIZE);
  CHECK (server_start_detached (&loc, &opts, "raw", state, NULL, &srv) == -1
         && strstr (error_message (), "nonexistent"), "detached error");
  disk_location_clear (&loc);
}

int
main (void)
{
  /* command -v is a shell builtin: this one check needs the shell. */
  if (system ("command -v nbdkit >/dev/null && command -v qemu-nbd >/dev/null "
              "&& command -v qemu-img >/dev/null") != 0) {
    printf ("SKIP: nbdkit, qemu-nbd or qemu-img missing\n");
    return 77;
  }
  if (dl_libnbd () == -1) {
    printf ("SKIP: %s\n", error_message ());
    return 77;
  }
  unit_tmpdir (tmpdir);

  /* The guest disk: data, a zero hole, data. */
  disk = calloc (1, DISK_SIZE);
  srand (42);
  for (size_t i = 0; i < DISK_SIZE; i++)
    if (i < DISK_SIZE / 4 || i >= DISK_SIZE * 3 / 4)
      disk[i] = rand ();
  unsigned char junk[8192];
  memset (junk, 'J', sizeof junk);

  /* raw.img: 1234 bytes of junk, the disk, junk after it. */
  write_file ("raw.img", junk, 1234, O_TRUNC);
  write_file ("raw.img", disk, DISK_SIZE, O_APPEND);
  write_file ("raw.img", junk, 100, O_APPEND);
  /* qcow2.img: 8192 bytes of junk, the disk as qcow2, junk after it. */
  write_file ("guest.raw", disk, DISK_SIZE, O_TRUNC);
  _cleanup_free_ char *guest = path ("guest.raw");
  _cleanup_free_ char *qcow2 = path ("q.qcow2");
  char *const convert[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
                            guest, qcow2, NULL };
  if (unit_run (convert) != 0)
    unit_die ("qemu-img convert");
  size_t qlen;
  _cleanup_free_ unsigned char *q = read_file ("q.qcow2", &qlen);
  write_file ("qcow2.img", junk, 8192, O_TRUNC);
  write_file ("qcow2.img", q, qlen, O_APPEND);
  write_file ("qcow2.img", junk, 512, O_APPEND);

  test_raw ();
  test_qcow2 ();
  test_writable (SERVER_NBDKIT, false);
  test_writable (SERVER_QEMU_NBD, false);
  test_writable (SERVER_AUTO, true);
  test_tcp ();
  test_errors ();
  test_detached (SERVER_NBDKIT, SIGTERM);
  test_detached (SERVER_QEMU_NBD, SIGKILL);
  test_detached (SERVER_NBDKIT, 0);
  test_killed ();

  free (disk);
  return unit_summary ();
}
