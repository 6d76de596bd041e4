/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: read a whole small file or stream, see readall.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/readall.h"

int
read_all_fd (int fd, size_t max, const char *what, char **bufp, size_t *lenp)
{
  size_t len = 0, cap = 4096;
  _cleanup_free_ char *buf = malloc (cap + 1);

  if (!buf)
    return error_errno (errno, "%s", what);
  for (;;) {
    if (len == cap) {
      if (cap >= max)
        return error ("%s is larger than %zu bytes", what, max);
      cap = cap * 2 > max ? max : cap * 2;
      char *p = realloc (buf, cap + 1);
      if (!p)
        return error_errno (errno, "%s", what);
      buf = p;
    }
    ssize_t r = read (fd, buf + len, cap - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return error_errno (errno, "reading %s", what);
    if (r == 0)
      break;
    len += r;
  }
  buf[len] = '\0';
  *bufp = steal_pointer (&buf);
  *lenp = len;
  return 0;
}

int
read_all_file (const char *path, size_t max, char **buf, size_t *len)
{
  /* O_NONBLOCK, then a regular file only: a FIFO in the place of
   * config.json must neither hang the open nor the read.
   */
  _cleanup_close_ int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY
                                 | O_NONBLOCK);
  struct stat st;
  if (fd == -1 || fstat (fd, &st) == -1)
    return error_errno (errno, "%s", path);
  if (!S_ISREG (st.st_mode))
    return error ("%s: not a regular file", path);
  return read_all_fd (fd, max, path, buf, len);
}
