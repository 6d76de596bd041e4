/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: what every command shares on its command line. */
#ifndef PODMAN_DISK_CLI_H
#define PODMAN_DISK_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "location.h"
#include "pull/pull.h"

/* Global options, the same names as podman's; accepted before the command
 * and among its own options.
 */
struct global_options {
  struct store_options store;  /* --root, --runroot, --storage-driver:
                                  commands hand them on in their
                                  locate_request, no source reads them here */
};
extern struct global_options global_opts;

enum {
  OPT_ROOT = 0x1000,
  OPT_RUNROOT,
  OPT_STORAGE_DRIVER,
  OPT_LOG_LEVEL,
  OPT_DISK,
  OPT_PLATFORM,
  OPT_VERIFY,
  OPT_DISKTYPE,
  OPT_PULL,
  OPT_AUTHFILE,
  OPT_CREDS,
  OPT_CERT_DIR,
  OPT_TLS_VERIFY,
  OPT_FIRST_COMMAND_OPTION,    /* commands number their long-only options from here */
};

#define GLOBAL_LONG_OPTIONS                                          \
  { "root", required_argument, NULL, OPT_ROOT },                     \
  { "runroot", required_argument, NULL, OPT_RUNROOT },               \
  { "storage-driver", required_argument, NULL, OPT_STORAGE_DRIVER }, \
  { "log-level", required_argument, NULL, OPT_LOG_LEVEL },           \
  { "help", no_argument, NULL, 'h' }

/* The global options' help, for each command's --help. */
#define GLOBAL_OPTIONS_HELP                                                  \
  "Global options:\n"                                                        \
  "      --root DIR             storage root directory (as podman --root)\n" \
  "      --runroot DIR          storage state directory (as podman --runroot)\n" \
  "      --storage-driver NAME  storage driver: overlay or vfs\n"            \
  "      --log-level LEVEL      debug, info, warn or error (default warn)\n" \
  "  -h, --help                 show this help\n"

/* Handle C if it is a global option: returns true when it was. */
bool cli_global_option (int c, const char *arg);

/* The options of every command that locates a disk in an image. */
#define LOCATE_LONG_OPTIONS                                        \
  { "disk", required_argument, NULL, OPT_DISK },                   \
  { "platform", required_argument, NULL, OPT_PLATFORM },           \
  { "verify", no_argument, NULL, OPT_VERIFY },                     \
  { "disktype", required_argument, NULL, OPT_DISKTYPE }

#define LOCATE_OPTIONS_HELP                                                  \
  "      --disk PATH            the disk member (default: the one file under /disk/)\n" \
  "      --platform OS/ARCH     image to pick from a multi-platform layout, or\n" \
  "                             to pull (as podman pull --platform)\n" \
  "      --disktype TYPE        the disk for hypervisor TYPE (qemu, applehv,\n" \
  "                             hyperv or wsl) from an index of podman machine\n" \
  "                             disks, by their \"disktype\" annotation\n" \
  "      --verify               check the sha256 digest of every layer read\n"

/* Handle C if it is one of LOCATE_LONG_OPTIONS of command CMD: returns
 * true when it was.  A malformed --platform is a usage error: it exits 2.
 */
bool cli_locate_option (const char *cmd, int c, const char *arg,
                        struct locate_request *req);

/* The options of the commands that may pull IMAGE first (src/pull/pull.h). */
#define PULL_LONG_OPTIONS                                          \
  { "pull", required_argument, NULL, OPT_PULL },                   \
  { "authfile", required_argument, NULL, OPT_AUTHFILE },           \
  { "creds", required_argument, NULL, OPT_CREDS },                 \
  { "cert-dir", required_argument, NULL, OPT_CERT_DIR },           \
  { "tls-verify", optional_argument, NULL, OPT_TLS_VERIFY }

/* DEFAULT: the lines saying which --pull is the command's default, and why. */
#define PULL_OPTIONS_HELP(DEFAULT)                                           \
  "      --pull POLICY          when podman pulls IMAGE (a name: oci: and\n" \
  "                             archives are never pulled): always, missing\n" \
  "                             (when the store has none), never or newer\n" \
  DEFAULT                                                                    \
  "      --authfile FILE        to pull: podman's auth file (podman login)\n" \
  "      --creds USER[:PASS]    to pull: the registry's credentials\n"       \
  "      --cert-dir DIR         to pull: the registry's CA and client certificates\n" \
  "      --tls-verify[=BOOL]    to pull: require HTTPS and a trusted certificate\n" \
  "                             (default true, or as registries.conf says)\n"

/* Handle C if it is one of PULL_LONG_OPTIONS of command CMD: returns true
 * when it was.  A bad value is a usage error: it exits 2.
 */
bool cli_pull_option (const char *cmd, int c, const char *arg,
                      struct pull_options *pull);

/* The one IMAGE operand of a command: NULL after a usage message. */
const char *cli_one_image (const char *cmd, int argc, char **argv);

/* Output formats of locate, list and exports. */
enum output_format { FORMAT_TEXT, FORMAT_JSON };
/* Parse --format ARG for command CMD: 0, or -1 after a usage message. */
int cli_parse_format (const char *cmd, const char *arg, enum output_format *out);

/* For the default: case of a getopt loop: prints the usage hint. */
int cli_bad_option (const char *cmd);

/* The commands, one file each (src/cmd-NAME.c). */
struct command {
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);   /* argv[0] is the command name */
  bool hidden;                          /* not listed in --help (hook) */
};
extern const struct command commands[];

int cmd_locate (int argc, char **argv);
int cmd_json (int argc, char **argv);
int cmd_list (int argc, char **argv);
int cmd_serve (int argc, char **argv);
int cmd_cp (int argc, char **argv);
int cmd_hook (int argc, char **argv);
int cmd_exports (int argc, char **argv);
int cmd_stop (int argc, char **argv);
int cmd_clone (int argc, char **argv);
int cmd_clones (int argc, char **argv);
int cmd_release (int argc, char **argv);
int cmd_commit (int argc, char **argv);

#endif
