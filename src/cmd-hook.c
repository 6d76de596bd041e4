/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk hook: the OCI hook that exports a container's disk while
 * it runs (hooks/podman-disk-*.json.in configure it in hooks.d).
 */
#include <errno.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "clone/clone.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/pathtrust.h"
#include "common/readall.h"
#include "common/proc.h"
#include "hook/clonehold.h"
#include "hook/export.h"
#include "hook/state.h"
#include "registry/registry.h"
#include "hook/request.h"
#include "hook/rootfs.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk hook [--state-dir DIR] STAGE < STATE\n"
  "\n"
  "The OCI hook of podman-disk, run by podman, CRI-O or the OCI runtime as\n"
  "hooks.d says (see podman-disk-hook(5)), with the container's state JSON on\n"
  "stdin.  STAGE is createRuntime (or prestart) to export the disk of a\n"
  "container annotated io.podman-disk.export, and poststop to stop it.\n"
  "\n"
  "Options:\n"
  "      --state-dir DIR        where the sockets and records are (default\n"
  "                             /run/podman-disk, rootless\n"
  "                             $XDG_RUNTIME_DIR/podman-disk)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_STATE_DIR = OPT_FIRST_COMMAND_OPTION };

/* The state on stdin is small: runc writes a few hundred bytes. */
#define STATE_MAX (1024 * 1024)

/* Whether LOC, the disk of the rootfs at ROOT_PATH, lies in one of the
 * image's layers (an overlay's lower directories), not in what belongs to
 * the container: its upper directory, or a copy of the image (vfs).
 */
static bool
in_image_layer (const char *root_path, const struct disk_location *loc)
{
  _cleanup_strv_ char **dirs = NULL;
  size_t n;

  if (rootfs_layer_dirs (root_path, &dirs, &n) == -1) {
    error_clear ();
    return false;
  }
  size_t len = strlen (dirs[0]);
  return n > 1 && !(strncmp (loc->file, dirs[0], len) == 0 && loc->file[len] == '/');
}

/* DEST, a clone of LOC (the container's disk), if there is none yet: 1
 * made (with STORE, where its hold goes), 0 there already, -1 error.
 */
static int
make_clone (const struct oci_state *st, const struct oci_config *cfg,
            const struct disk_location *loc, const char *dest,
            struct store_options *store)
{
  struct stat sb;

  if (lstat (dest, &sb) == 0 || errno != ENOENT)
    return 0;           /* clone_take_location checks what it is */
  /* A rootless container's hook is root in podman's user namespace: the
   * hold would be a rootful podman on the user's store.
   */
  if (process_in_user_namespace ())
    return error ("the clone %s does not exist, and a rootless container's "
                  "hook cannot hold its image: make the clone with "
                  "'podman-disk clone IMAGE %s' first", dest, dest);
  if (!in_image_layer (cfg->root_path, loc))
    return error ("the clone %s does not exist, and the disk %s is the "
                  "container's own (changed in it, or a copy of the image): make "
                  "the clone with 'podman-disk clone IMAGE %s' first",
                  dest, loc->member, dest);
  /* Made (and removed, if it cannot be served) by root through this
   * path: no one else may be able to change where it leads.
   */
  _cleanup_free_ char *dir = strdup (dest);
  if (!dir)
    return error_errno (errno, "strdup");
  if (pathtrust_check (dirname (dir), -1) == -1)
    return error_context ("not made: keep clones in a directory only you "
                          "and root can change");
  if (clonehold_store (st->bundle, oci_config_bind_source (cfg, "/run/.containerenv"),
                       st->id, store) == -1)
    return error_context ("the clone %s does not exist and cannot be made here "
                          "(make it with 'podman-disk clone IMAGE %s' first)",
                          dest, dest);
  if (clone_create_unheld (loc, dest) == -1)
    return -1;
  return 1;
}

/* The container's start: export its disk if it asks for it. */
static int
hook_start (const char *state_dir, const struct oci_state *st)
{
  _cleanup_free_ char *dir = NULL, *ref = NULL;
  struct locate_request lreq = { 0 };
  struct oci_config cfg;
  struct container_ident ci;
  struct export_request req;
  _cleanup_location_ struct disk_location loc;
  struct export_record rec = { 0 };
  struct store_options hold_store = { NULL };
  int r = -1, made_clone = 0;

  disk_location_init (&loc);
  if (st->pid <= 0)
    return error ("the OCI state of %.12s has no process id: is the hook "
                  "configured for the createRuntime stage?", st->id);
  if (oci_config_load (st->bundle, &cfg) == -1)
    return -1;
  memset (&req, 0, sizeof req);
  if (container_ident_load (&ci, st, &cfg) == -1)
    goto out;
  if (export_request_parse (cfg.annotations, &ci, &req) == -1)
    goto out;
  if (!req.wanted) {
    debug ("%.12s: no export asked for this container", st->id);
    r = 0;
    goto out;
  }

  /* The rootfs source: the container's mounted root filesystem. */
  lreq.disk = req.disk;
  if (asprintf (&ref, "rootfs:%s", cfg.root_path) == -1) {
    error_errno (errno, "rootfs");
    goto out;
  }
  if (source_locate (ref, &lreq, &loc) == -1) {
    if (req.disk)
      error_context ("container %.12s: %s=%s", st->id, ANNOTATION_DISK, req.disk);
    else
      error_context ("container %.12s", st->id);
    goto out;
  }
  /* Writes into a clone: the clone becomes what is served, made now if
   * there is none (its hold comes after the hook: hook/clonehold.h).  No
   * store here: no podman may run while podman starts this container.
   */
  if (req.persistent
      && ((made_clone = make_clone (st, &cfg, &loc, req.persistent, &hold_store)) == -1
          || clone_take_location (&loc, NULL, req.persistent, false) == -1)) {
    error_context ("container %.12s: %s=%s%s", st->id, ANNOTATION_WRITABLE,
                   PERSISTENT_PREFIX, req.persistent);
    goto out;
  }
  /* Only now: a container that exports nothing needs no directory. */
  if (registry_dir (state_dir, &dir) == -1 || registry_create (dir) == -1)
    goto out;
  const struct export_params p = {
    .dir = dir,
    .id = st->id,
    .container_pid = st->pid,
    .name = req.name,
    .volume_dir = oci_config_bind_source (&cfg, CONTAINER_SOCKET_DIR),
    .label = cfg.mount_label,
    .cow = req.cow,
    .persistent = req.persistent != NULL,
    .image = ci.image_name,
    .image_id = ci.image_id,
  };
  if (export_start (&p, &loc, &rec) == -1) {
    error_context ("cannot export the disk %s of container %.12s", loc.member, st->id);
    goto out;
  }
  debug ("%.12s: %s exports %s at %s", st->id, rec.server, rec.disk, rec.uri);
  if (made_clone == 1)
    clonehold_start (&hold_store, ci.image_id, req.persistent);
  made_clone = 0;
  r = 0;
 out:
  if (made_clone == 1)
    unlink (req.persistent);      /* ours, never served: nothing written */
  clonehold_store_clear (&hold_store);
  export_record_clear (&rec);
  export_request_clear (&req);
  container_ident_clear (&ci);
  oci_config_clear (&cfg);
  return r;
}

/* The parent of the server is this very process (it re-executed itself
 * as the watcher): check it, so that this internal stage never signals
 * anyone else's process.
 */
static bool
is_our_child (pid_t pid)
{
  return process_parent (pid) == getpid ();
}

/* hook _watch ID CONTAINER_PID PIDFD ERRFD SERVER_PID SOCKET DEV:INO */
static int
watch_stage (const char *state_dir, int argc, char **argv)
{
  int cpid, cfd, efd, spid;
  uintmax_t dev, ino;
  char end;

  if (argc != 7 || !state_dir || !registry_id_valid (argv[0])
      || sscanf (argv[1], "%d%c", &cpid, &end) != 1 || cpid <= 0
      || sscanf (argv[2], "%d%c", &cfd, &end) != 1 || cfd < -1
      || sscanf (argv[3], "%d%c", &efd, &end) != 1 || efd < -1
      || sscanf (argv[4], "%d%c", &spid, &end) != 1 || spid <= 0
      || argv[5][0] != '/'
      || sscanf (argv[6], "%ju:%ju%c", &dev, &ino, &end) != 2)
    return usage_error ("hook", "%s is internal to podman-disk", EXPORT_WATCH_STAGE);
  if (!is_our_child (spid)) {
    error ("%s: process %d is not this watcher's server", EXPORT_WATCH_STAGE, spid);
    return EXIT_ERROR;
  }
  openlog ("podman-disk", LOG_PID, LOG_DAEMON);
  export_watch (state_dir, argv[0], cpid, cfd, efd, spid, argv[5], dev, ino);
}

int
cmd_hook (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { NULL, 0, NULL, 0 }
  };
  const char *state_dir = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case OPT_STATE_DIR:
      /* The hook runs in the bundle's directory, its watcher in /. */
      if (optarg[0] != '/')
        return usage_error ("hook", "--state-dir must be an absolute path, "
                            "not '%s'", optarg);
      state_dir = optarg;
      break;
    default: return cli_bad_option ("hook");
    }
  }
  if (optind >= argc)
    return usage_error ("hook", "missing STAGE (createRuntime, prestart or poststop)");
  if (strcmp (argv[optind], EXPORT_WATCH_STAGE) == 0)
    return watch_stage (state_dir, argc - optind - 1, argv + optind + 1);
  if (argc - optind > 1)
    return usage_error ("hook", "one STAGE only, got '%s' too", argv[optind + 1]);
  const char *stage = argv[optind];
  bool start;
  if (strcmp (stage, "createRuntime") == 0 || strcmp (stage, "prestart") == 0)
    start = true;
  else if (strcmp (stage, "poststop") == 0)
    start = false;
  else
    return usage_error ("hook", "unknown STAGE '%s': createRuntime, prestart or poststop",
                        stage);

  openlog ("podman-disk", LOG_PID, LOG_DAEMON);
  _cleanup_free_ char *buf = NULL, *dir = NULL;
  size_t len;
  struct oci_state st;
  int r;

  if (read_all_fd (0, STATE_MAX, "the OCI state on stdin", &buf, &len) == -1
      || oci_state_parse (buf, len, &st) == -1) {
    syslog (LOG_ERR, "%s hook: %s", stage, error_message ());
    return EXIT_ERROR;
  }
  /* The argument names the stage; the state must agree.  A container
   * that stopped (podman's own poststop: status "stopped", no pid) is
   * never exported, whatever a hooks.d file passed.
   */
  if (start && st.status && strcmp (st.status, "stopped") == 0) {
    syslog (LOG_WARNING, "%.12s: %s hook run for a stopped container: "
            "stopping its export instead", st.id, stage);
    start = false;
  }
  if (start)
    r = hook_start (state_dir, &st);
  else if (registry_dir (state_dir, &dir) == -1) {
    /* Then no export could have started either: nothing to stop. */
    debug ("%s", error_message ());
    r = 0;
  }
  else {
    /* podman runs poststop itself, with status "stopped" and no pid. */
    r = export_stop (dir, st.id);
    if (r == -1)
      error_context ("cannot stop the export of container %.12s", st.id);
  }
  if (r == -1) {
    /* The runtime shows main's line on stderr; syslog keeps it too. */
    syslog (LOG_ERR, "%.12s: %s", st.id, error_message ());
  }
  oci_state_clear (&st);
  return r == -1 ? EXIT_ERROR : EXIT_OK;
}
