/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: pin an open file under a fixed name, see pin.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "serve/pin.h"

/* The type of a bind mount or a propagation change, which the kernel
 * ignores: a string all the same, as memory checkers read it.
 */
#define IGNORED_TYPE ""

/* Write TEXT into the /proc file FILE (a user namespace's maps). */
static int
write_proc (const char *file, const char *text)
{
  int fd = open (file, O_WRONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? write (fd, text, strlen (text)) : -1;

  if (fd >= 0)
    close (fd);
  return n == (ssize_t) strlen (text) ? 0 : -1;
}

/* A mount namespace of our own: root (of the host or of podman's rootless
 * user namespace) has one at once; anyone else gets it inside a user
 * namespace of their own where their ids stay what they are.
 */
static int
own_mount_namespace (void)
{
  char uid_map[32], gid_map[32];

  snprintf (uid_map, sizeof uid_map, "%u %u 1\n", (unsigned) geteuid (),
            (unsigned) geteuid ());
  snprintf (gid_map, sizeof gid_map, "%u %u 1\n", (unsigned) getegid (),
            (unsigned) getegid ());
  if (unshare (CLONE_NEWNS) == 0)
    return 0;
  if (errno != EPERM || unshare (CLONE_NEWUSER | CLONE_NEWNS) == -1)
    return -1;
  if ((write_proc ("/proc/self/setgroups", "deny") == -1 && errno != ENOENT)
      || write_proc ("/proc/self/uid_map", uid_map) == -1
      || write_proc ("/proc/self/gid_map", gid_map) == -1)
    return -1;
  return 0;
}

/* STEP failed: say so on stderr, where the caller shows a server's words. */
static int
pin_failed (const char *step)
{
  dprintf (2, "cannot give the disk a name of its own for nbdkit before "
           "1.34 (%s: %s): use --server qemu-nbd, or nbdkit 1.34 or later\n",
           step, strerror (errno));
  return -1;
}

/* A detached mount of FD's very file, cloned in the namespace its mount
 * is in (Linux 5.2, root there): no path is looked up, and a file removed
 * meanwhile is still that file.  -1 where it cannot be done.
 */
static int
clone_file_mount (int fd)
{
#ifdef OPEN_TREE_CLONE
  return open_tree (fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* Put the file of TREE (clone_file_mount), or else the file at PATH, on
 * PIN_PATH.
 */
static int
attach (int tree, const char *path)
{
#ifdef OPEN_TREE_CLONE
  if (tree >= 0)
    return move_mount (tree, "", AT_FDCWD, PIN_PATH, MOVE_MOUNT_F_EMPTY_PATH);
#endif
  return mount (path, PIN_PATH, IGNORED_TYPE, MS_BIND, NULL);
}

int
pin_fd (int fd)
{
  const unsigned long ro = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  char link[32], path[PATH_MAX] = "";
  struct stat want, got;
  int f, tree;

  if (fstat (fd, &want) == -1)
    return pin_failed ("fstat");
  /* Without a clone of the file's mount (an unprivileged user), the new
   * namespace can only bind a path, looked up again there: what it leads
   * to must be the descriptor's file.
   */
  if ((tree = clone_file_mount (fd)) == -1) {
    ssize_t n;
    if (want.st_nlink == 0) {
      errno = ENOENT;
      return pin_failed ("the disk file was removed since it was located");
    }
    snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
    if ((n = readlink (link, path, sizeof path - 1)) == -1)
      return pin_failed ("readlink");
    path[n] = '\0';
  }
  if (own_mount_namespace () == -1)
    return pin_failed ("unshare");
  /* Nothing mounted from here on may reach the host's namespace. */
  if (mount ("none", "/", IGNORED_TYPE, MS_REC | MS_PRIVATE, NULL) == -1)
    return pin_failed ("private mounts");
  if (mount ("tmpfs", PIN_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
             "mode=0755,size=64k") == -1)
    return pin_failed ("tmpfs on " PIN_DIR);
  if ((f = open (PIN_PATH, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400)) == -1)
    return pin_failed ("create " PIN_PATH);
  close (f);
  if (attach (tree, path) == -1) {
    /* A removed file cannot be mounted: say that, not what failed. */
    if (fstat (fd, &got) == 0 && got.st_nlink == 0)
      return pin_failed ("the disk file was removed since it was located");
    return pin_failed (tree >= 0 ? "move_mount" : "bind mount");
  }
  if (tree >= 0)
    close (tree);
  if (stat (PIN_PATH, &got) == -1)
    return pin_failed ("stat " PIN_PATH);
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
    errno = ESTALE;
    return pin_failed ("the disk's path leads to another file now");
  }
  if (mount ("none", PIN_PATH, IGNORED_TYPE, MS_REMOUNT | MS_BIND | ro, NULL) == -1)
    return pin_failed ("read-only remount");
  return 0;
}
