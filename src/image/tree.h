/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: an image's file tree, seen the way a container sees it.
 *
 * Two backends implement it: a stack of layer directories with overlay
 * whiteouts (containers/storage overlay and vfs, a container's rootfs), and
 * an index of tar members merged across layers (OCI layouts and archives).
 * Path resolution and the /disk/ rule are written once, on top of it, so
 * symlinks always resolve inside the image and never on the host.
 */
#ifndef PODMAN_DISK_TREE_H
#define PODMAN_DISK_TREE_H

#include <stdint.h>

enum tnode_type {
  TN_NONE = 0,       /* no such entry (absent, or hidden by a whiteout) */
  TN_DIR,
  TN_REG,
  TN_LNK,
  TN_OTHER,          /* device, fifo, socket: never a disk */
};

struct tnode {
  enum tnode_type type;
  uint64_t size;     /* TN_REG */
  char *link;        /* TN_LNK: the target, malloc'd */
  void *priv;        /* the backend's own, freed by ops->release */
};

typedef int (*tree_readdir_cb) (const char *name, const struct tnode *node,
                                void *arg);

struct tree_ops {
  /* The root directory. */
  int (*root) (void *priv, struct tnode *out);
  /* Entry NAME (no '/', never "." or "..") of directory DIR.  0 with
   * out->type == TN_NONE when absent; -1 with error () on failure.
   */
  int (*lookup) (void *priv, const struct tnode *dir, const char *name,
                 struct tnode *out);
  /* Call CB for every visible entry of DIR, in name order; a non-zero
   * return from CB stops and is returned.
   */
  int (*readdir) (void *priv, const struct tnode *dir,
                  tree_readdir_cb cb, void *arg);
  /* Free what lookup/root put in a node (link and priv). */
  void (*release) (void *priv, struct tnode *node);
};

struct tree {
  const struct tree_ops *ops;
  void *priv;
};

void tnode_release (struct tree *t, struct tnode *node);

/* Resolve absolute PATH inside the image: ".." stops at the root, symlinks
 * (absolute or relative) are followed inside the image, at most 40 of them.
 * The final component is followed too.  On success OUT is the node and
 * *RESOLVED the cleaned absolute path it was found at.
 */
int tree_resolve (struct tree *t, const char *path,
                  struct tnode *out, char **resolved);

/* KubeVirt's rule: with DISK == NULL, exactly one regular file under
 * /disk/ (symlinks to regular files inside the image count); none or
 * several is an error listing what was found.  With DISK, that member,
 * which must resolve to a regular file.
 */
int tree_pick_disk (struct tree *t, const char *disk,
                    struct tnode *out, char **member);

#endif
