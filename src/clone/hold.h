/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a clone's hold on its image (podman containers), and what
 * clone.c and hold.c share.  See clone.h.
 */
#ifndef PODMAN_DISK_CLONE_HOLD_H
#define PODMAN_DISK_CLONE_HOLD_H

#include "clone/clone.h"
#include "clone/run.h"

/* Create the hold of clone ABS (absolute path) on LOC's image: a created,
 * never started container named podman-disk-clone-HASH, labelled as
 * clone.h says.  A stale hold of the same ABS (its clone removed) is
 * removed first.  0, or -1 with error () set.
 */
int clone_hold_create (const struct store_options *store,
                       const struct disk_location *loc, const char *abs,
                       const char *base, const char *id);

/* clone_hold_create in two steps, so that the clone file is written while
 * podman makes the hold: clone_hold_begin starts podman create (0, or -1
 * with error () set: nothing to end), clone_hold_end waits for it (and
 * retries after a stale hold) and frees H: 0, or -1 with error () set.
 * STORE and ABS must outlive H.
 */
struct clone_hold {
  const struct store_options *store;
  const char *abs;
  char name[64];
  char *l_dest, *l_image, *l_base, *l_id;   /* --label values */
  const char *args[24];                     /* podman create ... */
  struct run_child child;
};
int clone_hold_begin (struct clone_hold *h, const struct store_options *store,
                      const struct disk_location *loc, const char *abs,
                      const char *base, const char *id);
int clone_hold_end (struct clone_hold *h);
void clone_hold_free (struct clone_hold *h);

/* Fill INFO's hold, image_id, image_name (and base_id when NULL) from
 * the hold of INFO->dest in STORE: 0, or -1 with error () set (none, or
 * podman failed).
 */
int clone_hold_find (const struct store_options *store, struct clone_info *info);

/* Read the clone file DEST into INFO: its allocated bytes, virtual size,
 * backing spec, base file and format, and its xattr's base_id (when INFO
 * has none yet).  0, or -1 with error () (not a clone made by podman-disk).
 */
int clone_read_file (const char *dest, struct clone_info *info);

/* The state of the base file BASE recorded as ID (ERR: stat's errno). */
enum clone_state clone_base_state (const char *base, const char *id, int *err);

/* 0 if INFO->state is CLONE_INTACT, else -1 with the one-line error ()
 * saying so (ERR: the errno of a base that could not be looked at).
 */
int clone_base_verdict (const struct clone_info *info, int err);

#endif
