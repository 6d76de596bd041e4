/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the tree backend for an index of tar members.
 *
 * OCI layouts and archives hold an image as a stack of layer tars.  The
 * layers are applied bottom-up into one sorted index of cleaned paths, with
 * the OCI rules: ".wh.NAME" deletes NAME (and what is under it) from the
 * lower layers, ".wh..wh..opq" empties its directory of the lower layers'
 * entries, an upper non-directory hides the lower directory it replaces,
 * and within one layer a later member replaces an earlier one.  Hard links
 * take the data of their target (a regular file of the same or a lower
 * layer); symlinks are TN_LNK nodes, which tree_resolve follows inside the
 * image.  The same index, without whiteout rules, serves as the tree of an
 * outer archive (oci-archive, docker-archive).
 */
#ifndef PODMAN_DISK_TARTREE_H
#define PODMAN_DISK_TARTREE_H

#include <stdbool.h>
#include <stdint.h>

#include "image/tarscan.h"
#include "image/tree.h"

/* An entry of the merged index. */
struct tartree_entry {
  char *path;                /* cleaned, relative to the root ("disk/x.img");
                                "" is the root itself */
  char *link;                /* TN_LNK: the target, as stored */
  char *hardlink;            /* a hard link's target: while a layer is
                                added, and after for a TF_LINK_* flaw */
  uint64_t size;             /* TN_REG: data bytes */
  uint64_t offset;           /* TN_REG: the data, as reported by tarscan */
  uint64_t header_offset;    /* the member's first header */
  uint32_t layer;            /* the layer the data is in (for a hard link,
                                its target's) */
  uint32_t seq;              /* member order within its layer */
  enum tnode_type type;
  enum tar_flaw flaw;        /* TN_REG: why its data cannot be served */
  unsigned char kind;        /* private to tartree.c */
};

struct tartree;

struct tartree *tartree_new (void);
void tartree_free (struct tartree *tt);

/* Add a layer above the ones added so far: begin, every member (a
 * tarscan_cb, ARG = TT), end.  NAME ("layer sha256:...") starts errors;
 * WHITEOUTS false treats ".wh." names as plain files (outer archives).
 * Members whose cleaned name is absolute or climbs out of the root are
 * refused.  Members that cannot be served (sparse files, hard links with
 * data, to no regular file or in a loop) are kept with their flaw: a
 * user of an entry's data checks it with tartree_entry_check.
 */
int tartree_begin_layer (struct tartree *tt, uint32_t layer, const char *name,
                         bool whiteouts);
int tartree_add_member (const struct tar_member *m, void *tt);
int tartree_end_layer (struct tartree *tt);

/* A tree over TT (which must outlive it); nothing to close. */
void tartree_tree (struct tartree *tt, struct tree *t);

/* The entry behind a node that T's ops returned. */
const struct tartree_entry *tartree_node_entry (const struct tnode *node);

/* 0 if the data of E can be served, else -1 with an error naming the
 * member and its flaw, after WHAT (the tar it is in: "layer sha256:...").
 */
int tartree_entry_check (const struct tartree_entry *e, const char *what);

/* Number of entries, the root included. */
size_t tartree_size (const struct tartree *tt);

#endif
