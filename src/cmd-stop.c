/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk stop: stop exports of the registry (registry/registry.h), the
 * hook's or background serves', named as users see them in exports.
 *
 * Every name is resolved before anything is stopped: a name that matches
 * no export, or more than one, stops nothing.  Stopping is export_stop's
 * (hook/export.h): SIGTERM to the supervisor once its pid and start time
 * (and program) prove it, a bounded wait for it to stop the server and
 * forget the record, the server killed if it is left, the files removed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/text.h"
#include "hook/export.h"
#include "registry/registry.h"
#include "serve/socket.h"

static const char usage[] =
  "Usage: podman-disk stop [OPTIONS] EXPORT...\n"
  "       podman-disk stop [OPTIONS] --all\n"
  "\n"
  "Stop exports that 'podman-disk exports' lists: the OCI hook's (the\n"
  "container keeps running, without its export) or a background serve's.\n"
  "EXPORT is an export's id (a container's id for the hook's, serve-XXXXXX\n"
  "for a serve's) or a unique prefix of it, its socket, its NBD URI, or its\n"
  "image's name or ID.  A name that matches no export, or several, is an\n"
  "error and nothing is stopped.  Prints the ids of the stopped exports.\n"
  "\n"
  "Options:\n"
  "  -a, --all                  stop every export of the state directory\n"
  "      --state-dir DIR        where they are recorded (default\n"
  "                             /run/podman-disk, rootless\n"
  "                             $XDG_RUNTIME_DIR/podman-disk)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_STATE_DIR = OPT_FIRST_COMMAND_OPTION };

/* What a name is matched with, of every export. */
struct entry {
  char *id, *socket, *volume_socket, *uri, *container_uri, *image, *image_id;
  bool chosen;
};

struct entries {
  struct entry *v;
  size_t n, allocated;
};

static int
collect (const struct export_record *rec, void *arg)
{
  struct entries *l = arg;

  if (l->n == l->allocated) {
    /* Doubling: one realloc per entry is quadratic where realloc moves. */
    size_t n = l->allocated ? 2 * l->allocated : 16;
    struct entry *nv = reallocarray (l->v, n, sizeof *nv);
    if (!nv)
      return error_errno (errno, "exports");
    l->v = nv;
    l->allocated = n;
  }
  l->v[l->n++] = (struct entry) {
    .id = strdup (rec->id), .socket = strdup_or_null (rec->socket),
    .volume_socket = strdup_or_null (rec->volume_socket), .uri = strdup_or_null (rec->uri),
    .container_uri = strdup_or_null (rec->container_uri),
    .image = strdup_or_null (rec->image), .image_id = strdup_or_null (rec->image_id),
  };
  return l->v[l->n - 1].id ? 0 : error_errno (errno, "exports");
}

static void
entries_clear (struct entries *l)
{
  for (size_t i = 0; i < l->n; i++) {
    struct entry *e = &l->v[i];
    char *strings[] = { e->id, e->socket, e->volume_socket, e->uri,
                        e->container_uri, e->image, e->image_id };
    for (size_t j = 0; j < sizeof strings / sizeof strings[0]; j++)
      free (strings[j]);
  }
  free (l->v);
}

static bool
same (const char *a, const char *b)
{
  return a && b && strcmp (a, b) == 0;
}

/* An image ID without its "sha256:". */
static const char *
bare_id (const char *id)
{
  return id && strncmp (id, "sha256:", 7) == 0 ? id + 7 : id;
}

/* NAME exactly: an id, a socket (ABS is NAME made absolute), a URI, an
 * image name or its full ID.
 */
static bool
matches_exactly (const struct entry *e, const char *name, const char *abs)
{
  return same (e->id, name) || same (e->socket, abs) || same (e->volume_socket, abs)
    || same (e->uri, name) || same (e->container_uri, name) || same (e->image, name)
    || same (e->image_id, name) || same (bare_id (e->image_id), bare_id (name));
}

/* NAME as a prefix of an id or of an image ID, as podman takes them. */
static bool
matches_prefix (const struct entry *e, const char *name)
{
  const char *id = bare_id (name);

  return strncmp (e->id, name, strlen (name)) == 0
    || (e->image_id && *id && strncmp (bare_id (e->image_id), id, strlen (id)) == 0);
}

/* Mark the one export NAME names.  -1 with error () set when there is
 * none, or more than one.
 */
static int
resolve (struct entries *l, const char *name)
{
  _cleanup_free_ char *abs = absolute_path (name);
  size_t found = 0, which = 0;

  if (!abs)
    return -1;
  for (int prefix = 0; prefix < 2 && found == 0; prefix++)
    for (size_t i = 0; i < l->n; i++)
      if (prefix ? matches_prefix (&l->v[i], name)
          : matches_exactly (&l->v[i], name, abs)) {
        if (found++ == 0)
          which = i;
      }
  if (found == 0)
    return error ("no export matches '%s' (see podman-disk exports): nothing stopped",
                  name);
  if (found > 1) {
    /* Which ones: the user picks one by its id. */
    _cleanup_free_ char *ids = NULL;
    size_t len = 0;
    _cleanup_fclose_ FILE *f = open_memstream (&ids, &len);
    for (int prefix = 0, any = 0; prefix < 2 && !any; prefix++)
      for (size_t i = 0; i < l->n; i++)
        if (prefix ? matches_prefix (&l->v[i], name)
            : matches_exactly (&l->v[i], name, abs))
          fprintf (f, "%s%s", any++ ? ", " : "", l->v[i].id);
    fclose (steal_pointer (&f));
    return error ("'%s' matches %zu exports (%s): name one by its id; nothing "
                  "stopped", name, found, ids ? ids : "");
  }
  l->v[which].chosen = true;
  return 0;
}

int
cmd_stop (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "all", no_argument, NULL, 'a' },
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { NULL, 0, NULL, 0 }
  };
  const char *state_dir = NULL;
  bool all = false;
  int c;

  while ((c = getopt_long (argc, argv, "ah", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case 'a': all = true; break;
    case OPT_STATE_DIR: state_dir = optarg; break;
    default: return cli_bad_option ("stop");
    }
  }
  if (all && optind < argc)
    return usage_error ("stop", "--all and EXPORT exclude each other");
  if (!all && optind >= argc)
    return usage_error ("stop", "name an EXPORT (see podman-disk exports), or --all");
  for (int i = optind; i < argc; i++)
    if (!*argv[i])
      return usage_error ("stop", "an empty EXPORT would be a prefix of every id");

  _cleanup_free_ char *dir = NULL;
  struct entries l = { .v = NULL };
  int rc = EXIT_OK;

  if (registry_dir (state_dir, &dir) == -1 || registry_list (dir, collect, &l) == -1) {
    entries_clear (&l);
    return EXIT_ERROR;
  }
  for (int i = optind; i < argc; i++)
    if (resolve (&l, argv[i]) == -1) {
      entries_clear (&l);
      return EXIT_ERROR;
    }
  for (size_t i = 0; i < l.n; i++) {
    if (!all && !l.v[i].chosen)
      continue;
    if (export_stop (dir, l.v[i].id) == -1) {
      error_context ("%s", l.v[i].id);
      error_print ();
      rc = EXIT_ERROR;
      continue;
    }
    text_fputs (l.v[i].id, stdout);
    putchar ('\n');
    fflush (stdout);
  }
  entries_clear (&l);
  return rc;
}
