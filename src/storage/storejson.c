/* podman-disk: images.json and layers.json of containers/storage.
 *
 * Only the fields needed to find a disk are read: an image's id, names,
 * digests and top layer; a layer's id, parent and incomplete flag.  Wrong
 * types are errors naming the file and the entry, never guesses.
 *
 * Building json-c's tree of a 500-image images.json (800 KB, every
 * image's metadata, big-data names and digests) and freeing it was most
 * of a locate after a store change.  So a file is first read by a strict
 * scanner that copies out only those fields and steps over the rest; it
 * accepts only strict JSON (RFC 8259, which json-c reads the same) whose
 * fields have the expected types and plain strings (no escapes).  For
 * anything else it is unsure, and json-c reads the file as before, with
 * the same errors.  fuzz/fuzz-storescan.c holds the two to one answer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/store.h"

bool
storage_valid_layer_id (const char *id)
{
  size_t i;
  for (i = 0; id[i]; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return i == 64;
}

/* --- json-c ---------------------------------------------------------------- */

/* Parse the whole of TEXT as one JSON array. */
static json_object *
parse_array (const char *text, size_t len, const char *name)
{
  json_tokener *tok = json_tokener_new ();
  if (!tok) {
    error_errno (ENOMEM, "json_tokener_new");
    return NULL;
  }
  json_object *o = json_tokener_parse_ex (tok, text, len);
  enum json_tokener_error jerr = json_tokener_get_error (tok);
  size_t end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);

  /* A JSON null parses to NULL with success: it is not an array either. */
  if (!o && jerr == json_tokener_success) {
    error ("%s: not a JSON array", name);
    return NULL;
  }
  if (!o) {
    if (jerr == json_tokener_continue || len == 0)
      error ("%s: truncated JSON (the file ends early)", name);
    else
      error ("%s: not valid JSON at byte %zu: %s", name, end,
             json_tokener_error_desc (jerr));
    return NULL;
  }
  for (size_t i = end; i < len; i++)
    if (!strchr (" \t\r\n", text[i])) {
      json_object_put (o);
      error ("%s: not valid JSON: unexpected data at byte %zu after the array",
             name, i);
      return NULL;
    }
  if (!json_object_is_type (o, json_type_array)) {
    json_object_put (o);
    error ("%s: not a JSON array", name);
    return NULL;
  }
  return o;
}

/* An optional string member: 0 (*OUT NULL when absent or null), -1 if
 * it has another type.
 */
static int
get_string (json_object *entry, const char *key, char **out,
            const char *name, size_t idx)
{
  json_object *v;
  *out = NULL;
  if (!json_object_object_get_ex (entry, key, &v) || v == NULL)
    return 0;
  if (!json_object_is_type (v, json_type_string))
    return error ("%s: entry %zu: \"%s\" is not a string", name, idx, key);
  if ((*out = strdup (json_object_get_string (v))) == NULL)
    return error_errno (errno, "strdup");
  return 0;
}

/* Append the strings of an optional array member to the vector *V. */
static int
add_strings (json_object *entry, const char *key, char ***v, size_t *n,
             const char *name, size_t idx)
{
  json_object *a;
  if (!json_object_object_get_ex (entry, key, &a) || a == NULL)
    return 0;
  if (!json_object_is_type (a, json_type_array))
    return error ("%s: entry %zu: \"%s\" is not an array", name, idx, key);
  size_t len = json_object_array_length (a);
  char **nv = realloc (*v, (*n + len + 1) * sizeof *nv);
  if (!nv)
    return error_errno (errno, "realloc");
  *v = nv;
  /* Terminated at once: an empty array, or a failure at its first element,
   * must still leave a vector that strv_free and the callers can walk.
   */
  nv[*n] = NULL;
  for (size_t i = 0; i < len; i++) {
    json_object *s = json_object_array_get_idx (a, i);
    if (!json_object_is_type (s, json_type_string))
      return error ("%s: entry %zu: \"%s\" holds a non-string", name, idx, key);
    if ((nv[*n] = strdup (json_object_get_string (s))) == NULL)
      return error_errno (errno, "strdup");
    nv[++*n] = NULL;
  }
  return 0;
}

static int
add_string (char ***v, size_t *n, const char *s)
{
  char **nv = realloc (*v, (*n + 2) * sizeof *nv);
  if (!nv)
    return error_errno (errno, "realloc");
  *v = nv;
  if ((nv[*n] = strdup (s)) == NULL)
    return error_errno (errno, "strdup");
  nv[++*n] = NULL;
  return 0;
}

/* An empty vector rather than NULL, so callers need not check. */
static int
strv_ensure (char ***v)
{
  if (!*v && (*v = calloc (1, sizeof **v)) == NULL)
    return error_errno (errno, "calloc");
  return 0;
}

static int
parse_image (json_object *e, const char *name, size_t idx, struct st_image *img)
{
  size_t nnames = 0, ndigests = 0;
  _cleanup_free_ char *digest = NULL;

  if (!json_object_is_type (e, json_type_object))
    return error ("%s: entry %zu is not an object", name, idx);
  if (get_string (e, "id", &img->id, name, idx) == -1)
    return -1;
  if (!img->id || !img->id[0] || strchr (img->id, '/'))
    return error ("%s: entry %zu has no valid \"id\"", name, idx);
  if (get_string (e, "layer", &img->top_layer, name, idx) == -1)
    return -1;
  if (img->top_layer && img->top_layer[0] == '\0') {
    free (img->top_layer);
    img->top_layer = NULL;
  }
  if (add_strings (e, "names", &img->names, &nnames, name, idx) == -1
      || get_string (e, "digest", &digest, name, idx) == -1
      || (digest && add_string (&img->digests, &ndigests, digest) == -1)
      || add_strings (e, "digests", &img->digests, &ndigests, name, idx) == -1
      || strv_ensure (&img->names) == -1 || strv_ensure (&img->digests) == -1)
    return -1;
  return 0;
}

/* --- the scanner -------------------------------------------------------- */

#define SCAN_UNSURE 1
#define SCAN_MAX_DEPTH 16           /* json-c's limit is 32 */

struct scan {
  const char *p, *end;
};

struct plain {                      /* a string without escapes, in place */
  const char *p;
  size_t n;
};

static void
scan_ws (struct scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n'
                           || *s->p == '\r'))
    s->p++;
}

static bool
scan_char (struct scan *s, char c)
{
  scan_ws (s);
  if (s->p == s->end || *s->p != c)
    return false;
  s->p++;
  return true;
}

static bool
scan_hex4 (struct scan *s, unsigned *u)
{
  *u = 0;
  if (s->end - s->p < 4)
    return false;
  for (int i = 0; i < 4; i++, s->p++) {
    char c = *s->p;
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0)
      return false;
    *u = *u * 16 + d;
  }
  return true;
}

/* The first quote, backslash or control character from P on (or END):
 * eight bytes at a time, with the usual bit tricks (a zero byte of X
 * sets the high bit of (X - 0x01..) & ~X & 0x80..).
 */
static const char *
string_run (const char *p, const char *end)
{
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

  while (end - p >= 8) {
    uint64_t w, q, b;
    memcpy (&w, p, 8);
    q = w ^ (ones * '"');
    b = w ^ (ones * '\\');
    if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs)
      break;
    p += 8;
  }
  while (p < end && (unsigned char) *p >= 0x20 && *p != '"' && *p != '\\')
    p++;
  return p;
}

/* A string at *S->p; *V is its bytes if it has no escapes, else V->p is
 * NULL.  Control characters, bad escapes, surrogates and \u0000: unsure.
 */
static bool
scan_string (struct scan *s, struct plain *v)
{
  scan_ws (s);
  if (s->p == s->end || *s->p != '"')
    return false;
  const char *start = ++s->p;
  bool escaped = false;
  for (;;) {
    s->p = string_run (s->p, s->end);
    if (s->p == s->end || *s->p != '"') {
      if (s->p == s->end || *s->p != '\\' || ++s->p == s->end)
        return false;
      escaped = true;
      char c = *s->p++;
      unsigned u;
      if (c == 'u' && (!scan_hex4 (s, &u) || u == 0 || (u >= 0xd800 && u <= 0xdfff)))
        return false;
      if (c != 'u' && (c == '\0' || !strchr ("\"\\/bfnrt", c)))
        return false;
      continue;
    }
    *v = escaped ? (struct plain) { NULL, 0 } : (struct plain) { start, s->p - start };
    s->p++;
    return true;
  }
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?, short: no exponents, no huge numbers. */
static bool
scan_number (struct scan *s)
{
  const char *start = s->p;
  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (s->p == s->end || *s->p < '0' || *s->p > '9')
    return false;
  if (*s->p++ == '0' && s->p < s->end && *s->p >= '0' && *s->p <= '9')
    return false;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
    s->p++;
  if (s->p < s->end && *s->p == '.') {
    if (++s->p == s->end || *s->p < '0' || *s->p > '9')
      return false;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
      s->p++;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    return false;
  return s->p - start <= 18;
}

static bool
scan_literal (struct scan *s, const char *word)
{
  size_t n = strlen (word);
  if ((size_t) (s->end - s->p) < n || memcmp (s->p, word, n) != 0)
    return false;
  s->p += n;
  return true;
}

static bool scan_skip (struct scan *s, int depth);

/* The members or elements of an object or array after its opening
 * bracket; EACH is called on every member's key (objects) and must step
 * over its value.
 */
static bool
scan_items (struct scan *s, char close, int depth,
            bool (*each) (struct scan *, struct plain key, void *), void *arg)
{
  if (scan_char (s, close))
    return true;
  do {
    if (close == '}') {
      struct plain key;
      if (!scan_string (s, &key) || !key.p || !scan_char (s, ':'))
        return false;
      if (!(each ? each (s, key, arg) : scan_skip (s, depth)))
        return false;
    }
    else if (!scan_skip (s, depth))
      return false;
  } while (scan_char (s, ','));
  return scan_char (s, close);
}

/* Step over any value. */
static bool
scan_skip (struct scan *s, int depth)
{
  struct plain v;

  scan_ws (s);
  if (s->p == s->end || depth > SCAN_MAX_DEPTH)
    return false;
  switch (*s->p) {
  case '{': s->p++; return scan_items (s, '}', depth + 1, NULL, NULL);
  case '[': s->p++; return scan_items (s, ']', depth + 1, NULL, NULL);
  case '"': return scan_string (s, &v);
  case 't': return scan_literal (s, "true");
  case 'f': return scan_literal (s, "false");
  case 'n': return scan_literal (s, "null");
  default: return scan_number (s);
  }
}

/* A value that is null (V->p NULL, *NUL true) or a plain string. */
static bool
scan_plain_or_null (struct scan *s, struct plain *v, bool *nul)
{
  scan_ws (s);
  *nul = s->p < s->end && *s->p == 'n';
  if (*nul) {
    *v = (struct plain) { NULL, 0 };
    return scan_literal (s, "null");
  }
  return scan_string (s, v) && v->p;
}

/* An array of plain strings, or null: its opening bracket in *AT (NULL
 * for null), stepped over; read again by plain_array_add.
 */
static bool
scan_plain_array (struct scan *s, const char **at)
{
  scan_ws (s);
  if (s->p < s->end && *s->p == 'n') {
    *at = NULL;
    return scan_literal (s, "null");
  }
  if (!scan_char (s, '['))
    return false;
  *at = s->p - 1;
  if (scan_char (s, ']'))
    return true;
  do {
    struct plain v;
    if (!scan_string (s, &v) || !v.p)
      return false;
  } while (scan_char (s, ','));
  return scan_char (s, ']');
}

static char *
plain_dup (struct plain v)
{
  char *d = strndup (v.p, v.n);
  if (!d)
    error_errno (errno, "strndup");
  return d;
}

static int
add_plain (char ***v, size_t *n, struct plain p)
{
  _cleanup_free_ char *s = plain_dup (p);
  return s ? add_string (v, n, s) : -1;
}

/* Append the strings of the array scanned at AT to the vector *V. */
static int
plain_array_add (const char *at, const char *end, char ***v, size_t *n)
{
  struct plain e;

  if (!at)
    return 0;
  struct scan s = { at + 1, end };
  if (scan_char (&s, ']'))
    return 0;
  do {
    scan_string (&s, &e);
    char **nv = realloc (*v, (*n + 2) * sizeof *nv);
    if (!nv)
      return error_errno (errno, "realloc");
    *v = nv;
    if ((nv[*n] = plain_dup (e)) == NULL)
      return -1;
    nv[++*n] = NULL;
  } while (scan_char (&s, ','));
  return 0;
}

/* The top-level array, each element an object whose members go to EACH,
 * then ENTRY_DONE; nothing but blanks after it.
 */
static int
scan_file (const char *text, size_t len,
           bool (*each) (struct scan *, struct plain key, void *),
           int (*entry_done) (void *), void *arg)
{
  struct scan s = { text, text + len };
  int r;

  if (!scan_char (&s, '['))
    return SCAN_UNSURE;
  if (!scan_char (&s, ']')) {
    do {
      if (!scan_char (&s, '{') || !scan_items (&s, '}', 2, each, arg))
        return SCAN_UNSURE;
      if ((r = entry_done (arg)) != 0)
        return r;
    } while (scan_char (&s, ','));
    if (!scan_char (&s, ']'))
      return SCAN_UNSURE;
  }
  scan_ws (&s);
  return s.p == s.end ? 0 : SCAN_UNSURE;
}

static bool
key_is (struct plain key, const char *name)
{
  return key.n == strlen (name) && memcmp (key.p, name, key.n) == 0;
}

/* images.json: the fields of the entry being scanned (the last of each
 * key wins, as in json-c), and the entries so far.
 */
struct image_scan {
  const char *end;
  struct plain id, layer, digest;
  const char *names, *digests;     /* arrays, NULL when absent or null */
  struct st_image *v;
  size_t n, alloc, store;
};

static bool
image_member (struct scan *s, struct plain key, void *arg)
{
  struct image_scan *is = arg;
  bool nul;

  if (key_is (key, "id"))
    return scan_plain_or_null (s, &is->id, &nul) && !nul;
  if (key_is (key, "layer"))
    return scan_plain_or_null (s, &is->layer, &nul);
  if (key_is (key, "digest"))
    return scan_plain_or_null (s, &is->digest, &nul);
  if (key_is (key, "names"))
    return scan_plain_array (s, &is->names);
  if (key_is (key, "digests"))
    return scan_plain_array (s, &is->digests);
  return scan_skip (s, 2);
}

static int
image_done (void *arg)
{
  struct image_scan *is = arg;
  size_t nnames = 0, ndigests = 0;

  /* What parse_image refuses is json-c's to say, with its words. */
  if (!is->id.p || is->id.n == 0 || memchr (is->id.p, '/', is->id.n))
    return SCAN_UNSURE;
  if (is->n == is->alloc) {
    size_t alloc = is->alloc ? 2 * is->alloc : 64;
    struct st_image *v = reallocarray (is->v, alloc, sizeof *v);
    if (!v)
      return error_errno (errno, "reallocarray");
    is->v = v;
    is->alloc = alloc;
  }
  struct st_image *img = &is->v[is->n++];
  memset (img, 0, sizeof *img);
  img->store = is->store;
  if ((img->id = plain_dup (is->id)) == NULL
      || (is->layer.n > 0 && (img->top_layer = plain_dup (is->layer)) == NULL)
      || plain_array_add (is->names, is->end, &img->names, &nnames) == -1
      || (is->digest.p && add_plain (&img->digests, &ndigests, is->digest) == -1)
      || plain_array_add (is->digests, is->end, &img->digests, &ndigests) == -1
      || strv_ensure (&img->names) == -1 || strv_ensure (&img->digests) == -1)
    return -1;
  is->id = is->layer = is->digest = (struct plain) { NULL, 0 };
  is->names = is->digests = NULL;
  return 0;
}

/* Append the scanned entries V[0, N) to *OUT / *N, or free them. */
static int
scan_images (const char *text, size_t len, size_t store,
             struct st_image **out, size_t *n)
{
  struct image_scan is = { .end = text + len, .store = store };
  int r = scan_file (text, len, image_member, image_done, &is);

  if (r == 0) {
    struct st_image *v = reallocarray (*out, *n + is.n + 1, sizeof *v);
    if (!v)
      r = error_errno (errno, "reallocarray");
    else {
      *out = v;
      memcpy (v + *n, is.v, is.n * sizeof *v);
      *n += is.n;
      free (is.v);
      return 0;
    }
  }
  st_images_free (is.v, is.n);
  return r;
}

/* layers.json, the same way. */
struct layer_scan {
  struct plain id, parent;
  bool incomplete;
  struct st_layer *v;
  size_t n, alloc;
};

static bool
flags_member (struct scan *s, struct plain key, void *arg)
{
  bool *incomplete = arg;

  if (!key_is (key, "incomplete"))
    return scan_skip (s, 3);
  scan_ws (s);
  /* json-c reads other types as booleans its own way: unsure. */
  if (scan_literal (s, "true"))
    *incomplete = true;
  else if (scan_literal (s, "false") || scan_literal (s, "null"))
    *incomplete = false;
  else
    return false;
  return true;
}

static bool
layer_member (struct scan *s, struct plain key, void *arg)
{
  struct layer_scan *ls = arg;
  bool nul;

  if (key_is (key, "id"))
    return scan_plain_or_null (s, &ls->id, &nul) && !nul;
  if (key_is (key, "parent"))
    return scan_plain_or_null (s, &ls->parent, &nul);
  if (key_is (key, "flags")) {
    ls->incomplete = false;
    if (scan_char (s, '{'))
      return scan_items (s, '}', 3, flags_member, &ls->incomplete);
    return scan_literal (s, "null");
  }
  return scan_skip (s, 2);
}

static bool
plain_is_layer_id (struct plain v)
{
  if (v.n != 64)
    return false;
  for (size_t i = 0; i < 64; i++)
    if (!((v.p[i] >= '0' && v.p[i] <= '9') || (v.p[i] >= 'a' && v.p[i] <= 'f')))
      return false;
  return true;
}

static int
layer_done (void *arg)
{
  struct layer_scan *ls = arg;

  if (!plain_is_layer_id (ls->id) || (ls->parent.n > 0 && !plain_is_layer_id (ls->parent)))
    return SCAN_UNSURE;
  if (ls->n == ls->alloc) {
    size_t alloc = ls->alloc ? 2 * ls->alloc : 64;
    struct st_layer *v = reallocarray (ls->v, alloc, sizeof *v);
    if (!v)
      return error_errno (errno, "reallocarray");
    ls->v = v;
    ls->alloc = alloc;
  }
  struct st_layer *l = &ls->v[ls->n++];
  memset (l, 0, sizeof *l);
  l->incomplete = ls->incomplete;
  if ((l->id = plain_dup (ls->id)) == NULL
      || (ls->parent.n > 0 && (l->parent = plain_dup (ls->parent)) == NULL))
    return -1;
  ls->id = ls->parent = (struct plain) { NULL, 0 };
  ls->incomplete = false;
  return 0;
}

static int
scan_layers (const char *text, size_t len, struct st_layer **out, size_t *n)
{
  struct layer_scan ls = { .n = 0 };
  int r = scan_file (text, len, layer_member, layer_done, &ls);

  if (r == 0) {
    struct st_layer *v = reallocarray (*out, *n + ls.n + 1, sizeof *v);
    if (!v)
      r = error_errno (errno, "reallocarray");
    else {
      *out = v;
      memcpy (v + *n, ls.v, ls.n * sizeof *v);
      *n += ls.n;
      free (ls.v);
      return 0;
    }
  }
  st_layers_free (ls.v, ls.n);
  return r;
}

int
storejson_parse_images (const char *text, size_t len, const char *name,
                        size_t store, struct st_image **out, size_t *n)
{
  int r = scan_images (text, len, store, out, n);
  if (r != SCAN_UNSURE)
    return r;
  debug ("%s: read by json-c", name);
  return storejson_parse_images_jsonc (text, len, name, store, out, n);
}

int
storejson_parse_images_jsonc (const char *text, size_t len, const char *name,
                              size_t store, struct st_image **out, size_t *n)
{
  json_object *a = parse_array (text, len, name);
  if (!a)
    return -1;
  size_t count = json_object_array_length (a);
  struct st_image *v = realloc (*out, (*n + count + 1) * sizeof *v);
  if (!v) {
    json_object_put (a);
    return error_errno (errno, "realloc");
  }
  *out = v;
  for (size_t i = 0; i < count; i++) {
    struct st_image *img = &v[*n];
    memset (img, 0, sizeof *img);
    img->store = store;
    /* Counted before parsing, so a half-parsed entry is freed too. */
    ++*n;
    if (parse_image (json_object_array_get_idx (a, i), name, i, img) == -1) {
      json_object_put (a);
      return -1;
    }
  }
  json_object_put (a);
  return 0;
}

static int
parse_layer (json_object *e, const char *name, size_t idx, struct st_layer *l)
{
  json_object *flags, *inc;

  if (!json_object_is_type (e, json_type_object))
    return error ("%s: entry %zu is not an object", name, idx);
  if (get_string (e, "id", &l->id, name, idx) == -1
      || get_string (e, "parent", &l->parent, name, idx) == -1)
    return -1;
  if (!l->id || !storage_valid_layer_id (l->id))
    return error ("%s: entry %zu: layer id '%s' is not 64 hex digits",
                  name, idx, l->id ? l->id : "");
  if (l->parent && l->parent[0] == '\0') {
    free (l->parent);
    l->parent = NULL;
  }
  if (l->parent && !storage_valid_layer_id (l->parent))
    return error ("%s: entry %zu: parent layer id '%s' is not 64 hex digits",
                  name, idx, l->parent);
  if (json_object_object_get_ex (e, "flags", &flags) && flags) {
    if (!json_object_is_type (flags, json_type_object))
      return error ("%s: entry %zu: \"flags\" is not an object", name, idx);
    if (json_object_object_get_ex (flags, "incomplete", &inc) && inc)
      l->incomplete = json_object_get_boolean (inc);
  }
  return 0;
}

int
storejson_parse_layers (const char *text, size_t len, const char *name,
                        struct st_layer **out, size_t *n)
{
  int r = scan_layers (text, len, out, n);
  if (r != SCAN_UNSURE)
    return r;
  debug ("%s: read by json-c", name);
  return storejson_parse_layers_jsonc (text, len, name, out, n);
}

int
storejson_parse_layers_jsonc (const char *text, size_t len, const char *name,
                              struct st_layer **out, size_t *n)
{
  json_object *a = parse_array (text, len, name);
  if (!a)
    return -1;
  size_t count = json_object_array_length (a);
  struct st_layer *v = realloc (*out, (*n + count + 1) * sizeof *v);
  if (!v) {
    json_object_put (a);
    return error_errno (errno, "realloc");
  }
  *out = v;
  for (size_t i = 0; i < count; i++) {
    struct st_layer *l = &v[*n];
    memset (l, 0, sizeof *l);
    ++*n;
    if (parse_layer (json_object_array_get_idx (a, i), name, i, l) == -1) {
      json_object_put (a);
      return -1;
    }
  }
  json_object_put (a);
  return 0;
}

void
st_images_free (struct st_image *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (v[i].id);
    strv_free (v[i].names);
    strv_free (v[i].digests);
    free (v[i].top_layer);
  }
  free (v);
}

void
st_layers_free (struct st_layer *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (v[i].id);
    free (v[i].parent);
  }
  free (v);
}
