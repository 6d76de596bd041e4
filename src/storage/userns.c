/* podman-disk: rootless stores and podman's user namespace, see disk.h.
 *
 * In a rootless store, files belong to the users of the rootless user
 * namespace (uid 107 in the image is a subordinate uid on the host).  A
 * disk shipped 0440 is then unreadable to the user outside that namespace,
 * as it is to podman itself, which works inside it.  podman-disk enters it
 * the way the user would, by running itself again under "podman unshare".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/disk.h"

bool storage_needs_userns;

/* The arguments this process was started with (argv[0] included), from
 * /proc/self/cmdline: getopt and main only permute or replace pointers,
 * never the strings.
 */
static char **
own_arguments (void)
{
  static char buf[65536];
  _cleanup_close_ int fd = open ("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  size_t len = 0, n = 0;
  ssize_t r;

  if (fd == -1)
    return NULL;
  while (len < sizeof buf - 1
         && (r = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += r;
  if (len == 0 || len >= sizeof buf - 1)
    return NULL;
  buf[len] = '\0';
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\0';
  char **v = calloc (n + 1, sizeof *v);
  if (!v)
    return NULL;
  n = 0;
  for (char *a = buf; a < buf + len; a += strlen (a) + 1)
    v[n++] = a;
  return v;
}

static bool
is_plain_word (const char *a)
{
  return *a && strspn (a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789-_./:=@+,%[]") == strlen (a);
}

/* ARGS as one shell command line, quoted where needed. */
static char *
shell_quote (char **args)
{
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream (&out, &outlen);
  if (!f)
    return NULL;
  for (char **a = args; *a; a++) {
    if (a != args)
      fputc (' ', f);
    if (is_plain_word (*a)) {
      fputs (*a, f);
      continue;
    }
    fputc ('\'', f);
    for (const char *p = *a; *p; p++)
      if (*p == '\'')
        fputs ("'\\''", f);
      else
        fputc (*p, f);
    fputc ('\'', f);
  }
  fclose (f);
  return out;
}

int
rootless_permission_error (const char *what)
{
  _cleanup_free_ char *old = strdup (what);
  _cleanup_free_ char **args = own_arguments ();
  _cleanup_free_ char *cmd = args ? shell_quote (args) : NULL;

  storage_needs_userns = true;
  return error ("%s: the file belongs to a user of your rootless podman's "
                "user namespace; run the command in it: podman unshare %s",
                old ? old : "permission denied",
                cmd ? cmd : "podman-disk ...");
}

bool
rootless_can_reexec (void)
{
  const char *env = getenv ("PODMAN_DISK_UNSHARE");
  return geteuid () != 0
    && getenv ("_CONTAINERS_USERNS_CONFIGURED") == NULL
    && !(env && strcmp (env, "no") == 0);
}

void
rootless_reexec (void)
{
  _cleanup_free_ char **args = own_arguments ();
  char exe[PATH_MAX];
  ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);

  if (!args || len <= 0 || !rootless_can_reexec ())
    return;
  exe[len] = '\0';

  size_t n = 0;
  while (args[n])
    n++;
  char **v = calloc (n + 4, sizeof *v);
  if (!v)
    return;
  v[0] = (char *) "podman";
  v[1] = (char *) "unshare";
  v[2] = (char *) "--";
  v[3] = exe;             /* this very binary, wherever argv[0] pointed */
  memcpy (v + 4, args + 1, (n - 1) * sizeof *v);

  debug ("entering podman's rootless user namespace: podman unshare %s", exe);
  /* No loop: inside, podman sets _CONTAINERS_USERNS_CONFIGURED, and this
   * says not to try again whatever happens.
   */
  setenv ("PODMAN_DISK_UNSHARE", "no", 1);
  fflush (stdout);
  fflush (stderr);
  execvp ("podman", v);
  int e = errno;
  unsetenv ("PODMAN_DISK_UNSHARE");
  debug ("podman unshare: %s", strerror (e));
  free (v);
}
