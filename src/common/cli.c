/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: shared command line handling, see cli.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/names.h"

struct global_options global_opts;

bool
cli_global_option (int c, const char *arg)
{
  switch (c) {
  case OPT_ROOT: global_opts.store.root = arg; return true;
  case OPT_RUNROOT: global_opts.store.runroot = arg; return true;
  case OPT_STORAGE_DRIVER: global_opts.store.driver = arg; return true;
  case OPT_LOG_LEVEL:
    if (strcmp (arg, "debug") && strcmp (arg, "info") && strcmp (arg, "warn")
        && strcmp (arg, "error")) {
      usage_error (NULL, "--log-level must be debug, info, warn or error, not '%s'", arg);
      exit (EXIT_USAGE);
    }
    verbose = strcmp (arg, "debug") == 0;
    return true;
  default:
    return false;
  }
}

int
cli_parse_format (const char *cmd, const char *arg, enum output_format *out)
{
  static const char *const format_names[] = {
    [FORMAT_TEXT] = "text", [FORMAT_JSON] = "json",
  };
  int i = names_lookup (format_names, ARRAY_SIZE (format_names), arg);

  if (i == -1) {
    usage_error (cmd, "--format must be text or json, not '%s'", arg);
    return -1;
  }
  *out = i;
  return 0;
}

int
cli_bad_option (const char *cmd)
{
  /* getopt already said what was wrong. */
  fprintf (stderr, "Try 'podman-disk%s%s --help' for more information.\n",
           cmd ? " " : "", cmd ? cmd : "");
  return EXIT_USAGE;
}

bool
cli_locate_option (const char *cmd, int c, const char *arg,
                   struct locate_request *req)
{
  switch (c) {
  case OPT_DISK: req->disk = arg; return true;
  case OPT_PLATFORM:
    if (!locate_platform_valid (arg)) {
      usage_error (cmd, "--platform must be OS/ARCH or OS/ARCH/VARIANT "
                   "(e.g. linux/arm64), not '%s'", arg);
      exit (EXIT_USAGE);
    }
    req->platform = arg;
    return true;
  case OPT_VERIFY: req->verify = true; return true;
  case OPT_DISKTYPE:
    if (strcmp (arg, "qemu") && strcmp (arg, "applehv")
        && strcmp (arg, "hyperv") && strcmp (arg, "wsl")) {
      usage_error (cmd, "--disktype must be qemu, applehv, hyperv or wsl, "
                   "not '%s'", arg);
      exit (EXIT_USAGE);
    }
    req->disktype = arg;
    return true;
  default: return false;
  }
}

bool
cli_pull_option (const char *cmd, int c, const char *arg,
                 struct pull_options *pull)
{
  switch (c) {
  case OPT_PULL:
    if (pull_parse_policy (arg, &pull->policy) == -1) {
      usage_error (cmd, "--pull must be always, missing, never or newer, "
                   "not '%s'", arg);
      exit (EXIT_USAGE);
    }
    return true;
  case OPT_AUTHFILE: pull->authfile = arg; return true;
  case OPT_CREDS: pull->creds = arg; return true;
  case OPT_CERT_DIR: pull->cert_dir = arg; return true;
  case OPT_TLS_VERIFY:
    if (!arg)
      arg = "true";
    if (strcmp (arg, "true") && strcmp (arg, "false")) {
      usage_error (cmd, "--tls-verify must be true or false, not '%s'", arg);
      exit (EXIT_USAGE);
    }
    pull->tls_verify = arg;
    return true;
  default: return false;
  }
}

const char *
cli_one_image (const char *cmd, int argc, char **argv)
{
  if (optind >= argc) {
    usage_error (cmd, "missing IMAGE");
    return NULL;
  }
  if (argc - optind > 1) {
    usage_error (cmd, "one IMAGE only, got '%s' too", argv[optind + 1]);
    return NULL;
  }
  if (argv[optind][0] == '\0') {
    usage_error (cmd, "IMAGE is empty");
    return NULL;
  }
  return argv[optind];
}
