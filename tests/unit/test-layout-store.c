/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: opening a layout's files (src/layout/files.c) when they are
 * not what they should be: a FIFO where a blob or an archive should be
 * (refused at once, never waited on), symlinks out of the layout (never
 * followed to the host), and all of it again with openat2 denied EPERM
 * by a seccomp filter, as some container runtimes do: then the
 * component-by-component fallback must do the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "layout/layout-internal.h"

#include "unit.h"

static char tmp[] = "/var/tmp/test-layout-store.XXXXXX";

static void
write_file (const char *name, const char *data)
{
  char path[512];
  snprintf (path, sizeof path, "%s/%s", tmp, name);
  FILE *f = fopen (path, "w");
  if (!f || fputs (data, f) == EOF || fclose (f) == EOF)
    unit_die (path);
}

static void
setup (void)
{
  char path[512];

  snprintf (path, sizeof path, "%s/oci/blobs/sha256", tmp);
  unit_mkdirs (path);
  write_file ("oci/blobs/sha256/good", "hello");
  snprintf (path, sizeof path, "%s/oci/blobs/sha256/fifo", tmp);
  if (mkfifo (path, 0644) == -1)
    unit_die (path);
  snprintf (path, sizeof path, "%s/oci/blobs/sha256/host", tmp);
  if (symlink ("/etc/passwd", path) == -1)
    unit_die (path);
  snprintf (path, sizeof path, "%s/oci/blobs/sha256/up", tmp);
  if (symlink ("../../../../../../../../etc/passwd", path) == -1)
    unit_die (path);
  snprintf (path, sizeof path, "%s/archive-fifo", tmp);
  if (mkfifo (path, 0644) == -1)
    unit_die (path);
}

/* Refused with a message holding TEXT (NULL: any). */
static void
expect_refused (struct layout *s, const char *name, const char *text,
                const char *pass)
{
  struct blob b;
  error_clear ();
  int r = store_open_blob (s, name, &b);
  CHECK (r == -1, "%s: %s opened", pass, name);
  if (r == -1 && text)
    CHECK (strstr (error_message (), text), "%s: %s: wrong message", pass, name);
  blob_close (&b);
}

static void
check_layout (const char *pass)
{
  char path[512];
  struct layout s;
  struct blob b;

  snprintf (path, sizeof path, "%s/oci", tmp);
  CHECK (store_open (&s, "oci", path) == 0, "%s: store_open", pass);
  CHECK (store_open_blob (&s, "blobs/sha256/good", &b) == 0, "%s: good", pass);
  CHECK (b.size == 5 && memcmp (b.data, "hello", 5) == 0, "%s: good bytes", pass);
  CHECK (b.fd >= 0 && !(fcntl (b.fd, F_GETFL) & O_NONBLOCK),
         "%s: the fd handed on is blocking", pass);
  blob_close (&b);
  expect_refused (&s, "blobs/sha256/fifo", "not a regular file", pass);
  /* Inside the layout /etc/passwd does not exist; the fallback refuses
   * the symlink itself.
   */
  expect_refused (&s, "blobs/sha256/host", NULL, pass);
  expect_refused (&s, "blobs/sha256/up", NULL, pass);
  store_close (&s);

  snprintf (path, sizeof path, "%s/archive-fifo", tmp);
  error_clear ();
  CHECK (store_open (&s, "oci-archive", path) == -1
         && strstr (error_message (), "not a regular file"),
         "%s: an archive that is a FIFO", pass);
  store_close (&s);
}

/* openat2 fails with EPERM from here on; false if seccomp cannot be
 * used here.
 */
static bool
deny_openat2 (void)
{
  struct sock_filter filter[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {
    .len = sizeof filter / sizeof filter[0], .filter = filter,
  };
  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    && prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

int
main (void)
{
  unit_tmpdir (tmp);
  setup ();
  /* A FIFO that is waited on would hang here: fail instead. */
  alarm (60);
  check_layout ("openat2");
  if (deny_openat2 ()) {
    CHECK (syscall (SYS_openat2, AT_FDCWD, "/", NULL, 0) == -1 && errno == EPERM,
           "the filter denies openat2");
    check_layout ("openat2 denied");
  }
  else
    printf ("seccomp is not available here: the EPERM fallback is not checked\n");
  return unit_summary ();
}
