/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk locate: where the disk of an image is. */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/text.h"
#include "pull/pull.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk locate [OPTIONS] IMAGE\n"
  "\n"
  "Show where the disk of IMAGE is: the backing file, the byte offset and\n"
  "size of the disk in it, its format and virtual size.  Reads metadata and\n"
  "headers only, never the disk's data.\n"
  "\n"
  "IMAGE is a name, an image ID or a transport reference:\n"
  "containers-storage:[DRIVER@ROOT+RUNROOT]REF, oci:DIR[:REF|@INDEX],\n"
  "oci-archive:FILE[:REF|@INDEX], docker-archive:FILE[:REF|@INDEX].\n"
  "\n"
  "Options:\n"
  LOCATE_OPTIONS_HELP
  PULL_OPTIONS_HELP ("                             (default never: locate only looks, as podman\n"
  "                             image inspect; --pull missing to fetch it)\n")
  "      --format FORMAT        text (key: value lines, the default) or json\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

/* The text form is the JSON object, one "key: value" line per member, so
 * the two never drift apart.  Values name things of the image (a tar
 * member may be called "x\nformat: raw"): shown by the rule of
 * common/text.h, as in error messages, so every field stays one line.
 * --format json is exact.
 */
static void
print_text (json_object *o)
{
  json_object_object_foreach (o, key, val) {
    printf ("%s: ", key);
    if (json_object_is_type (val, json_type_array)) {
      size_t n = json_object_array_length (val);
      for (size_t i = 0; i < n; i++) {
        if (i)
          fputs (", ", stdout);
        text_fputs (json_object_get_string (json_object_array_get_idx (val, i)),
                    stdout);
      }
    }
    else
      text_fputs (json_object_get_string (val), stdout);
    putchar ('\n');
  }
}

int
cmd_locate (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    LOCATE_LONG_OPTIONS,
    PULL_LONG_OPTIONS,
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 }
  };
  struct locate_request req = { 0 };
  struct pull_options pull = { .policy = PULL_NEVER };
  enum output_format format = FORMAT_TEXT;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg)
        || cli_locate_option ("locate", c, optarg, &req)
        || cli_pull_option ("locate", c, optarg, &pull))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case 'f':
      if (cli_parse_format ("locate", optarg, &format) == -1)
        return EXIT_USAGE;
      break;
    default: return cli_bad_option ("locate");
    }
  }
  const char *image = cli_one_image ("locate", argc, argv);
  req.store = global_opts.store;
  if (!image || pull_check_request ("locate", image, &pull, &req)
      || source_check_request ("locate", image, &req))
    return EXIT_USAGE;

  _cleanup_location_ struct disk_location loc;
  disk_location_init (&loc);
  if (pull_locate (image, &pull, &req, &loc) == -1)
    return EXIT_ERROR;

  json_object *o = disk_location_to_json (&loc);
  if (format == FORMAT_JSON) {
    text_fput_json (json_object_to_json_string_ext (
                      o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
                    stdout);
    putchar ('\n');
  }
  else
    print_text (o);
  json_object_put (o);
  return EXIT_OK;
}
