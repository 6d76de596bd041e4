/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: which server serves a disk, and its command line.
 *
 * The servers are the ecosystem's own: nbdkit (file plugin + offset
 * filter) for the bytes as they are, qemu-nbd (the core's json: spec) to
 * decode qcow2.  Each is started with an argument vector, never a shell;
 * its disk is the descriptor SERVER_DISK_FD (see serve/server.h).
 */
#ifndef PODMAN_DISK_SERVE_ARGV_H
#define PODMAN_DISK_SERVE_ARGV_H

#include <stdbool.h>

#include "location.h"

/* The descriptors a server is given (see serve/server.h): one or two
 * listening sockets from LISTEN_FD on, the disk as DISK_FD.
 */
#define LISTEN_FD 3
#define LISTEN_FDS_MAX 2
#define DISK_FD 5
#define DISK_FD_PATH "/dev/fd/5"

enum server_kind {
  SERVER_AUTO = 0,           /* qemu-nbd to decode qcow2, nbdkit otherwise */
  SERVER_NBDKIT,
  SERVER_QEMU_NBD,
  SERVER_QSD,                /* qemu-storage-daemon: several disks, one
                                export each (serve/qsd.h) */
};

/* One export of a server of several disks (SERVER_QSD): LOC's disk under
 * the export name NAME.
 */
struct server_export {
  const struct disk_location *loc;
  const char *name;
};

/* TLS, as nbdkit --tls: OFF plain NBD only; ON either (a client may
 * upgrade with STARTTLS); REQUIRE no data without TLS.  qemu-nbd (and
 * qemu-storage-daemon) has no optional TLS: it serves ON as REQUIRE (only
 * ever stricter).
 */
enum server_tls {
  SERVER_TLS_OFF = 0,
  SERVER_TLS_ON,
  SERVER_TLS_REQUIRE,
};

struct server_options {
  enum server_kind kind;
  bool decode;               /* qcow2: the guest view (else the bytes as stored) */
  bool writable;             /* writes go to a throw-away overlay */
  bool persistent;           /* writes go into the location's own file, a
                                clone opened read-write (serve
                                --writable=persistent:DEST): qemu-nbd on the
                                qcow2 and the backing chain its header names */
  const char *socket;        /* Unix socket to create (must not exist); NULL
                                and no port: a unique one in the private run
                                directory, see server_run_dir */
  const char *also_socket;   /* a second Unix socket the same server listens
                                on, or NULL: the hook's export in a pod, where
                                SOCKET is the host's own and this one, in a
                                volume the pod's containers can write, is
                                theirs (what they do to it never reaches the
                                host's clients) */
  const char *port;          /* TCP port (1-65535): TCP instead of Unix */
  const char *address;       /* with port: address to bind, default 127.0.0.1 */
  const char *export_name;   /* NULL: the default export "" */
  const char *nbdkit_plugin; /* nbdkit: podman-disk's own plugin (a path,
                                server_find_plugin), which serves fd=5 at the
                                location's offset itself; NULL: nbdkit's file
                                plugin and offset filter */
  enum server_tls tls;
  const char *tls_certificates; /* with tls: an absolute directory of x509
                                   ca-cert.pem, server-cert.pem, server-key.pem */
  const char *tls_psk;       /* or: an absolute PSK file (psktool), the
                                lines USERNAME:HEXKEY */
  bool tls_verify_peer;      /* with tls_certificates: a client must show a
                                certificate signed by DIR's ca-cert.pem */
  const char *tls_psk_dir;   /* qemu-nbd with tls_psk: the private directory
                                whose keys.psk leads to tls_psk (qemu's PSK
                                credentials are a directory); server_start
                                makes it (serve/tls.h) */
  int listen_fd;             /* > 0: a listening socket inherited by socket
                                activation (serve/activation.h), served
                                instead of binding one; server_start takes
                                it (closes it once the server holds it).
                                0, as in a zeroed struct: none (fd 0 is
                                never one) */
  const struct server_export *exports; /* n_exports > 0: serve these disks
                                (qemu-storage-daemon, serve/qsd.h), their
                                fds from DISK_FD on, instead of the one
                                location server_start is given */
  size_t n_exports;
};

/* "nbdkit", "qemu-nbd" or "qemu-storage-daemon" (SERVER_AUTO: "auto"). */
const char *server_name (enum server_kind kind);
/* A word of server_name to a kind: 0, or -1 if unknown. */
int server_parse_kind (const char *name, enum server_kind *out);
/* The server that serves LOC with OPTS: resolves SERVER_AUTO, and fails
 * (error set) for a combination no server can do (nbdkit decoding qcow2).
 */
int server_choose (const struct disk_location *loc,
                   const struct server_options *opts, enum server_kind *out);
/* Whether OPTS ask for the guest view of LOC's qcow2 disk. */
bool decodes_qcow2 (const struct disk_location *loc,
                    const struct server_options *opts);

/* "off", "on" or "require". */
const char *server_tls_name (enum server_tls tls);
/* The word of server_tls_name to a mode: 0, or -1 if unknown. */
int server_parse_tls (const char *name, enum server_tls *out);
/* The mode KIND serves OPTS's tls with: qemu-nbd's ON is REQUIRE. */
enum server_tls server_tls_effective (const struct server_options *opts,
                                      enum server_kind kind);

/* qemu's TLS credentials for OPTS (tls on): the --object value, an
 * object of id QEMU_TLS_ID, x509 (tls_certificates) or PSK (tls_psk_dir).
 * Free the result.
 */
#define QEMU_TLS_ID "tls0"
char *server_qemu_tls_object (const struct server_options *opts);

/* Whether nbdkit program EXE takes its file as fd=N (nbdkit >= 1.34). */
bool server_nbdkit_takes_fd (const char *exe);

/* The argument vector (NULL-terminated, free with strv_free) that starts
 * KIND on LOC with OPTS, argv[0] being EXE.  Exposed for tests and --log-level debug.
 */
char **server_argv (const struct disk_location *loc,
                    const struct server_options *opts,
                    enum server_kind kind, const char *exe);

/* Whether KIND takes its listening sockets from OPTS as they are: qemu-nbd
 * takes one only (LISTEN_FDS=1), so for two it runs behind nbdkit.
 */
bool server_needs_proxy (const struct server_options *opts, enum server_kind kind);
/* The argument vector of nbdkit (NBDKIT) listening on OPTS's sockets and
 * forwarding to qemu-nbd (QEMU_NBD) on LOC, which its nbd plugin runs as
 * its own child on a private socket (command=, shared=true): the disk
 * still reaches qemu-nbd as DISK_FD, inherited through nbdkit.
 */
char **server_argv_proxied (const struct disk_location *loc,
                            const struct server_options *opts,
                            const char *nbdkit, const char *qemu_nbd);

/* NAME in $PATH (as execvp would find it), or NULL.  Free the result. */
char *server_find_program (const char *name);
/* KIND's program, or NULL with error () saying what to install. */
char *server_find (enum server_kind kind);
/* podman-disk's nbdkit plugin (src/nbdkit/), if installed beside this
 * program (the build tree) or in nbdkit's plugin directory, where no one
 * but root and the caller can change it (common/pathtrust.h): its path
 * (free it), or NULL, and then nbdkit serves with its file plugin.
 */
char *server_find_plugin (void);

#endif
