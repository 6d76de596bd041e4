/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: what a server (or qemu-img) says, captured in one place.
 *
 * Its stderr is a memfd: nothing it writes can block it or fill a pipe
 * nobody reads, and the caller reads it whenever it likes, from any
 * offset, with pread only (lseek would move the writer's own offset).
 * Once a server is ready the memfd gets a fixed size, SERVER_OUTPUT_MORE
 * bytes more, then its writes fail.
 */
#ifndef PODMAN_DISK_SERVE_SPAWN_H
#define PODMAN_DISK_SERVE_SPAWN_H

#include <sys/types.h>

struct server;

#define SERVER_OUTPUT_MORE (64 * 1024)

/* A new memfd to be a child's stderr, or -1 with error () set. */
int output_capture (void);
/* How many bytes the child wrote on FD (-1 if FD is -1). */
off_t output_end (int fd);
/* Give FD its fixed size: SERVER_OUTPUT_MORE bytes beyond its end. */
int output_bound (int fd);
/* What the child wrote on FD from byte FROM on, on one line ("; "
 * between its lines), at most its last 2 KiB (the end says most: where it
 * failed), a quoted json: spec replaced by 'the disk'.  Free it.
 */
char *output_line (int fd, off_t from);
/* Copy what the child wrote on FD from byte FROM on to TO: the end. */
off_t output_copy (int fd, off_t from, int to);

/* For the server's own loop (server_wait): SRV was reaped with STATUS:
 * say how it ended (error ()), remove its socket, forget its record.
 */
void server_reaped (struct server *srv, int status);
/* Forget SRV's record, if it has one, saying WHY. */
void server_forget (struct server *srv, const char *why);

#endif
