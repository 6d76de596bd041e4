/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of server_argv_qsd (src/serve/qsd.c): one qemu-storage-daemon
 * for several disks, each a --blockdev chain over its inherited fd
 * (/dev/fd/5, /dev/fd/6...), format named, read-only, with its node name;
 * one --nbd-server on the inherited socket (fd 3); one read-only --export
 * each under its name, given as JSON so that no name needs qemu's
 * escaping; with TLS, qemu-nbd's credentials object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "location.h"
#include "serve/qsd.h"

#include "unit.h"

/* The value after the Nth OPTION in ARGV, parsed as JSON (or NULL). */
static json_object *
option_json (char **argv, const char *option, int nth)
{
  for (char **a = argv; a && *a && a[1]; a++)
    if (strcmp (*a, option) == 0 && nth-- == 0)
      return json_tokener_parse (a[1]);
  return NULL;
}

static const char *
str_at (json_object *o, const char *path)
{
  _cleanup_free_ char *copy = strdup (path);
  char *save = NULL;
  for (char *k = strtok_r (copy, ".", &save); k && o; k = strtok_r (NULL, ".", &save))
    if (!json_object_object_get_ex (o, k, &o))
      return NULL;
  return o ? json_object_get_string (o) : NULL;
}

static bool
str_is (json_object *o, const char *path, const char *want)
{
  const char *s = str_at (o, path);
  return s && strcmp (s, want) == 0;
}

int
main (void)
{
  struct disk_location raw, qcow2;
  disk_location_init (&raw);
  disk_location_init (&qcow2);
  raw.file = strdup ("/store/a/disk.img");
  raw.offset = 512;
  raw.size = 1 << 20;
  raw.fmt.format = DISK_RAW;
  raw.fmt.virtual_size = raw.size;
  qcow2.file = strdup ("/store/c/disk.qcow2");
  qcow2.offset = 1024;
  qcow2.size = 196608;
  qcow2.fmt.format = DISK_QCOW2;
  qcow2.fmt.virtual_size = 16 << 20;
  /* A name with what qemu's KEY=VALUE syntax would split on. */
  struct server_export exports[] = {
    { &raw, "localhost/a,b=c:1" },
    { &qcow2, "quay.io/x/y:41" },
  };
  struct server_options opts = { .decode = true, .exports = exports,
                                  .n_exports = 2 };

  _cleanup_strv_ char **argv = server_argv_qsd (&opts, "/usr/bin/qemu-storage-daemon");
  check (argv && strcmp (argv[0], "/usr/bin/qemu-storage-daemon") == 0, "argv[0]");
  json_object *b0 = option_json (argv, "--blockdev", 0);
  json_object *b1 = option_json (argv, "--blockdev", 1);
  check (b0 && str_is (b0, "node-name", "disk0") && str_is (b0, "driver", "raw")
         && str_is (b0, "file.filename", "/dev/fd/5")
         && str_is (b0, "file.driver", "file") && str_is (b0, "offset", "512")
         && str_is (b0, "read-only", "true") && str_is (b0, "file.read-only", "true"),
         "the raw disk: a raw window over /dev/fd/5, read-only");
  check (b1 && str_is (b1, "node-name", "disk1") && str_is (b1, "driver", "qcow2")
         && str_is (b1, "file.driver", "raw")
         && str_is (b1, "file.file.filename", "/dev/fd/6")
         && str_is (b1, "read-only", "true"),
         "the qcow2 disk: decoded, over a raw window over /dev/fd/6");
  check (option_json (argv, "--blockdev", 2) == NULL, "two block nodes only");
  json_object *srv = option_json (argv, "--nbd-server", 0);
  check (srv && str_is (srv, "addr.type", "fd") && str_is (srv, "addr.str", "3")
         && str_at (srv, "tls-creds") == NULL,
         "the NBD server on the inherited socket, fd 3, no TLS");
  json_object *e0 = option_json (argv, "--export", 0);
  json_object *e1 = option_json (argv, "--export", 1);
  check (e0 && str_is (e0, "type", "nbd") && str_is (e0, "node-name", "disk0")
         && str_is (e0, "name", "localhost/a,b=c:1")
         && str_is (e0, "writable", "false"), "export 0: its name, read-only");
  check (e1 && str_is (e1, "node-name", "disk1")
         && str_is (e1, "name", "quay.io/x/y:41")
         && str_is (e1, "writable", "false"), "export 1: its name, read-only");
  check (qsd_export_size (&opts, 0) == 1 << 20 && qsd_export_size (&opts, 1) == 16 << 20,
         "sizes: the raw disk's, the qcow2 guest's");
  json_object_put (b0);
  json_object_put (b1);
  json_object_put (srv);
  json_object_put (e0);
  json_object_put (e1);

  /* --no-decode: the qcow2 disk's bytes, a raw window. */
  opts.decode = false;
  _cleanup_strv_ char **stored = server_argv_qsd (&opts, "qemu-storage-daemon");
  b1 = option_json (stored, "--blockdev", 1);
  check (b1 && str_is (b1, "driver", "raw") && str_is (b1, "file.filename", "/dev/fd/6")
         && str_is (b1, "size", "196608"), "--no-decode: the stored bytes");
  check (qsd_export_size (&opts, 1) == 196608, "--no-decode: the stored size");
  json_object_put (b1);

  /* --writable: each export a qcow2 overlay in the file after the disks,
   * its backing the disk's node by name, written to; the disks as they
   * were, read-only.
   */
  opts.decode = true;
  opts.writable = true;
  _cleanup_strv_ char **w = server_argv_qsd (&opts, "qemu-storage-daemon");
  json_object *w0 = option_json (w, "--blockdev", 0), *o0 = option_json (w, "--blockdev", 1);
  json_object *w1 = option_json (w, "--blockdev", 2), *o1 = option_json (w, "--blockdev", 3);
  check (w0 && str_is (w0, "node-name", "disk0") && str_is (w0, "read-only", "true")
         && w1 && str_is (w1, "node-name", "disk1") && str_is (w1, "read-only", "true"),
         "--writable: the disks read-only");
  check (o0 && str_is (o0, "node-name", "overlay0") && str_is (o0, "driver", "qcow2")
         && str_is (o0, "file.filename", "/dev/fd/7") && str_is (o0, "backing", "disk0")
         && o1 && str_is (o1, "file.filename", "/dev/fd/8") && str_is (o1, "backing", "disk1")
         && QSD_OVERLAY_FD (2, 1) == 8,
         "--writable: an overlay each, from fd 7 on, over its disk");
  e0 = option_json (w, "--export", 0);
  e1 = option_json (w, "--export", 1);
  check (e0 && str_is (e0, "node-name", "overlay0") && str_is (e0, "writable", "true")
         && e1 && str_is (e1, "node-name", "overlay1") && str_is (e1, "writable", "true"),
         "--writable: the exports are the overlays, writable");
  json_object *objs[] = { w0, o0, w1, o1, e0, e1 };
  for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
    json_object_put (objs[i]);
  opts.writable = false;

  /* TLS with a PSK directory: qemu-nbd's object, required by the server. */
  opts.tls = SERVER_TLS_ON;
  opts.tls_psk = "/keys/keys.psk";
  opts.tls_psk_dir = "/run/podman-disk/tls-x,y";
  _cleanup_strv_ char **tls = server_argv_qsd (&opts, "qemu-storage-daemon");
  bool object = false;
  for (char **a = tls; a && *a && a[1]; a++)
    if (strcmp (*a, "--object") == 0
        && strcmp (a[1], "tls-creds-psk,id=tls0,dir=/run/podman-disk/tls-x,,y,"
                   "endpoint=server") == 0)
      object = true;
  check (object, "TLS: the PSK credentials object, its commas doubled");
  srv = option_json (tls, "--nbd-server", 0);
  check (srv && str_is (srv, "tls-creds", "tls0"), "TLS: the NBD server uses it");
  json_object_put (srv);

  disk_location_clear (&raw);
  disk_location_clear (&qcow2);
  return unit_summary ();
}
