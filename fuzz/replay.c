/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: replay a fuzz target's inputs as a unit test.
 *
 * Runs LLVMFuzzerTestOneInput on every file of fuzz/corpus/NAME/ (the
 * seeds) and fuzz/regress/NAME/ (inputs that once crashed, kept fixed), so
 * 'make check' covers them without clang.  A crash or a failed FUZZ_CHECK
 * fails the test; the "ok" lines name the files that passed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  struct stat st;
  uint8_t *buf;

  if (!f || fstat (fileno (f), &st) == -1) {
    fprintf (stderr, "FAIL - %s: %s\n", path, strerror (errno));
    return -1;
  }
  /* A private copy of exactly the file's size, so ASan sees overreads. */
  buf = malloc (st.st_size ? st.st_size : 1);
  if (!buf || fread (buf, 1, st.st_size, f) != (size_t) st.st_size) {
    fprintf (stderr, "FAIL - %s: short read\n", path);
    return -1;
  }
  fclose (f);
  error_clear ();
  LLVMFuzzerTestOneInput (buf, st.st_size);
  free (buf);
  printf ("ok - %s\n", path);
  return 0;
}

static int
replay_dir (const char *dir, int *n)
{
  struct dirent **names;
  int r = 0, count = scandir (dir, &names, NULL, alphasort);

  if (count == -1)
    return errno == ENOENT ? 0 : -1;
  for (int i = 0; i < count; i++) {
    char *path;
    if (names[i]->d_name[0] != '.') {
      if (asprintf (&path, "%s/%s", dir, names[i]->d_name) == -1)
        abort ();
      if (replay_file (path) == -1)
        r = -1;
      else
        (*n)++;
      free (path);
    }
    free (names[i]);
  }
  free (names);
  return r;
}

int
main (void)
{
  static const char *const kinds[] = { "corpus", "regress" };
  int n = 0, r = 0;

  for (size_t i = 0; i < 2; i++) {
    char *dir;
    if (asprintf (&dir, "%s/%s/%s", FUZZ_DIR, kinds[i], FUZZ_NAME) == -1)
      abort ();
    if (replay_dir (dir, &n) == -1)
      r = 1;
    free (dir);
  }
  if (n == 0) {
    printf ("fuzz-%s: SKIP: no inputs under %s/{corpus,regress}/%s\n",
            FUZZ_NAME, FUZZ_DIR, FUZZ_NAME);
    return 77;
  }
  printf ("%d inputs of fuzz-%s replayed\n", n, FUZZ_NAME);
  return r;
}
