/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the hold of a clone the OCI hook made, see clonehold.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/wait.h>

#include "clone/clone.h"
#include "clone/hold.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "hook/clonehold.h"

/* PATH without its last N components ("/a/b/c", 2: "/a"), or NULL. */
static char *
strip_components (const char *path, int n)
{
  _cleanup_free_ char *p = strdup (path);
  char *slash;

  if (!p)
    return NULL;
  while (n-- > 0) {
    if ((slash = strrchr (p, '/')) == NULL || slash == p)
      return NULL;
    *slash = '\0';
  }
  return steal_pointer (&p);
}

/* Whether PATH ends in /DRIVER-containers/ID/userdata/TAIL (TAIL "" for
 * none), DRIVER then copied into DRIVER (64 bytes).
 */
static bool
podman_layout (const char *path, const char *id, const char *tail, char driver[64])
{
  _cleanup_free_ char *suffix = NULL;
  const char *p;

  if (asprintf (&suffix, "-containers/%s/userdata%s%s", id, *tail ? "/" : "", tail) == -1)
    return false;
  size_t len = strlen (path), slen = strlen (suffix);
  if (len <= slen || strcmp (path + len - slen, suffix) != 0)
    return false;
  /* DRIVER: the component before the suffix. */
  for (p = path + len - slen; p > path && p[-1] != '/'; p--)
    ;
  size_t dlen = path + len - slen - p;
  if (dlen == 0 || dlen >= 64)
    return false;
  memcpy (driver, p, dlen);
  driver[dlen] = '\0';
  return true;
}

int
clonehold_store (const char *bundle, const char *containerenv, const char *id,
                 struct store_options *store)
{
  char driver[64], driver2[64];

  *store = (struct store_options) { NULL };
  if (!podman_layout (bundle, id, "", driver))
    return error ("the bundle %s is not podman's (GRAPHROOT/DRIVER-containers/ID/userdata)",
                  bundle);
  if (!containerenv || !podman_layout (containerenv, id, ".containerenv", driver2)
      || strcmp (driver, driver2) != 0)
    return error ("no podman run root: /run/.containerenv is not mounted from "
                  "RUNROOT/%s-containers/ID/userdata", driver);
  char *root = strip_components (bundle, 3);
  char *runroot = strip_components (containerenv, 4);
  char *drv = strdup (driver);
  if (!root || !runroot || !drv) {
    free (root);
    free (runroot);
    free (drv);
    return error ("the store of container %.12s: its paths are not podman's", id);
  }
  store->root = root;
  store->runroot = runroot;
  store->driver = drv;
  return 0;
}

void
clonehold_store_clear (struct store_options *store)
{
  free ((char *) store->root);
  free ((char *) store->runroot);
  free ((char *) store->driver);
  *store = (struct store_options) { NULL };
}

/* In the detached process: the hold, or a line on syslog. */
static int
hold (const struct store_options *store, const char *image_id, const char *dest)
{
  struct clone_info info;
  struct disk_location loc;
  int r;

  disk_location_init (&loc);
  loc.image_id = (char *) image_id;
  /* The clone as it is now: its base and the identity recorded. */
  r = clone_check (dest, NULL, &info);
  if (r == 0)
    r = clone_hold_create (store, &loc, info.dest, info.base, info.base_id);
  clone_info_clear (&info);
  return r;
}

void
clonehold_start (const struct store_options *store, const char *image_id,
                 const char *dest)
{
  pid_t pid = process_fork ();

  if (pid == -1) {
    syslog (LOG_WARNING, "%s: no hold on image %.12s (fork: %m): podman rmi "
            "could remove it once the container is gone", dest, image_id);
    return;
  }
  if (pid == 0) {
    /* Nobody's child, no descriptor of the runtime's: the hook's caller
     * reads its output until every copy of it is closed.
     */
    setsid ();
    if (process_fork () != 0)
      _exit (0);
    int nul = open ("/dev/null", O_RDWR);
    if (nul == -1 || dup2 (nul, 0) == -1 || dup2 (nul, 1) == -1 || dup2 (nul, 2) == -1)
      _exit (1);
    close_range (3, ~0U, 0);
    if (hold (store, image_id, dest) == -1) {
      syslog (LOG_WARNING, "%s: no hold on image %.12s: %s: podman rmi could "
              "remove it once the container is gone (podman-disk release, then "
              "a new clone, holds it again)", dest, image_id, error_message ());
      _exit (1);
    }
    _exit (0);
  }
  int status;
  process_wait (pid, &status, NULL);
}
