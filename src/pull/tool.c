/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: running podman and skopeo for a pull, see pull/tool.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "pull/tool.h"
#include "storage/reference.h"

#define MAX_OUTPUT (4 << 20)

void
tool_run_free (struct tool_run *r)
{
  free (r->out);
  free (r->err);
  free (r->trying);
  memset (r, 0, sizeof *r);
}

static int
append (char **dst, const char *sep, const char *s, size_t len)
{
  size_t old = *dst ? strlen (*dst) : 0, seplen = old ? strlen (sep) : 0;
  char *n = realloc (*dst, old + seplen + len + 1);
  if (!n)
    return error_errno (errno, "realloc");
  memcpy (n + old, sep, seplen);
  memcpy (n + old + seplen, s, len);
  n[old + seplen + len] = '\0';
  *dst = n;
  return 0;
}

/* One line of the tool's stderr: its progress is passed on (when RELAY),
 * its error kept for the one line podman-disk prints.  podman says
 * "Error: ..." and what follows belongs to it; skopeo (logrus) says
 * 'level=fatal msg="..."'.
 */
static int
stderr_line (struct tool_run *r, char *line, size_t len, bool relay)
{
  const char *fatal = memmem (line, len, "level=fatal msg=", 16);

  if (r->err || (len >= 7 && memcmp (line, "Error: ", 7) == 0) || fatal) {
    if (!r->err && !fatal) {
      line += 7;
      len -= 7;
    }
    else if (fatal) {
      len -= fatal + 16 - line;
      line = (char *) fatal + 16;
    }
    while (len && (*line == ' ' || *line == '*' || *line == '"'))
      line++, len--;
    while (len && (line[len - 1] == '"' || line[len - 1] == ' '))
      len--;
    return len ? append (&r->err, "; ", line, len) : 0;
  }
  if (len > 15 && memcmp (line, "Trying to pull ", 15) == 0) {
    size_t n = len - 15;
    while (n && line[15 + n - 1] == '.')
      n--;
    free (r->trying);
    if ((r->trying = strndup (line + 15, n)) == NULL)
      return error_errno (errno, "strndup");
  }
  if (relay) {
    fwrite (line, 1, len, stderr);
    fputc ('\n', stderr);
  }
  return 0;
}

/* Read both pipes until the tool closes them. */
static int
collect (int out, int err, bool relay, struct tool_run *r)
{
  char *ebuf = NULL;
  size_t elen = 0;
  struct pollfd fds[2] = { { out, POLLIN, 0 }, { err, POLLIN, 0 } };
  int open_fds = 2, rc = 0;

  while (open_fds > 0 && rc == 0) {
    if (poll (fds, 2, -1) == -1) {
      if (errno == EINTR)
        continue;
      rc = error_errno (errno, "poll");
      break;
    }
    for (int i = 0; i < 2 && rc == 0; i++) {
      char buf[8192];
      if (fds[i].fd < 0 || !fds[i].revents)
        continue;
      ssize_t n = read (fds[i].fd, buf, sizeof buf);
      if (n == -1 && errno == EINTR)
        continue;
      if (n <= 0) {
        fds[i].fd = -1;
        open_fds--;
        continue;
      }
      char **dst = i == 0 ? &r->out : &ebuf;
      size_t *dlen = i == 0 ? &r->out_len : &elen;
      if (*dlen + n > MAX_OUTPUT) {
        rc = error ("%s: more than %d bytes of output", i ? "stderr" : "stdout",
                    MAX_OUTPUT);
        break;
      }
      char *nb = realloc (*dst, *dlen + n + 1);
      if (!nb) {
        rc = error_errno (errno, "realloc");
        break;
      }
      memcpy (nb + *dlen, buf, n);
      *dlen += n;
      nb[*dlen] = '\0';
      *dst = nb;
      /* Whole lines of stderr go on at once: the progress stays live. */
      char *nl;
      while (i == 1 && rc == 0 && (nl = memchr (ebuf, '\n', elen)) != NULL) {
        rc = stderr_line (r, ebuf, nl - ebuf, relay);
        elen -= nl + 1 - ebuf;
        memmove (ebuf, nl + 1, elen);
      }
    }
  }
  if (rc == 0 && elen)
    rc = stderr_line (r, ebuf, elen, relay);
  free (ebuf);
  if (rc == 0 && !r->out && (r->out = strdup ("")) == NULL)
    rc = error_errno (errno, "strdup");
  return rc;
}

/* Run ARGV (argv[0] looked up in $PATH), stdin from /dev/null: 0 when it
 * ran (its exit in R->status), -1 when it could not.  OUT_TO_ERR: its
 * stdout is progress too (skopeo copy's).
 */
int
run_tool_out (char *const argv[], bool relay, bool out_to_err,
              struct tool_run *r)
{
  int out[2], err[2];
  pid_t pid;

  memset (r, 0, sizeof *r);
  if (verbose) {
    _cleanup_free_ char *line = NULL;
    for (char *const *a = argv; *a; a++)
      if (append (&line, " ", *a, strlen (*a)) == -1)
        return -1;
    debug ("running %s", line);
  }
  if (pipe2 (out, O_CLOEXEC) == -1)
    return error_errno (errno, "pipe");
  if (pipe2 (err, O_CLOEXEC) == -1) {
    close (out[0]);
    close (out[1]);
    return error_errno (errno, "pipe");
  }
  pid = process_fork ();
  if (pid == -1) {
    int e = errno;
    close (out[0]); close (out[1]); close (err[0]); close (err[1]);
    return error_errno (e, "fork");
  }
  if (pid == 0) {
    int null = open ("/dev/null", O_RDONLY);
    if (null == -1 || dup2 (null, 0) == -1
        || dup2 (out_to_err ? err[1] : out[1], 1) == -1
        || dup2 (err[1], 2) == -1)
      _exit (126);
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    execvp (argv[0], argv);
    dprintf (2, "Error: cannot run %s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  close (out[1]);
  close (err[1]);
  int rc = collect (out[0], err[0], relay, r);
  close (out[0]);
  close (err[0]);
  int status;
  if (process_wait (pid, &status, NULL) == -1)
    return -1;
  r->status = WIFEXITED (status) ? WEXITSTATUS (status)
    : 128 + WTERMSIG (status);
  if (rc == -1)
    tool_run_free (r);
  else if (r->status == 127 && r->err && strstr (r->err, "cannot run")) {
    rc = error ("%s: %s: install it (podman-disk pulls with podman and "
                "skopeo)", argv[0], r->err);
    tool_run_free (r);
  }
  return rc;
}

int
run_tool (char *const argv[], bool relay, struct tool_run *r)
{
  return run_tool_out (argv, relay, false, r);
}

void
args_free (struct args *a)
{
  for (size_t i = 0; i < a->n_owned; i++)
    free (a->owned[i]);
}

void
args_add (struct args *a, const char *s)
{
  if (a->n < MAX_ARGS)
    a->v[a->n++] = (char *) s;
  a->v[a->n] = NULL;
}

void
args_addf (struct args *a, const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) == -1)
    s = NULL;
  va_end (ap);
  if (s && a->n_owned < sizeof a->owned / sizeof a->owned[0]) {
    a->owned[a->n_owned++] = s;
    args_add (a, s);
  }
  else
    free (s);
}

void
podman_store_args (struct args *a, const struct store_args *st)
{
  args_add (a, "podman");
  if (st->root) { args_add (a, "--root"); args_add (a, st->root); }
  if (st->runroot) { args_add (a, "--runroot"); args_add (a, st->runroot); }
  if (st->driver) { args_add (a, "--storage-driver"); args_add (a, st->driver); }
}

/* podman's and skopeo's credential and TLS options; PREFIX is "" for
 * podman, "src-" for skopeo.
 */
void
credential_args (struct args *a, const struct pull_options *pull,
                 const char *prefix)
{
  const char *authfile = pull->authfile;
  if (!authfile && *prefix)
    authfile = getenv ("REGISTRY_AUTH_FILE");    /* podman reads it itself */
  if (authfile) args_addf (a, "--%sauthfile=%s", prefix, authfile);
  if (pull->creds) args_addf (a, "--%screds=%s", prefix, pull->creds);
  if (pull->cert_dir) args_addf (a, "--%scert-dir=%s", prefix, pull->cert_dir);
  if (pull->tls_verify) args_addf (a, "--%stls-verify=%s", prefix, pull->tls_verify);
}

/* ---- What went wrong, in one line ---------------------------------------- */

static const struct {
  const char *needle, *reason;
} reasons[] = {
  { "unauthorized", "unauthorized: check the credentials (--creds, "
    "--authfile or podman login)" },
  { "authentication required", "unauthorized: log in first (podman login, "
    "--authfile or --creds)" },
  { "invalid username/password", "unauthorized: wrong user name or password" },
  { "requested access to the resource is denied", "unauthorized: access "
    "denied" },
  { "x509: ", "the registry's TLS certificate is not trusted: pass "
    "--cert-dir DIR holding its CA (ca.crt), or --tls-verify=false" },
  { "server gave HTTP response to HTTPS client", "the registry speaks plain "
    "HTTP: pass --tls-verify=false, or mark it insecure in registries.conf" },
  { "manifest unknown", "not found" },
  { "name unknown", "not found" },
  { "not found", "not found" },
  { "no image found in manifest list", "no image for this platform: pick one "
    "with --platform OS/ARCH" },
  { "choosing image instance", "no image for this platform: pick one with "
    "--platform OS/ARCH" },
  { "short-name", "a short name that registries.conf does not resolve: use "
    "the full name (REGISTRY/REPOSITORY:TAG)" },
  { "connection refused", "no network: the registry refused the connection" },
  { "no such host", "no network: the registry's host name does not resolve" },
  { "network is unreachable", "no network: the registry cannot be reached" },
  { "i/o timeout", "no network: the registry did not answer in time" },
  { "unexpected EOF", "the connection to the registry broke during the pull" },
  { "connection reset", "the connection to the registry broke during the "
    "pull" },
  { "broken pipe", "the connection to the registry broke during the pull" },
  { "signature", "the signature policy (policy.json) refused the image" },
};

static const char *
classify (const char *err)
{
  for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (strcasestr (err, reasons[i].needle))
      return reasons[i].reason;
  return "podman pull failed";
}

/* The registry the error is about: from podman's docker://HOST/..., its
 * last "Trying to pull", or the name itself.
 */
static char *
registry_of (const struct tool_run *r, const char *name)
{
  const char *s = r->err ? strstr (r->err, "docker://") : NULL;
  if (s)
    s += 9;
  else if (r->trying)
    s = r->trying;
  else
    s = name;
  struct image_name n;
  size_t len = strcspn (s, " \"';,");
  while (len && s[len - 1] == ':')
    len--;
  _cleanup_free_ char *ref = strndup (s, len);
  if (ref && image_name_parse (ref, &n)) {
    char *d = strdup (n.domain ? n.domain
                      : "the unqualified-search registries of registries.conf");
    image_name_free (&n);
    return d;
  }
  return strdup ("the registry");
}

/* The most specific part of the tool's error: what follows its last ": ",
 * control bytes shown as '?', at most 160 bytes.
 */
static void
detail_of (const char *err, char *buf, size_t len)
{
  const char *first_end = strstr (err, "; ");
  size_t n = first_end ? (size_t) (first_end - err) : strlen (err);
  const char *s = err;
  for (const char *p = err; p + 2 <= err + n; p++)
    if (p[0] == ':' && p[1] == ' ')
      s = p + 2;
  size_t m = err + n - s;
  if (m >= len)
    m = len - 1;
  for (size_t i = 0; i < m; i++)
    buf[i] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
  buf[m] = '\0';
}

int
pull_failed (const char *what, const char *name, const struct tool_run *r)
{
  const char *err = r->err ? r->err : "";
  char detail[161];
  _cleanup_free_ char *registry = registry_of (r, name);

  detail_of (err, detail, sizeof detail);
  if (!*detail)
    snprintf (detail, sizeof detail, "%s exited with status %d", what,
              r->status);
  return error ("%s: pulling from %s failed: %s (%s)", name,
                registry ? registry : "the registry", classify (err), detail);
}
