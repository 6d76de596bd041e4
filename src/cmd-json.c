/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk json: a qemu json: filename for the disk of an image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/pathtrust.h"
#include "common/text.h"
#include "serve/qemuspec.h"
#include "pull/pull.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk json [OPTIONS] IMAGE\n"
  "\n"
  "Print one line 'json:{...}' that qemu-img, qemu-nbd and qemu-system accept\n"
  "as a filename and that opens the disk of IMAGE in place, read-only: a raw\n"
  "node with the disk's offset and size in the backing file, and a qcow2\n"
  "node on top for qcow2 disks.  The format is always named, never probed.\n"
  "\n"
  "  qemu-img info \"$(podman-disk json IMAGE)\"\n"
  "\n"
  "Options:\n"
  LOCATE_OPTIONS_HELP
  PULL_OPTIONS_HELP ("                             (default never: json only prints a name for\n"
  "                             qemu, as podman image inspect looks)\n")
  "      --no-decode            the disk's bytes as they are (no qcow2 node)\n"
  "      --allow-foreign-path   print the path even if a user other than root\n"
  "                             and you could swap it (see SECURITY in the man\n"
  "                             page; 'serve IMAGE --run' needs no path)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_NO_DECODE = OPT_FIRST_COMMAND_OPTION, OPT_ALLOW_FOREIGN_PATH };

/* qemu opens the printed path later, by name: refuse one that anyone but
 * root and the caller could make name other bytes by then (common/
 * pathtrust.h), and say what needs no path.
 */
static int
check_reopened_path (const struct disk_location *loc)
{
  if (pathtrust_check (loc->file, loc->fd) == 0)
    return 0;
  _cleanup_free_ char *why = strdup (error_message ());
  return error ("%s: another user could make the path name other bytes "
                "before qemu opens it; use 'podman-disk serve IMAGE --run "
                "CMD', which hands the server the open file, or pass "
                "--allow-foreign-path", why ? why : "");
}

int
cmd_json (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    LOCATE_LONG_OPTIONS,
    PULL_LONG_OPTIONS,
    { "no-decode", no_argument, NULL, OPT_NO_DECODE },
    { "allow-foreign-path", no_argument, NULL, OPT_ALLOW_FOREIGN_PATH },
    { NULL, 0, NULL, 0 }
  };
  struct locate_request req = { 0 };
  struct pull_options pull = { .policy = PULL_NEVER };
  bool decode = true, allow_foreign_path = false;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg)
        || cli_locate_option ("json", c, optarg, &req)
        || cli_pull_option ("json", c, optarg, &pull))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case OPT_NO_DECODE: decode = false; break;
    case OPT_ALLOW_FOREIGN_PATH: allow_foreign_path = true; break;
    default: return cli_bad_option ("json");
    }
  }
  const char *image = cli_one_image ("json", argc, argv);
  req.store = global_opts.store;
  if (!image || pull_check_request ("json", image, &pull, &req)
      || source_check_request ("json", image, &req))
    return EXIT_USAGE;

  _cleanup_location_ struct disk_location loc;
  disk_location_init (&loc);
  if (pull_locate (image, &pull, &req, &loc) == -1
      || (!allow_foreign_path && check_reopened_path (&loc) == -1))
    return EXIT_ERROR;
  _cleanup_free_ char *spec = qemuspec_build (&loc, decode, NULL);
  if (!spec)
    return EXIT_ERROR;
  /* The path of the disk's file may hold a member name of the image:
   * exact for qemu, and \u-escaped for a terminal (common/text.h).
   */
  text_fput_json (spec, stdout);
  putchar ('\n');
  return EXIT_OK;
}
