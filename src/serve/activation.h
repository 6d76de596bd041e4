/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: serve started by systemd socket activation.
 *
 * nbdinfo, nbdcopy and nbdfuse start their server as 'nbdinfo -- [ CMD ]'
 * (libnbd's nbd_connect_systemd_socket_activation), and a systemd .socket
 * unit starts its service the same way: one listening socket as fd 3,
 * LISTEN_FDS=1 and LISTEN_PID the pid of the process meant to take it
 * (sd_listen_fds(3)).  serve then hands that socket to its server instead
 * of binding one, stays in the foreground and stops the server on
 * SIGTERM, which libnbd sends the pid it started when its client is done.
 */
#ifndef PODMAN_DISK_SERVE_ACTIVATION_H
#define PODMAN_DISK_SERVE_ACTIVATION_H

/* The socket passed by socket activation, as sd_listen_fds (1) finds it:
 * 1 with the socket in *FDP (made close-on-exec: it is the server's
 * only), 0 when there is none for us (no LISTEN_PID, or another
 * process's), -1 with error () set when LISTEN_PID is ours but LISTEN_FDS
 * is not exactly 1 or fd 3 is not a listening stream socket.
 * LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are unset in every case, so
 * that no child sees them.
 */
int socket_activation_take (int *fdp);

#endif
