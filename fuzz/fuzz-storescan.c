/* Fuzz target: the fast scan of images.json and layers.json
 * (src/storage/storejson.c) against json-c, its reference.
 *
 * The input is parsed as both files, once through storejson_parse_* (the
 * scan, and json-c where the scan is unsure) and once through json-c
 * alone.  Property: the same answer, entry by entry and field by field,
 * or the same error message.
 */
#include "storage/store.h"
#include "fuzz.h"

static void
same_strv (char **a, char **b, const char *what, size_t i)
{
  for (; a && *a && b && *b; a++, b++)
    FUZZ_CHECK (strcmp (*a, *b) == 0, "image %zu: %s '%s', json-c '%s'",
                i, what, *a, *b);
  FUZZ_CHECK ((!a || !*a) && (!b || !*b), "image %zu: %s differ in number",
              i, what);
}

static char *
saved_error (void)
{
  char *m = strdup (error_message ());
  if (!m)
    abort ();
  error_clear ();
  return m;
}

static void
compare_images (const char *text, size_t size)
{
  struct st_image *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;

  error_clear ();
  int ra = storejson_parse_images (text, size, "images.json", 3, &a, &na);
  char *ea = saved_error ();
  int rb = storejson_parse_images_jsonc (text, size, "images.json", 3, &b, &nb);
  char *eb = saved_error ();
  FUZZ_CHECK (ra == rb, "images: %d, json-c %d (%s)", ra, rb, ra ? ea : eb);
  if (ra == 0) {
    FUZZ_CHECK (na == nb, "%zu images, json-c %zu", na, nb);
    for (size_t i = 0; i < na; i++) {
      FUZZ_CHECK (strcmp (a[i].id, b[i].id) == 0, "image %zu: id", i);
      FUZZ_CHECK ((!a[i].top_layer && !b[i].top_layer)
                  || (a[i].top_layer && b[i].top_layer
                      && strcmp (a[i].top_layer, b[i].top_layer) == 0),
                  "image %zu: layer", i);
      FUZZ_CHECK (a[i].store == b[i].store, "image %zu: store", i);
      same_strv (a[i].names, b[i].names, "names", i);
      same_strv (a[i].digests, b[i].digests, "digests", i);
    }
  }
  else
    FUZZ_CHECK (strcmp (ea, eb) == 0, "images: '%s', json-c '%s'", ea, eb);
  free (ea);
  free (eb);
  st_images_free (a, na);
  st_images_free (b, nb);
}

static void
compare_layers (const char *text, size_t size)
{
  struct st_layer *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;

  error_clear ();
  int ra = storejson_parse_layers (text, size, "layers.json", &a, &na);
  char *ea = saved_error ();
  int rb = storejson_parse_layers_jsonc (text, size, "layers.json", &b, &nb);
  char *eb = saved_error ();
  FUZZ_CHECK (ra == rb, "layers: %d, json-c %d (%s)", ra, rb, ra ? ea : eb);
  if (ra == 0) {
    FUZZ_CHECK (na == nb, "%zu layers, json-c %zu", na, nb);
    for (size_t i = 0; i < na; i++) {
      FUZZ_CHECK (strcmp (a[i].id, b[i].id) == 0, "layer %zu: id", i);
      FUZZ_CHECK ((!a[i].parent && !b[i].parent)
                  || (a[i].parent && b[i].parent
                      && strcmp (a[i].parent, b[i].parent) == 0),
                  "layer %zu: parent", i);
      FUZZ_CHECK (a[i].incomplete == b[i].incomplete, "layer %zu: incomplete", i);
    }
  }
  else
    FUZZ_CHECK (strcmp (ea, eb) == 0, "layers: '%s', json-c '%s'", ea, eb);
  free (ea);
  free (eb);
  st_layers_free (a, na);
  st_layers_free (b, nb);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  compare_images ((const char *) data, size);
  compare_layers ((const char *) data, size);
  return 0;
}
