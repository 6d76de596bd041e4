/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the OCI image layout: index.json, nested image indexes and
 * the platform to pick from them, the manifest and its layers.
 * See https://github.com/opencontainers/image-spec (image-layout.md,
 * image-index.md, manifest.md, descriptor.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/error.h"
#include "layout/layout-internal.h"

#define MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REF_NAME "org.opencontainers.image.ref.name"
#define TITLE "org.opencontainers.image.title"
#define ORAS_UNPACK "io.deis.oras.content.unpack"
#define DISKTYPE "disktype"       /* podman machine's disk indexes */
#define MAX_INDEX_DEPTH 4         /* index.json -> index -> ... -> manifest */
#define MAX_LISTED 10
#define MAX_LAYERS 500            /* each is open while the tree is built */

struct platform {
  char os[64], arch[64], variant[64];
};

/* A descriptor: strings borrowed from the JSON holding it. */
struct desc {
  const char *media_type, *digest, *ref_name;
  const char *disktype;     /* podman machine's "disktype" annotation */
  int64_t size;
  bool has_platform;
  struct platform platform;
};

/* The running machine as GOOS/GOARCH/variant names it. */
static void
uname_platform (struct platform *p)
{
  static const struct { const char *machine, *arch, *variant; } map[] = {
    { "x86_64", "amd64", "" }, { "aarch64", "arm64", "" },
    { "armv7l", "arm", "v7" }, { "armv6l", "arm", "v6" },
    { "i686", "386", "" }, { "i386", "386", "" },
    { "ppc64le", "ppc64le", "" }, { "s390x", "s390x", "" },
    { "riscv64", "riscv64", "" }, { "mips64", "mips64", "" },
  };
  struct utsname u;

  snprintf (p->os, sizeof p->os, "linux");
  p->variant[0] = '\0';
  if (uname (&u) == -1)
    u.machine[0] = '\0';
  snprintf (p->arch, sizeof p->arch, "%.63s", u.machine);
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp (u.machine, map[i].machine) == 0) {
      snprintf (p->arch, sizeof p->arch, "%s", map[i].arch);
      snprintf (p->variant, sizeof p->variant, "%s", map[i].variant);
    }
}

/* The host's, worked out once: a listing asks for it per image. */
static void
host_platform (struct platform *p)
{
  static struct platform host;
  static bool known;

  if (!known) {
    uname_platform (&host);
    known = true;
  }
  *p = host;
}

static int
parse_platform (const char *s, struct platform *p)
{
  memset (p, 0, sizeof *p);
  if (sscanf (s, "%63[^/]/%63[^/]/%63[^/]", p->os, p->arch, p->variant) < 2
      || strlen (s) != strlen (p->os) + strlen (p->arch) + 1
         + (p->variant[0] ? strlen (p->variant) + 1 : 0))
    return error ("--platform '%s': expected OS/ARCH or OS/ARCH/VARIANT "
                  "(e.g. linux/arm64)", s);
  return 0;
}

static void
format_platform (const struct platform *p, char *buf, size_t len)
{
  snprintf (buf, len, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "",
            p->variant);
}

/* GOARCH's name of ARCH: podman machine's disk indexes spell amd64 and
 * arm64 as uname does.
 */
static const char *
goarch (const char *arch)
{
  if (strcmp (arch, "x86_64") == 0)
    return "amd64";
  if (strcmp (arch, "aarch64") == 0)
    return "arm64";
  return arch;
}

/* Does HAVE satisfy WANT?  A missing variant matches any; arm64's default
 * variant is v8.
 */
static bool
platform_matches (const struct platform *have, const struct platform *want)
{
  if (strcmp (have->os, want->os)
      || strcmp (goarch (have->arch), goarch (want->arch)))
    return false;
  if (!want->variant[0] || !strcmp (have->variant, want->variant))
    return true;
  return !have->variant[0] && !strcmp (want->arch, "arm64")
    && !strcmp (want->variant, "v8");
}

static int
parse_desc (json_object *o, const char *display, const char *ctx,
            struct desc *d)
{
  json_object *platform, *annotations;

  memset (d, 0, sizeof *d);
  if (!json_object_is_type (o, json_type_object))
    return error ("%s: %s is not an object", display, ctx);
  if (json_string (o, "mediaType", false, display, ctx, &d->media_type) == -1
      || json_string (o, "digest", true, display, ctx, &d->digest) == -1
      || json_int (o, "size", true, display, ctx, &d->size) == -1
      || json_typed (o, "platform", json_type_object, false, display, ctx,
                     &platform) == -1
      || json_typed (o, "annotations", json_type_object, false, display, ctx,
                     &annotations) == -1)
    return -1;
  if (annotations) {
    char actx[128];
    snprintf (actx, sizeof actx, "%s.annotations", ctx);
    if (json_string (annotations, REF_NAME, false, display, actx,
                     &d->ref_name) == -1
        || json_string (annotations, DISKTYPE, false, display, actx,
                        &d->disktype) == -1)
      return -1;
  }
  if (platform) {
    char pctx[128];
    const char *os, *arch, *variant;
    snprintf (pctx, sizeof pctx, "%s.platform", ctx);
    if (json_string (platform, "os", true, display, pctx, &os) == -1
        || json_string (platform, "architecture", true, display, pctx, &arch) == -1
        || json_string (platform, "variant", false, display, pctx, &variant) == -1)
      return -1;
    d->has_platform = true;
    snprintf (d->platform.os, sizeof d->platform.os, "%s", os);
    snprintf (d->platform.arch, sizeof d->platform.arch, "%s", arch);
    snprintf (d->platform.variant, sizeof d->platform.variant, "%s",
              variant ? variant : "");
  }
  return 0;
}

/* "a, b, c" of the descriptors' ref names or platforms. */
static char *
list_descs (const struct desc *d, size_t n, bool platforms)
{
  char *s = NULL;
  size_t len = 0, listed = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    char buf[200];
    if (platforms && d[i].has_platform)
      format_platform (&d[i].platform, buf, sizeof buf);
    else if (!platforms && d[i].ref_name)
      snprintf (buf, sizeof buf, "%s", d[i].ref_name);
    else
      continue;
    if (listed++ == MAX_LISTED) {
      fputs (", ...", f);
      break;
    }
    fprintf (f, "%s%s", listed > 1 ? ", " : "", buf);
  }
  fclose (f);
  if (s && !*s) {
    free (s);
    s = strdup (platforms ? "no platform given" : "none named");
  }
  return s;
}

/* "@0 name, @1 (unnamed), ..." of index.json's entries. */
static char *
list_entries (const struct desc *d, size_t n)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return NULL;
  for (size_t i = 0; i < n && i <= MAX_LISTED; i++) {
    if (i == MAX_LISTED)
      fputs (", ...", f);
    else
      fprintf (f, "%s@%zu %s", i ? ", " : "", i,
               d[i].ref_name ? d[i].ref_name : "(unnamed)");
  }
  fclose (f);
  return s;
}

/* "sha256:..., sha256:..." of the descriptors' digests. */
static char *
list_digests (const struct desc *d, size_t n)
{
  char *s = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&s, &len);

  if (!f)
    return NULL;
  for (size_t i = 0; i < n && i <= MAX_LISTED; i++)
    fprintf (f, "%s%s", i ? ", " : "", i == MAX_LISTED ? "..." : d[i].digest);
  fclose (f);
  return s;
}

static int
compare_platforms (const void *a, const void *b)
{
  const struct platform *p = *(const struct platform *const *) a;
  const struct platform *q = *(const struct platform *const *) b;
  int c = strcmp (p->os, q->os);
  if (c == 0)
    c = strcmp (p->arch, q->arch);
  if (c == 0)
    c = strcmp (p->variant, q->variant);
  return c;
}

/* Whether each descriptor names a platform no other one names: sorted,
 * so that an index of tens of thousands of entries costs n log n.
 */
static bool
distinct_platforms (const struct desc *d, size_t n)
{
  _cleanup_free_ const struct platform **v = calloc (n + 1, sizeof *v);

  if (!v)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (!d[i].has_platform)
      return false;
    v[i] = &d[i].platform;
  }
  qsort (v, n, sizeof *v, compare_platforms);
  for (size_t i = 1; i < n; i++)
    if (compare_platforms (&v[i - 1], &v[i]) == 0)
      return false;
  return true;
}

/* Which manifest of an index: by REF (index.json only), then by platform. */
static int
pick_manifest (const struct layout *s, json_object *index,
               const char *display, const char *ref,
               const struct platform *want, bool explicit_platform,
               const char *disktype, bool *disktype_seen,
               bool top, struct desc *out)
{
  json_object *manifests;
  size_t n, count = 0;

  if (json_typed (index, "manifests", json_type_array, true, display, "",
                  &manifests) == -1)
    return -1;
  n = json_object_array_length (manifests);
  _cleanup_free_ struct desc *all = calloc (n + 1, sizeof *all);
  _cleanup_free_ struct desc *cands = calloc (n + 1, sizeof *cands);
  if (!all || !cands)
    return error_errno (errno, "calloc");
  for (size_t i = 0; i < n; i++) {
    char ctx[64];
    snprintf (ctx, sizeof ctx, "manifests[%zu]", i);
    if (parse_desc (json_object_array_get_idx (manifests, i), display, ctx,
                    &all[i]) == -1)
      return -1;
    if (!top || !ref || (all[i].ref_name && !strcmp (all[i].ref_name, ref)))
      cands[count++] = all[i];
  }

  if (count == 0 && ref && top) {
    _cleanup_free_ char *names = list_descs (all, n, false);
    return error ("%s: no image named '%s' (%s: %s)", display, ref,
                  REF_NAME, names ? names : "?");
  }
  if (count == 0)
    return error ("%s: lists no image", display);

  /* --disktype: among the entries that carry the annotation, only those
   * of that type (podman machine's choice); an index whose entries carry
   * none is gone down as usual.
   */
  if (disktype) {
    size_t kept = 0;
    bool annotated = false;
    for (size_t i = 0; i < count; i++) {
      annotated |= cands[i].disktype != NULL;
      if (cands[i].disktype && !strcmp (cands[i].disktype, disktype))
        cands[kept++] = cands[i];
    }
    if (annotated && kept == 0)
      return error ("%s: no disk of disktype '%s' in this index", display,
                    disktype);
    if (annotated) {
      count = kept;
      *disktype_seen = true;
    }
  }
  else {
    /* Without it, a machine disk is never taken for the image of a
     * platform that also has a plain image (podman machine's OS indexes
     * list both).
     */
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
      if (!cands[i].disktype)
        cands[kept++] = cands[i];
    if (kept)
      count = kept;
  }

  /* Several images in index.json need a name, unless they are one image
   * for several platforms.
   */
  if (top && !ref)
    for (size_t i = 1; i < count; i++) {
      const char *a = cands[0].ref_name, *b = cands[i].ref_name;
      bool same_name = a && b && !strcmp (a, b);
      if ((a && b && !same_name)
          || (!same_name && !(cands[0].has_platform && cands[i].has_platform))) {
        _cleanup_free_ char *entries = list_entries (cands, count);
        return error ("%s: the layout holds %zu images: pick one as "
                      "%s:%s:NAME or %s:%s:@INDEX (%s)", display, count,
                      s->transport, s->path, s->transport, s->path,
                      entries ? entries : "?");
      }
    }

  /* Several manifests under one name: only an image for several
   * platforms, each named once, may share it.
   */
  if (top && count > 1 && !distinct_platforms (cands, count)) {
    _cleanup_free_ char *digests = list_digests (cands, count);
    return error ("%s: %zu manifests are named '%s': ambiguous (%s); "
                  "the layout is damaged", display, count,
                  cands[0].ref_name ? cands[0].ref_name : "",
                  digests ? digests : "?");
  }

  /* One image: the platform matters only when asked for. */
  if (count == 1 && !(explicit_platform && cands[0].has_platform)) {
    *out = cands[0];
    return 0;
  }
  for (size_t i = 0; i < count; i++)
    if (cands[i].has_platform && platform_matches (&cands[i].platform, want)) {
      *out = cands[i];
      return 0;
    }
  char wanted[200];
  format_platform (want, wanted, sizeof wanted);
  _cleanup_free_ char *platforms = list_descs (cands, count, true);
  return error ("%s: no image for platform %s (it has: %s); pick one with "
                "--platform OS/ARCH", display, wanted,
                platforms ? platforms : "?");
}

/* Entry ENTRY of index.json (oci:DIR:@ENTRY), whatever it is named. */
static int
pick_entry (const struct layout *s, json_object *index, const char *display,
            ssize_t entry, struct desc *out)
{
  json_object *manifests;
  char ctx[64];

  if (json_typed (index, "manifests", json_type_array, true, display, "",
                  &manifests) == -1)
    return -1;
  size_t n = json_object_array_length (manifests);
  if (n == 0)
    return error ("%s: lists no image", display);
  if ((size_t) entry >= n)
    return error ("%s:%s:@%zd: the layout has images @0 to @%zu",
                  s->transport, s->path, entry, n - 1);
  snprintf (ctx, sizeof ctx, "manifests[%zd]", entry);
  return parse_desc (json_object_array_get_idx (manifests, entry), display,
                     ctx, out);
}

/* Read the JSON blob a descriptor points to, checking its size and
 * digest (these are small: always checked).
 */
static int
read_desc_blob (struct layout *s, const struct desc *d, const char *from,
                json_object **out, char **display)
{
  _cleanup_free_ char *name = NULL;
  struct blob b;
  int r;

  *out = NULL;
  if (digest_blob_name (d->digest, from, &name) == -1)
    return -1;
  if ((*display = store_display (s, name)) == NULL)
    return error_errno (errno, "asprintf");
  if (store_read_small (s, name, &b) == -1) {
    blob_close (&b);
    return -1;
  }
  if (d->size >= 0 && b.size != (uint64_t) d->size)
    r = error ("%s: %" PRIu64 " bytes, but %s says %" PRId64 ": the layout "
               "is damaged", *display, b.size, from, d->size);
  else if ((r = digest_check (d->digest, b.data, b.size, *display)) == 0)
    r = json_parse_bytes ((const char *) b.data, b.size, *display,
                          json_type_object, out);
  blob_close (&b);
  return r;
}

static bool
is_index (const struct desc *d, json_object *o)
{
  const char *mt = d->media_type;
  json_object *v;
  if (mt)
    return !strcmp (mt, MEDIA_OCI_INDEX) || !strcmp (mt, MEDIA_DOCKER_LIST);
  return json_object_object_get_ex (o, "manifests", &v);
}

static int
add_layer (struct image *img, json_object *o, const char *display,
           const char *ctx)
{
  struct desc d;
  json_object *annotations = NULL;
  const char *title = NULL, *unpack = NULL;
  struct layer *l;

  if (parse_desc (o, display, ctx, &d) == -1)
    return -1;
  if (!d.media_type)
    return error ("%s: %s.mediaType is missing", display, ctx);
  json_object_object_get_ex (o, "annotations", &annotations);
  if (annotations
      && (json_string (annotations, TITLE, false, display, ctx, &title) == -1
          || json_string (annotations, ORAS_UNPACK, false, display, ctx,
                          &unpack) == -1))
    return -1;
  l = &img->layers[img->n_layers];
  memset (l, 0, sizeof *l);
  l->size = d.size;
  l->unpack = unpack && !strcmp (unpack, "true");
  if (!(l->digest = strdup (d.digest)) || !(l->media_type = strdup (d.media_type))
      || (title && !(l->title = strdup (title)))) {
    img->n_layers++;
    return error_errno (errno, "strdup");
  }
  img->n_layers++;
  return digest_blob_name (l->digest, display, &l->name);
}

static int
parse_manifest (json_object *m, const char *display, struct image *img)
{
  json_object *layers, *schema;
  const char *key = "layers";

  if (json_object_object_get_ex (m, "schemaVersion", &schema)
      && json_object_get_int (schema) == 1)
    return error ("%s: a Docker schema 1 manifest: not supported (copy the "
                  "image again with a current tool)", display);
  if (!json_object_object_get_ex (m, "layers", NULL)
      && json_object_object_get_ex (m, "blobs", NULL))
    key = "blobs";      /* the short-lived OCI artifact manifest */
  if (json_typed (m, key, json_type_array, true, display, "", &layers) == -1)
    return -1;
  size_t n = json_object_array_length (layers);
  if (n == 0)
    return error ("%s: the image has no layers", display);
  if (n > MAX_LAYERS)
    return error ("%s: %zu layers: more than %d are refused", display, n,
                  MAX_LAYERS);
  if ((img->layers = calloc (n, sizeof *img->layers)) == NULL)
    return error_errno (errno, "calloc");
  for (size_t i = 0; i < n; i++) {
    char ctx[64];
    snprintf (ctx, sizeof ctx, "%s[%zu]", key, i);
    if (add_layer (img, json_object_array_get_idx (layers, i), display, ctx) == -1)
      return -1;
  }
  return 0;
}

/* With --platform, an image listed without a platform must still be the
 * one asked for: its config says.
 */
static int
check_config_platform (struct layout *s, json_object *m, const char *display,
                       const struct platform *want)
{
  json_object *config_o, *config;
  struct desc d;
  _cleanup_free_ char *cdisplay = NULL;
  const char *os = NULL, *arch = NULL, *variant = NULL;
  struct platform have;
  char buf[200], wanted[200];

  if (json_typed (m, "config", json_type_object, true, display, "", &config_o) == -1
      || parse_desc (config_o, display, "config", &d) == -1
      || read_desc_blob (s, &d, display, &config, &cdisplay) == -1)
    return -1;
  _cleanup_json_ json_object *c = config;
  if (json_string (c, "os", false, cdisplay, "", &os) == -1
      || json_string (c, "architecture", false, cdisplay, "", &arch) == -1
      || json_string (c, "variant", false, cdisplay, "", &variant) == -1)
    return -1;
  if (!os || !arch)
    return 0;
  memset (&have, 0, sizeof have);
  snprintf (have.os, sizeof have.os, "%s", os);
  snprintf (have.arch, sizeof have.arch, "%s", arch);
  snprintf (have.variant, sizeof have.variant, "%s", variant ? variant : "");
  if (platform_matches (&have, want))
    return 0;
  format_platform (&have, buf, sizeof buf);
  format_platform (want, wanted, sizeof wanted);
  return error ("%s: the image is for %s, not %s", display, buf, wanted);
}

static int
check_layout_file (struct layout *s)
{
  json_object *o;
  const char *version;
  _cleanup_free_ char *display = store_display (s, "oci-layout");

  if (!store_exists (s, "oci-layout"))
    return error ("%s:%s is not an OCI image layout: it has no oci-layout "
                  "file", s->transport, s->path);
  if (store_read_json (s, "oci-layout", json_type_object, &o) == -1)
    return -1;
  _cleanup_json_ json_object *layout = o;
  if (json_string (layout, "imageLayoutVersion", true, display, "", &version) == -1)
    return -1;
  if (strncmp (version, "1.", 2) != 0)
    return error ("%s: imageLayoutVersion %s is not supported (1.x is)",
                  display, version);
  return 0;
}

/* index.json, read and checked once per store_open (borrowed). */
static int
oci_index (struct layout *s, json_object **index)
{
  json_object *o;

  if (!s->index) {
    if (check_layout_file (s) == -1
        || store_read_json (s, "index.json", json_type_object, &o) == -1)
      return -1;
    s->index = o;
  }
  *index = s->index;
  return 0;
}

int
oci_count_images (struct layout *s, size_t *n)
{
  json_object *index, *manifests;
  _cleanup_free_ char *display = store_display (s, "index.json");

  if (oci_index (s, &index) == -1)
    return -1;
  if (json_typed (index, "manifests", json_type_array, true, display, "",
                  &manifests) == -1)
    return -1;
  *n = json_object_array_length (manifests);
  return 0;
}

int
oci_entry_key (struct layout *s, size_t entry, char **key, char ***names)
{
  json_object *index, *manifests;
  struct desc d;
  char ctx[64];
  _cleanup_free_ char *display = store_display (s, "index.json");

  *key = NULL;
  *names = NULL;
  if (oci_index (s, &index) == -1
      || json_typed (index, "manifests", json_type_array, true, display, "",
                     &manifests) == -1)
    return -1;
  if (entry >= json_object_array_length (manifests))
    return error ("%s: no entry %zu", display, entry);
  snprintf (ctx, sizeof ctx, "manifests[%zu]", entry);
  if (parse_desc (json_object_array_get_idx (manifests, entry), display, ctx,
                  &d) == -1)
    return -1;
  if (!(*key = strdup (d.digest)) || !(*names = calloc (2, sizeof **names))
      || (d.ref_name && !((*names)[0] = strdup (d.ref_name))))
    return error_errno (errno, "strdup");
  return 0;
}

int
oci_select_image (struct layout *s, const char *ref, ssize_t entry,
                  const char *platform, const char *disktype,
                  struct image *img)
{
  bool disktype_seen = false;
  struct platform want;
  json_object *o;
  struct desc d;
  bool listed_platform = false;
  _cleanup_free_ char *display = store_display (s, "index.json");

  memset (img, 0, sizeof *img);
  if (platform ? parse_platform (platform, &want) == -1 : (host_platform (&want), 0))
    return -1;
  if (oci_index (s, &o) == -1)
    return -1;
  /* D's strings live in HOLDER, the JSON that lists it. */
  _cleanup_json_ json_object *holder = json_object_get (o), *m = NULL;
  if ((entry >= 0 ? pick_entry (s, holder, display, entry, &d)
       : pick_manifest (s, holder, display, ref, &want, platform != NULL,
                        disktype, &disktype_seen, true, &d)) == -1)
    return -1;
  /* Named by what index.json says, even if what it points to is broken. */
  if ((img->names = calloc (2, sizeof (char *))) == NULL
      || (d.ref_name && (img->names[0] = strdup (d.ref_name)) == NULL)
      || (img->id = strdup (d.digest)) == NULL)
    return error_errno (errno, "strdup");

  /* Down nested image indexes to a manifest. */
  for (int depth = 0;; depth++) {
    _cleanup_free_ char *from = display;
    display = NULL;
    listed_platform |= d.has_platform;
    if (read_desc_blob (s, &d, from, &o, &display) == -1)
      return -1;
    if (!is_index (&d, o)) {
      m = o;
      break;
    }
    json_object_put (holder);
    holder = o;
    if (depth == MAX_INDEX_DEPTH)
      return error ("%s: image indexes nested more than %d deep", display,
                    MAX_INDEX_DEPTH);
    if (pick_manifest (s, holder, display, NULL, &want, platform != NULL,
                       disktype, &disktype_seen, false, &d) == -1)
      return -1;
  }
  free (img->id);
  if ((img->id = strdup (d.digest)) == NULL)
    return error_errno (errno, "strdup");
  if (disktype && !disktype_seen)
    return error ("%s: no index entry carries a \"%s\" annotation: "
                  "--disktype picks from podman machine's disk indexes",
                  display, DISKTYPE);
  if (platform && !listed_platform
      && check_config_platform (s, m, display, &want) == -1)
    return -1;
  return parse_manifest (m, display, img);
}
