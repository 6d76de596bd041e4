/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk clone: a writable qcow2 overlay on the disk of an image,
 * in place.  The work is in src/clone/.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clone/clone.h"
#include "clone/run.h"
#include "common/cli.h"
#include "common/error.h"
#include "pull/pull.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk clone [OPTIONS] IMAGE DEST\n"
  "\n"
  "Create DEST, a qcow2 file whose backing file is the disk of IMAGE where it\n"
  "lies (the layer file, or the range of a layout's tar), read-only, every\n"
  "format named: a writable, persistent disk for a VM in milliseconds, as\n"
  "large as the guest's writes.  qemu, qemu-nbd, qemu-img and libguestfs open\n"
  "it as any qcow2.  An image of containers/storage is held by a created,\n"
  "never started podman container, so that 'podman rmi' refuses to remove it\n"
  "while the clone exists: 'podman-disk clones' lists clones, 'podman-disk\n"
  "release DEST' drops a hold.  DEST must not exist.\n"
  "\n"
  "IMAGE is a name, an image ID or a transport reference (see locate --help).\n"
  "\n"
  "Options:\n"
  LOCATE_OPTIONS_HELP
  PULL_OPTIONS_HELP ("                             (default missing: a clone is for a VM to\n"
  "                             run, as podman run pulls)\n")
  "      --size SIZE            virtual size, larger than the image's disk\n"
  "                             (bytes, or with K, M, G, T: powers of 1024)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_SIZE = OPT_FIRST_COMMAND_OPTION };

/* SIZE: digits and an optional K, M, G or T (KiB ...): 0 on success. */
static int
parse_size (const char *arg, uint64_t *out)
{
  char *end;
  errno = 0;
  uint64_t v = strtoull (arg, &end, 10);
  int shift = 0;

  if (errno || end == arg || *arg == '-' || *arg == '+')
    return -1;
  switch (*end) {
  case '\0': break;
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  case 't': case 'T': shift = 40; end++; break;
  default: return -1;
  }
  if (shift && *end == 'i')        /* 10GiB, 10GB: the same */
    end++;
  if (shift && *end == 'B')
    end++;
  if (*end || v == 0 || v > (UINT64_MAX >> shift))
    return -1;
  *out = v << shift;
  return 0;
}

int
cmd_clone (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    LOCATE_LONG_OPTIONS,
    PULL_LONG_OPTIONS,
    { "size", required_argument, NULL, OPT_SIZE },
    { NULL, 0, NULL, 0 }
  };
  struct locate_request req = { 0 };
  struct pull_options pull = { .policy = PULL_MISSING };
  uint64_t size = 0;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg)
        || cli_locate_option ("clone", c, optarg, &req)
        || cli_pull_option ("clone", c, optarg, &pull))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case OPT_SIZE:
      if (parse_size (optarg, &size) == -1)
        return usage_error ("clone", "--size must be a number of bytes, or with "
                            "K, M, G or T, not '%s'", optarg);
      break;
    default: return cli_bad_option ("clone");
    }
  }
  if (argc - optind < 2)
    return usage_error ("clone", argc == optind ? "missing IMAGE and DEST" : "missing DEST");
  if (argc - optind > 2)
    return usage_error ("clone", "one IMAGE and one DEST only, got '%s' too",
                        argv[optind + 2]);
  const char *image = argv[optind], *dest = argv[optind + 1];
  if (!*image || !*dest)
    return usage_error ("clone", "%s is empty", *image ? "DEST" : "IMAGE");
  req.store = global_opts.store;
  if (pull_check_request ("clone", image, &pull, &req)
      || source_check_request ("clone", image, &req))
    return EXIT_USAGE;

  _cleanup_location_ struct disk_location loc;
  disk_location_init (&loc);
  run_catch_signals ();
  if (pull_locate (image, &pull, &req, &loc) == -1
      || clone_create (&loc, &req.store, dest, size) == -1)
    return EXIT_ERROR;
  return EXIT_OK;
}
