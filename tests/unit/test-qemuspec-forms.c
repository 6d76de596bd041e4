/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the qemu-system forms of the json spec (src/serve/qemuspec.c):
 * qemu's node-name rule, the -blockdev object (node-name at the top, the
 * same tree), and the -drive value (QemuOpts' commas doubled, also in the
 * file's name, format= the top driver, readonly=on or snapshot=on).
 * tests/test-json-qemu.sh opens them in a real qemu-system.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/error.h"
#include "location.h"
#include "serve/qemuspec.h"

static int failed;

static void
expect (bool ok, const char *what, const char *detail)
{
  printf ("%s - %s: %s\n", ok ? "ok" : "FAIL", what, detail ? detail : "(null)");
  if (!ok)
    failed++;
}

static struct disk_location
location (const char *file, enum disk_format format)
{
  struct disk_location loc;
  disk_location_init (&loc);
  loc.file = (char *) file;
  loc.fd = -1;
  loc.offset = 1024;
  loc.size = 4096;
  loc.fmt.format = format;
  return loc;
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

/* S with every ",," made ",": the json: filename -drive passes on. */
static char *
undouble (const char *s)
{
  char *ret = strdup (s), *q = ret;
  for (const char *p = s; *p; p++) {
    *q++ = *p;
    if (p[0] == ',' && p[1] == ',')
      p++;
  }
  *q = '\0';
  return ret;
}

int
main (void)
{
  static const char *good[] = {
    "disk0", "a", "A.b-c_d", "n.234567890-234567890_234567890", NULL
  };
  static const char *bad[] = {
    "", "0disk", "a,b", "-a", "_a", ".a", "a b", "a/b", "a=b", "\xc3\xa9",
    "n.234567890-234567890_234567890x", NULL
  };
  for (const char **n = good; *n; n++)
    expect (qemuspec_node_name_ok (*n), "a node name", *n);
  for (const char **n = bad; *n; n++)
    expect (!qemuspec_node_name_ok (*n), "not a node name", *n);

  /* -blockdev: the spec's tree, "node-name" added first. */
  struct disk_location loc = location ("/d/x,y.qcow2", DISK_QCOW2);
  char *spec = qemuspec_build (&loc, true, NULL);
  char *s = qemuspec_blockdev (&loc, true, "disk0");
  json_object *b = s ? json_tokener_parse (s) : NULL;
  json_object *j = spec ? json_tokener_parse (spec + strlen ("json:")) : NULL;
  json_object_object_del (b, "node-name");
  expect (s && strncmp (s, "{\"node-name\":\"disk0\",", 21) == 0
          && b && j && json_object_equal (b, j),
          "-blockdev: node-name first, then the spec's tree", s);
  json_object_put (b);
  json_object_put (j);
  free (s);
  error_clear ();
  s = qemuspec_blockdev (&loc, true, "0disk");
  expect (!s && strstr (error_message (), "'0disk' is not a qemu node name"),
          "-blockdev: a bad node name refused", error_message ());

  /* -drive: every comma doubled, the file name's too; format= the top's. */
  s = qemuspec_drive (&loc, true, false);
  char *expected;
  if (!spec || asprintf (&expected, "file=%s,format=qcow2,readonly=on", spec) == -1)
    return 1;
  char *back = s ? undouble (s) : NULL;
  expect (s && strstr (s, "x,,y.qcow2") && !strstr (s, ",,,")
          && back && strcmp (back, expected) == 0,
          "-drive, qcow2: commas doubled, format=qcow2, readonly=on", s);
  free (back);
  free (expected);
  free (s);
  s = qemuspec_drive (&loc, true, true);
  expect (s && ends_with (s, "}},format=qcow2,snapshot=on"),
          "-drive --snapshot: snapshot=on", s);
  free (s);
  s = qemuspec_drive (&loc, false, false);
  expect (s && strstr (s, ",format=raw,readonly=on") && !strstr (s, "\"driver\":\"qcow2\""),
          "-drive --no-decode: format=raw", s);
  free (s);
  free (spec);

  loc = location ("/d/disk.img", DISK_RAW);
  s = qemuspec_drive (&loc, true, false);
  expect (s && strncmp (s, "file=json:{\"driver\":\"raw\",,", 27) == 0
          && strstr (s, "},format=raw,readonly=on"), "-drive, raw", s);
  free (s);
  return failed ? 1 : 0;
}
