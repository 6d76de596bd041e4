/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: read locks on containers/storage's lock files.
 *
 * containers/storage guards layers.json and images.json with fcntl locks
 * on layers.lock and images.lock: writers take F_WRLCK, readers F_RDLCK,
 * on the whole file.  A reader opens the lock file O_RDONLY and never
 * creates it: when it does not exist there is nothing to synchronise with
 * (an additional image store on read-only media, or no store at all).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "storage/store.h"

int
store_access_error (int errnum, const char *path)
{
  if (errnum == EACCES || errnum == EPERM)
    return error ("%s: permission denied: the store belongs to another "
                  "user; run podman-disk as that user, or pass --root", path);
  return error_errno (errnum, "%s", path);
}

int
store_lock_read (const char *path, int *fd)
{
  struct flock fl = {
    .l_type = F_RDLCK,
    .l_whence = SEEK_SET,
    .l_start = 0,
    .l_len = 0,          /* the whole file */
  };

  *fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (*fd == -1) {
    if (errno == ENOENT || errno == ENOTDIR)
      return 0;
    return store_access_error (errno, path);
  }
  while (fcntl (*fd, F_SETLKW, &fl) == -1) {
    if (errno == EINTR)
      continue;
    int e = errno;
    close (*fd);
    *fd = -1;
    return error_errno (e, "%s: cannot take a read lock", path);
  }
  return 0;
}
