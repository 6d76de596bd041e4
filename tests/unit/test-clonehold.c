/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of clonehold_store (src/hook/clonehold.c): the store of a
 * container the hook made a clone for, read from podman's layout of its
 * bundle (GRAPHROOT/DRIVER-containers/ID/userdata) and of the source of
 * its /run/.containerenv (RUNROOT/DRIVER-containers/ID/userdata/
 * .containerenv); anything else is refused, never guessed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/clonehold.h"

#include "unit.h"

#define ID "0123456789abcdef"

static void
good (const char *bundle, const char *env, const char *root,
      const char *runroot, const char *driver)
{
  struct store_options s;
  int r = clonehold_store (bundle, env, ID, &s);

  check (r == 0 && strcmp (s.root, root) == 0 && strcmp (s.runroot, runroot) == 0
         && strcmp (s.driver, driver) == 0, "%s: --root %s --runroot %s --storage-driver %s",
         bundle, root, runroot, driver);
  if (r == 0)
    clonehold_store_clear (&s);
  error_clear ();
}

static void
bad (const char *bundle, const char *env, const char *why)
{
  struct store_options s;
  int r = clonehold_store (bundle, env, ID, &s);

  check (r == -1 && s.root == NULL && s.runroot == NULL && s.driver == NULL
         && strstr (error_message (), why), "refused (%s): %s", why, error_message ());
  if (r == 0)
    clonehold_store_clear (&s);
  error_clear ();
}

int
main (void)
{
  good ("/var/lib/containers/storage/overlay-containers/" ID "/userdata",
        "/run/containers/storage/overlay-containers/" ID "/userdata/.containerenv",
        "/var/lib/containers/storage", "/run/containers/storage", "overlay");
  good ("/home/u/.local/share/containers/storage/vfs-containers/" ID "/userdata",
        "/run/user/1000/containers/vfs-containers/" ID "/userdata/.containerenv",
        "/home/u/.local/share/containers/storage", "/run/user/1000/containers", "vfs");
  bad ("/var/lib/containers/storage/overlay-containers/other/userdata",
       "/run/containers/storage/overlay-containers/" ID "/userdata/.containerenv",
       "is not podman's");
  bad ("/run/runc/" ID, "/run/containers/storage/overlay-containers/" ID "/userdata/.containerenv",
       "is not podman's");
  bad ("/var/lib/containers/storage/overlay-containers/" ID "/userdata", NULL,
       "no podman run root");
  bad ("/var/lib/containers/storage/overlay-containers/" ID "/userdata",
       "/run/containers/storage/vfs-containers/" ID "/userdata/.containerenv",
       "no podman run root");
  bad ("/var/lib/containers/storage/overlay-containers/" ID "/userdata",
       "/run/containers/storage/overlay-containers/" ID "/userdata/hosts",
       "no podman run root");
  /* A driver name must be there, and the paths must have a root above. */
  bad ("/-containers/" ID "/userdata",
       "/run/containers/storage/overlay-containers/" ID "/userdata/.containerenv",
       "is not podman's");
  bad ("/overlay-containers/" ID "/userdata",
       "/overlay-containers/" ID "/userdata/.containerenv", "not podman's");
  return unit_summary ();
}
