/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the registry of exports (src/registry/registry.c): records
 * to JSON and back, atomic writes, listing in id order past a corrupt
 * record, removal that leaves foreign files alone, the state directory
 * rules, and process liveness with pid reuse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/error.h"
#include "registry/registry.h"

#include "unit.h"

static char dir[] = "/tmp/test-registry.XXXXXX";

static char *
path (const char *name)
{
  static char buf[256];
  snprintf (buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static bool
exists (const char *name)
{
  struct stat sb;
  return lstat (path (name), &sb) == 0;
}

static void
touch (const char *name)
{
  FILE *f = fopen (path (name), "w");
  if (f)
    fclose (f);
}

static void
make_socket (const char *p)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM, 0);
  snprintf (sun.sun_path, sizeof sun.sun_path, "%s", p);
  if (bind (fd, (struct sockaddr *) &sun, sizeof sun) == -1)
    perror (p);
  close (fd);
}

static struct export_record
sample (const char *id)
{
  struct export_record r = { 0 };
  r.id = strdup (id);
  r.name = strdup ("disk");
  r.image = strdup ("localhost/x:latest");
  r.disk = strdup ("/disk/x.qcow2");
  r.format = strdup ("qcow2");
  r.size = 1ULL << 40;
  r.cow = true;
  r.server = strdup ("qemu-nbd");
  r.uri = strdup ("nbd+unix:///?socket=/run/podman-disk/x.sock");
  r.server_pid = 4242;
  r.server_start = 123456789012ULL;
  r.watcher_pid = 4241;
  r.started = strdup ("2024-01-01T00:00:00Z");
  return r;
}

static int
count_cb (const struct export_record *rec, void *arg)
{
  char *ids = arg;
  strcat (ids, rec->id);
  strcat (ids, " ");
  return 0;
}

static void
test_records (void)
{
  struct export_record a = sample ("aaaa"), b;

  json_object *o = export_record_to_json (&a);
  check (export_record_from_json (o, &b) == 0 && strcmp (b.id, "aaaa") == 0
         && strcmp (b.server, "qemu-nbd") == 0 && b.size == 1ULL << 40 && b.cow
         && b.server_pid == 4242 && b.server_start == 123456789012ULL
         && b.volume_socket == NULL, "record to JSON and back");
  json_object_put (o);
  export_record_clear (&b);

  static const char *const bad[] = {
    "[]", "{}", "{\"container\":\"../x\"}", "{\"container\":\"a\",\"pid\":\"1\"}",
    "{\"container\":\"a\",\"pid\":-1}", "{\"container\":\"a\",\"pid\":4294967296}",
    "{\"container\":\"a\",\"uri\":5}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    o = json_tokener_parse (bad[i]);
    error_clear ();
    check (export_record_from_json (o, &b) == -1 && b.id == NULL, "bad record %s: %s",
           bad[i], error_message ());
    json_object_put (o);
  }

  check (registry_write (dir, &a) == 0 && exists ("aaaa.json") && !exists (".aaaa.json.tmp"),
         "write: no temporary file left");
  check (registry_read (dir, "aaaa", &b) == 0 && strcmp (b.uri, a.uri) == 0,
         "read back");
  export_record_clear (&b);
  check (registry_read (dir, "nope", &b) == 1, "no record: 1");

  struct export_record c = sample ("cccc");
  registry_write (dir, &c);
  FILE *f = fopen (path ("bbbb.json"), "w");
  fputs ("{\"container\": ", f);
  fclose (f);
  /* Someone else's record under our name. */
  struct export_record d = sample ("dddd");
  registry_write (dir, &d);
  char from[256];
  snprintf (from, sizeof from, "%s", path ("dddd.json"));
  rename (from, path ("eeee.json"));
  char ids[256] = "";
  fprintf (stderr, "(two errors expected on stderr)\n");
  check (registry_list (dir, count_cb, ids) == 0 && strcmp (ids, "aaaa cccc ") == 0,
         "list in id order, corrupt and misnamed records skipped: %s", ids);
  check (registry_list (path ("missing"), count_cb, ids) == 0, "list of a missing dir");

  /* Removal: our socket and log go, a foreign regular file does not. */
  make_socket (path ("aaaa.sock"));
  touch ("aaaa.log");
  check (registry_remove (dir, "aaaa", &a) == 0 && !exists ("aaaa.sock")
         && !exists ("aaaa.log") && !exists ("aaaa.json"), "remove: socket, log, record");
  touch ("cccc.sock");
  error_clear ();
  check (registry_remove (dir, "cccc", &c) == -1 && exists ("cccc.sock")
         && strstr (error_message (), "is not the socket podman-disk made"),
         "remove: a regular file named like the socket is left alone");
  unlink (path ("cccc.sock"));
  /* The volume socket: only a socket is removed, and a symlink to it. */
  c.volume_socket = strdup (path ("vol.sock"));
  make_socket (c.volume_socket);
  if (symlink (c.volume_socket, path ("cccc.sock")) == -1)
    perror ("symlink");
  registry_write (dir, &c);
  check (registry_remove (dir, "cccc", &c) == 0 && !exists ("vol.sock")
         && !exists ("cccc.sock"), "remove: the volume socket and the link to it");
  touch ("vol.sock");
  check (registry_remove (dir, "cccc", &c) == -1 && exists ("vol.sock"),
         "remove: a user's file in the volume is left alone");
  unlink (path ("vol.sock"));
  unlink (path ("bbbb.json"));
  unlink (path ("eeee.json"));

  export_record_clear (&a);
  export_record_clear (&c);
  export_record_clear (&d);
}

static void
test_dirs (void)
{
  char *d = NULL;

  check (registry_dir ("/x/y", &d) == 0 && strcmp (d, "/x/y") == 0, "--state-dir wins");
  free (d);
  unsetenv ("_CONTAINERS_ROOTLESS_UID");
  if (geteuid () == 0) {
    check (registry_dir (NULL, &d) == 0 && strcmp (d, "/run/podman-disk") == 0,
           "root: /run/podman-disk");
    free (d);
  }
  /* A rootless hook runs as root of podman's user namespace. */
  setenv ("_CONTAINERS_ROOTLESS_UID", "1000", 1);
  setenv ("XDG_RUNTIME_DIR", "/run/user/1000", 1);
  check (registry_dir (NULL, &d) == 0 && strcmp (d, "/run/user/1000/podman-disk") == 0,
         "rootless: $XDG_RUNTIME_DIR/podman-disk");
  free (d);
  unsetenv ("XDG_RUNTIME_DIR");
  error_clear ();
  check (registry_dir (NULL, &d) == -1 && strstr (error_message (), "XDG_RUNTIME_DIR"),
         "rootless without XDG_RUNTIME_DIR: a clear error");
  unsetenv ("_CONTAINERS_ROOTLESS_UID");

  check (registry_create (path ("a/b/c")) == 0 && exists ("a/b/c"), "create with parents");
  struct stat sb;
  stat (path ("a/b/c"), &sb);
  check ((sb.st_mode & 0777) == 0700, "the registry is private (0700)");
  rmdir (path ("a/b/c"));
  rmdir (path ("a/b"));
  rmdir (path ("a"));
  touch ("file");
  check (registry_create (path ("file")) == -1, "create over a file fails");
  unlink (path ("file"));
}

static void
test_processes (void)
{
  pid_t me = getpid ();
  uint64_t start = process_start_time (me);

  check (start > 0, "my start time: %llu", (unsigned long long) start);
  check (process_alive (me, start, "test-registry"), "I am alive, with my name");
  check (!process_alive (me, start + 1, NULL), "another start time: pid reused");
  check (!process_alive (me, start, "nbdkit"), "not nbdkit");
  pid_t child = fork ();
  if (child == 0)
    _exit (0);
  waitpid (child, NULL, 0);
  check (!process_alive (child, 0, NULL) && process_start_time (child) == 0,
         "a reaped child is gone");
  check (!process_alive (0, 0, NULL) && !process_alive (-1, 0, NULL), "pid 0 and -1");
}

int
main (void)
{
  unit_tmpdir (dir);
  test_records ();
  test_dirs ();
  test_processes ();
  return unit_summary ();
}
