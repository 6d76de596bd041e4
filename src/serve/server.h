/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: an NBD server exporting a disk location in place.
 *
 * The server (serve/argv.h: nbdkit, or qemu-nbd to decode qcow2) is
 * started with an argument vector, never a shell, and handed two
 * descriptors:
 *
 *   fd 3  a listening socket that podman-disk bound itself (systemd socket
 *         activation, LISTEN_FDS=1; serve/socket.h), so a busy port or an
 *         existing socket path is a clear error before anything runs, a
 *         client can connect at once, and the socket file is always ours
 *         to remove; or the one podman-disk was itself given by socket
 *         activation (serve/activation.h), whose file is not ours;
 *   fd 4  a second one (LISTEN_FDS=2), when asked (also_socket): the hook's
 *         export in a pod listens on the host's socket and on the pod's;
 *         qemu-nbd takes one only, so then nbdkit's nbd plugin listens and
 *         runs qemu-nbd behind it (serve/argv.h);
 *   fd 5  the location's open disk fd, the file that was located and
 *         checked, not a path looked up again: nbdkit >= 1.34 serves it as
 *         fd=5, qemu-nbd opens /dev/fd/5 once (the same file, even if it
 *         was removed since).  An older nbdkit only takes file=NAME, which
 *         it opens again for each connection: it gets a name bound to that
 *         very file in a mount namespace of its own (serve/pin.h).
 *         Several disks (serve IMAGE1 IMAGE2..., serve/qsd.h): the
 *         first at fd 5, the next at 6, and so on.
 *
 * Its stderr is captured in one place (serve/spawn.h).  Ready means that a
 * libnbd client got through the handshake and saw the expected export size
 * and read-only flag (serve/ready.h).  The export is always read-only; "writable" adds an
 * overlay that is thrown away on exit (nbdkit cow filter, qemu-nbd
 * --snapshot), the image is never written.
 *
 * The server is always the child of the process that started it
 * (server_start), which waits for it with server_wait and ends it with
 * server_stop.  That process is either the command itself (serve
 * --foreground and --run) or a supervisor (serve/supervisor.h) that
 * outlives the command: serve in the background, and the OCI hook's export
 * of a container.  A server can be recorded (a pidfile, the hook's
 * registry: struct server_record), and is forgotten when it stops or
 * exits.  Every failure leaves no process, socket or record behind.
 */
#ifndef PODMAN_DISK_SERVER_H
#define PODMAN_DISK_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "location.h"
#include "serve/argv.h"

struct server;

/* How a server is recorded for others to find (a pidfile, a registry
 * record), and forgotten: WHY says what ended it.
 */
struct server_record {
  int (*write) (struct server_record *rec, const struct server *srv);
  void (*forget) (struct server_record *rec, const struct server *srv,
                  const char *why);
};

struct server {
  pid_t pid;                 /* the server process, 0 when none */
  pid_t supervisor;          /* started by a supervisor: its pid */
  enum server_kind kind;     /* the one that runs (nbdkit in front of a
                                proxied qemu-nbd) */
  char *uri;                 /* nbd+unix:///NAME?socket=PATH or
                                nbd://HOST:PORT/NAME; nbds with TLS,
                                USER@ for a PSK (serve/socket.h) */
  char *socket;              /* the Unix socket we created (or inherited,
                                then never removed), or NULL (TCP) */
  char *also_socket;         /* the second one (also_socket), or NULL */
  char *port;                /* TCP: the port, else NULL */
  char *address;             /* TCP on an inherited socket: its address */
  char *export_name;         /* "" for the default export */
  char *tls_username;        /* TLS with a PSK: its first username, or NULL */
  char *record_id;           /* its id in the registry of exports (serve in
                                the background), or NULL */
  char *tls_dir;             /* qemu-nbd's PSK directory (serve/tls.h),
                                removed when the server stops, or NULL */
  /* private */
  int pidfd;                 /* of pid, taken while it is our child; or -1 */
  int errfd;                 /* the server's stderr (a memfd), or -1 */
  off_t output_from;         /* what it said before this was said already */
  dev_t socket_dev;          /* so only our own socket file is ever removed */
  ino_t socket_ino;
  dev_t also_dev;
  ino_t also_ino;
  struct server_record *record;   /* written, to forget; or NULL */
};

void server_init (struct server *srv);
/* Free memory and descriptors; does not stop anything. */
void server_clear (struct server *srv);

/* Block SIGINT, SIGTERM, SIGHUP and SIGCHLD (and make SIGCHLD's action
 * the default, not ignored), so that server_wait can take them.  Call
 * once the command knows what to serve, before server_start; the children
 * get an empty mask.
 */
void server_block_signals (void);

/* Start the server as our child and wait until it is ready.  0 with SRV
 * filled, or -1 with error () set (the server's own stderr when it died)
 * and nothing left running or on disk.
 */
int server_start (const struct disk_location *loc,
                  const struct server_options *opts, struct server *srv);

/* Record SRV with REC (REC->write); it is forgotten when SRV stops or
 * exits.  -1 with error () set.
 */
int server_record (struct server *srv, struct server_record *rec);

/* What server_wait saw. */
enum server_event {
  SERVER_EXITED,             /* the server died: error () says how */
  SERVER_SIGNAL,             /* SIGINT, SIGTERM or SIGHUP: *value is the signal */
  SERVER_WATCHED_EXITED,     /* the watched process exited: *value is its
                                wait status if it was our child, else 0 */
};

/* Wait (signals blocked with server_block_signals) until the server exits,
 * the process WATCHED (0 for none; our child or not) exits, or a stop
 * signal arrives: one loop on a signalfd and pidfds, which falls back to
 * SIGCHLD and a look each second on kernels without pidfds.  When the
 * server exited it has been reaped, its socket removed and its record
 * forgotten.  WATCHED_FD is a pidfd of WATCHED taken while it could not
 * be another process, or -1 (server_wait: one is taken here).
 */
enum server_event server_wait_fd (struct server *srv, pid_t watched,
                                  int watched_fd, int *value);
enum server_event server_wait (struct server *srv, pid_t watched, int *value);

/* Stop the server (SIGTERM, SIGKILL after a few seconds), reap it, remove
 * its socket and forget its record (saying WHY).  Safe to call twice.
 */
void server_stop_because (struct server *srv, const char *why);
void server_stop (struct server *srv);

#endif
