/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: clones, writable qcow2 overlays on a disk where it lies.
 *
 * A clone is a plain qcow2 file whose backing file is a qemu json: spec of
 * the disk in place (the layer file, or the tar range of a layout), every
 * format named and the base read-only (serve/qemuspec.c builds it).  It
 * depends on that file staying the same, so:
 *
 *   - for an image in containers/storage, a hold: a created, never
 *     started podman container of the image, labelled
 *       io.podman-disk.clone           the clone's absolute path
 *       io.podman-disk.clone.image     the image id
 *       io.podman-disk.clone.base      the base file
 *       io.podman-disk.clone.base-id   the base's identity (below)
 *     which makes 'podman rmi' refuse with "image is in use";
 *   - on the clone itself, the xattr user.podman-disk.clone.base-id: the
 *     same identity, also for layouts and archives, which have no hold.
 *
 * The identity, "DEV:INO:SIZE:MTIME_SEC.MTIME_NSEC" of the base file,
 * says whether the file the spec names is still the one the clone was
 * made on: a base removed anyway (rmi --force) or replaced is refused by
 * every command that touches the clone, in one line.
 */
#ifndef PODMAN_DISK_CLONE_H
#define PODMAN_DISK_CLONE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "location.h"

#define CLONE_LABEL          "io.podman-disk.clone"
#define CLONE_LABEL_IMAGE    "io.podman-disk.clone.image"
#define CLONE_LABEL_BASE     "io.podman-disk.clone.base"
#define CLONE_LABEL_BASE_ID  "io.podman-disk.clone.base-id"
#define CLONE_XATTR_BASE_ID  "user.podman-disk.clone.base-id"

/* qcow2 keeps the backing file name in at most 1023 bytes. */
#define CLONE_MAX_BACKING 1023

/* Create DEST, a clone of LOC's disk with virtual size SIZE (0: the
 * disk's; never smaller), and hold LOC's image when it is in
 * containers/storage (STORE: podman's --root, --runroot,
 * --storage-driver).  DEST must not exist; it is created with O_EXCL
 * semantics in its directory, never through a symlink.  0, or -1 with
 * error () set and nothing left behind.
 */
int clone_create (const struct disk_location *loc,
                  const struct store_options *store, const char *dest,
                  uint64_t size);

/* clone_create of DEST for the OCI hook, which runs while podman starts
 * the container and so cannot run podman for a hold: LOC's file must lie
 * in a layer of the image (never in the container's own upper directory),
 * and the caller holds the image later (hook/clonehold.h).  Any size.
 */
int clone_create_unheld (const struct disk_location *loc, const char *dest);

/* Write a qcow2 of virtual size SIZE into FD with qemu-img: over the
 * backing file SPEC of format FORMAT, or with no backing file when SPEC
 * is NULL.  0, or -1 with error () set.
 */
int clone_write_qcow2 (int fd, const char *spec, const char *format, uint64_t size);

/* What a clone is, from its qcow2 header and its record. */
enum clone_state {
  CLONE_INTACT,            /* the base is the file the clone was made on */
  CLONE_BASE_GONE,         /* the base file is no more */
  CLONE_BASE_CHANGED,      /* another file, or the file changed */
  CLONE_DEST_GONE,         /* (holds only) the clone file is no more */
};

struct clone_info {
  char *dest;              /* absolute path of the clone */
  char *backing;           /* its backing file name, "json:{...}" */
  char *base;              /* the base file the spec opens */
  char *base_format;       /* "raw" or "qcow2" */
  char *base_id;           /* the recorded identity, or NULL */
  char *image_id;          /* from the hold, or NULL */
  char *image_name;        /* from the hold, or NULL */
  char *hold;              /* the hold container's id, or NULL */
  uint64_t virtual_size;
  uint64_t allocated;      /* bytes the clone file takes on disk */
  enum clone_state state;
};
void clone_info_clear (struct clone_info *info);

/* Check DEST: 0 with INFO filled when its base is intact, -1 with a
 * one-line error () that says what happened (and INFO filled as far as
 * known) otherwise.  The record is DEST's xattr, or its hold in STORE
 * when the xattr is missing (a filesystem without user xattrs).
 */
int clone_check (const char *dest, const struct store_options *store,
                 struct clone_info *info);

/* For 'serve --writable=persistent:DEST': DEST when it is an intact
 * clone of LOC's disk, else a new clone of SIZE (0: the disk's) made
 * there.  0, or -1 with error () set (DEST another file, a clone of
 * another disk, or its base changed).  STORE NULL: see
 * clone_take_location.
 */
int clone_ensure (const struct disk_location *loc,
                  const struct store_options *store, const char *dest,
                  uint64_t size);

/* The location of the clone DEST itself, for a server that writes into
 * it (serve --writable=persistent:DEST): its base checked intact, the file
 * opened read-write (never through a symlink, and only a regular file of
 * this user's or root's), format qcow2 and its virtual size.  0, or -1
 * with error () set.
 */
int clone_location (const char *dest, const struct store_options *store,
                    struct disk_location *loc);

/* LOC becomes the location of the clone DEST of LOC's disk, for a
 * server that writes into it (serve --writable=persistent:DEST, the hook's
 * io.podman-disk.writable=persistent:DEST): clone_ensure, made there now
 * if CREATE (else DEST must be there), then clone_location; what it is a
 * clone of stays LOC's (disk_location_move_origin).  DEST must be a path
 * that only root and the caller can change (common/pathtrust.h).  STORE
 * NULL: no podman is run (the hook's case: podman is starting the
 * container), so the clone must carry its record in its xattr.  0, or -1
 * with error () set and LOC unchanged.
 */
int clone_take_location (struct disk_location *loc,
                         const struct store_options *store, const char *dest,
                         bool create);

/* Every hold in STORE, as INFO records (state computed, DEST's size
 * read when it is there): *N of them in *OUT, free each with
 * clone_info_clear and the array with free.  0 or -1 with error ().
 */
int clone_list (const struct store_options *store, struct clone_info **out,
                size_t *n);

/* Remove the hold of DEST (by its absolute path): 0, or -1 with error ()
 * (none in STORE, or podman failed).
 */
int clone_release (const struct store_options *store, const char *dest);

/* Remove the holds whose clone is gone; prints each DEST removed. */
int clone_prune (const struct store_options *store);

/* DEST made absolute: its directory resolved, the last name kept as is
 * (it may not exist, or be a symlink).  Free the result.
 */
char *clone_abs_path (const char *dest);

/* "DEV:INO:SIZE:MTIME_SEC.MTIME_NSEC" of ST.  Free the result. */
char *clone_identity (const struct stat *st);

#endif
