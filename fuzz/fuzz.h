/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk fuzz targets: what every target shares.
 *
 * A target is fuzz/fuzz-NAME.c defining LLVMFuzzerTestOneInput.  It is
 * built twice (fuzz/fuzz.mk): with clang -fsanitize=fuzzer,address,undefined
 * for 'make fuzz', and with the normal compiler as a unit test replaying
 * fuzz/corpus/NAME/ and fuzz/regress/NAME/ (fuzz/replay.c).
 *
 * Beyond "no crash, no leak", targets check properties with FUZZ_CHECK:
 * a failure aborts, which both libFuzzer and the replay test report.
 */
#ifndef PODMAN_DISK_FUZZ_H
#define PODMAN_DISK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                           \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf (stderr, "%s:%d: fuzz check failed: %s: ", __FILE__,      \
               __LINE__, #cond);                                        \
      fprintf (stderr, __VA_ARGS__);                                    \
      fputc ('\n', stderr);                                             \
      abort ();                                                         \
    }                                                                   \
  } while (0)

/* After a failure: there is a message, and it is one printable line (it
 * names things taken from a hostile image, and main prints it as is).
 */
static inline void
fuzz_check_error_message (void)
{
  const char *m = error_message ();

  FUZZ_CHECK (m[0] != '\0', "a failure left no error message");
  for (const unsigned char *p = (const unsigned char *) m; *p; p++)
    FUZZ_CHECK (*p >= 0x20 && *p != 0x7f,
                "control character 0x%02x in the error message: %s", *p, m);
}

/* A NUL-terminated copy of the input, for parsers of strings. */
static inline char *
fuzz_strndup (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);
  if (!s)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

#endif
