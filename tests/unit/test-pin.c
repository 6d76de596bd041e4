/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of pin_fd (src/serve/pin.c): in a child, as a server would
 * be, PIN_PATH is the very file of the descriptor, read-only, even after
 * its path was swapped for a symlink to another file; a removed file is
 * refused; nothing of it shows outside the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "serve/pin.h"

#include "unit.h"

static char tmp[] = "/tmp/test-pin.XXXXXX";

static void
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (!f || fputs (text, f) == EOF || fclose (f) == EOF)
    unit_die (path);
}

/* What a child sees at PIN_PATH after pin_fd (FD): 'o' the file of FD,
 * 'x' another file, 'w' it could write it, 'f' pin_fd failed, 'e' no read.
 */
static char
pinned_in_child (int fd, const char *want)
{
  int p[2], status;
  char verdict = 'e';

  if (pipe (p) == -1)
    unit_die ("pipe");
  pid_t pid = fork ();
  if (pid == 0) {
    char buf[64] = "", v = 'e';
    int f;
    close (p[0]);
    if (pin_fd (fd) == -1)
      v = 'f';
    else if (open (PIN_PATH, O_WRONLY) >= 0)
      v = 'w';
    else if ((f = open (PIN_PATH, O_RDONLY)) >= 0
             && read (f, buf, sizeof buf - 1) >= 0)
      v = strcmp (buf, want) == 0 ? 'o' : 'x';
    if (write (p[1], &v, 1) != 1)
      _exit (1);
    _exit (0);
  }
  close (p[1]);
  if (read (p[0], &verdict, 1) != 1)
    verdict = 'e';
  close (p[0]);
  waitpid (pid, &status, 0);
  return verdict;
}

int
main (void)
{
  char disk[64], secret[64], aside[64];
  struct stat st;

  if (geteuid () != 0) {
    printf ("SKIP: needs root (a mount namespace of its own)\n");
    return 77;
  }
  unit_tmpdir (tmp);
  snprintf (disk, sizeof disk, "%s/disk.img", tmp);
  snprintf (secret, sizeof secret, "%s/secret", tmp);
  snprintf (aside, sizeof aside, "%s/aside", tmp);
  write_file (disk, "the disk");
  write_file (secret, "the host's secret");

  int fd = open (disk, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    unit_die (disk);
  CHECK (pinned_in_child (fd, "the disk") == 'o', "the file, as opened");

  /* Its path swapped for a symlink to another file. */
  if (rename (disk, aside) == -1 || symlink (secret, disk) == -1)
    unit_die ("swap");
  CHECK (pinned_in_child (fd, "the disk") == 'o', "the file, after its path was swapped");

  /* Removed: nothing to mount, refused (saying so on stderr). */
  if (unlink (aside) == -1)
    unit_die (aside);
  CHECK (pinned_in_child (fd, "the disk") == 'f', "a removed file is refused");

  /* Nothing of it outside the child. */
  CHECK (stat (PIN_PATH, &st) == -1 && errno == ENOENT, PIN_PATH " seen outside");
  close (fd);
  return unit_summary ();
}
