/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of src/common/safefile.c: paths are walked without following
 * a symlink another user owns, dangling symlinks are refused with GNU cp's
 * words, directories of one's own are checked, and new files appear whole
 * or not at all, never written through what stood at their name.
 *
 * The "other user" is a uid given to symlinks with lchown, so the owner
 * checks run only as root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/safefile.h"

#include "unit.h"

#define OTHER_UID 54321

static char tmpdir[] = "/var/tmp/test-safefile.XXXXXX";
static char buf[8192];

/* NAME under the test's directory (four at a time). */
static const char *
P (const char *name)
{
  static char paths[4][4096];
  static int i;
  char *p = paths[i++ % 4];
  snprintf (p, sizeof paths[0], "%s/%s", tmpdir, name);
  return p;
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (!f || fputs (text, f) < 0 || fclose (f) != 0)
    unit_die (path);
}

static const char *
read_text (const char *path)
{
  FILE *f = fopen (path, "r");
  size_t n = 0;
  buf[0] = '\0';
  if (f) {
    n = fread (buf, 1, sizeof buf - 1, f);
    fclose (f);
  }
  buf[n] = '\0';
  return buf;
}

static void
symlink_as (const char *target, const char *link, uid_t uid)
{
  if (symlink (target, link) == -1 || lchown (link, uid, uid) == -1)
    unit_die (link);
}

/* Resolve PATH: 0 and P filled, or -1 with the error checked for WANT. */
static int
resolve (const char *path, struct safe_path *p, const char *want)
{
  error_clear ();
  int r = safe_path_resolve (path, p);
  if (want)
    CHECK (r == -1 && strstr (error_message (), want),
           "%s: wanted an error with '%s', got %d", path, want, r);
  else
    CHECK (r == 0, "%s resolves", path);
  return r;
}

static void
test_resolve (void)
{
  struct safe_path p;
  struct stat st;

  unit_mkdirs (P ("dir/sub"));
  write_text (P ("dir/file"), "old");

  /* A name to create; a file; a directory; the root. */
  if (resolve (P ("dir/new"), &p, NULL) == 0) {
    CHECK (!p.exists && strcmp (p.name, "new") == 0);
    CHECK (fstat (p.dirfd, &st) == 0 && S_ISDIR (st.st_mode));
    safe_path_clear (&p);
  }
  if (resolve (P ("dir//file"), &p, NULL) == 0) {
    CHECK (p.exists && S_ISREG (p.st.st_mode) && !p.trailing_slash);
    safe_path_clear (&p);
  }
  if (resolve (P ("dir/sub/"), &p, NULL) == 0) {
    CHECK (p.exists && S_ISDIR (p.st.st_mode) && p.trailing_slash);
    safe_path_clear (&p);
  }
  if (resolve ("/", &p, NULL) == 0) {
    CHECK (p.exists && S_ISDIR (p.st.st_mode));
    safe_path_clear (&p);
  }

  /* The user's own symlinks are followed: the name is the target's. */
  symlink_as ("dir/file", P ("mylink"), geteuid ());
  symlink_as ("dir", P ("mydir"), geteuid ());
  if (resolve (P ("mylink"), &p, NULL) == 0) {
    CHECK (p.exists && S_ISREG (p.st.st_mode) && strcmp (p.name, "file") == 0);
    safe_path_clear (&p);
  }
  if (resolve (P ("mydir/sub/x"), &p, NULL) == 0) {
    CHECK (!p.exists && strcmp (p.name, "x") == 0);
    safe_path_clear (&p);
  }

  /* Missing directories, a file as a directory, a loop, a dangling link
   * of one's own.
   */
  resolve (P ("nodir/x"), &p, "directory ");
  resolve (P ("dir/file/x"), &p, "is not a directory");
  symlink_as ("loop", P ("loop"), geteuid ());
  resolve (P ("loop"), &p, "too many levels of symbolic links");
  symlink_as ("nowhere/x", P ("mydangling"), geteuid ());
  error_clear ();
  CHECK (safe_path_resolve (P ("mydangling"), &p) == -1);
  snprintf (buf, sizeof buf, "not writing through dangling symlink '%s': "
            "remove it first, or give another path", P ("mydangling"));
  CHECK (strcmp (error_message (), buf) == 0, "message: %s", error_message ());
  CHECK (p.dirfd == -1 && p.name == NULL, "a failed resolve leaves nothing");
}

static void
test_other_users_links (void)
{
  struct safe_path p;

  if (geteuid () != 0) {
    printf ("skip - not root: other users' symlinks not tested\n");
    return;
  }
  unit_mkdirs (P ("sticky"));
  chmod (P ("sticky"), 01777);
  write_text (P ("victim"), "root's");

  /* Another user's link to a file, to a directory, dangling. */
  symlink_as (P ("victim"), P ("sticky/link"), OTHER_UID);
  resolve (P ("sticky/link"), &p, "not writing through symlink '");
  CHECK (strstr (error_message (), "owned by uid 54321 (neither you nor root)"),
         "message: %s", error_message ());
  symlink_as (P ("dir"), P ("sticky/dirlink"), OTHER_UID);
  resolve (P ("sticky/dirlink/new"), &p, "not writing through symlink '");
  CHECK (strstr (error_message (), "sticky/dirlink'"), "message: %s", error_message ());
  symlink_as (P ("cron.d/x"), P ("sticky/dangling"), OTHER_UID);
  resolve (P ("sticky/dangling"), &p, "not writing through dangling symlink '");
  /* One's own link to another user's link is stopped there too. */
  symlink_as ("link", P ("sticky/mine"), 0);
  resolve (P ("sticky/mine"), &p, "sticky/link', owned by uid 54321");
  CHECK (strcmp (read_text (P ("victim")), "root's") == 0, "victim unchanged");
}

static void
test_own_dir (void)
{
  int fd;

  unit_mkdirs (P ("own"));
  int dirfd = open (P ("own"), O_PATH | O_DIRECTORY);
  if (dirfd == -1)
    unit_die ("open own");

  fd = safe_open_own_dir (dirfd, "made", true);
  CHECK (fd >= 0);
  struct stat st;
  CHECK (stat (P ("own/made"), &st) == 0 && (st.st_mode & 07777) == 0700,
         "made 0700");
  if (fd >= 0)
    close (fd);
  error_clear ();
  CHECK (safe_open_own_dir (dirfd, "missing", false) == -1, "not made unasked");

  mkdir (P ("own/open"), 0755);
  chmod (P ("own/open"), 0777);
  error_clear ();
  CHECK (safe_open_own_dir (dirfd, "open", true) == -1
         && strstr (error_message (), "not a directory of this user's own"));
  symlink_as ("made", P ("own/link"), geteuid ());
  error_clear ();
  CHECK (safe_open_own_dir (dirfd, "link", true) == -1
         && strstr (error_message (), "is a symlink"), "%s", error_message ());

  if (geteuid () == 0) {
    /* Nothing is made in another user's directory; in a sticky one it is. */
    mkdir (P ("theirs"), 0755);
    chown (P ("theirs"), OTHER_UID, OTHER_UID);
    int theirs = open (P ("theirs"), O_PATH | O_DIRECTORY);
    error_clear ();
    CHECK (safe_open_own_dir (theirs, "x", true) == -1);
    CHECK (access (P ("theirs/x"), F_OK) == -1, "nothing made in another's dir");
    mkdir (P ("theirs/owned"), 0700);
    chown (P ("theirs/owned"), OTHER_UID, OTHER_UID);
    CHECK (safe_open_own_dir (theirs, "owned", false) == -1
           && strstr (error_message (), "owner uid 54321"));
    chmod (P ("theirs"), 01777);
    fd = safe_open_own_dir (theirs, "x", true);
    CHECK (fd >= 0, "made in a sticky dir");
    if (fd >= 0)
      close (fd);
    close (theirs);
  }
  close (dirfd);
}

/* The names in directory DIR (a count: a partial file shows as one more). */
static int
entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir (d)))
    n += strcmp (e->d_name, ".") && strcmp (e->d_name, "..");
  if (d)
    closedir (d);
  return n;
}

static void
test_new_files (void)
{
  struct safe_file f;
  struct stat st;

  unit_mkdirs (P ("files"));
  int dirfd = open (P ("files"), O_PATH | O_DIRECTORY);
  if (dirfd == -1)
    unit_die ("open files");

  /* Discarded: nothing left. */
  CHECK (safe_file_open (&f, dirfd, 0644) == 0);
  CHECK (write (f.fd, "partial", 7) == 7);
  safe_file_discard (&f);
  CHECK (entries (P ("files")) == 0, "a discarded file leaves nothing");

  /* Committed as new; a second one may not take its name. */
  CHECK (safe_file_open (&f, dirfd, 0600) == 0);
  CHECK (write (f.fd, "one", 3) == 3);
  CHECK (safe_file_commit (&f, "a", false) == 0);
  safe_file_discard (&f);
  CHECK (strcmp (read_text (P ("files/a")), "one") == 0);
  CHECK (stat (P ("files/a"), &st) == 0 && (st.st_mode & 0777) == 0600);
  CHECK (safe_file_open (&f, dirfd, 0644) == 0);
  errno = 0;
  CHECK (safe_file_commit (&f, "a", false) == -1 && errno == EEXIST);
  safe_file_discard (&f);
  CHECK (entries (P ("files")) == 1, "a refused commit leaves nothing");

  /* Replacing a symlink replaces the link, never writes its target. */
  write_text (P ("target"), "keep");
  symlink_as (P ("target"), P ("files/b"), geteuid ());
  CHECK (safe_write_file (dirfd, "b", "new", 3, 0644) == 0);
  CHECK (lstat (P ("files/b"), &st) == 0 && S_ISREG (st.st_mode));
  CHECK (strcmp (read_text (P ("files/b")), "new") == 0);
  CHECK (strcmp (read_text (P ("target")), "keep") == 0, "target unchanged");

  /* A hardlink at the name: replaced, the other name keeps its bytes. */
  CHECK (link (P ("target"), P ("files/c")) == 0);
  CHECK (safe_write_file (dirfd, "c", "new", 3, 0644) == 0);
  CHECK (strcmp (read_text (P ("target")), "keep") == 0, "hardlinked file unchanged");
  CHECK (entries (P ("files")) == 3, "no temporary name left");
  close (dirfd);
}

int
main (void)
{
  unit_tmpdir (tmpdir);
  test_resolve ();
  test_other_users_links ();
  test_own_dir ();
  test_new_files ();
  return unit_summary ();
}
