/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the TOML subset reader of storage.conf (src/storage/toml.c):
 * what it reads, under which dotted path, and the file:line of what it
 * refuses.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/toml.h"

#include "unit.h"

/* Every key read, as "path=value" lines, values rendered by type. */
static char seen[8192];

static int
record (const char *path, const struct toml_value *v, void *arg _unused_)
{
  size_t off = strlen (seen);
  char *p = seen + off;
  size_t left = sizeof seen - off;
  switch (v->type) {
  case TOML_STRING: snprintf (p, left, "%s=s:%s@%d\n", path, v->string, v->line); break;
  case TOML_BOOL: snprintf (p, left, "%s=b:%d\n", path, v->boolean); break;
  case TOML_INTEGER: snprintf (p, left, "%s=i:%lld\n", path, (long long) v->integer); break;
  case TOML_ARRAY: snprintf (p, left, "%s=array\n", path); break;
  case TOML_STRING_ARRAY: {
    int n = snprintf (p, left, "%s=[", path);
    for (char *const *s = v->strings; *s; s++)
      n += snprintf (p + n, left - n, "%s%s", s == v->strings ? "" : ",", *s);
    snprintf (p + n, left - n, "]\n");
    break;
  }
  }
  return 0;
}

static void
parses_to (const char *text, const char *expected, const char *what)
{
  seen[0] = '\0';
  error_clear ();
  int r = toml_parse (text, strlen (text), "t.conf", record, NULL);
  bool ok = r == 0 && strcmp (seen, expected) == 0;
  check (ok, "%s", what);
  if (!ok)
    printf ("  r=%d error '%s'\n  got:\n%s  expected:\n%s", r,
            error_message (), seen, expected);
}

static void
refuses (const char *text, const char *message, const char *what)
{
  seen[0] = '\0';
  error_clear ();
  int r = toml_parse (text, strlen (text), "t.conf", record, NULL);
  bool ok = r == -1 && strstr (error_message (), message) != NULL;
  check (ok, "%s: %s", what, error_message ());
  if (!ok)
    printf ("  r=%d, expected an error holding '%s'\n", r, message);
}

static void
test_values (void)
{
  parses_to ("", "", "an empty file");
  parses_to ("# only a comment\n\n   \n", "", "comments and blank lines");
  parses_to ("[storage]\ndriver = \"overlay\"\n",
             "storage.driver=s:overlay@2\n", "a table and a string");
  parses_to ("[storage]\r\ndriver = \"vfs\"\r\n",
             "storage.driver=s:vfs@2\n", "CRLF line ends");
  parses_to ("[storage.options]\nadditionalimagestores = [\n"
             "  \"/a\", # the first\n"
             "  '/b',\n"
             "]\n",
             "storage.options.additionalimagestores=[/a,/b]\n",
             "a multi-line array with a comment and a trailing comma");
  parses_to ("a = []\n", "a=[]\n", "an empty array is an array of strings");
  parses_to ("a = [1, 2]\nb = [\"x\", 1]\nc = [[\"x\"], []]\n",
             "a=array\nb=array\nc=array\n", "other arrays");
  parses_to ("x = true\ny = false\nz = -42\nw = 0x1F\nv = 1_000\nu = 0o17\n",
             "x=b:1\ny=b:0\nz=i:-42\nw=i:31\nv=i:1000\nu=i:15\n",
             "booleans and integers");
  parses_to ("[storage.options]\npull_options = {enable_partial_images = "
             "\"false\", use_hard_links = \"false\", ostree_repos=\"\"}\n",
             "storage.options.pull_options.enable_partial_images=s:false@2\n"
             "storage.options.pull_options.use_hard_links=s:false@2\n"
             "storage.options.pull_options.ostree_repos=s:@2\n",
             "an inline table (as in Fedora's storage.conf)");
  parses_to ("[ storage . options ]\n\"quoted.key\" = 'lit\\eral'\n"
             "a.b = \"dotted\"\n",
             "storage.options.quoted.key=s:lit\\eral@2\n"
             "storage.options.a.b=s:dotted@3\n",
             "spaces in headers, quoted keys, literal strings, dotted keys");
  parses_to ("s = \"tab\\there \\\"q\\\" \\u00e9 \\U0001F600\"\n",
             "s=s:tab\there \"q\" \xc3\xa9 \xf0\x9f\x98\x80@1\n", "escapes");
  parses_to ("s = \"\"\"\nline1\nline2 \\\n   joined\"\"\"\nt = 1\n",
             "s=s:line1\nline2 joined@1\nt=i:1\n",
             "a multi-line basic string, line counting after it");
  parses_to ("s = '''\nraw \\n'''\n", "s=s:raw \\n@1\n",
             "a multi-line literal string");
  parses_to ("[[t]]\nk = \"v\"\n", "t.k=s:v@2\n", "an array of tables");
  parses_to ("k = \"v\" # trailing comment\n", "k=s:v@1\n",
             "a comment after a value");
  parses_to ("[storage]\ndriver = \"overlay\"", "storage.driver=s:overlay@2\n",
             "no newline at the end");
}

static void
test_errors (void)
{
  refuses ("[storage]\ndriver = overlay\n", "t.conf:2: a value is malformed",
           "an unquoted string");
  refuses ("a = \"x\"\nb = \"unterminated\n", "t.conf:2: unterminated string",
           "an unterminated string");
  refuses ("a = \"x\" \"y\"\n", "t.conf:1: unexpected '\"' after the value",
           "two values");
  refuses ("\n\ndriver \"x\"\n", "t.conf:3: expected '='", "a missing '='");
  refuses ("a =\n", "t.conf:1: a value is missing", "a missing value");
  refuses ("[storage\n", "t.conf:1: a table header must end", "an open header");
  refuses ("a = [\"x\",\n\"y\"\n", "t.conf:1: unterminated array",
           "an unterminated array");
  refuses ("a = [\"x\" \"y\"]\n", "t.conf:1: expected ',' or ']'",
           "a missing comma");
  refuses ("a = 1.5\n", "t.conf:1: floating point", "a float");
  refuses ("a = 1979-05-27\n", "t.conf:1: floating point values and dates",
           "a date");
  refuses ("a = \"\\q\"\n", "t.conf:1: unknown escape", "a bad escape");
  refuses ("a = 0700\n", "t.conf:1: leading zeros", "an octal-looking integer");
  refuses ("a = 99999999999999999999\n", "t.conf:1: integer out of range",
           "a huge integer");
  refuses ("a = truely\n", "t.conf:1: a value is malformed", "a bad boolean");
  refuses ("= 1\n", "t.conf:1: unexpected '='", "a missing key");
  refuses ("a = { b = 1\n", "t.conf:1: expected ',' or '}'",
           "an open inline table");
  refuses ("a = \"\x01\"\n", "t.conf:1: control character", "a control character");
  static const char nul[] = "a = \"x\0y\"\n";
  check (toml_parse (nul, sizeof nul - 1, "t.conf", record, NULL) == -1
         && strstr (error_message (), "NUL byte"), "a NUL byte: %s",
         error_message ());
}

static int
fail_on_b (const char *path, const struct toml_value *v, void *arg _unused_)
{
  if (strcmp (path, "b") == 0)
    return error ("%s:%d: b is not welcome", v->file, v->line);
  return 0;
}

static void
test_callback_stops (void)
{
  const char *text = "a = 1\nb = 2\nc = 3\n";
  int r = toml_parse (text, strlen (text), "t.conf", fail_on_b, NULL);
  check (r == -1 && strcmp (error_message (), "t.conf:2: b is not welcome") == 0,
         "a callback error stops the parse: %s", error_message ());
}

static void
test_file (void)
{
  char path[] = "/tmp/test-toml.XXXXXX";
  int fd = mkstemp (path);
  const char *text = "[storage]\ngraphroot = \"/x\"\n";
  if (fd == -1 || write (fd, text, strlen (text)) != (ssize_t) strlen (text))
    exit (1);
  close (fd);
  seen[0] = '\0';
  check (toml_parse_file (path, record, NULL) == 0
         && strcmp (seen, "storage.graphroot=s:/x@2\n") == 0, "a file");
  unlink (path);
  check (toml_parse_file (path, record, NULL) == 1, "a missing file is 1");
  check (toml_parse_file ("/", record, NULL) == -1
         && strstr (error_message (), "/: not a regular file"),
         "a directory: %s", error_message ());
}

int
main (void)
{
  test_values ();
  test_errors ();
  test_callback_stops ();
  test_file ();
  return unit_summary ();
}
