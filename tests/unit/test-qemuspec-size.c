/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the qemu json: of disks whose size is not a multiple of 512
 * (src/serve/qemuspec.c).  qemu's raw driver refuses such a "size", and
 * qemu-img makes qcow2 files of any length (196616 bytes for 1M), so
 * 'podman-disk json' of a plain qcow2 in an overlay store failed to open.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "location.h"
#include "serve/qemuspec.h"

static int failed;

static void
expect (bool ok, const char *what, const char *spec)
{
  printf ("%s - %s: %s\n", ok ? "ok" : "FAIL", what, spec ? spec : "(null)");
  if (!ok)
    failed++;
}

static char *
spec_of (const char *file, int fd, uint64_t offset, uint64_t size,
         enum disk_format format, bool decode)
{
  struct disk_location loc;
  disk_location_init (&loc);
  loc.file = (char *) file;
  loc.fd = fd;
  loc.offset = offset;
  loc.size = size;
  loc.fmt.format = format;
  return qemuspec_build (&loc, decode, NULL);
}

int
main (void)
{
  char path[] = "/tmp/test-qemuspec.XXXXXX";
  int fd = mkstemp (path);
  char *s;

  if (fd == -1 || ftruncate (fd, 196616 + 1024) == -1)
    return 1;
  unlink (path);

  /* The whole file, of an odd size: no window at all. */
  if (ftruncate (fd, 196616) == -1)
    return 1;
  s = spec_of (path, fd, 0, 196616, DISK_QCOW2, true);
  expect (s && !strstr (s, "\"size\"") && !strstr (s, "\"offset\""),
          "whole odd-sized qcow2 file: no offset/size", s);
  free (s);
  s = spec_of (path, fd, 0, 196616, DISK_RAW, false);
  expect (s && !strstr (s, "\"size\""), "whole odd-sized raw file: no size", s);
  free (s);

  /* A qcow2 member inside a tar: size rounded up into the padding. */
  if (ftruncate (fd, 512 + 197120) == -1)
    return 1;
  s = spec_of (path, fd, 512, 196616, DISK_QCOW2, true);
  expect (s && strstr (s, "\"offset\":512,\"size\":197120"),
          "qcow2 member: size rounded to 512", s);
  free (s);
  /* ... not for raw (the guest would see the padding), nor undecoded:
   * qemu would refuse the size, so no spec but an error saying why.
   */
  error_clear ();
  s = spec_of (path, fd, 512, 196616, DISK_RAW, false);
  expect (!s && strstr (error_message (), "196616 bytes") &&
          strstr (error_message (), "not a multiple of 512"),
          "raw member: refused", error_message ());
  free (s);
  /* ... nor past the end of the file. */
  if (ftruncate (fd, 512 + 196616) == -1)
    return 1;
  error_clear ();
  s = spec_of (path, fd, 512, 196616, DISK_QCOW2, true);
  expect (!s && strstr (error_message (), "not a multiple of 512"),
          "no rounding past the end: refused", error_message ());
  free (s);

  /* Aligned disks keep their exact window. */
  s = spec_of (path, fd, 1024, 4096, DISK_RAW, false);
  expect (s && strstr (s, "\"offset\":1024,\"size\":4096"), "aligned window", s);
  free (s);
  close (fd);
  return failed ? 1 : 0;
}
