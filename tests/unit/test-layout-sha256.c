/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: SHA-256 (src/common/sha256.c) on the FIPS 180-4 examples,
 * fed whole and in odd-sized pieces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sha256.h"

static int failures;

static void
check (const char *what, const char *got, const char *want)
{
  if (strcmp (got, want)) {
    fprintf (stderr, "%s: got %s, want %s\n", what, got, want);
    failures++;
  }
}

int
main (void)
{
  static const struct { const char *msg, *hex; } vectors[] = {
    { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
  };
  char hex[65];

  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
    sha256_hex (vectors[i].msg, strlen (vectors[i].msg), hex);
    check (vectors[i].msg, hex, vectors[i].hex);
  }

  /* A million 'a', in pieces of 1, 63, 64, 65, ... bytes. */
  size_t len = 1000000, step = 1;
  char *a = malloc (len);
  memset (a, 'a', len);
  struct sha256 s;
  sha256_init (&s);
  for (size_t done = 0; done < len; step = step * 3 % 997 + 1) {
    size_t n = step < len - done ? step : len - done;
    sha256_update (&s, a + done, n);
    done += n;
  }
  sha256_final_hex (&s, hex);
  check ("a million a", hex,
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free (a);

  if (failures)
    return 1;
  printf ("test-layout-sha256: ok\n");
  return 0;
}
