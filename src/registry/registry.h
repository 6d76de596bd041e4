/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the registry of the exports podman-disk started.
 *
 * One directory, /run/podman-disk (rootless: $XDG_RUNTIME_DIR/podman-disk),
 * mode 0700, holds per export ID (the hook's: the container ID; a
 * background serve's: "serve-" and 6 random characters, which no podman
 * container ID is):
 *   ID.sock   the hook's socket (or a symlink to it in a shared volume);
 *             serve's is where serve put it (--socket, or its own name in
 *             the same directory), the record names it
 *   ID.json   the record: which kind, who, what, where, which processes
 *   ID.log    the hook's server's stdout and stderr
 * A record is written whole (temporary file + rename), so readers never
 * see half of one.
 */
#ifndef PODMAN_DISK_REGISTRY_H
#define PODMAN_DISK_REGISTRY_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/proc.h"

struct json_object;

/* An export ID safe as a file name of the registry: a container ID as
 * runc accepts them ([A-Za-z0-9_+.-], not starting with a dot), which the
 * hook's IDs are and serve's "serve-XXXXXX" too.
 */
bool registry_id_valid (const char *id);

/* The kinds of export. */
#define EXPORT_KIND_HOOK "hook"
#define EXPORT_KIND_SERVE "serve"
#define SERVE_ID_PREFIX "serve-"

struct export_record {
  char *id;                 /* container id, or serve-XXXXXX */
  char *kind;               /* EXPORT_KIND_HOOK (also when not recorded) or
                               EXPORT_KIND_SERVE */
  char *name;               /* export name: NAME.sock in a shared volume */
  char *image;              /* image name, else id, or NULL */
  char *image_id;
  char *disk;               /* the member: /disk/x.qcow2 */
  char *file;               /* the layer file on the host */
  char *layer;
  char *format;             /* raw, qcow2 */
  uint64_t size;            /* bytes the export serves */
  bool cow;                 /* writes go to a throw-away overlay */
  char *server;             /* nbdkit, qemu-nbd */
  char *uri;                /* NBD URI for the host */
  char *socket;             /* REGISTRY/ID.sock */
  char *volume_socket;      /* VOLUME/NAME.sock on the host, or NULL */
  char *container_uri;      /* the URI inside containers sharing the volume */
  pid_t container_pid;
  pid_t server_pid;
  uint64_t server_start;    /* /proc/PID/stat starttime: pid reuse check */
  pid_t watcher_pid;        /* ours, that stops the server with the container */
  uint64_t watcher_start;
  char *started;            /* RFC 3339, UTC */
  char *pidfile;            /* serve --pidfile, absolute, or NULL */
  uint64_t pidfile_dev;     /* that very file: only it is ever removed */
  uint64_t pidfile_ino;
};

/* Whether REC is a background serve's (else the hook's). */
bool export_record_is_serve (const struct export_record *rec);

void export_record_clear (struct export_record *rec);

/* Now, as a record's "started": RFC 3339, UTC.  Malloc'd, or NULL. */
char *registry_timestamp (void);

static inline char *
strdup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

/* The registry directory: DIR if given, else the default for this user
 * (a rootless hook runs as root in podman's user namespace but has
 * _CONTAINERS_ROOTLESS_UID set).  Malloc'd.
 */
int registry_dir (const char *dir, char **out);
/* Create it (and parents) if needed; the last component mode 0700.  Then
 * registry_check: -1 if it is not to be trusted.
 */
int registry_create (const char *dir);
/* Whether the records in DIR may be acted on: 0 if DIR is a directory
 * (not a symlink) owned by us and writable by nobody else, 1 if it does
 * not exist, -1 with error () set otherwise.
 */
int registry_check (const char *dir);

/* DIR/ID.SUFFIX, malloc'd. */
char *registry_path (const char *dir, const char *id, const char *suffix);

struct json_object *export_record_to_json (const struct export_record *rec);
int export_record_from_json (struct json_object *o, struct export_record *rec);

int registry_write (const char *dir, const struct export_record *rec);
/* 0, 1 when there is no record for ID, -1 on error. */
int registry_read (const char *dir, const char *id, struct export_record *rec);
/* Every record in DIR, by container id; unreadable ones are reported
 * with the id and skipped.
 */
typedef int (*registry_cb) (const struct export_record *rec, void *arg);
int registry_list (const char *dir, registry_cb cb, void *arg);

/* A new export id for a background serve, not used in DIR yet:
 * "serve-" and 6 random characters.  Malloc'd, or NULL with error () set.
 */
char *registry_new_serve_id (const char *dir);

/* Remove every file of the export of ID: socket (only if it is a socket
 * or our symlink), the volume socket of REC (only if it is a socket that
 * nobody listens on: the record is not trusted to name a path outside the
 * registry), log and record; of a serve's, its socket (only a socket
 * nobody listens on) and its pid file (only the very file it wrote).
 * Missing files are fine.
 */
int registry_remove (const char *dir, const char *id,
                     const struct export_record *rec);

/* Is the export's server still running? */
bool export_record_alive (const struct export_record *rec);

/* Is the file the server reads still the one at the recorded path (the
 * layer file)?  1 if one of the server's descriptors is that file (same
 * device and inode), 0 if the path is gone or holds another file (the
 * server still reads the old one, from its open descriptor), -1 when it
 * cannot be told: no file recorded, the server gone, its descriptors not
 * ours to see.  Call it for a live export.
 */
int export_record_file_present (const struct export_record *rec);

#endif
