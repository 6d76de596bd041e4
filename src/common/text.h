/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the one way text that an image controls reaches a terminal.
 *
 * Image names, tags, member paths, disk names, layer ids, export names,
 * the file names of an image's layers: an image (or whoever wrote a
 * layout, an archive or a record) chooses them, and they can hold
 * terminal escapes, CR, newlines.  Every command prints them through
 * here, in its text output and in its error messages (common/error.c
 * uses text_sanitize on every message).
 *
 * The rule, on the bytes as UTF-8 (the terminal is assumed to be UTF-8;
 * the locale is not consulted): each of these characters becomes one '?',
 * as GNU ls shows control characters on a terminal:
 *   - C0 controls (0x00-0x1f, tab and newline included) and DEL (0x7f);
 *   - C1 controls, U+0080-U+009F, encoded in UTF-8 (0xc2 0x80-0x9f);
 *   - every byte that is not part of well-formed UTF-8 (a raw 0x9b, the
 *     8-bit CSI, among them; overlong forms, surrogates, > U+10FFFF);
 *   - the bidirectional embedding, override and isolate controls
 *     (U+202A-U+202E, U+2066-U+2069), which reorder what is shown
 *     around them, and U+2028/U+2029, line and paragraph separators.
 * Any other UTF-8 (é, CJK, ...) is kept as it is.  So a value is always
 * one line that cannot move the cursor or change the terminal; it is for
 * reading, not reversible ('?' may be a real '?'): --format json gives
 * the exact string.
 *
 * JSON output stays exact: json-c escapes C0 controls itself, and
 * text_fput_json escapes what json-c leaves raw (DEL, C1 controls, the
 * characters above) as \uXXXX, which every JSON reader decodes to the
 * same string.  A byte that is not UTF-8 cannot be in JSON at all: it
 * becomes \ufffd, U+FFFD, as Go's encoding/json (podman's JSON) makes
 * it and as any JSON reader would read it.  A name that is not UTF-8 has
 * no exact JSON form (and qemu's JSON parser refuses it: serve and cp
 * still reach such a disk).
 */
#ifndef PODMAN_DISK_TEXT_H
#define PODMAN_DISK_TEXT_H

#include <stdio.h>

/* Apply the rule to S in place (the result is never longer); returns S. */
char *text_sanitize (char *s);

/* Write S to F by the rule; NULL writes nothing.  Returns the number of
 * bytes written.
 */
size_t text_fputs (const char *s, FILE *f);

/* text_fputs, then spaces up to WIDTH bytes: printf's "%-*s" for a
 * column of a table.
 */
void text_fput_column (const char *s, int width, FILE *f);

/* Write the JSON text JSON (json-c's output) to F with DEL, the C1
 * controls and the characters above escaped as \uXXXX, and each byte
 * that is not UTF-8 as \ufffd.
 */
void text_fput_json (const char *json, FILE *f);

#endif
