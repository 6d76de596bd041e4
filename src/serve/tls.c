/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: TLS exports' PSK username and qemu-nbd's PSK directory,
 * see serve/tls.h.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "serve/socket.h"
#include "serve/tls.h"

char *
tls_psk_username (const char *file)
{
  _cleanup_fclose_ FILE *f = fopen (file, "re");
  char line[512];

  if (!f) {
    error_errno (errno, "cannot read the PSK file %s", file);
    return NULL;
  }
  while (fgets (line, sizeof line, f)) {
    size_t n = strcspn (line, ":");
    if (line[n] != ':' || n == 0)
      continue;
    char *user = strndup (line, n);
    if (!user)
      error_errno (errno, "strndup");
    explicit_bzero (line, sizeof line);
    return user;
  }
  explicit_bzero (line, sizeof line);
  error ("%s: no key in the PSK file (lines USERNAME:HEXKEY, as psktool "
         "-u USERNAME -p FILE writes)", file);
  return NULL;
}

/* The names a directory made here may hold: each a symbolic link. */
static const char *const link_names[] = {
  "keys.psk", "ca-cert.pem", "client-cert.pem", "client-key.pem",
};

/* A directory is named tls-PID-START-XXXXXX after the process that made
 * it and removes it when its server stops (the server, qemu-nbd, dies with
 * it: PR_SET_PDEATHSIG).  If that process was killed by SIGKILL, the
 * directory outlives it: the next one made in RUN removes it.
 */
static void
tls_dir_sweep (const char *run)
{
  _cleanup_closedir_ DIR *d = opendir (run);
  struct dirent *de;

  while (d && (de = readdir (d)) != NULL) {
    int pid, n = 0;
    uint64_t start;
    if (sscanf (de->d_name, "tls-%d-%" SCNu64 "-%*6[A-Za-z0-9]%n",
                &pid, &start, &n) != 2
        || n == 0 || de->d_name[n] != '\0' || process_alive (pid, start, NULL))
      continue;
    _cleanup_free_ char *dir = NULL;
    if (asprintf (&dir, "%s/%s", run, de->d_name) == -1)
      abort ();
    tls_dir_remove (dir);
  }
}

/* A new private directory holding N symbolic links, NAMES[i] to
 * TARGETS[i] (of link_names), or NULL with error () set.
 *
 * Why links and not copies of the keys: the server reads its files at
 * each TLS handshake (gnutls' PSK file credentials), for as long as it
 * serves, so a copy would stay on disk that long, and after a SIGKILL of
 * its supervisor for good; a link gives away no key, only a path, and a
 * key changed in the file is seen at once, as with nbdkit --tls-psk.  The
 * directory is private (0700, in our own 0700 run directory), so nobody
 * else can put other keys there.
 */
static char *
tls_dir_make (const char *const *names, const char *const *targets, size_t n)
{
  _cleanup_free_ char *run = server_run_dir ();
  char *dir;

  if (!run)
    return NULL;
  tls_dir_sweep (run);
  pid_t self = getpid ();
  if (asprintf (&dir, "%s/tls-%d-%" PRIu64 "-XXXXXX", run, (int) self,
                process_start_time (self)) == -1)
    abort ();
  if (mkdtemp (dir) == NULL) {
    error_errno (errno, "cannot create a directory in %s", run);
    free (dir);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    _cleanup_free_ char *link = NULL;
    if (asprintf (&link, "%s/%s", dir, names[i]) == -1)
      abort ();
    if (symlink (targets[i], link) == -1) {
      error_errno (errno, "cannot create %s", link);
      tls_dir_remove (dir);
      free (dir);
      return NULL;
    }
  }
  return dir;
}

char *
tls_psk_dir_make (const char *psk)
{
  return tls_dir_make ((const char *[]) { "keys.psk" },
                       (const char *[]) { psk }, 1);
}

char *
tls_probe_dir_make (const char *certificates)
{
  _cleanup_free_ char *ca = NULL, *cert = NULL, *key = NULL;

  if (asprintf (&ca, "%s/ca-cert.pem", certificates) == -1
      || asprintf (&cert, "%s/server-cert.pem", certificates) == -1
      || asprintf (&key, "%s/server-key.pem", certificates) == -1)
    abort ();
  return tls_dir_make ((const char *[]) { "ca-cert.pem", "client-cert.pem",
                                          "client-key.pem" },
                       (const char *[]) { ca, cert, key }, 3);
}

void
tls_dir_remove (const char *dir)
{
  if (!dir)
    return;
  for (size_t i = 0; i < sizeof link_names / sizeof link_names[0]; i++) {
    _cleanup_free_ char *link = NULL;
    if (asprintf (&link, "%s/%s", dir, link_names[i]) == -1)
      abort ();
    unlink (link);
  }
  rmdir (dir);
}
