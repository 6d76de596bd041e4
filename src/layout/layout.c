/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: OCI layouts and archives as a source of disks.
 *
 * oci:DIR, oci-archive:FILE and docker-archive:FILE, each with :NAME,
 * :@INDEX or neither: the chosen image's layer tars are scanned (headers
 * only) and merged into one tree with the OCI whiteout rules; the /disk/
 * rule or --disk picks the disk, whose bytes are a tar member's data: a
 * range of the layer blob, or of the archive holding it.  Images whose
 * layers are not tars (ORAS-style artifacts) have their disk as a whole
 * blob.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cache.h"
#include "image/diskfmt.h"
#include "common/error.h"
#include "image/tarscan.h"
#include "layout/layout-internal.h"
#include "layout/layout.h"

#define MAX_LISTED 10

static const char *const transports[] = { "oci", "oci-archive", "docker-archive" };

/* The transport of REF, or NULL. */
static const char *
ref_transport (const char *ref)
{
  for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++) {
    size_t len = strlen (transports[i]);
    if (strncmp (ref, transports[i], len) == 0 && ref[len] == ':')
      return transports[i];
  }
  return NULL;
}

bool
layout_is_layout_ref (const char *ref)
{
  return ref_transport (ref) != NULL;
}

/* "@N" in place of a name: entry N of index.json or manifest.json, as
 * containers-transports(5) has it; *ENTRY is -1 for a name.
 */
static int
parse_entry (const char *ref, char **name, ssize_t *entry)
{
  char *end;

  *entry = -1;
  if (!*name || (*name)[0] != '@')
    return 0;
  errno = 0;
  unsigned long i = strtoul (*name + 1, &end, 10);
  if (!isdigit ((unsigned char) (*name)[1]) || *end || errno || i > INT_MAX)
    return error ("%s: '%s' is not an image index (@0, @1, ...)", ref, *name);
  *entry = i;
  free (*name);
  *name = NULL;
  return 0;
}

/* TRANSPORT:PATH[:NAME|:@INDEX], split at the first ':' after the
 * transport as containers/image does (so PATH cannot hold a ':').
 */
static int
parse_ref (const char *ref, const char **transport, char **path, char **name,
           ssize_t *entry)
{
  *transport = ref_transport (ref);
  const char *rest = ref + strlen (*transport) + 1;
  const char *colon = strchr (rest, ':');

  *name = NULL;
  *path = colon ? strndup (rest, colon - rest) : strdup (rest);
  if (!*path)
    return error_errno (errno, "strdup");
  if (!**path)
    return error ("%s: no %s given", ref,
                  strcmp (*transport, "oci") ? "archive file" : "layout directory");
  if (colon && !colon[1])
    return error ("%s: empty image name after '%s:%s:'", ref, *transport, *path);
  if (colon && (*name = strdup (colon + 1)) == NULL)
    return error_errno (errno, "strdup");
  return parse_entry (ref, name, entry);
}

/* ORAS pushes a file as a layer of its own, titled, whatever its media
 * type says; anything that does not say tar is a blob too.
 */
static bool
is_raw_blob (const struct layer *l)
{
  return !strstr (l->media_type, "tar") || (l->title && !l->unpack);
}

static void
blobs_free (struct blob *b, size_t n)
{
  for (size_t i = 0; b && i < n; i++)
    blob_close (&b[i]);
  free (b);
}

/* "layer sha256:... (MEDIA TYPE)", for messages. */
static char *
layer_what (const struct layer *l)
{
  char *s;
  if (asprintf (&s, "layer %s (%s)", l->digest, l->media_type) == -1)
    return NULL;
  return s;
}

/* Open the blob of layer L, check its size against the descriptor and,
 * with --verify, its digest.
 */
static int
open_layer (struct layout *s, const struct layer *l, const char *what,
            bool verify, struct blob *b)
{
  if (store_open_blob (s, l->name, b) == -1)
    return error_context ("%s", what);
  if (l->size >= 0 && b->size != (uint64_t) l->size)
    return error ("%s: the blob has %" PRIu64 " bytes but the manifest says %"
                  PRId64 ": the layout is damaged", what, b->size, l->size);
  if (verify) {
    /* Read it all, in big requests. */
    long page = sysconf (_SC_PAGESIZE);
    uintptr_t start = (uintptr_t) b->data & ~(uintptr_t) (page - 1);
    madvise ((void *) start, (uintptr_t) b->data + b->size - start, MADV_SEQUENTIAL);
    if (digest_check (l->digest, b->data, b->size, what) == -1)
      return -1;
  }
  return 0;
}

/* Open the blob of tar layer L: a compressed one is refused. */
static int
open_tar_layer (struct layout *s, const struct layer *l, bool verify,
                struct blob *b)
{
  _cleanup_free_ char *what = layer_what (l);
  const char *compression;

  if (!what)
    return error_errno (errno, "asprintf");
  if (open_layer (s, l, what, verify, b) == -1)
    return -1;
  /* The bytes decide, not the media type: tools label uncompressed
   * docker layers .tar.gzip and the other way round.
   */
  if ((compression = tarscan_compression (b->data, b->size)) != NULL)
    return error ("%s is %s-compressed: its files cannot be served in "
                  "place; " TARSCAN_HINT, what, compression);
  return 0;
}

static int
scan_layer (const struct layer *l, uint32_t index, struct tartree *tt,
            const struct blob *b)
{
  _cleanup_free_ char *what = layer_what (l);

  if (!what)
    return error_errno (errno, "asprintf");
  if (tartree_begin_layer (tt, index, what, true) == -1
      || tarscan_memory (b->data, b->size, b->offset, what,
                         tartree_add_member, tt) == -1
      || tartree_end_layer (tt) == -1)
    return -1;
  debug ("%s: %zu entries in the image so far", what, tartree_size (tt));
  return 0;
}

static char **
strv_steal (char ***v)
{
  char **r = *v;
  *v = NULL;
  if (!r)
    r = calloc (1, sizeof *r);
  return r;
}

/* The record, from the blob holding the disk. */
static int
fill_location (struct layout *s, const char *ref, struct image *img,
               const struct layer *l, struct blob *b, const char *member,
               uint64_t offset, uint64_t size, int64_t header_offset,
               struct disk_location *loc)
{
  if (!(loc->transport = strdup (s->transport))
      || !(loc->image_id = strdup (img->id))
      || !(loc->names = strv_steal (&img->names))
      || !(loc->layer = strdup (l->digest))
      || !(loc->layer_media_type = strdup (l->media_type))
      || !(loc->member = strdup (member))
      || !(loc->file = strdup (b->file)))
    return error_errno (errno, "strdup");
  if ((loc->fd = blob_take_fd (s, b)) == -1)
    return -1;
  loc->offset = offset;
  loc->size = size;
  loc->header_offset = header_offset;
  if (diskfmt_probe_fd (loc->fd, offset, size, &loc->fmt) == -1)
    return error_context ("%s: %s", ref, member);
  return 0;
}

/* The disk the slow way: every tar layer's headers scanned into one
 * tree, and the /disk/ rule or --disk applied to it.
 */
static int
pick_by_scanning (const char *ref, const struct locate_request *req,
                  const struct image *img, const struct blob *blobs,
                  struct layer_pick *pick)
{
  struct tartree *tt = tartree_new ();
  struct tree tree = { 0 };
  struct tnode node = { 0 };
  _cleanup_free_ char *what = NULL;
  int r = -1;

  if (!tt)
    return error_errno (ENOMEM, "tartree_new");
  for (size_t i = 0; i < img->n_layers; i++)
    if (!is_raw_blob (&img->layers[i])
        && scan_layer (&img->layers[i], i, tt, &blobs[i]) == -1)
      goto out;
  tartree_tree (tt, &tree);
  if (tree_pick_disk (&tree, req->disk, &node, &pick->member) == -1) {
    error_context ("%s", ref);
    goto out;
  }
  const struct tartree_entry *e = tartree_node_entry (&node);
  if ((what = layer_what (&img->layers[e->layer])) == NULL) {
    error_errno (errno, "asprintf");
    goto out;
  }
  if (tartree_entry_check (e, what) == -1)
    goto out;
  pick->layer = e->layer;
  pick->offset = e->offset;
  pick->size = e->size;
  pick->header_offset = e->header_offset;
  r = 0;
 out:
  tnode_release (&tree, &node);
  tartree_free (tt);
  return r;
}

static int
locate_in_layers (struct layout *s, const char *ref,
                  const struct locate_request *req, struct image *img,
                  struct disk_location *loc)
{
  struct blob *blobs = calloc (img->n_layers, sizeof *blobs);
  _cleanup_cache_ struct cache c;
  struct layer_pick pick = { 0 };
  int r = -1;

  cache_init (&c, "layout");
  if (!blobs)
    return error_errno (ENOMEM, "calloc");
  for (size_t i = 0; i < img->n_layers; i++)
    blobs[i].fd = -1;
  for (size_t i = 0; i < img->n_layers; i++) {
    if (is_raw_blob (&img->layers[i]))
      debug ("layer %s (%s) is not a tar: not part of the file tree",
             img->layers[i].digest, img->layers[i].media_type);
    else if (open_tar_layer (s, &img->layers[i], req->verify, &blobs[i]) == -1)
      goto out;
  }
  /* --verify reads every byte anyway: the scan costs nothing more. */
  layer_cache_question (&c, s, img, req->disk, blobs);
  if (req->verify || layer_cache_lookup (&c, img, blobs, &pick) != 0) {
    if (pick_by_scanning (ref, req, img, blobs, &pick) == -1)
      goto out;
    layer_cache_store (&c, &pick, blobs);
  }
  r = fill_location (s, ref, img, &img->layers[pick.layer], &blobs[pick.layer],
                     pick.member, pick.offset, pick.size, pick.header_offset,
                     loc);
 out:
  free (pick.member);
  blobs_free (blobs, img->n_layers);
  return r;
}

/* "a.img, b.img" of the artifact's blobs. */
static char *
list_blobs (const struct image *img)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return NULL;
  for (size_t i = 0; i < img->n_layers && i <= MAX_LISTED; i++)
    fprintf (f, "%s%s", i ? ", " : "", i == MAX_LISTED ? "..."
             : img->layers[i].title ? img->layers[i].title : img->layers[i].digest);
  fclose (f);
  return s;
}

/* An artifact: the disk is a whole blob, picked by its title. */
static int
locate_blob (struct layout *s, const char *ref, const struct locate_request *req,
             struct image *img, struct disk_location *loc)
{
  const struct layer *l = NULL;
  struct blob b;
  const char *compression;

  if (req->disk) {
    const char *want = req->disk + strspn (req->disk, "/");
    for (size_t i = 0; i < img->n_layers && !l; i++)
      if ((img->layers[i].title && !strcmp (img->layers[i].title, want))
          || !strcmp (img->layers[i].digest, want))
        l = &img->layers[i];
  }
  else if (img->n_layers == 1)
    l = &img->layers[0];
  if (!l) {
    _cleanup_free_ char *titles = list_blobs (img);
    if (req->disk)
      return error ("%s: no blob titled '%s' (it has: %s)", ref, req->disk,
                    titles ? titles : "?");
    return error ("%s: the image holds %zu blobs: pick one with --disk TITLE "
                  "(it has: %s)", ref, img->n_layers, titles ? titles : "?");
  }

  _cleanup_free_ char *what = NULL;
  if (asprintf (&what, "blob %s (%s)", l->digest, l->media_type) == -1)
    return error_errno (errno, "asprintf");
  int r = open_layer (s, l, what, req->verify, &b);
  if (r == 0 && (compression = tarscan_compression (b.data, b.size)) != NULL)
    r = error ("%s is %s-compressed: a disk must be stored uncompressed to "
               "be served in place", what, compression);
  if (r == 0)
    r = fill_location (s, ref, img, l, &b, l->title ? l->title : l->digest,
                       b.offset, b.size, b.header_offset, loc);
  blob_close (&b);
  return r;
}

/* The disk of the selected image. */
static int
locate_image (struct layout *s, const char *ref,
              const struct locate_request *req, struct image *img,
              struct disk_location *loc)
{
  bool any_tar = false;

  for (size_t i = 0; i < img->n_layers; i++)
    any_tar |= !is_raw_blob (&img->layers[i]);
  if (any_tar)
    return locate_in_layers (s, ref, req, img, loc);
  return locate_blob (s, ref, req, img, loc);
}

static int
select_image (struct layout *s, const char *name, ssize_t entry,
              const struct locate_request *req, struct image *img)
{
  if (strcmp (s->transport, "docker-archive") == 0) {
    char at[32];
    if (req->platform)
      debug ("--platform is ignored: a docker-archive has one platform per image");
    if (entry >= 0) {
      snprintf (at, sizeof at, "@%zd", entry);
      name = at;
    }
    return docker_select_image (s, name, img);
  }
  return oci_select_image (s, name, entry, req->platform, req->disktype, img);
}

int
layout_locate (const char *ref, const struct locate_request *req,
               struct disk_location *loc)
{
  const char *transport;
  _cleanup_free_ char *path = NULL, *name = NULL;
  struct layout s;
  struct image img = { 0 };
  ssize_t entry;
  int r = -1;

  if (parse_ref (ref, &transport, &path, &name, &entry) == -1)
    return -1;
  if (store_open (&s, transport, path) == 0
      && select_image (&s, name, entry, req, &img) == 0)
    r = locate_image (&s, ref, req, &img, loc);
  if (r == -1)
    disk_location_clear (loc);
  image_clear (&img);
  store_close (&s);
  return r;
}

/* What one image of a listing gave: an index of tens of thousands of
 * entries naming a few images is listed at the cost of those few.
 */
struct listed {
  char *id;                  /* NULL: "(image N)" */
  char *why;                 /* why it has no disk, or NULL with LOC */
  struct disk_location loc;  /* its fd closed: a listing keeps no fds */
};

struct listing {
  json_object *seen;         /* key -> index in ITEMS */
  struct listed *items;
  size_t n, cap;
};

static void
listing_free (struct listing *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free (l->items[i].id);
    free (l->items[i].why);
    disk_location_clear (&l->items[i].loc);
  }
  free (l->items);
  json_object_put (l->seen);
}

static const struct listed *
listing_find (const struct listing *l, const char *key)
{
  json_object *v;
  if (!key || !l->seen || !json_object_object_get_ex (l->seen, key, &v))
    return NULL;
  return &l->items[json_object_get_int64 (v)];
}

/* Keep what KEY gave (takes LOC over; ID and WHY are copied).  Failing
 * to keep it only costs time.
 */
static void
listing_add (struct listing *l, const char *key, const char *id,
             const char *why, struct disk_location *loc)
{
  if (!key)
    return;
  if (!l->seen && (l->seen = json_object_new_object ()) == NULL)
    return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    struct listed *items = realloc (l->items, cap * sizeof *items);
    if (!items)
      return;
    l->items = items;
    l->cap = cap;
  }
  struct listed *it = &l->items[l->n];
  it->id = id ? strdup (id) : NULL;
  it->why = why ? strdup (why) : NULL;
  if ((id && !it->id) || (why && !it->why)) {
    free (it->id);
    free (it->why);
    return;
  }
  it->loc = *loc;
  disk_location_init (loc);
  if (it->loc.fd >= 0)
    close (it->loc.fd);
  it->loc.fd = -1;
  json_object_object_add (l->seen, key, json_object_new_int64 (l->n));
  l->n++;
}

/* Call CB for entry I of the listing, from what its key gave before. */
static int
list_again (const struct listed *it, size_t i, char **names,
            disk_list_cb cb, void *arg)
{
  char index[32];
  char *none[] = { NULL };

  snprintf (index, sizeof index, "(image %zu)", i);
  if (it->why)
    return cb (it->id ? it->id : index, names ? names : none, NULL, it->why,
               arg);
  struct disk_location loc = it->loc;
  loc.names = names ? names : none;
  return cb (it->id ? it->id : index, loc.names, &loc, NULL, arg);
}

static int
entry_key (struct layout *s, size_t i, char **key, char ***names)
{
  int r = strcmp (s->transport, "docker-archive") == 0
    ? docker_entry_key (s, i, key, names) : oci_entry_key (s, i, key, names);
  if (r == -1) {
    /* The entry is damaged: the full look says how. */
    error_clear ();
    free (*key);
    strv_free (*names);
    *key = NULL;
    *names = NULL;
  }
  return r;
}

int
layout_list (const char *ref, const struct locate_request *req,
             disk_list_cb cb, void *arg)
{
  const char *transport;
  _cleanup_free_ char *path = NULL, *name = NULL;
  struct layout s;
  struct listing seen = { 0 };
  size_t n = 0;
  ssize_t entry;
  int r = 0;

  if (parse_ref (ref, &transport, &path, &name, &entry) == -1)
    return -1;
  if (store_open (&s, transport, path) == -1
      || (strcmp (transport, "docker-archive") == 0
          ? docker_count_images (&s, &n) : oci_count_images (&s, &n)) == -1) {
    store_close (&s);
    return -1;
  }
  /* With a name or an @INDEX, that image alone. */
  bool one = name || entry >= 0;
  for (size_t k = 0; k < (one ? 1 : n) && r == 0; k++) {
    size_t i = entry >= 0 ? (size_t) entry : k;
    struct image img = { 0 };
    struct disk_location loc;
    _cleanup_free_ char *why = NULL, *key = NULL;
    char **names = NULL;
    const struct listed *again;

    if (!one && entry_key (&s, i, &key, &names) == 0
        && (again = listing_find (&seen, key)) != NULL) {
      r = list_again (again, i, names, cb, arg);
      strv_free (names);
      continue;
    }
    strv_free (names);
    disk_location_init (&loc);
    error_clear ();
    if (select_image (&s, name, name ? -1 : (ssize_t) i, req, &img) == -1
        || locate_image (&s, ref, req, &img, &loc) == -1) {
      if ((why = strdup (error_message ())) == NULL)
        r = error_errno (errno, "strdup");
      error_clear ();
    }
    if (r == 0) {
      char index[32];
      snprintf (index, sizeof index, "(image %zu)", i);
      /* A located disk took the names over. */
      char *none[] = { NULL }, **shown = why ? img.names : loc.names;
      r = cb (img.id ? img.id : index, shown ? shown : none,
              why ? NULL : &loc, why, arg);
      listing_add (&seen, key, img.id, why, &loc);
    }
    disk_location_clear (&loc);
    image_clear (&img);
  }
  listing_free (&seen);
  store_close (&s);
  return r;
}
