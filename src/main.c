/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: find the VM disk inside a container image and expose it
 * in place.  This file is the command table and the global options; each
 * command lives in src/cmd-NAME.c.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json_c_version.h>

#include "common/cleanup.h"
#include "common/cli.h"
#include "common/dl.h"
#include "common/error.h"
#include "source.h"

const struct command commands[] = {
  { "locate", "show where the disk of an image is: file, offset, size, format", cmd_locate, false },
  { "json", "print a qemu json: filename that opens the disk in place", cmd_json, false },
  { "list", "list the images in the store that hold a disk", cmd_list, false },
  { "serve", "export the disk over NBD, read-only, in place (nbdkit, qemu-nbd)", cmd_serve, false },
  { "cp", "extract the disk to a file or block device, sparse", cmd_cp, false },
  { "clone", "a writable qcow2 for a VM on the disk in place, holding its image", cmd_clone, false },
  { "clones", "list clones and whether their base is intact", cmd_clones, false },
  { "release", "drop a clone's hold on its image", cmd_release, false },
  { "commit", "build a containerDisk image of what a clone's guest sees", cmd_commit, false },
  { "exports", "list the exports: the OCI hook's and background serves'", cmd_exports, false },
  { "stop", "stop an export (hook's or background serve's), or --all", cmd_stop, false },
  { "hook", "the OCI hook (run by podman or CRI-O, see podman-disk-hook(5))", cmd_hook, true },
  { NULL, NULL, NULL, false }
};

static void
print_help (void)
{
  printf ("Usage: podman-disk [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
          "\n"
          "Find the VM disk inside a container image (a KubeVirt containerDisk:\n"
          "one qcow2 or raw file under /disk/) and expose its bytes in place,\n"
          "without copying them out of containers/storage or an OCI layout.\n"
          "\n"
          "Commands:\n");
  for (const struct command *c = commands; c->name; c++)
    if (!c->hidden)
      printf ("  %-9s %s\n", c->name, c->summary);
  printf ("\n"
          GLOBAL_OPTIONS_HELP
          "      --version              show the version and the libraries used\n"
          "\n"
          "Run 'podman-disk COMMAND --help' for a command's options.\n"
          "Exit status: 0 success, 1 error, 2 bad command line.\n");
}

static void
print_version (void)
{
  printf ("podman-disk %s\n", PACKAGE_VERSION);
  printf ("json-c %s\n", json_c_version ());
  /* Loaded only here and where they are used: see common/dl.h. */
  const char *v;
  if ((v = dl_libnbd_version ()) != NULL)
    printf ("libnbd %s\n", v);
  if ((v = dl_libarchive_version ()) != NULL)
    printf ("%s\n", v);     /* it says "libarchive X.Y.Z" itself */
}

enum { OPT_VERSION = OPT_FIRST_COMMAND_OPTION };

/* With --log-level debug, how much was read: locating must read metadata
 * and headers only, never the disk's data (see make bench).
 */
static void
debug_io (void)
{
  char line[128];
  _cleanup_fclose_ FILE *f = fopen ("/proc/self/io", "r");

  while (f && fgets (line, sizeof line, f))
    if (strncmp (line, "rchar:", 6) == 0 || strncmp (line, "read_bytes:", 11) == 0)
      debug ("io: %.*s", (int) strcspn (line, "\n"), line);
}

int
main (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "version", no_argument, NULL, OPT_VERSION },
    { NULL, 0, NULL, 0 }
  };
  int c;

  argv[0] = (char *) "podman-disk";     /* for getopt's messages */
  /* '+': stop at the command name; the command parses the rest. */
  while ((c = getopt_long (argc, argv, "+h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': print_help (); return EXIT_OK;
    case '?': return cli_bad_option (NULL);
    case OPT_VERSION: print_version (); return EXIT_OK;
    default: return cli_bad_option (NULL);
    }
  }
  if (optind >= argc)
    return usage_error (NULL, "missing command");

  const char *name = argv[optind];
  for (const struct command *cmd = commands; cmd->name; cmd++) {
    if (strcmp (cmd->name, name) == 0) {
      int first = optind;
      /* getopt names the program by argv[0] in its messages. */
      char progname[64];
      snprintf (progname, sizeof progname, "podman-disk %s", cmd->name);
      argv[first] = progname;
      optind = 0;     /* reinitialise getopt for the command's own options */
      int r = cmd->run (argc - first, argv + first);
      /* A disk only podman's rootless user namespace can read: the one
       * place that runs the command again in there (it failed before
       * starting or printing anything).
       */
      if (r == EXIT_ERROR && source_needs_userns ())
        source_rerun_in_userns ();
      /* The one error line, as crun prints it: a command records its
       * error and returns; one it printed already is forgotten (see
       * common/error.h), and an exit code a command passes on (serve
       * --run's) comes with no message.
       */
      if (r == EXIT_ERROR && error_message ()[0])
        error_print ();
      debug_io ();
      return r;
    }
  }
  return usage_error (NULL, "unknown command '%s'", name);
}
