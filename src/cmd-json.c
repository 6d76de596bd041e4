/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk json: a qemu json: filename for the disk of an image, or
 * the same node tree as one -blockdev or -drive argument of qemu-system
 * (whose QemuOpts would split a json: filename at its commas).
 */
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
  "Print one line 'json:{...}' that qemu-img and qemu-nbd accept as a\n"
  "filename and that opens the disk of IMAGE in place, read-only: a raw node\n"
  "with the disk's offset and size in the backing file, and a qcow2 node on\n"
  "top for qcow2 disks.  The format is always named, never probed.\n"
  "\n"
  "  qemu-img info \"$(podman-disk json IMAGE)\"\n"
  "\n"
  "qemu-system's -drive splits a json: filename at its commas: print the\n"
  "same nodes as one argument of -blockdev or -drive instead:\n"
  "\n"
  "  qemu-system-x86_64 -blockdev \"$(podman-disk json --blockdev disk0 IMAGE)\" \\\n"
  "      -device virtio-blk-pci,drive=disk0 ...\n"
  "  qemu-system-x86_64 -drive \"$(podman-disk json --drive IMAGE),if=virtio\" ...\n"
  "\n"
  "Options:\n"
  LOCATE_OPTIONS_HELP
  PULL_OPTIONS_HELP ("                             (default never: json only prints a name for\n"
  "                             qemu, as podman image inspect looks)\n")
  "      --blockdev NODE-NAME   a -blockdev JSON object: the node tree named\n"
  "                             NODE-NAME (a letter, then letters, digits,\n"
  "                             '-', '.', '_'; at most 31), read-only\n"
  "      --drive                a -drive value: file=json:{...} (commas\n"
  "                             doubled), format=, readonly=on; append\n"
  "                             ',if=...' and more\n"
  "      --snapshot             with --drive: snapshot=on instead of\n"
  "                             readonly=on, the guest writes to a temporary\n"
  "                             overlay qemu deletes (the image stays as it is)\n"
  "      --no-decode            the disk's bytes as they are (no qcow2 node)\n"
  "      --allow-foreign-path   print the path even if a user other than root\n"
  "                             and you could swap it (see SECURITY in the man\n"
  "                             page; 'serve IMAGE --run' needs no path)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum {
  OPT_NO_DECODE = OPT_FIRST_COMMAND_OPTION, OPT_ALLOW_FOREIGN_PATH,
  OPT_BLOCKDEV, OPT_DRIVE, OPT_SNAPSHOT,
};

/* What json prints: the json: filename, or one qemu-system argument. */
struct json_form {
  const char *blockdev;                 /* --blockdev NODE-NAME */
  bool drive, snapshot;                 /* --drive, --snapshot */
};

static int
check_form (const struct json_form *form)
{
  if (form->blockdev && form->drive)
    return usage_error ("json", "--blockdev and --drive exclude each other");
  if (form->snapshot && !form->drive)
    return usage_error ("json", "--snapshot needs --drive (-blockdev has no "
                        "snapshot: put a qcow2 -blockdev with this node as "
                        "its backing on top)");
  if (form->blockdev && !qemuspec_node_name_ok (form->blockdev))
    return usage_error ("json", "--blockdev '%s' is not a qemu node name: "
                        "a letter, then letters, digits, '-', '.' and '_', "
                        "at most %d", form->blockdev, QEMUSPEC_NODE_NAME_MAX);
  return 0;
}

static char *
build_form (const struct disk_location *loc, bool decode,
            const struct json_form *form)
{
  if (form->blockdev)
    return qemuspec_blockdev (loc, decode, form->blockdev);
  if (form->drive)
    return qemuspec_drive (loc, decode, form->snapshot);
  return qemuspec_build (loc, decode, NULL);
}

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
    { "blockdev", required_argument, NULL, OPT_BLOCKDEV },
    { "drive", no_argument, NULL, OPT_DRIVE },
    { "snapshot", no_argument, NULL, OPT_SNAPSHOT },
    { NULL, 0, NULL, 0 }
  };
  struct locate_request req = { 0 };
  struct pull_options pull = { .policy = PULL_NEVER };
  struct json_form form = { 0 };
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
    case OPT_BLOCKDEV: form.blockdev = optarg; break;
    case OPT_DRIVE: form.drive = true; break;
    case OPT_SNAPSHOT: form.snapshot = true; break;
    default: return cli_bad_option ("json");
    }
  }
  if (check_form (&form))
    return EXIT_USAGE;
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
  /* Every form names the same path: all pass the check above. */
  _cleanup_free_ char *spec = build_form (&loc, decode, &form);
  if (!spec)
    return EXIT_ERROR;
  /* The path of the disk's file may hold a member name of the image:
   * exact for qemu, and \u-escaped for a terminal (common/text.h).  In
   * --drive's QemuOpts too: the escapes hold no comma.
   */
  text_fput_json (spec, stdout);
  putchar ('\n');
  return EXIT_OK;
}
