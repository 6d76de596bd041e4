/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: parse and resolve image references, see reference.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/reference.h"
#include "storage/registries.h"

#define TRANSPORT "containers-storage:"

static bool
is_hex (const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

static bool
is_full_id (const char *s)
{
  return strlen (s) == 64 && is_hex (s, 64);
}

static char *
dup_range (const char *s, size_t n)
{
  char *d = strndup (s, n);
  if (!d)
    error_errno (errno, "strndup");
  return d;
}

void
storage_spec_free (struct storage_spec *spec)
{
  free (spec->driver);
  free (spec->root);
  free (spec->runroot);
  free (spec->ref);
  memset (spec, 0, sizeof *spec);
}

/* DRIVER@ROOT+RUNROOT:OPTIONS, peeled as containers/image does. */
static int
parse_store_specifier (const char *ref, const char *s, size_t len,
                       struct storage_spec *spec)
{
  const char *at = memchr (s, '@', len);
  if (at) {
    if (at == s || at + 1 == s + len)
      return error ("%s: the store specifier needs DRIVER@ROOT", ref);
    if ((spec->driver = dup_range (s, at - s)) == NULL)
      return -1;
    len -= at + 1 - s;
    s = at + 1;
  }
  else if (len == 0)
    return error ("%s: the store specifier [...] is empty", ref);
  const char *colon = memchr (s, ':', len);
  if (colon) {
    debug ("%s: ignoring the store options '%.*s'", ref,
           (int) (s + len - colon - 1), colon + 1);
    len = colon - s;
  }
  const char *plus = memchr (s, '+', len);
  size_t rootlen = plus ? (size_t) (plus - s) : len;
  if (rootlen > 0 && (spec->root = dup_range (s, rootlen)) == NULL)
    return -1;
  if (plus && plus + 1 < s + len
      && (spec->runroot = dup_range (plus + 1, s + len - plus - 1)) == NULL)
    return -1;
  if ((spec->root && spec->root[0] != '/')
      || (spec->runroot && spec->runroot[0] != '/'))
    return error ("%s: the store's root and run root must be absolute paths",
                  ref);
  return 0;
}

int
storage_spec_parse (const char *ref, struct storage_spec *spec)
{
  const char *s = ref;

  memset (spec, 0, sizeof *spec);
  if (strncmp (s, TRANSPORT, strlen (TRANSPORT)) == 0) {
    s += strlen (TRANSPORT);
    if (*s == '[') {
      const char *close = strchr (s, ']');
      if (!close) {
        error ("%s: the store specifier has no closing ']'", ref);
        goto fail;
      }
      if (parse_store_specifier (ref, s + 1, close - s - 1, spec) == -1)
        goto fail;
      s = close + 1;
    }
  }
  if (*s == '\0') {
    error ("%s: no image named in the reference", ref);
    goto fail;
  }
  if ((spec->ref = strdup (s)) == NULL) {
    error_errno (errno, "strdup");
    goto fail;
  }
  return 0;

 fail:
  storage_spec_free (spec);
  return -1;
}

void
image_name_free (struct image_name *name)
{
  free (name->domain);
  free (name->path);
  free (name->tag);
  free (name->digest);
  memset (name, 0, sizeof *name);
}

static bool
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: lowercase alphanumerics joined by the separators
 * of the docker reference grammar: '.', '_', '__' or a run of '-'.
 */
static bool
valid_component (const char *c, size_t len)
{
  size_t j = 0;
  if (len == 0 || !is_lower_alnum (c[0]))
    return false;
  while (j < len) {
    if (is_lower_alnum (c[j])) {
      j++;
      continue;
    }
    size_t k = j + 1;
    if (c[j] == '_' && k < len && c[k] == '_')
      k++;
    else if (c[j] == '-')
      while (k < len && c[k] == '-')
        k++;
    else if (c[j] != '.' && c[j] != '_')
      return false;
    if (k >= len || !is_lower_alnum (c[k]))
      return false;
    j = k;
  }
  return true;
}

static bool
valid_path (const char *p, size_t len)
{
  size_t start = 0;
  for (size_t i = 0; i <= len; i++)
    if (i == len || p[i] == '/') {
      if (!valid_component (p + start, i - start))
        return false;
      start = i + 1;
    }
  return true;
}

static bool
valid_domain (const char *d, size_t len)
{
  size_t i = 0;
  if (len == 0)
    return false;
  for (; i < len && d[i] != ':'; i++)
    if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= 'A' && d[i] <= 'Z')
          || (d[i] >= '0' && d[i] <= '9') || d[i] == '.' || d[i] == '-'))
      return false;
  if (i == 0)
    return false;
  if (i < len) {           /* :PORT */
    if (i + 1 == len)
      return false;
    for (i++; i < len; i++)
      if (d[i] < '0' || d[i] > '9')
        return false;
  }
  return true;
}

static bool
valid_tag (const char *t)
{
  size_t len = strlen (t);
  if (len == 0 || len > 128)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = t[i];
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
      || (c >= '0' && c <= '9') || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-')))
      return false;
  }
  return true;
}

/* ALGORITHM:HEX; sha256 must have exactly 64 lowercase hex digits. */
static bool
valid_digest (const char *d)
{
  const char *colon = strchr (d, ':');
  if (!colon || colon == d || strlen (colon + 1) < 32)
    return false;
  for (const char *p = d; p < colon; p++)
    if (!is_lower_alnum (*p) && !strchr ("+._-", *p))
      return false;
  if (strncmp (d, "sha256:", 7) == 0)
    return is_full_id (d + 7);
  for (const char *p = colon + 1; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
          || (*p >= '0' && *p <= '9') || *p == '=' || *p == '_' || *p == '-'))
      return false;
  return true;
}

bool
image_name_parse (const char *s, struct image_name *name)
{
  memset (name, 0, sizeof *name);
  const char *at = strchr (s, '@');
  size_t len = at ? (size_t) (at - s) : strlen (s);

  if (at) {
    if (!valid_digest (at + 1))
      return false;
    if ((name->digest = strdup (at + 1)) == NULL)
      goto fail;
  }
  /* The tag is after the last ':' that follows the last '/'. */
  const char *slash = memrchr (s, '/', len);
  const char *colon = memrchr (slash ? slash : s, ':', len - (slash ? slash - s : 0));
  if (colon) {
    if ((name->tag = strndup (colon + 1, s + len - colon - 1)) == NULL)
      goto fail;
    if (!valid_tag (name->tag))
      goto fail;
    len = colon - s;
  }
  /* A first component is a domain if it looks like a host. */
  const char *first_slash = memchr (s, '/', len);
  if (first_slash) {
    size_t dlen = first_slash - s;
    if (memchr (s, '.', dlen) || memchr (s, ':', dlen)
        || (dlen == 9 && memcmp (s, "localhost", 9) == 0)) {
      if (!valid_domain (s, dlen))
        goto fail;
      if ((name->domain = strndup (s, dlen)) == NULL)
        goto fail;
      len -= dlen + 1;
      s = first_slash + 1;
    }
  }
  if (!valid_path (s, len))
    goto fail;
  if ((name->path = strndup (s, len)) == NULL)
    goto fail;
  return true;

 fail:
  image_name_free (name);
  return false;
}

static int
strv_push (char ***v, size_t *n, char *s)
{
  if (!s)
    return error_errno (errno, "asprintf");
  char **nv = realloc (*v, (*n + 2) * sizeof *nv);
  if (!nv) {
    free (s);
    return error_errno (errno, "realloc");
  }
  *v = nv;
  nv[(*n)++] = s;
  nv[*n] = NULL;
  return 0;
}

static char *
format_name (const char *domain, const char *path, const struct image_name *n)
{
  char *s;
  /* docker.io/NAME is docker.io/library/NAME. */
  bool library = strcmp (domain, "docker.io") == 0 && !strchr (path, '/');
  if (asprintf (&s, "%s/%s%s%s%s", domain, library ? "library/" : "", path,
                n->digest ? "@" : ":",
                n->digest ? n->digest : n->tag ? n->tag : "latest") == -1)
    return NULL;
  return s;
}

/* The alias of a short NAME in RC, tag or digest carried over: NULL with
 * no alias (or a malformed one, which podman would refuse too).
 */
static char *
alias_candidate (const struct registries_conf *rc, const struct image_name *name)
{
  const char *alias = registries_conf_alias (rc, name->path);
  struct image_name an;
  char *s;

  if (!alias)
    return NULL;
  if (!image_name_parse (alias, &an) || !an.domain || an.tag || an.digest) {
    debug ("ignoring the malformed alias %s = \"%s\"", name->path, alias);
    image_name_free (&an);
    return NULL;
  }
  s = format_name (an.domain, an.path, name);
  image_name_free (&an);
  return s;
}

char **
image_name_candidates (const struct image_name *name)
{
  char **v = NULL;
  size_t n = 0;
  const char *domain = name->domain;

  if (domain && strcmp (domain, "index.docker.io") == 0)
    domain = "docker.io";
  if (domain) {
    if (strv_push (&v, &n, format_name (domain, name->path, name)) == -1)
      goto fail;
    return v;
  }

  /* A short name: its alias, localhost, then each unqualified-search
   * registry, as containers/image's shortnames.ResolveLocally.
   */
  struct registries_conf rc;
  if (registries_conf_load (&rc) == -1)
    goto fail;
  char *alias = alias_candidate (&rc, name);
  int r = 0;
  if (alias)
    r = strv_push (&v, &n, alias);
  if (r == 0)
    r = strv_push (&v, &n, format_name ("localhost", name->path, name));
  for (char **reg = rc.search; r == 0 && reg && *reg; reg++)
    r = strv_push (&v, &n, format_name (*reg, name->path, name));
  registries_conf_free (&rc);
  if (r == -1)
    goto fail;
  return v;

 fail:
  strv_free (v);
  return NULL;
}

/* ------------------------------------------------------------------ */

static int
by_id (const char *id, const struct st_image *const *images, size_t n,
       size_t *found)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (images[i]->id, id) == 0) {
      *found = i;
      return 0;
    }
  return 1;
}

static int
by_name (const char *name, const struct st_image *const *images, size_t n,
         size_t *found)
{
  for (size_t i = 0; i < n; i++)
    for (char *const *p = images[i]->names; *p; p++)
      if (strcmp (*p, name) == 0) {
        *found = i;
        return 0;
      }
  return 1;
}

/* Several images matched: an error that lists them. */
static int
ambiguous (const char *ref, const char *what,
           const struct st_image *const *images, const size_t *idx,
           size_t count, char *const *labels)
{
  char list[2048];
  size_t off = 0;
  list[0] = '\0';
  for (size_t i = 0; i < count && off < sizeof list; i++)
    off += snprintf (list + off, sizeof list - off, "%s%s (%.12s)",
                     i ? ", " : "", labels && labels[i] ? labels[i] : "",
                     images[idx[i]]->id);
  return error ("%s: ambiguous %s: it matches %zu images: %s", ref, what,
                count, list);
}

static int
by_id_prefix (const char *ref, const struct st_image *const *images, size_t n,
              size_t *found)
{
  size_t len = strlen (ref), count = 0, idx[16];

  if (!is_hex (ref, len) || len == 0)
    return 1;
  for (size_t i = 0; i < n; i++)
    if (strncmp (images[i]->id, ref, len) == 0) {
      if (count < sizeof idx / sizeof idx[0])
        idx[count] = i;
      count++;
    }
  if (count == 0)
    return 1;
  if (count > 1) {
    size_t shown = count < 16 ? count : 16;
    char *labels[16] = { 0 };
    for (size_t i = 0; i < shown; i++)
      labels[i] = images[idx[i]]->names[0];
    return ambiguous (ref, "image ID prefix", images, idx, shown, labels);
  }
  *found = idx[0];
  return 0;
}

/* Does the stored NAME's repository end with PATH at a path boundary,
 * and carry TAG (when TAG is not NULL)?  containers/common's inRepoTags.
 */
static bool
repo_matches (const char *stored, const char *path, const char *tag,
              bool require_tag)
{
  struct image_name sn;
  bool r = false;
  /* Declared before the first goto: jumping over it would free garbage. */
  _cleanup_free_ char *repo = NULL;
  if (!image_name_parse (stored, &sn) || !sn.domain)
    goto out;
  if (asprintf (&repo, "%s/%s", sn.domain, sn.path) == -1)
    goto out;
  size_t rl = strlen (repo), pl = strlen (path);
  if (pl > rl || strcmp (repo + rl - pl, path) != 0)
    goto out;
  if (rl != pl && repo[rl - pl - 1] != '/')
    goto out;
  if (require_tag && (!sn.tag || strcmp (sn.tag, tag) != 0))
    goto out;
  r = true;
 out:
  image_name_free (&sn);
  return r;
}

static bool
has_digest (const struct st_image *img, const char *digest)
{
  for (char *const *d = img->digests; *d; d++)
    if (strcmp (*d, digest) == 0)
      return true;
  return false;
}

/* The last resort of libimage: NAME@DIGEST among the images' digests, a
 * short NAME[:TAG] among the repository names.
 */
static int
by_repo (const char *ref, const struct image_name *name,
         const struct st_image *const *images, size_t n, size_t *found)
{
  /* A qualified name must match in full (domain included). */
  _cleanup_free_ char *path = NULL;
  if (asprintf (&path, "%s%s%s", name->domain ? name->domain : "",
                name->domain ? "/" : "", name->path) == -1)
    return error_errno (errno, "asprintf");
  const char *tag = name->tag ? name->tag : "latest";
  size_t count = 0, idx[16];
  char *labels[16];

  if (!name->digest && name->domain)
    return 1;     /* a qualified, tagged name was tried verbatim already */
  for (size_t i = 0; i < n; i++) {
    if (name->digest && !has_digest (images[i], name->digest))
      continue;
    for (char *const *p = images[i]->names; *p; p++)
      if (repo_matches (*p, path, tag, !name->digest)) {
        if (count < 16) {
          idx[count] = i;
          labels[count] = *p;
        }
        count++;
        break;
      }
  }
  if (count == 0)
    return 1;
  if (count > 1)
    return ambiguous (ref, "name", images, idx, count < 16 ? count : 16,
                      labels);
  *found = idx[0];
  return 0;
}

int
storage_ref_lookup (const char *ref, const struct st_image *const *images,
                    size_t n, size_t *found)
{
  /* containers-storage's NAME@ID and @ID: the ID decides. */
  const char *at = strrchr (ref, '@');
  if (at && is_full_id (at + 1))
    return by_id (at + 1, images, n, found);

  if (strncmp (ref, "sha256:", 7) == 0) {
    if (!is_full_id (ref + 7))
      return error ("%s: an image ID after sha256: must be 64 hex digits", ref);
    return by_id (ref + 7, images, n, found);
  }
  if (is_full_id (ref))
    return by_id (ref, images, n, found);

  struct image_name name;
  bool is_name = image_name_parse (ref, &name);
  int r = 1;
  if (is_name) {
    /* Docker compatibility: NAME:TAG@DIGEST is NAME@DIGEST. */
    if (name.digest) {
      free (name.tag);
      name.tag = NULL;
    }
    char **candidates = image_name_candidates (&name);
    if (!candidates) {
      image_name_free (&name);
      return -1;
    }
    for (char **c = candidates; *c && r == 1; c++) {
      debug ("trying %s", *c);
      r = by_name (*c, images, n, found);
    }
    strv_free (candidates);
  }
  if (r == 1)
    r = by_name (ref, images, n, found);
  if (r == 1)
    r = by_id (ref, images, n, found);
  if (r == 1)
    r = by_id_prefix (ref, images, n, found);
  if (r == 1 && is_name)
    r = by_repo (ref, &name, images, n, found);
  if (is_name)
    image_name_free (&name);
  return r;
}
