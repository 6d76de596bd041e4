/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: containers/storage images.json and layers.json
 * (src/storage/storejson.c).
 *
 * The input is parsed as both files.  Properties: on success every layer has an
 * id (and parent, if any) of exactly 64 lowercase hex digits, since they
 * become path components; images have an id; lists are NULL-terminated;
 * a failure is one printable line; nothing leaks.
 */
#include "storage/store.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  struct st_image *images = NULL;
  struct st_layer *layers = NULL;
  size_t nimages = 0, nlayers = 0;

  error_clear ();
  int r = storejson_parse_images (text, size, "images.json", 0,
                                  &images, &nimages);
  if (r == -1) {
    fuzz_check_error_message ();
    /* json-c's own words for a success are never a reason to refuse. */
    FUZZ_CHECK (!strstr (error_message (), ": success"),
                "failure explained as success: %s", error_message ());
  }
  for (size_t i = 0; r == 0 && i < nimages; i++) {
    FUZZ_CHECK (images[i].id != NULL, "image %zu without id", i);
    for (char **n = images[i].names; n && *n; n++)
      (void) strlen (*n);
    for (char **d = images[i].digests; d && *d; d++)
      (void) strlen (*d);
  }
  st_images_free (images, nimages);

  error_clear ();
  r = storejson_parse_layers (text, size, "layers.json", &layers, &nlayers);
  if (r == -1)
    fuzz_check_error_message ();
  /* After a failure the store is not used: what was kept is only freed. */
  for (size_t i = 0; r == 0 && i < nlayers; i++) {
    FUZZ_CHECK (layers[i].id && storage_valid_layer_id (layers[i].id),
                "layer %zu kept with id '%s'", i,
                layers[i].id ? layers[i].id : "(null)");
    FUZZ_CHECK (!layers[i].parent || storage_valid_layer_id (layers[i].parent),
                "layer %zu kept with parent '%s'", i, layers[i].parent);
  }
  st_layers_free (layers, nlayers);
  return 0;
}
