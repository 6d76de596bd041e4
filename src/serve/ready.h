/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: ready means that a libnbd client got through the
 * handshake (TLS included, with the server's own credentials) and saw the
 * expected export size and read-only flag, and that the server (or,
 * behind a proxy, its child) opened the disk located, not another file.
 * Used by server_start (serve/server.h).
 */
#ifndef PODMAN_DISK_SERVE_READY_H
#define PODMAN_DISK_SERVE_READY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "serve/server.h"

/* Connect to the listening socket at ADDR before the server runs: the
 * connected socket, -1 to connect later (ready_wait does), or -2 with
 * error () set.
 */
int ready_probe_early (const struct sockaddr_storage *addr, socklen_t addrlen);

/* Wait (at most 30 s) until SRV answers on SOCK (from ready_probe_early,
 * or -1: connect to ADDR now), and check it serves WANT_SIZE bytes,
 * read-only if WANT_RO, from the file of DISKFD.  0, or -1 with error ()
 * set (the server's own stderr when it died, which it is reaped for).
 */
int ready_wait (struct server *srv, const struct server_options *opts, int sock,
                const struct sockaddr_storage *addr, socklen_t addrlen,
                uint64_t want_size, bool want_ro, int diskfd);

#endif
