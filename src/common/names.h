/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: an enum's words, one table read both ways.
 *
 * A table is indexed by the enum's values, [VALUE] = "word", so the word
 * of a value is table[value] and the value of a word is its index:
 *
 *   static const char *const tls_names[] = {
 *     [SERVER_TLS_OFF] = "off", [SERVER_TLS_ON] = "on", ...
 *   };
 *   int i = names_lookup (tls_names, ARRAY_SIZE (tls_names), word);
 *
 * One table per enum keeps the parser and the printer from drifting apart.
 */
#ifndef PODMAN_DISK_NAMES_H
#define PODMAN_DISK_NAMES_H

#include <stddef.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof (a) / sizeof (a)[0])

/* The index of WORD in NAMES[0..N), or -1; NULL entries never match. */
static inline int
names_lookup (const char *const *names, size_t n, const char *word)
{
  for (size_t i = 0; i < n; i++)
    if (names[i] && strcmp (names[i], word) == 0)
      return (int) i;
  return -1;
}

#endif
