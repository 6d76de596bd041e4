/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the listening socket of a server, and NBD URIs.
 *
 * podman-disk binds the socket itself and hands it to the server (see
 * serve/server.h), so that it knows the file is its own: only that file
 * (same device and inode) is ever removed.  Default sockets live in a
 * private directory (server_run_dir) under random names; a socket nobody
 * listens on is stale and may be removed (socket_clear_stale), a live one
 * never.
 */
#ifndef PODMAN_DISK_SERVE_SOCKET_H
#define PODMAN_DISK_SERVE_SOCKET_H

#include <stdio.h>

#include "location.h"

struct server;
struct server_options;

/* RFC 3986 percent-encoding of S on F, keeping the unreserved characters
 * and those in KEEP.
 */
void uri_encode (FILE *f, const char *s, const char *keep);
/* nbd+unix:///EXPORT?socket=SOCKET, encoded; NULL with error () set. */
char *unix_uri (const char *export_name, const char *socket);

/* The private directory of default sockets: /run/podman-disk as root,
 * else (root of podman's rootless user namespace included)
 * $XDG_RUNTIME_DIR/podman-disk (or /tmp/podman-disk-UID); created mode 0700
 * and checked to be ours.  Free the result.
 */
char *server_run_dir (void);

/* LEN random characters of [a-z0-9] and a NUL in OUT (LEN < 64), for
 * names nobody can guess (sockets, export ids): 0, or -1 with error ().
 */
int random_name (char *out, size_t len);

/* PATH made absolute by the current directory, or NULL with error () set. */
char *absolute_path (const char *path);

/* Whether a server listens on the socket PATH: 1 yes, 0 no (or no such
 * file), -1 with error () set (not a socket, cannot tell).
 */
int socket_listened (const char *path);
/* Remove PATH if it is a socket nobody listens on: 0 when PATH is gone or
 * was never there, 1 when it is live (left alone), -1 with error () set.
 */
int socket_clear_stale (const char *path);

/* Bind the socket of OPTS (its --socket, or a new one in server_run_dir
 * named after LOC's image) or its TCP port, not listening yet: fill SRV's
 * socket (and its device and inode) or port, and *FDP.  -1 with error ()
 * set.
 */
int socket_listen_unix (const struct disk_location *loc,
                        const struct server_options *opts,
                        struct server *srv, int *fdp);
int socket_listen_tcp (const struct server_options *opts, struct server *srv,
                       int *fdp);
/* The inherited listening socket FD (socket activation): fill SRV's
 * socket (a path, never removed: socket_ino stays 0) or port and address
 * from its name.  -1 with error () set.
 */
int socket_inherited (int fd, struct server *srv);
/* Bind OPTS's also_socket (which must not exist), not listening yet: fill
 * SRV's also_socket (its device and inode) and *FDP.  -1 with error () set.
 */
int socket_listen_also (const struct server_options *opts, struct server *srv,
                        int *fdp);
/* SRV's URI: nbd+unix:///NAME?socket=PATH or nbd://HOST:PORT/NAME.
 * With TLS (on or require) the scheme is nbds (nbds+unix), the secure
 * form, and a PSK's username (SRV's tls_username) its user@: what a
 * client needs besides its key or CA, which never is in the URI.  A
 * wildcard address (0.0.0.0, ::) is written as the host's name, which
 * other machines can use.
 */
char *socket_uri (const struct server_options *opts, const struct server *srv);
/* SRV's URI as libguestfs's -a (guestfish, virt-*) reads it: the scheme
 * nbd only, so a Unix socket is nbd:///NAME?socket=PATH (nbd://?socket=PATH
 * for the default export); TCP as socket_uri.  NULL with error () set.
 */
char *socket_guestfs_uri (const struct server *srv);
/* Remove SRV's sockets if the files there are still the ones it bound. */
void socket_remove (struct server *srv);

#endif
