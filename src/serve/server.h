/* podman-disk: an NBD server exporting a disk location in place.
 *
 * The servers are the ecosystem's own: nbdkit (file plugin + offset filter)
 * for the bytes as they are, qemu-nbd (the core's json: spec) to decode
 * qcow2.  Each is started with an argument vector, never a shell, and is
 * handed two descriptors:
 *
 *   fd 3  a listening socket that podman-disk bound itself (systemd socket
 *         activation, LISTEN_FDS=1), so a busy port or an existing socket
 *         path is a clear error before anything runs, a client can connect
 *         at once, and the socket file is always ours to remove;
 *   fd 4  the location's open disk fd, the file that was located and
 *         checked, not a path looked up again: nbdkit >= 1.34 serves it as
 *         fd=4, qemu-nbd opens /dev/fd/4 once (the same file, even if it
 *         was removed since).  An older nbdkit only takes file=NAME, which
 *         it opens again for each connection: it gets a name bound to that
 *         very file in a mount namespace of its own (serve/pin.h).
 *
 * Ready means that a libnbd client got through the handshake and saw the
 * expected export size and read-only flag.  The export is always
 * read-only; "writable" adds an overlay that is thrown away on exit (nbdkit
 * cow filter, qemu-nbd --snapshot), the image is never written.
 *
 * Three ways to run one (all used by podman-disk serve, the hook reuses the
 * detached one):
 *
 *   server_start             the server is our child; server_wait reports
 *                            its exit, a signal or another child's exit;
 *                            server_stop ends it and removes the socket.
 *   server_start_detached    the server outlives the caller, watched by a
 *                            small supervisor in its own session that
 *                            removes the socket (and pidfile) when the
 *                            server exits and stops the server on SIGTERM.
 *
 * Every failure leaves no process, socket or pidfile behind.
 */
#ifndef PODMAN_DISK_SERVER_H
#define PODMAN_DISK_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "location.h"

enum server_kind {
  SERVER_AUTO = 0,           /* qemu-nbd to decode qcow2, nbdkit otherwise */
  SERVER_NBDKIT,
  SERVER_QEMU_NBD,
};

struct server_options {
  enum server_kind kind;
  bool decode;               /* qcow2: the guest view (else the bytes as stored) */
  bool writable;             /* writes go to a throw-away overlay */
  const char *socket;        /* Unix socket to create (must not exist); NULL
                                and no port: a unique one in the private run
                                directory, see server_run_dir */
  const char *port;          /* TCP port (1-65535): TCP instead of Unix */
  const char *address;       /* with port: address to bind, default 127.0.0.1 */
  const char *export_name;   /* NULL: the default export "" */
};

struct server {
  pid_t pid;                 /* the server process, 0 when none */
  pid_t supervisor;          /* server_start_detached: its supervisor */
  enum server_kind kind;     /* the one that runs */
  char *uri;                 /* nbd+unix:///NAME?socket=PATH or nbd://HOST:PORT/NAME */
  char *socket;              /* the Unix socket we created, or NULL (TCP) */
  char *port;                /* TCP: the port, else NULL */
  char *export_name;         /* "" for the default export */
  char *pidfile;             /* written by us, removed with the socket */
  /* private */
  int errfd;                 /* the server's stderr (a memfd), or -1 */
  dev_t socket_dev;          /* so only our own socket file is ever removed */
  ino_t socket_ino;
};

void server_init (struct server *srv);
/* Free memory and descriptors; does not stop anything. */
void server_clear (struct server *srv);

/* "nbdkit" or "qemu-nbd" (SERVER_AUTO: "auto"). */
const char *server_name (enum server_kind kind);
/* "nbdkit", "qemu-nbd" or "auto" to a kind: 0, or -1 if unknown. */
int server_parse_kind (const char *name, enum server_kind *out);
/* The server that serves LOC with OPTS: resolves SERVER_AUTO, and fails
 * (error set) for a combination no server can do (nbdkit decoding qcow2).
 */
int server_choose (const struct disk_location *loc,
                   const struct server_options *opts, enum server_kind *out);

/* Whether nbdkit program EXE takes its file as fd=N (nbdkit >= 1.34). */
bool server_nbdkit_takes_fd (const char *exe);

/* The argument vector (NULL-terminated, free with strv_free) that starts
 * KIND on LOC with OPTS, argv[0] being EXE.  Exposed for tests and --log-level debug.
 */
char **server_argv (const struct disk_location *loc,
                    const struct server_options *opts,
                    enum server_kind kind, const char *exe);

/* NAME in $PATH (as execvp would find it), or NULL.  Free the result. */
char *server_find_program (const char *name);

/* The private directory of default sockets: /run/podman-disk as root,
 * else (root of podman's rootless user namespace included)
 * $XDG_RUNTIME_DIR/podman-disk (or /tmp/podman-disk-UID); created mode 0700
 * and checked to be ours.  Free the result.
 */
char *server_run_dir (void);

/* Block SIGINT, SIGTERM, SIGHUP and SIGCHLD (and make SIGCHLD's action
 * the default, not ignored), so that server_wait can take them.  Call
 * before server_start; the children get an empty mask.
 */
void server_block_signals (void);

/* Start the server as our child and wait until it is ready.  0 with SRV
 * filled, or -1 with error () set (the server's own stderr when it died)
 * and nothing left running or on disk.
 */
int server_start (const struct disk_location *loc,
                  const struct server_options *opts, struct server *srv);

/* The server's stderr is a memfd (struct server's errfd), given a fixed
 * size once the server is ready: SERVER_OUTPUT_MORE bytes more, then its
 * writes fail.  How many bytes it wrote: read them with pread only, as
 * lseek would move the server's own offset.
 */
#define SERVER_OUTPUT_MORE (64 * 1024)
off_t server_output_end (int errfd);

/* Write SRV's pid in PIDFILE (removed by server_stop / server_exited). */
int server_write_pidfile (struct server *srv, const char *pidfile);

/* What server_wait saw. */
enum server_event {
  SERVER_EXITED,             /* the server died: error () says how */
  SERVER_SIGNAL,             /* SIGINT, SIGTERM or SIGHUP: *value is the signal */
  SERVER_CHILD_EXITED,       /* CHILD exited: *value is its wait status */
};

/* Wait (signals blocked with server_block_signals) until the server exits,
 * CHILD (a pid, or 0 for none) exits, or a stop signal arrives.  When the
 * server exited it has been reaped and its socket removed.
 */
enum server_event server_wait (struct server *srv, pid_t child, int *value);

/* Stop the server (SIGTERM, SIGKILL after a few seconds), reap it, remove
 * its socket and pidfile.  Safe to call twice.
 */
void server_stop (struct server *srv);

/* Start the server in the background: it and a supervisor (own session,
 * stdio on /dev/null, no other descriptor) outlive the caller.  The
 * supervisor writes PIDFILE (the server's pid) if not NULL, removes the
 * socket and pidfile when the server exits, and stops the server on SIGTERM,
 * SIGINT or SIGHUP.  Returns once the server is ready: 0 with SRV->uri, pid,
 * supervisor, socket filled (do not server_stop it: signal SRV->pid or
 * SRV->supervisor), or -1 with error () set and nothing left behind.
 */
int server_start_detached (const struct disk_location *loc,
                           const struct server_options *opts,
                           const char *pidfile, struct server *srv);

#endif
