/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: where the members of a tar are, without reading their data.
 *
 * The headers of a tar held in memory (an mmap of the blob or archive)
 * are read in place by a minimal walk (image/tarwalk.h) where it is sure
 * of the answer, else by libarchive: right after a header, the bytes
 * libarchive has consumed are the offset of the member's data, exact for
 * v7, ustar, pax (long names, large sizes) and GNU (long names, base-256
 * sizes).  Either way data is skipped by moving a pointer over the
 * mapping, so data pages are never touched and the cost of a scan is the
 * number of headers, not their size.
 */
#ifndef PODMAN_DISK_TARSCAN_H
#define PODMAN_DISK_TARSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/tree.h"

/* The way out of a refusal to serve a layer in place, for messages. */
#define TARSCAN_HINT \
  "produce an uncompressed layout: podman save --uncompressed --format oci-dir -o DIR IMAGE"

/* Why a member's data cannot be served, though the tar around it is sound:
 * recorded, and refused only when the member is used (an image may carry
 * a sparse file or an odd hard link anywhere but in its disk).
 */
enum tar_flaw {
  TF_NONE = 0,
  TF_SPARSE,                 /* a sparse file: its bytes are not stored
                                contiguously (SIZE is its logical size) */
  TF_LINK_DATA,              /* a hard link with data of its own (pax) */
  TF_LINK_BROKEN,            /* tartree: a hard link to no regular file */
  TF_LINK_LOOP,              /* tartree: hard links in a loop */
};

struct tar_member {
  const char *name;          /* the pathname as stored: not cleaned */
  enum tnode_type type;      /* TN_REG, TN_DIR, TN_LNK or TN_OTHER */
  const char *hardlink;      /* a hard link to this member name, else NULL
                                (then type is TN_REG, size 0, no data) */
  const char *symlink;       /* TN_LNK: the target */
  uint64_t header_offset;    /* the member's first header block (its pax or
                                GNU long-name header when it has one) */
  uint64_t offset;           /* its first data byte */
  uint64_t size;             /* its data bytes */
  enum tar_flaw flaw;        /* TF_SPARSE or TF_LINK_DATA, else TF_NONE */
};

/* Called for every member in archive order; a non-zero return stops the
 * scan and is returned.  M and its strings live until CB returns.
 */
typedef int (*tarscan_cb) (const struct tar_member *m, void *arg);

/* The compression BUF starts with ("gzip", "zstd", "xz", "bzip2", "lz4",
 * ...), or NULL.
 */
const char *tarscan_compression (const void *buf, size_t len);

/* Scan the tar of LEN bytes at BUF; offsets are reported as BASE plus the
 * offset in BUF, so a tar nested in another is reported in the outer
 * file's coordinates.  WHAT names the tar in error messages.  Compressed
 * tars and members whose data runs past LEN (a truncated tar) are refused:
 * their bytes cannot be served in place.  A sparse member is reported
 * with its flaw, for the caller to refuse if it is used.
 */
int tarscan_memory (const void *buf, size_t len, uint64_t base,
                    const char *what, tarscan_cb cb, void *arg);

/* The same through libarchive alone, never image/tarwalk.h: the reference
 * the walk is held to (fuzz/fuzz-tarwalk.c, the unit test).
 */
int tarscan_memory_libarchive (const void *buf, size_t len, uint64_t base,
                               const char *what, tarscan_cb cb, void *arg);

#endif
