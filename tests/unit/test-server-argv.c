/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of server_argv (src/serve/server.c) for nbdkit: the disk goes
 * as fd=5 to an nbdkit that takes it (1.34 and later), so the server reads
 * the very file that was located; an older one gets file=PIN_PATH, a name
 * that its process alone sees, bound to that file (serve/pin.h).  The
 * version comes from "nbdkit --version", here fake nbdkits printing one.
 * With podman-disk's own plugin, that plugin reads fd=5 on any nbdkit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "location.h"
#include "serve/pin.h"
#include "serve/server.h"

#include "unit.h"

static char tmp[] = "/tmp/test-server-argv.XXXXXX";

/* A fake nbdkit in TMP printing VERSION for --version: its path. */
static char *
fake_nbdkit (const char *name, const char *version)
{
  char *path;
  if (asprintf (&path, "%s/%s", tmp, name) == -1)
    abort ();
  FILE *f = fopen (path, "w");
  if (!f)
    abort ();
  fprintf (f, "#!/bin/sh\nprintf '%%s\\n' '%s'\n", version);
  fclose (f);
  chmod (path, 0755);
  return path;
}

static bool
has_arg (char **argv, const char *want)
{
  for (; argv && *argv; argv++)
    if (strcmp (*argv, want) == 0)
      return true;
  return false;
}

/* A located 1 MiB disk at OFFSET, of no file (argv needs no more). */
static struct disk_location
mib_at (uint64_t offset)
{
  struct disk_location loc;

  disk_location_init (&loc);
  loc.offset = offset;
  loc.size = 1 << 20;
  return loc;
}

static void
check_version (const char *version, bool takes_fd)
{
  static int n;
  char name[32];
  struct disk_location loc = mib_at (1536);
  struct server_options opts = { .kind = SERVER_NBDKIT };

  snprintf (name, sizeof name, "nbdkit-%d", n++);
  _cleanup_free_ char *exe = fake_nbdkit (name, version);

  check (server_nbdkit_takes_fd (exe) == takes_fd, "'%s': takes fd=: %s",
         version, takes_fd ? "yes" : "no");
  _cleanup_strv_ char **argv = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (argv && strcmp (argv[0], exe) == 0, "'%s': argv[0] is the program", version);
  check (has_arg (argv, takes_fd ? "fd=5" : "file=" PIN_PATH)
         && !has_arg (argv, takes_fd ? "file=" PIN_PATH : "fd=5"),
         "'%s': the disk as %s", version, takes_fd ? "fd=5" : "file=" PIN_PATH);
  check (has_arg (argv, "offset=1536") && has_arg (argv, "range=1048576")
         && has_arg (argv, "--readonly"), "'%s': offset, range, read-only", version);
}

/* podman-disk's own plugin, when there is one: it takes the fd, the
 * offset and the size itself, on any nbdkit: no file plugin, no offset
 * filter, no pinned name; the cow and exportname filters still apply.
 */
static void
check_own_plugin (void)
{
  _cleanup_free_ char *exe = fake_nbdkit ("nbdkit-own", "nbdkit 1.32.5");
  struct disk_location loc = mib_at (1536);
  struct server_options opts = { .kind = SERVER_NBDKIT,
                                 .nbdkit_plugin = "/p/nbdkit-podman-disk-plugin.so" };

  _cleanup_strv_ char **a = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (has_arg (a, "/p/nbdkit-podman-disk-plugin.so") && has_arg (a, "fd=5")
         && has_arg (a, "offset=1536") && has_arg (a, "size=1048576")
         && has_arg (a, "--readonly"), "own plugin: fd=5 offset= size=, read-only");
  check (!has_arg (a, "file") && !has_arg (a, "--filter=offset")
         && !has_arg (a, "file=" PIN_PATH) && !has_arg (a, "range=1048576"),
         "own plugin: no file plugin, offset filter or pinned name");
  opts.writable = true;
  opts.export_name = "vm";
  _cleanup_strv_ char **w = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (has_arg (w, "--filter=cow") && !has_arg (w, "--readonly")
         && has_arg (w, "--filter=exportname") && has_arg (w, "exportname=vm"),
         "own plugin: --writable is the cow filter, the export name strict");
}

/* TLS: nbdkit gets its own --tls options; qemu-nbd a credentials object
 * (x509 without client certificates, as nbdkit; PSK as the directory
 * holding keys.psk, commas doubled in qemu's syntax) and --tls-creds,
 * always required; behind the proxy, the TLS is nbdkit's only.
 */
static void
check_tls (void)
{
  _cleanup_free_ char *exe = fake_nbdkit ("nbdkit-tls", "nbdkit 1.34.0");
  struct disk_location loc = mib_at (0);
  struct server_options opts = { .kind = SERVER_NBDKIT, .tls = SERVER_TLS_ON,
                                 .tls_psk = "/k/keys.psk" };

  _cleanup_strv_ char **a = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (has_arg (a, "--tls=on") && has_arg (a, "--tls-psk=/k/keys.psk")
         && !has_arg (a, "--tls-certificates=/k/keys.psk"), "nbdkit: --tls=on --tls-psk");
  opts.tls = SERVER_TLS_REQUIRE;
  opts.tls_psk = NULL;
  opts.tls_certificates = "/pki";
  _cleanup_strv_ char **b = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (has_arg (b, "--tls=require") && has_arg (b, "--tls-certificates=/pki"),
         "nbdkit: --tls=require --tls-certificates");
  opts.tls = SERVER_TLS_OFF;
  _cleanup_strv_ char **c = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (!has_arg (c, "--tls=off") && !has_arg (c, "--tls-certificates=/pki"),
         "nbdkit: no TLS option when off");

  opts = (struct server_options) { .kind = SERVER_QEMU_NBD, .tls = SERVER_TLS_ON,
                                   .tls_certificates = "/a,b" };
  _cleanup_strv_ char **q = server_argv (&loc, &opts, SERVER_QEMU_NBD, "qemu-nbd");
  check (has_arg (q, "--object")
         && has_arg (q, "tls-creds-x509,id=tls0,dir=/a,,b,endpoint=server,verify-peer=off")
         && has_arg (q, "--tls-creds=tls0"), "qemu-nbd: x509 object, commas doubled");
  check (server_tls_effective (&opts, SERVER_QEMU_NBD) == SERVER_TLS_REQUIRE
         && server_tls_effective (&opts, SERVER_NBDKIT) == SERVER_TLS_ON,
         "qemu-nbd serves on as require");
  opts.tls_certificates = NULL;
  opts.tls_psk = "/k/keys.psk";
  opts.tls_psk_dir = "/run/podman-disk/tls-x";
  _cleanup_strv_ char **r = server_argv (&loc, &opts, SERVER_QEMU_NBD, "qemu-nbd");
  check (has_arg (r, "tls-creds-psk,id=tls0,dir=/run/podman-disk/tls-x,endpoint=server")
         && has_arg (r, "--tls-creds=tls0"), "qemu-nbd: PSK directory");

  opts.also_socket = "/s";
  _cleanup_strv_ char **p = server_argv_proxied (&loc, &opts, exe, "qemu-nbd");
  check (has_arg (p, "--tls=on") && has_arg (p, "--tls-psk=/k/keys.psk")
         && !has_arg (p, "arg=--tls-creds=tls0"), "proxied: nbdkit's TLS only");

  /* A clone in a pod (the hook's persistent:DEST): writable through
   * nbdkit too.
   */
  struct server_options pers = { .kind = SERVER_QEMU_NBD, .persistent = true,
                                 .also_socket = "/s" };
  _cleanup_strv_ char **w = server_argv_proxied (&loc, &pers, exe, "qemu-nbd");
  check (!has_arg (w, "--readonly") && has_arg (w, "arg=--shared=0") == false,
         "proxied clone: not --readonly");

  opts = (struct server_options) { .kind = SERVER_QEMU_NBD, .tls = SERVER_TLS_ON,
                                   .tls_certificates = "/pki", .tls_verify_peer = true };
  _cleanup_strv_ char **v = server_argv (&loc, &opts, SERVER_QEMU_NBD, "qemu-nbd");
  check (has_arg (v, "tls-creds-x509,id=tls0,dir=/pki,endpoint=server,verify-peer=on"),
         "qemu-nbd: verify-peer=on");
  opts.kind = SERVER_NBDKIT;
  _cleanup_strv_ char **vn = server_argv (&loc, &opts, SERVER_NBDKIT, exe);
  check (has_arg (vn, "--tls-verify-peer"), "nbdkit: --tls-verify-peer");

  enum server_tls t;
  check (server_parse_tls ("require", &t) == 0 && t == SERVER_TLS_REQUIRE
         && server_parse_tls ("yes", &t) == -1
         && strcmp (server_tls_name (SERVER_TLS_ON), "on") == 0, "tls names");
}

/* An "nbdkit" that never answers --version: given up on, and killed. */
static void
check_hanging_version (void)
{
  char *path, *pidfile;
  if (asprintf (&path, "%s/nbdkit-hangs", tmp) == -1
      || asprintf (&pidfile, "%s/hangs.pid", tmp) == -1)
    abort ();
  FILE *f = fopen (path, "w");
  if (!f)
    abort ();
  fprintf (f, "#!/bin/sh\necho $$ > '%s'\nexec sleep 60\n", pidfile);
  fclose (f);
  chmod (path, 0755);

  time_t t0 = time (NULL);
  check (!server_nbdkit_takes_fd (path), "a silent nbdkit --version: no fd=");
  check (time (NULL) - t0 <= 5, "given up on within the bound (%ld s)",
         (long) (time (NULL) - t0));
  int pid = 0;
  f = fopen (pidfile, "r");
  check (f && fscanf (f, "%d", &pid) == 1 && pid > 0, "the fake ran");
  if (f)
    fclose (f);
  check (pid > 0 && kill (pid, 0) == -1, "and is gone (pid %d)", pid);
  free (path);
  free (pidfile);
}

int
main (void)
{
  unit_tmpdir (tmp);
  check_version ("nbdkit 1.32.5", false);
  check_version ("nbdkit 1.33.11", false);
  check_version ("nbdkit 1.34.0", true);
  check_version ("nbdkit 1.42.6 (nbdkit-1.42.6-1.fc42)", true);
  check_version ("nbdkit 2.0.0", true);
  check_version ("not nbdkit at all", false);
  check_version ("", false);
  check_hanging_version ();
  check_own_plugin ();
  check_tls ();
  return unit_summary ();
}
