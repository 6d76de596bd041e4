/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: OCI and docker archives end to end (src/layout/): the outer
 * tar, index.json / manifest.json, manifests, configs, the layer tars
 * inside, the merged tree, the /disk/ rule and the disk header.
 *
 * The input is written to a file in /dev/shm and located as
 * oci-archive:FILE and docker-archive:FILE.  Properties: a located disk
 * lies inside the file (offset + size <= its size) and comes with an open
 * fd of it; a failure is one printable line; nothing leaks.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "location.h"
#include "layout/layout.h"
#include "fuzz.h"

static char path[64];

static void
locate (const char *transport, uint64_t size)
{
  char ref[128];
  struct locate_request req = { 0 };
  struct disk_location loc;
  struct stat st;

  snprintf (ref, sizeof ref, "%s:%s", transport, path);
  disk_location_init (&loc);
  error_clear ();
  if (layout_locate (ref, &req, &loc) == 0) {
    FUZZ_CHECK (loc.fd >= 0 && fstat (loc.fd, &st) == 0, "%s: no open fd", ref);
    FUZZ_CHECK ((uint64_t) st.st_size == size, "%s: fd of another file", ref);
    FUZZ_CHECK (loc.offset <= size && loc.size <= size - loc.offset,
                "%s: disk [%" PRIu64 ", +%" PRIu64 ") outside the %" PRIu64
                " byte file", ref, loc.offset, loc.size, size);
    FUZZ_CHECK (loc.member && loc.member[0] == '/', "%s: member '%s'", ref,
                loc.member ? loc.member : "(null)");
  }
  else
    fuzz_check_error_message ();
  disk_location_clear (&loc);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd;

  if (!path[0])
    snprintf (path, sizeof path, "/dev/shm/fuzz-archive.%d.tar", (int) getpid ());
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1 || write (fd, data, size) != (ssize_t) size)
    abort ();
  close (fd);
  locate ("oci-archive", size);
  locate ("docker-archive", size);
  unlink (path);
  return 0;
}
