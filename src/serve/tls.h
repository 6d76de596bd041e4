/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: what a TLS export (serve --tls) needs besides the server's
 * own options (serve/argv.h): the PSK username a client gives, and for
 * qemu-nbd, whose PSK credentials are a directory holding keys.psk, a
 * private directory leading to the user's PSK file; for the readiness
 * probe of an export that checks its clients' certificates, a directory
 * that shows the server's own.
 */
#ifndef PODMAN_DISK_SERVE_TLS_H
#define PODMAN_DISK_SERVE_TLS_H

/* The username of the first key in the PSK file FILE (psktool's lines
 * USERNAME:HEXKEY), or NULL with error () set.  Only the name is read
 * out: the key stays in the file.
 */
char *tls_psk_username (const char *file);

/* A new directory, mode 0700, in the private run directory
 * (server_run_dir), holding keys.psk, a symbolic link to the absolute
 * PSK file PSK: qemu-nbd's tls-creds-psk dir=.  NULL with error () set.
 * Remove it with tls_dir_remove when the server has stopped.  The
 * directories of processes that are gone (killed by SIGKILL before they
 * could remove theirs) are removed first.
 */
char *tls_psk_dir_make (const char *psk);

/* The same, holding the certificates a client of an export served with
 * --tls-verify-peer shows (libnbd's tls-certificates: ca-cert.pem,
 * client-cert.pem, client-key.pem), made of the server's own in the
 * absolute directory CERTIFICATES: how the readiness probe gets in.
 */
char *tls_probe_dir_make (const char *certificates);

void tls_dir_remove (const char *dir);

#endif
