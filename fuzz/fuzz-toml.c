/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the storage.conf TOML subset reader (src/storage/toml.c).
 *
 * The input is the file.  Properties: every key handed to the callback has
 * a dotted path and a value of its declared type (strings and
 * string arrays non-NULL, the array NULL-terminated); a stop asked by the
 * callback is returned; a failure is one printable line.
 */
#include "fuzz.h"              /* first: storage/toml.h needs size_t */
#include "storage/toml.h"

struct seen {
  unsigned keys;
};

static int
on_key (const char *path, const struct toml_value *v, void *arg)
{
  struct seen *seen = arg;

  FUZZ_CHECK (path != NULL, "no key path");     /* "" = 1 is valid TOML */
  FUZZ_CHECK (v->file && v->line > 0, "no file:line for %s", path);
  switch (v->type) {
  case TOML_STRING:
    FUZZ_CHECK (v->string != NULL, "%s: NULL string", path);
    break;
  case TOML_STRING_ARRAY:
    FUZZ_CHECK (v->strings != NULL, "%s: NULL string array", path);
    for (char *const *s = v->strings; *s; s++)
      (void) strlen (*s);
    break;
  case TOML_BOOL: case TOML_INTEGER: case TOML_ARRAY:
    break;
  default:
    FUZZ_CHECK (0, "%s: unknown type %d", path, (int) v->type);
  }
  (void) toml_type_name (v->type);
  /* Stop at the 50th key, as a caller refusing a value would. */
  if (++seen->keys == 50)
    return error ("%s: refused by the caller", path);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct seen seen = { 0 };
  char *text = fuzz_strndup (data, size);   /* no NUL after SIZE bytes */

  error_clear ();
  int r = toml_parse (text, size, "fuzz.conf", on_key, &seen);
  FUZZ_CHECK (r == 0 || r == -1, "toml_parse returned %d", r);
  if (r == -1)
    fuzz_check_error_message ();
  else
    FUZZ_CHECK (seen.keys < 50, "the callback's stop was not returned");
  free (text);
  return 0;
}
