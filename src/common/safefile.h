/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: create and replace files without writing through a path
 * someone else controls.
 *
 * podman-disk runs as root next to other users.  A path it is given (cp's
 * DEST, a pidfile, ~/.cache) may cross a directory or end in a name that
 * another user can write: that user can plant a symlink there, dangling or
 * not, and an open (O_CREAT | O_TRUNC) that follows it makes root create or
 * overwrite a file of the attacker's choosing.  The rules here, for every
 * file podman-disk creates:
 *
 *  - A path is walked one component at a time (openat with O_NOFOLLOW from
 *    the directory opened before), so what is checked is what is used.
 *  - A symlink is followed only if it is trusted: owned by the user
 *    podman-disk runs as (euid) or by root.  A symlink another user made is
 *    never followed, wherever it is (the kernel's protected_symlinks does
 *    that in sticky directories only, and not for intermediate components).
 *  - A dangling symlink is never written through (GNU cp's rule).
 *  - A new file is made invisible (O_TMPFILE, else an O_EXCL | O_NOFOLLOW
 *    temporary name in the same directory) and linked or renamed into place
 *    only when complete: a failed write leaves no partial file, a replaced
 *    file is whole old or whole new, and rename replaces a directory entry,
 *    never writes into what it pointed to (a symlink or a hardlink planted
 *    in place of the old file is replaced, not followed).
 *  - A directory whose contents podman-disk believes (a cache, a state
 *    directory) must be owned by euid and writable by nobody else.
 *
 * Errors are one line, set with error () (common/error.h); functions
 * return 0 or a file descriptor, or -1.
 */
#ifndef PODMAN_DISK_SAFEFILE_H
#define PODMAN_DISK_SAFEFILE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Whether a symlink with this lstat may be followed: owned by euid or root. */
bool safe_link_trusted (const struct stat *st);

/* Where a path leads, its symlinks followed by the rules above. */
struct safe_path {
  int dirfd;             /* O_PATH fd of the directory that holds NAME */
  char *name;            /* the last component (a symlink's target's, if
                            the path ended in one) */
  bool exists;           /* NAME is in DIRFD; ST is its lstat (never a
                            symlink: trusted ones are followed) */
  struct stat st;
  bool trailing_slash;   /* the path ended in '/': it must be a directory */
};

/* Walk PATH (absolute, or relative to the working directory).  Every
 * component but the last must be a directory; the last may be missing
 * (EXISTS false).  Fails with a one-line error naming PATH for: a missing
 * directory; a symlink another user owns ("not writing through symlink
 * 'P', owned by uid N: ..."); a dangling symlink as the last component
 * ("not writing through dangling symlink 'PATH': ...", GNU cp's words);
 * more than 40 symlinks.  Clear P with safe_path_clear.
 */
int safe_path_resolve (const char *path, struct safe_path *p);
void safe_path_clear (struct safe_path *p);

/* Whether the directory open as FD is euid's own and only euid may write
 * it: 0, or -1 with an error naming WHAT.
 */
int safe_check_own_dir (int fd, const char *what);

/* Open directory NAME in DIRFD (never through a symlink), first making it
 * (mode 0700) when it is missing and CREATE is set and DIRFD is euid's own
 * or sticky (nothing is made in another user's directory), and accept it
 * only if safe_check_own_dir does: an O_RDONLY | O_DIRECTORY fd, or -1.
 */
int safe_open_own_dir (int dirfd, const char *name, bool create);

/* A new regular file in a directory, invisible until safe_file_commit. */
struct safe_file {
  int dirfd;             /* borrowed: where it is made and committed */
  int fd;                /* O_RDWR, the new file's */
  char tmpname[40];      /* its temporary name, "" when O_TMPFILE */
  bool committed;
};

/* Make the new file in DIRFD with MODE (less the umask). */
int safe_file_open (struct safe_file *f, int dirfd, mode_t mode);

/* Give the complete file its NAME in the directory: if REPLACE, whatever
 * NAME is (a file, a symlink: the entry, never its target) is replaced
 * atomically; else NAME must not exist (-1 with errno EEXIST if it
 * appeared meanwhile).  The fd is closed either way (a late write error
 * that close reports fails the commit); safe_file_discard is still safe.
 */
int safe_file_commit (struct safe_file *f, const char *name, bool replace);

/* Close the file; if it was not committed, nothing of it is left. */
void safe_file_discard (struct safe_file *f);

/* Write LEN bytes of BUF to NAME in DIRFD (mode MODE), replacing it
 * atomically: a reader sees the old file or the new one, whole.
 */
int safe_write_file (int dirfd, const char *name, const void *buf, size_t len,
                     mode_t mode);

#endif
