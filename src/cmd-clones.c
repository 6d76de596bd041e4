/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk clones and release: the clones and their holds. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "clone/clone.h"
#include "clone/hold.h"
#include "common/cli.h"
#include "common/error.h"

static const char clones_usage[] =
  "Usage: podman-disk clones [OPTIONS] [DEST...]\n"
  "\n"
  "List the clones that hold an image of the store (podman-disk clone), with\n"
  "their image, virtual size, the bytes they take and whether their base is\n"
  "intact: still the file the clone was made on.  With DEST, check those\n"
  "clones (of a layout or archive too): a clone whose base is gone or\n"
  "changed is an error, one line each.\n"
  "\n"
  "Options:\n"
  "      --format FORMAT        text (the default) or json\n"
  "      --prune                remove the holds whose clone file is gone\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

static const char release_usage[] =
  "Usage: podman-disk release [OPTIONS] DEST...\n"
  "\n"
  "Drop the hold of clone DEST on its image (the podman container that\n"
  "'podman-disk clone' created), so that 'podman rmi' can remove the image.\n"
  "DEST itself is left as it is; it stays usable only as long as its image is\n"
  "not removed.\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_FORMAT = OPT_FIRST_COMMAND_OPTION, OPT_PRUNE };

static const char *
state_name (enum clone_state s)
{
  switch (s) {
  case CLONE_INTACT: return "intact";
  case CLONE_BASE_GONE: return "gone";
  case CLONE_BASE_CHANGED: return "changed";
  case CLONE_DEST_GONE: return "clone-gone";
  }
  return "?";
}

/* 20 GiB, 196 KiB: as qemu-img info shows sizes. */
static void
human (uint64_t n, char buf[32])
{
  static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = n;
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    u++;
  }
  if (u == 0 || v >= 100 || v == (uint64_t) v)
    snprintf (buf, 32, "%.0f %s", v, units[u]);
  else
    snprintf (buf, 32, "%.1f %s", v, units[u]);
}

static const char *
image_of (const struct clone_info *c)
{
  if (c->image_name && *c->image_name)
    return c->image_name;
  return c->image_id ? c->image_id : "-";
}

static json_object *
to_json (const struct clone_info *c)
{
  json_object *o = json_object_new_object ();
#define ADD_STR(k, v) json_object_object_add (o, k, (v) ? json_object_new_string (v) : NULL)
  ADD_STR ("dest", c->dest);
  ADD_STR ("image", c->image_name);
  ADD_STR ("image_id", c->image_id);
  ADD_STR ("hold", c->hold);
  ADD_STR ("base", c->base);
  ADD_STR ("base_format", c->base_format);
#undef ADD_STR
  bool there = c->state != CLONE_DEST_GONE;
  json_object_object_add (o, "virtual_size",
                          there ? json_object_new_int64 (c->virtual_size) : NULL);
  json_object_object_add (o, "allocated",
                          there ? json_object_new_int64 (c->allocated) : NULL);
  json_object_object_add (o, "base_intact",
                          json_object_new_boolean (c->state == CLONE_INTACT));
  json_object_object_add (o, "state", json_object_new_string (state_name (c->state)));
  return o;
}

static void
print_text (const struct clone_info *c, size_t n)
{
  printf ("%-40s %-32s %9s %9s %s\n", "CLONE", "IMAGE", "SIZE", "ALLOCATED", "BASE");
  for (size_t i = 0; i < n; i++) {
    char vs[32] = "-", al[32] = "-";
    if (c[i].state != CLONE_DEST_GONE) {
      human (c[i].virtual_size, vs);
      human (c[i].allocated, al);
    }
    printf ("%-40s %-32s %9s %9s %s\n", c[i].dest ? c[i].dest : "?", image_of (&c[i]),
            vs, al, state_name (c[i].state));
  }
}

static void
print_all (const struct clone_info *c, size_t n, enum output_format format)
{
  if (format == FORMAT_TEXT) {
    print_text (c, n);
    return;
  }
  json_object *a = json_object_new_array ();
  for (size_t i = 0; i < n; i++)
    json_object_array_add (a, to_json (&c[i]));
  printf ("%s\n", json_object_to_json_string_ext (
            a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (a);
}

/* clones DEST...: each checked; the intact ones listed, the others one
 * error line each.
 */
static int
check_dests (char **dests, int n, enum output_format format)
{
  struct clone_info *infos = calloc (n, sizeof *infos);
  size_t good = 0;
  int rc = EXIT_OK;

  if (!infos)
    return EXIT_ERROR;
  for (int i = 0; i < n; i++) {
    struct clone_info *c = &infos[good];
    if (clone_check (dests[i], &global_opts.store, c) == -1) {
      error_print ();
      clone_info_clear (c);
      rc = EXIT_ERROR;
      continue;
    }
    /* Its image, if it has a hold here (a layout's clone has none). */
    if (!c->hold && clone_hold_find (&global_opts.store, c) == -1)
      error_clear ();
    good++;
  }
  if (good)
    print_all (infos, good, format);
  for (size_t i = 0; i < good; i++)
    clone_info_clear (&infos[i]);
  free (infos);
  return rc;
}

int
cmd_clones (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { "prune", no_argument, NULL, OPT_PRUNE },
    { NULL, 0, NULL, 0 }
  };
  enum output_format format = FORMAT_TEXT;
  bool prune = false;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (clones_usage, stdout); return EXIT_OK;
    case OPT_FORMAT:
      if (cli_parse_format ("clones", optarg, &format) == -1)
        return EXIT_USAGE;
      break;
    case OPT_PRUNE: prune = true; break;
    default: return cli_bad_option ("clones");
    }
  }
  if (prune && optind < argc)
    return usage_error ("clones", "--prune takes no DEST");
  if (prune) {
    if (clone_prune (&global_opts.store) == -1)
      return EXIT_ERROR;
    return EXIT_OK;
  }
  if (optind < argc)
    return check_dests (argv + optind, argc - optind, format);

  struct clone_info *infos;
  size_t n;
  if (clone_list (&global_opts.store, &infos, &n) == -1)
    return EXIT_ERROR;
  print_all (infos, n, format);
  /* A broken clone is said on stderr too, in the words of clone_check. */
  for (size_t i = 0; i < n; i++) {
    if (infos[i].state == CLONE_BASE_GONE || infos[i].state == CLONE_BASE_CHANGED) {
      clone_base_verdict (&infos[i], ENOENT);
      fprintf (stderr, "podman-disk: warning: %s\n", error_message ());
    }
    clone_info_clear (&infos[i]);
  }
  free (infos);
  return EXIT_OK;
}

int
cmd_release (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { NULL, 0, NULL, 0 }
  };
  int c, rc = EXIT_OK;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (release_usage, stdout); return EXIT_OK;
    default: return cli_bad_option ("release");
    }
  }
  if (optind >= argc)
    return usage_error ("release", "missing DEST");
  for (int i = optind; i < argc; i++)
    if (clone_release (&global_opts.store, argv[i]) == -1) {
      error_print ();
      rc = EXIT_ERROR;
    }
  return rc;
}
