/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a small, strict reader of the TOML that storage.conf uses.
 *
 * Debian has no C TOML library, and storage.conf needs little: tables,
 * strings, arrays of strings, booleans, integers, inline tables, comments.
 * Every key = value is handed to a callback under its full dotted path
 * ("storage.options.additionalimagestores"), so the caller picks the keys it
 * knows and ignores the rest.  Anything that is not well-formed TOML of
 * that subset (floats and dates included) is an error naming FILE:LINE.
 */
#ifndef PODMAN_DISK_TOML_H
#define PODMAN_DISK_TOML_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

enum toml_type {
  TOML_STRING,
  TOML_BOOL,
  TOML_INTEGER,
  TOML_STRING_ARRAY,   /* an array whose items are all strings (or empty) */
  TOML_ARRAY,          /* any other array: its items are not given */
};

struct toml_value {
  enum toml_type type;
  const char *string;         /* TOML_STRING */
  bool boolean;               /* TOML_BOOL */
  int64_t integer;            /* TOML_INTEGER */
  char *const *strings;       /* TOML_STRING_ARRAY, NULL-terminated */
  const char *file;           /* where it was read, for messages */
  int line;
};

/* Called for each key; PATH is the table path and the key joined by '.'.
 * A non-zero return (after error ()) stops the parse and is returned.
 */
typedef int (*toml_key_cb) (const char *path, const struct toml_value *value,
                            void *arg);

/* Parse TEXT (LEN bytes), named NAME in messages. */
int toml_parse (const char *text, size_t len, const char *name,
                toml_key_cb cb, void *arg);

/* Read and parse the file PATH.  A missing file is returned as 1 (not an
 * error); 0 when parsed; -1 with error ().
 */
int toml_parse_file (const char *path, toml_key_cb cb, void *arg);

/* "a string", "a boolean", ... for the caller's type errors. */
const char *toml_type_name (enum toml_type type);

#endif
