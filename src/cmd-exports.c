/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk exports: the disks podman-disk is exporting, the OCI hook's
 * and background serves'.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/text.h"
#include "hook/export.h"
#include "hook/state.h"
#include "registry/registry.h"

static const char usage[] =
  "Usage: podman-disk exports [OPTIONS]\n"
  "\n"
  "List the disks that podman-disk exports: those the OCI hook exports for\n"
  "running containers (kind hook, the id is the container's) and those of\n"
  "'podman-disk serve' in the background (kind serve): id, export name,\n"
  "image, disk, server, its pid, whether it is alive, NBD URI, whether the\n"
  "file it serves is still in place (\"gone\": removed or replaced since;\n"
  "reads still return the bytes it had), kind and when it started.  With\n"
  "--prune, remove the exports whose server is gone (their sockets, records\n"
  "and a serve's pid file) and print their ids.  'podman-disk stop' stops\n"
  "one.\n"
  "\n"
  "Options:\n"
  "      --format FORMAT        text (a table, the default) or json\n"
  "      --prune                remove stale exports\n"
  "      --state-dir DIR        where they are recorded (default\n"
  "                             /run/podman-disk, rootless\n"
  "                             $XDG_RUNTIME_DIR/podman-disk)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_PRUNE = OPT_FIRST_COMMAND_OPTION, OPT_STATE_DIR };

struct listing {
  json_object *all;          /* array of records + "alive" */
  const char *dir;
  bool prune;
  int errors;
};

static int
collect (const struct export_record *rec, void *arg)
{
  struct listing *l = arg;
  bool alive = export_record_alive (rec);

  if (l->prune) {
    if (alive)
      return 0;
    if (export_stop (l->dir, rec->id) == -1) {
      error_print ();
      l->errors++;
      return 0;
    }
  }
  json_object *o = export_record_to_json (rec);
  /* Internal bookkeeping, not for users. */
  json_object_object_del (o, "pid_start");
  json_object_object_del (o, "watcher_start");
  json_object_object_del (o, "pidfile_dev");
  json_object_object_del (o, "pidfile_ino");
  json_object_object_add (o, "alive", json_object_new_boolean (alive));
  /* Only a live server's descriptors say which file it reads. */
  int present = alive ? export_record_file_present (rec) : -1;
  json_object_object_add (o, "file_present",
                          present == -1 ? NULL : json_object_new_boolean (present));
  json_object_array_add (l->all, o);
  return 0;
}

/* A socket at PATH that nobody listens on (or a dangling symlink). */
static bool
dead_socket (const char *path)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct stat sb;

  if (lstat (path, &sb) == -1 || strlen (path) >= sizeof sun.sun_path)
    return false;
  if (S_ISLNK (sb.st_mode))
    return stat (path, &sb) == -1 && errno == ENOENT;
  if (!S_ISSOCK (sb.st_mode))
    return false;
  strcpy (sun.sun_path, path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd == -1)
    return false;
  bool dead = connect (fd, (struct sockaddr *) &sun, sizeof sun) == -1
    && errno == ECONNREFUSED;
  close (fd);
  return dead;
}

/* Files of exports whose record is gone (a crash between steps, a
 * temporary record): sockets nobody serves, logs, temporary files.
 */
static void
prune_orphans (const char *dir)
{
  _cleanup_closedir_ DIR *d = opendir (dir);
  struct dirent *e;

  if (!d)
    return;
  while ((e = readdir (d)) != NULL) {
    const char *name = e->d_name;
    size_t n = strlen (name);
    const char *dot = strrchr (name, '.');
    _cleanup_free_ char *path = NULL, *json = NULL;

    if (!dot || dot == name)
      continue;
    if (asprintf (&path, "%s/%s", dir, name) == -1)
      return;
    if (name[0] == '.' && n > 9 && strcmp (name + n - 9, ".json.tmp") == 0) {
      unlink (path);
      continue;
    }
    if (strcmp (dot, ".sock") && strcmp (dot, ".log"))
      continue;
    if (asprintf (&json, "%s/%.*s.json", dir, (int) (dot - name), name) == -1)
      return;
    if (access (json, F_OK) == 0)
      continue;
    if (strcmp (dot, ".log") == 0 || dead_socket (path))
      unlink (path);
  }
}

static void
print_text (json_object *all)
{
  size_t n = json_object_array_length (all);
  int uri_width = 3;
  json_object *v;

  /* FILE comes after the URI, so that the columns before it stay where
   * scripts read them: the URIs are padded to the widest.
   */
  for (size_t i = 0; i < n; i++)
    if (json_object_object_get_ex (json_object_array_get_idx (all, i), "uri", &v)
        && json_object_get_string (v)
        && (int) strlen (json_object_get_string (v)) > uri_width)
      uri_width = strlen (json_object_get_string (v));
  printf ("%-12s  %-16s  %-28s  %-20s  %-8s  %-7s  %-5s  %-*s  %-4s  %-5s  %s\n", "ID",
          "NAME", "IMAGE", "DISK", "SERVER", "PID", "ALIVE", uri_width, "URI", "FILE",
          "KIND", "STARTED");
  /* The records' strings name the image, its disk, the export: shown by
   * the rule of common/text.h.
   */
  for (size_t i = 0; i < n; i++) {
    json_object *o = json_object_array_get_idx (all, i);
    char container[13];
#define S(key) (json_object_object_get_ex (o, key, &v) && json_object_get_string (v) \
                ? json_object_get_string (v) : "-")
    snprintf (container, sizeof container, "%s", S ("id"));
    text_fput_column (text_sanitize (container), 12, stdout);
    fputs ("  ", stdout);
    text_fput_column (S ("name"), 16, stdout);
    fputs ("  ", stdout);
    text_fput_column (S ("image"), 28, stdout);
    fputs ("  ", stdout);
    text_fput_column (S ("disk"), 20, stdout);
    fputs ("  ", stdout);
    text_fput_column (S ("server"), 8, stdout);
    fputs ("  ", stdout);
    text_fput_column (S ("pid"), 7, stdout);
    json_object_object_get_ex (o, "alive", &v);
    printf ("  %-5s  ", json_object_get_boolean (v) ? "yes" : "no");
    text_fput_column (S ("uri"), uri_width, stdout);
    fputs ("  ", stdout);
    const char *file = "-";
    if (json_object_object_get_ex (o, "file_present", &v) && v)
      file = json_object_get_boolean (v) ? "yes" : "gone";
    printf ("%-4s  %-5s  ", file, S ("kind"));
    text_fputs (S ("started"), stdout);
    putchar ('\n');
#undef S
  }
}

int
cmd_exports (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "format", required_argument, NULL, 'f' },
    { "prune", no_argument, NULL, OPT_PRUNE },
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { NULL, 0, NULL, 0 }
  };
  enum output_format format = FORMAT_TEXT;
  const char *state_dir = NULL;
  bool prune = false;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case 'f':
      if (cli_parse_format ("exports", optarg, &format) == -1)
        return EXIT_USAGE;
      break;
    case OPT_PRUNE: prune = true; break;
    case OPT_STATE_DIR: state_dir = optarg; break;
    default: return cli_bad_option ("exports");
    }
  }
  if (optind < argc)
    return usage_error ("exports", "unexpected argument '%s'", argv[optind]);

  _cleanup_free_ char *dir = NULL;
  if (registry_dir (state_dir, &dir) == -1)
    return EXIT_ERROR;
  struct listing l = { .all = json_object_new_array (), .dir = dir, .prune = prune };
  if (registry_list (dir, collect, &l) == -1) {
    json_object_put (l.all);
    return EXIT_ERROR;
  }
  if (prune)
    prune_orphans (dir);

  if (format == FORMAT_JSON) {
    /* json-c would print an empty array on two lines. */
    text_fput_json (json_object_array_length (l.all) == 0 ? "[]"
                    : json_object_to_json_string_ext (
                      l.all, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
                    stdout);
    putchar ('\n');
  }
  else if (prune) {
    for (size_t i = 0; i < json_object_array_length (l.all); i++) {
      json_object *v;
      json_object_object_get_ex (json_object_array_get_idx (l.all, i), "id", &v);
      text_fputs (json_object_get_string (v), stdout);
      putchar ('\n');
    }
  }
  else
    print_text (l.all);
  json_object_put (l.all);
  return l.errors ? EXIT_ERROR : EXIT_OK;
}
