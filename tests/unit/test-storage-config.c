/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: finding the store like podman (src/storage/config.c): the
 * storage.conf search order, drop-ins, rootless defaults, environment,
 * with the system directories moved into a temporary directory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/config.h"

#include "unit.h"

static char top[] = "/tmp/test-storage-config.XXXXXX";
static char usr[256], etc[256], home[256];

static bool
same (const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  char path[4096];
  unit_mkdirs (dir);
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "w");
  if (!f || fputs (text, f) == EOF || fclose (f) == EOF) {
    fprintf (stderr, "setup: %s: %m\n", path);
    exit (1);
  }
}

/* A clean slate: no files, no variables. */
static void
reset (void)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/fs", top);
  unit_remove_tree (path);
  unit_mkdirs (usr);
  unit_mkdirs (etc);
  unit_mkdirs (home);
  unsetenv ("CONTAINERS_STORAGE_CONF");
  unsetenv ("STORAGE_DRIVER");
  unsetenv ("STORAGE_OPTS");
  unsetenv ("XDG_CONFIG_HOME");
  unsetenv ("XDG_DATA_HOME");
  unsetenv ("XDG_RUNTIME_DIR");
  setenv ("HOME", home, 1);
}

static void
expect (uid_t uid, const char *driver, const char *graphroot,
        const char *runroot, const char *stores, const char *what)
{
  struct config_dirs dirs = { usr, etc, uid };
  struct store_config cfg;
  char got_stores[1024] = "";

  error_clear ();
  int r = store_config_read (&cfg, &dirs);
  if (r == 0)
    for (char **s = cfg.image_stores; s && *s; s++)
      snprintf (got_stores + strlen (got_stores),
                sizeof got_stores - strlen (got_stores), "%s%s",
                s == cfg.image_stores ? "" : ",", *s);
  bool ok = r == 0 && same (cfg.driver, driver)
    && same (cfg.graphroot, graphroot) && same (cfg.runroot, runroot)
    && strcmp (got_stores, stores ? stores : "") == 0
    && cfg.rootless == (uid != 0);
  check (ok, "%s", what);
  if (!ok) {
    if (r == 0)
      printf ("  got driver %s graphroot %s runroot %s stores '%s'\n",
              cfg.driver, cfg.graphroot, cfg.runroot, got_stores);
    else
      printf ("  error: %s\n", error_message ());
  }
  if (r == 0)
    store_config_free (&cfg);
}

static void
expect_error (uid_t uid, const char *message, const char *what)
{
  struct config_dirs dirs = { usr, etc, uid };
  struct store_config cfg;
  error_clear ();
  int r = store_config_read (&cfg, &dirs);
  check (r == -1 && strstr (error_message (), message), "%s: %s", what,
         error_message ());
  if (r == 0)
    store_config_free (&cfg);
}

static void
test_root (void)
{
  char d[4096];

  reset ();
  expect (0, NULL, "/var/lib/containers/storage", "/run/containers/storage",
          NULL, "root, no files: podman's defaults, the driver detected");

  write_file (usr, "storage.conf",
              "[storage]\ndriver = \"overlay\"\ngraphroot = \"/u/g\"\n"
              "[storage.options]\nadditionalimagestores = [\"/u/ai\"]\n");
  expect (0, "overlay", "/u/g", "/run/containers/storage", "/u/ai",
          "/usr/share/containers/storage.conf");

  write_file (etc, "storage.conf",
              "[storage]\ndriver = \"vfs\"\nrunroot = \"/e/r\"\n");
  expect (0, "vfs", "/var/lib/containers/storage", "/e/r", NULL,
          "/etc/containers/storage.conf replaces /usr/share's entirely");

  snprintf (d, sizeof d, "%s/storage.conf.d", usr);
  write_file (d, "10-a.conf", "[storage]\ngraphroot = \"/usr-10\"\n");
  write_file (d, "30-c.conf", "[storage]\ndriver = \"overlay\"\n");
  write_file (d, "ignored.txt", "this is not TOML [\n");
  snprintf (d, sizeof d, "%s/storage.conf.d", etc);
  write_file (d, "20-b.conf", "[storage]\ngraphroot = \"/etc-20\"\n");
  expect (0, "overlay", "/etc-20", "/e/r", NULL,
          "drop-ins in name order across directories, only *.conf");

  write_file (d, "10-a.conf", "[storage.options]\n"
              "additionalimagestores = [\"/x\", \"/y\"]\n");
  expect (0, "overlay", "/etc-20", "/e/r", "/x,/y",
          "an /etc drop-in replaces the /usr/share one of the same name");

  snprintf (d, sizeof d, "%s/storage.rootful.conf.d", etc);
  write_file (d, "40-d.conf", "[storage]\nrunroot = \"/rootful\"\n");
  snprintf (d, sizeof d, "%s/storage.rootless.conf.d", etc);
  write_file (d, "50-e.conf", "[storage]\nrunroot = \"/rootless\"\n");
  expect (0, "overlay", "/etc-20", "/rootful", "/x,/y",
          "storage.rootful.conf.d for root, not storage.rootless.conf.d");

  snprintf (d, sizeof d, "%s/.config/containers", home);
  write_file (d, "storage.conf",
              "[storage]\ngraphroot = \"/home-user\"\n");
  expect (0, "overlay", "/etc-20", "/rootful", "/x,/y",
          "root does not read ~/.config/containers/storage.conf");

  setenv ("STORAGE_DRIVER", "vfs", 1);
  setenv ("STORAGE_OPTS", "overlay.mountopt=nodev,overlay.imagestore=/o1,"
          "vfs.imagestore=/o2", 1);
  expect (0, "vfs", "/etc-20", "/rootful", "/o1,/o2",
          "STORAGE_DRIVER and STORAGE_OPTS image stores");

  snprintf (d, sizeof d, "%s/only.conf", top);
  write_file (top, "only.conf", "[storage]\ngraphroot = \"/only\"\n");
  setenv ("CONTAINERS_STORAGE_CONF", d, 1);
  unsetenv ("STORAGE_DRIVER");
  unsetenv ("STORAGE_OPTS");
  expect (0, NULL, "/only", "/run/containers/storage", NULL,
          "CONTAINERS_STORAGE_CONF is the only file read");

  snprintf (d, sizeof d, "%s/missing.conf", top);
  setenv ("CONTAINERS_STORAGE_CONF", d, 1);
  expect_error (0, "CONTAINERS_STORAGE_CONF=", "a missing CONTAINERS_STORAGE_CONF");
}

static void
test_rootless (void)
{
  char d[4096], want[4096], want_run[4096];

  reset ();
  setenv ("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  snprintf (want, sizeof want, "%s/.local/share/containers/storage", home);
  expect (1000, NULL, want, "/run/user/1000/containers", NULL,
          "rootless, no files: ~/.local/share/containers/storage");

  write_file (etc, "storage.conf",
              "[storage]\ndriver = \"overlay\"\ngraphroot = \"/var/lib/x\"\n"
              "runroot = \"/run/x\"\n");
  expect (1000, "overlay", want, "/run/user/1000/containers", NULL,
          "the system's graphroot and runroot are root's, not the user's");

  write_file (etc, "storage.conf",
              "[storage]\ndriver = \"overlay\"\n"
              "rootless_storage_path = \"$HOME/rsp/$UID\"\n");
  snprintf (want, sizeof want, "%s/rsp/1000", home);
  expect (1000, "overlay", want, "/run/user/1000/containers", NULL,
          "rootless_storage_path, with $HOME and $UID");

  setenv ("XDG_DATA_HOME", "/xdg-data", 1);
  unlink (strcat (strcpy (d, etc), "/storage.conf"));
  unsetenv ("XDG_RUNTIME_DIR");
  snprintf (want_run, sizeof want_run, "/run/user/1000/containers");
  struct stat st;
  if (stat ("/run/user/1000", &st) == -1)
    snprintf (want_run, sizeof want_run, "/tmp/storage-run-1000/containers");
  expect (1000, NULL, "/xdg-data/containers/storage", want_run, NULL,
          "XDG_DATA_HOME; no XDG_RUNTIME_DIR");

  setenv ("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  snprintf (d, sizeof d, "%s/.config/containers", home);
  write_file (d, "storage.conf",
              "[storage]\ndriver = \"vfs\"\ngraphroot = \"/mine\"\n");
  write_file (etc, "storage.conf", "[storage]\ndriver = \"overlay\"\n");
  expect (1000, "vfs", "/mine", "/run/user/1000/containers", NULL,
          "the user's storage.conf is the main file");

  setenv ("XDG_CONFIG_HOME", top, 1);
  snprintf (d, sizeof d, "%s/containers", top);
  write_file (d, "storage.conf", "[storage]\ngraphroot = \"/xdg-config\"\n");
  expect (1000, NULL, "/xdg-config", "/run/user/1000/containers", NULL,
          "XDG_CONFIG_HOME moves it");

  snprintf (d, sizeof d, "%s/containers/storage.conf.d", top);
  write_file (d, "90-user.conf", "[storage]\nrunroot = \"/user-run\"\n");
  snprintf (d, sizeof d, "%s/storage.rootless.conf.d/1000", usr);
  write_file (d, "10-uid.conf", "[storage]\ndriver = \"overlay\"\n");
  snprintf (d, sizeof d, "%s/storage.rootless.conf.d/1001", usr);
  write_file (d, "20-other.conf", "[storage]\ndriver = \"btrfs\"\n");
  expect (1000, "overlay", "/xdg-config", "/user-run", NULL,
          "the user's drop-ins, and storage.rootless.conf.d/UID");
}

static void
test_errors (void)
{
  reset ();
  write_file (etc, "storage.conf", "[storage]\n\ndriver = overlay\n");
  expect_error (0, "/etc/containers/storage.conf:3: a value is malformed",
                "a malformed file names file:line");
  write_file (etc, "storage.conf", "[storage]\ndriver = 1\n");
  expect_error (0, "storage.conf:2: storage.driver must be a string, not an "
                "integer", "a wrong type names file:line");
  write_file (etc, "storage.conf", "[storage.options]\n"
              "additionalimagestores = \"/x\"\n");
  expect_error (0, "additionalimagestores must be an array of strings",
                "additionalimagestores as a string");
  write_file (etc, "storage.conf", "[storage]\ndriver = \"overlay\"\n"
              "unknown_key = 1.5e3\n");
  expect_error (0, "storage.conf:3: floating point",
                "TOML this reader does not know is an error, not a guess");
  write_file (etc, "storage.conf", "[storage]\ndriver = \"overlay\"\n"
              "some_new_key = [\"x\"]\n[storage.options.zfs]\nmountopt = \"x\"\n");
  expect (0, "overlay", "/var/lib/containers/storage",
          "/run/containers/storage", NULL, "unknown keys are ignored");
}

int
main (void)
{
  unit_tmpdir (top);
  snprintf (usr, sizeof usr, "%s/fs/usr/share/containers", top);
  snprintf (etc, sizeof etc, "%s/fs/etc/containers", top);
  snprintf (home, sizeof home, "%s/fs/home/user", top);
  unsetenv ("_CONTAINERS_ROOTLESS_UID");

  test_root ();
  test_rootless ();
  test_errors ();

  setenv ("_CONTAINERS_ROOTLESS_UID", "1234", 1);
  check (config_rootless_uid () == 1234, "_CONTAINERS_ROOTLESS_UID inside podman unshare");
  unsetenv ("_CONTAINERS_ROOTLESS_UID");
  check (config_rootless_uid () == geteuid (), "else the effective uid");

  return unit_summary ();
}
