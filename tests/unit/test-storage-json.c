/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: containers/storage's images.json and layers.json
 * (src/storage/storejson.c): the fields read, and a clear error naming the
 * file for wrong types and truncated or trailing JSON.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "storage/store.h"

#include "unit.h"

#define L1 "1111111111111111111111111111111111111111111111111111111111111111"
#define L2 "2222222222222222222222222222222222222222222222222222222222222222"
#define D1 "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define D2 "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

/* As podman writes it, with the fields podman-disk does not read. */
static const char images_json[] =
  "[{\"id\":\"abc\",\"digest\":\"" D1 "\",\"names\":[\"quay.io/a/b:1\","
  "\"localhost/b:2\"],\"names-history\":[\"x\"],\"layer\":\"" L1 "\","
  "\"metadata\":\"{}\",\"big-data-names\":[\"manifest\"],"
  "\"big-data-sizes\":{\"manifest\":498},\"created\":\"2024-01-01T00:00:00Z\"},"
  " {\"id\":\"def\",\"digests\":[\"" D1 "\",\"" D2 "\"]},"
  " {\"id\":\"ghi\",\"digest\":\"" D2 "\",\"digests\":[\"" D1 "\"],\"layer\":\"\","
  "\"names\":null}]\n";

static void
test_images (void)
{
  struct st_image *v = NULL;
  size_t n = 0;
  int r = storejson_parse_images (images_json, strlen (images_json),
                                  "images.json", 3, &v, &n);
  check (r == 0 && n == 3, "three images parsed");
  if (r == 0 && n == 3) {
    check (!strcmp (v[0].id, "abc") && !strcmp (v[0].names[0], "quay.io/a/b:1")
           && !strcmp (v[0].names[1], "localhost/b:2") && !v[0].names[2]
           && !strcmp (v[0].top_layer, L1) && !strcmp (v[0].digests[0], D1)
           && !v[0].digests[1] && v[0].store == 3, "image 0's fields");
    check (v[1].names && !v[1].names[0] && !v[1].top_layer
           && !strcmp (v[1].digests[0], D1) && !strcmp (v[1].digests[1], D2)
           && !v[1].digests[2], "image 1: no names, no layer, two digests");
    check (!v[2].top_layer && !strcmp (v[2].digests[0], D2)
           && !strcmp (v[2].digests[1], D1) && v[2].names && !v[2].names[0],
           "image 2: digest before digests, empty layer and null names");
  }
  st_images_free (v, n);

  /* Appending: the volatile and main files fill one array. */
  v = NULL;
  n = 0;
  storejson_parse_images ("[]", 2, "a", 0, &v, &n);
  r = storejson_parse_images ("[{\"id\":\"x\"}]", 12, "b", 0, &v, &n);
  check (r == 0 && n == 1 && v[0].names && !v[0].names[0],
         "an empty array, then one image");
  st_images_free (v, n);
}

static void
images_bad (const char *json, const char *message, const char *what)
{
  struct st_image *v = NULL;
  size_t n = 0;
  error_clear ();
  int r = storejson_parse_images (json, strlen (json),
                                  "/s/overlay-images/images.json", 0, &v, &n);
  check (r == -1 && strstr (error_message (), message)
         && strstr (error_message (), "/s/overlay-images/images.json"),
         "%s: %s", what, error_message ());
  st_images_free (v, n);
}

static void
test_images_bad (void)
{
  images_bad ("[{\"id\":\"abc\",\"names\":[\"a\"", "truncated JSON",
              "truncated");
  images_bad ("", "truncated JSON", "empty text");
  images_bad ("[] []", "unexpected data at byte 3", "trailing data");
  images_bad ("[{\"id\":}]", "not valid JSON at byte", "a syntax error");
  images_bad ("{\"id\":\"a\"}", "not a JSON array", "an object");
  images_bad ("[1]", "entry 0 is not an object", "a number entry");
  images_bad ("[{\"names\":[]}]", "entry 0 has no valid \"id\"", "no id");
  images_bad ("[{\"id\":\"a/b\"}]", "entry 0 has no valid \"id\"", "a '/' id");
  images_bad ("[{\"id\":7}]", "entry 0: \"id\" is not a string", "a number id");
  images_bad ("[{\"id\":\"a\"},{\"id\":\"b\",\"names\":\"x\"}]",
              "entry 1: \"names\" is not an array", "names a string");
  images_bad ("[{\"id\":\"a\",\"names\":[\"x\",3]}]",
              "entry 0: \"names\" holds a non-string", "a number name");
  images_bad ("[{\"id\":\"a\",\"layer\":[]}]",
              "entry 0: \"layer\" is not a string", "layer an array");
  images_bad ("[{\"id\":\"a\",\"digest\":1}]",
              "entry 0: \"digest\" is not a string", "digest a number");
  images_bad ("[{\"id\":\"a\",\"digests\":{}}]",
              "entry 0: \"digests\" is not an array", "digests an object");
}

static void
test_layers (void)
{
  static const char json[] =
    "[{\"id\":\"" L1 "\",\"parent\":\"" L2 "\",\"created\":\"x\","
    "\"compressed-diff-digest\":\"" D1 "\",\"diff-size\":1,\"uidset\":[107]},"
    "{\"id\":\"" L2 "\",\"flags\":{\"incomplete\":true}},"
    "{\"id\":\"" L2 "\",\"parent\":\"\",\"flags\":{}}]";
  struct st_layer *v = NULL;
  size_t n = 0;
  int r = storejson_parse_layers (json, strlen (json), "layers.json", &v, &n);
  check (r == 0 && n == 3, "three layers parsed");
  if (r == 0 && n == 3)
    check (!strcmp (v[0].id, L1) && !strcmp (v[0].parent, L2)
           && !v[0].incomplete && v[1].incomplete && !v[1].parent
           && !v[2].parent && !v[2].incomplete, "the layers' fields");
  st_layers_free (v, n);
}

static void
layers_bad (const char *json, const char *message, const char *what)
{
  struct st_layer *v = NULL;
  size_t n = 0;
  error_clear ();
  int r = storejson_parse_layers (json, strlen (json),
                                  "/s/overlay-layers/layers.json", &v, &n);
  check (r == -1 && strstr (error_message (), message)
         && strstr (error_message (), "/s/overlay-layers/layers.json"),
         "%s: %s", what, error_message ());
  st_layers_free (v, n);
}

static void
test_layers_bad (void)
{
  layers_bad ("[{\"id\":\"../../etc\"}]", "layer id '../../etc' is not 64 hex",
              "a path as id");
  layers_bad ("[{\"id\":\"" L1 "/x\"}]", "is not 64 hex", "a '/' in the id");
  layers_bad ("[{\"id\":\"" "ABCD" L1 "\"}]", "is not 64 hex", "65+ digits");
  layers_bad ("[{}]", "layer id '' is not 64 hex", "no id");
  layers_bad ("[{\"id\":\"" L1 "\",\"parent\":\"..\"}]",
              "parent layer id '..' is not 64 hex", "a '..' parent");
  layers_bad ("[{\"id\":\"" L1 "\",\"parent\":5}]",
              "\"parent\" is not a string", "a number parent");
  layers_bad ("[{\"id\":\"" L1 "\",\"flags\":[]}]",
              "\"flags\" is not an object", "flags an array");
  layers_bad ("[{\"id\":\"" L1 "\"", "truncated", "truncated");
  check (storage_valid_layer_id (L1) && !storage_valid_layer_id ("")
         && !storage_valid_layer_id ("..") && !storage_valid_layer_id (D1),
         "storage_valid_layer_id");
}

int
main (void)
{
  test_images ();
  test_images_bad ();
  test_layers ();
  test_layers_bad ();
  return unit_summary ();
}
