/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: image references (src/storage/reference.c): the
 * containers-storage:[DRIVER@ROOT+RUNROOT]REF specifier, docker reference
 * parsing, the candidate names, and the lookup among a store's images.
 *
 * Input: the first line is the reference; each further line an image,
 * "ID NAME NAME ...", with "@DIGEST" words as its digests.  Properties:
 * a parsed name has a path; candidates are non-empty strings; a lookup
 * found is an index into the images; a failure is one printable line.
 */
#include "common/cleanup.h"
#include "storage/reference.h"
#include "fuzz.h"

#define MAX_IMAGES 64
#define MAX_WORDS 16

static char **
new_strv (void)
{
  char **v = calloc (MAX_WORDS + 1, sizeof *v);
  if (!v)
    abort ();
  return v;
}

static size_t
decode_images (char *s, struct st_image *images)
{
  size_t n = 0;
  char *save = NULL;

  for (char *line = strtok_r (s, "\n", &save); line && n < MAX_IMAGES;
       line = strtok_r (NULL, "\n", &save)) {
    struct st_image *img = &images[n];
    size_t nn = 0, nd = 0;
    char *wsave = NULL, *w = strtok_r (line, " ", &wsave);
    if (!w)
      continue;
    memset (img, 0, sizeof *img);
    img->id = strdup (w);
    img->names = new_strv ();
    img->digests = new_strv ();
    while ((w = strtok_r (NULL, " ", &wsave))) {
      if (w[0] == '@' && nd < MAX_WORDS)
        img->digests[nd++] = strdup (w + 1);
      else if (w[0] != '@' && nn < MAX_WORDS)
        img->names[nn++] = strdup (w);
    }
    n++;
  }
  return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = fuzz_strndup (data, size);
  size_t rlen = strcspn (text, "\n");
  char *ref = strndup (text, rlen);
  struct st_image images[MAX_IMAGES];
  const struct st_image *ptrs[MAX_IMAGES];
  struct storage_spec spec;
  struct image_name name;
  size_t n, found = SIZE_MAX;

  if (!ref)
    abort ();
  n = decode_images (text + rlen, images);
  for (size_t i = 0; i < n; i++)
    ptrs[i] = &images[i];

  error_clear ();
  memset (&spec, 0, sizeof spec);
  if (storage_spec_parse (ref, &spec) == 0) {
    if (spec.ref && image_name_parse (spec.ref, &name)) {
      FUZZ_CHECK (name.path && name.path[0], "parsed '%s' without a path",
                  spec.ref);
      char **c = image_name_candidates (&name);
      for (char **p = c; p && *p; p++)
        FUZZ_CHECK ((*p)[0], "empty candidate for '%s'", spec.ref);
      strv_free (c);
      image_name_free (&name);
    }
    storage_spec_free (&spec);
  }
  else
    fuzz_check_error_message ();

  error_clear ();
  int r = storage_ref_lookup (ref, ptrs, n, &found);
  FUZZ_CHECK (r >= -1 && r <= 1, "lookup returned %d", r);
  if (r == 0)
    FUZZ_CHECK (found < n, "found %zu of %zu images", found, n);
  else if (r == -1)
    fuzz_check_error_message ();

  for (size_t i = 0; i < n; i++) {
    free (images[i].id);
    strv_free (images[i].names);
    strv_free (images[i].digests);
  }
  free (ref);
  free (text);
  return 0;
}
