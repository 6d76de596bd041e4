/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: image references in containers/storage, resolved like
 * podman's local lookup (containers/common libimage LookupImage).
 */
#ifndef PODMAN_DISK_STORAGE_REFERENCE_H
#define PODMAN_DISK_STORAGE_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>

#include "storage/store.h"

/* containers-storage:[DRIVER@ROOT+RUNROOT:OPTIONS]REF (containers-
 * transports(5)), or a plain REF.  Absent parts are NULL.
 */
struct storage_spec {
  char *driver;
  char *root;
  char *runroot;
  char *ref;             /* the image: a name, an ID, NAME@ID, ... */
};

int storage_spec_parse (const char *ref, struct storage_spec *spec);
void storage_spec_free (struct storage_spec *spec);

/* A docker reference: [DOMAIN/]PATH[:TAG][@DIGEST]. */
struct image_name {
  char *domain;          /* NULL for a short name ("fedora:41") */
  char *path;            /* "containerdisks/fedora" */
  char *tag;             /* NULL when not given */
  char *digest;          /* "sha256:..." or NULL */
};

/* false (and no message) when S is not a valid reference. */
bool image_name_parse (const char *s, struct image_name *name);
void image_name_free (struct image_name *name);

/* The names podman tries first for a name, in order: for a short name,
 * its alias in registries.conf, "localhost/NAME", then NAME under each of
 * the unqualified-search registries (storage/registries.h); the name
 * itself (with docker.io normalised) for a qualified one.  A tag defaults
 * to latest; a digest replaces the tag.  NULL-terminated, free with
 * strv_free; NULL with error () when registries.conf is malformed.
 */
char **image_name_candidates (const struct image_name *name);

/* Resolve REF among IMAGES (all stores, the main one first; an ID seen
 * twice is the first one): full ID, sha256:ID, NAME@ID, the candidate
 * names, an exact name, a unique ID prefix, then NAME@DIGEST by digest and
 * a short NAME[:TAG] by repository suffix at a path boundary.  0 with
 * *FOUND the index, 1 when unknown (no message), -1 with error () when
 * ambiguous or malformed.
 */
int storage_ref_lookup (const char *ref, const struct st_image *const *images,
                        size_t n, size_t *found);

#endif
