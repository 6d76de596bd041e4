/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a container's export, started and stopped by the hook.
 *
 * The export runs under the one supervisor of background exports
 * (serve/supervisor.h), the "watcher": it holds a pidfd of the container's
 * process, taken here while the runtime keeps that process waiting (so no
 * pid reuse race), and stops the server when that process exits (even if
 * poststop never runs), on SIGTERM (poststop, exports --prune), or when
 * the server exits.  What is the hook's own is here: the registry record
 * the watcher writes and removes (registry/registry.h), its log, the socket in
 * a volume shared with the pod and its SELinux label, and the watcher's
 * re-execution as the hook's _watch stage, to watch without the libraries
 * that starting loaded.  The hook returns once the server answered over
 * NBD, or with the server's error and nothing left behind.
 */
#ifndef PODMAN_DISK_HOOK_EXPORT_H
#define PODMAN_DISK_HOOK_EXPORT_H

#include <stdbool.h>
#include <sys/types.h>

#include "location.h"
#include "registry/registry.h"

struct export_params {
  const char *dir;           /* the registry */
  const char *id;            /* container id */
  pid_t container_pid;
  const char *name;          /* export name: NAME.sock in the volume */
  const char *volume_dir;    /* host directory mounted at /run/podman-disk
                                in the container, or NULL */
  const char *label;         /* SELinux label for that socket, or NULL */
  bool cow;                  /* writes to a throw-away overlay */
  bool persistent;           /* the location is a clone, written into */
  const char *image;         /* for the record */
  const char *image_id;
};

/* Where containers sharing the volume find the socket. */
#define CONTAINER_SOCKET_DIR "/run/podman-disk"

/* Start the export of LOC; fill REC with what was recorded.  0, or -1
 * with error () set and nothing left running or on disk.
 */
int export_start (const struct export_params *p, const struct disk_location *loc,
                  struct export_record *rec);

/* The internal hook stage of a watcher that re-executed itself:
 *   hook --state-dir DIR _watch ID CONTAINER_PID PIDFD ERRFD SERVER_PID SOCKET DEV:INO
 */
#define EXPORT_WATCH_STAGE "_watch"

/* The watcher's loop, in a fresh image: never returns. */
void export_watch (const char *dir, const char *id, pid_t container_pid,
                   int container_fd, int errfd, pid_t server_pid, const char *socket,
                   dev_t socket_dev, ino_t socket_ino)
  __attribute__ ((noreturn));

/* Stop the export ID if there is one (a container's, or a background
 * serve's: its watcher is serve's supervisor): signal its watcher and
 * wait, kill what is left, remove its files.  0 also when there was
 * nothing to stop.
 */
int export_stop (const char *dir, const char *id);

#endif
