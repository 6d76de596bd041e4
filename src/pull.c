/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: pull on demand, see pull.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "pull.h"
#include "source.h"
#include "storage/config.h"
#include "storage/reference.h"

/* After a pull, the image's ID for a re-run of the same command inside
 * the rootless user namespace (storage/userns.c): it must not pull again.
 */
#define PULLED_ENV "PODMAN_DISK_PULLED"
/* storage_locate's words for an image the store does not have. */
#define NOT_KNOWN ": image not known in "
#define ARTIFACT_ERROR "unsupported image-specific operation on artifact"
#define MAX_ARGS 40
#define MAX_OUTPUT (4 << 20)

static const char *const policy_names[] = {
  [PULL_NEVER] = "never", [PULL_MISSING] = "missing",
  [PULL_ALWAYS] = "always", [PULL_NEWER] = "newer",
};

int
pull_parse_policy (const char *arg, enum pull_policy *policy)
{
  for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
    if (strcmp (arg, policy_names[i]) == 0) {
      *policy = i;
      return 0;
    }
  return -1;
}

const char *
pull_policy_name (enum pull_policy policy)
{
  return policy_names[policy];
}

/* Only names in containers-storage are pulled. */
static bool
is_store_ref (const char *ref)
{
  return strcmp (source_for (ref)->name, "containers-storage") == 0;
}

int
pull_check_request (const char *cmd, const char *ref,
                    struct pull_options *pull, struct locate_request *req)
{
  if (!is_store_ref (ref)) {
    if (pull->policy == PULL_ALWAYS || pull->policy == PULL_NEWER)
      return usage_error (cmd, "--pull %s applies to image names in "
                          "containers-storage, not to '%s' (layouts, archives "
                          "and rootfs: are read where they are)",
                          pull_policy_name (pull->policy), ref);
    return 0;
  }
  if (pull->policy == PULL_NEVER) {
    if (req->disktype)
      return usage_error (cmd, "--disktype applies to oci: layouts or to a "
                          "pull (--pull missing, always or newer), not to "
                          "'%s' with --pull never", ref);
    return 0;      /* --platform: source_check_request says what is wrong */
  }
  pull->platform = steal_pointer (&req->platform);
  pull->disktype = steal_pointer (&req->disktype);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Running podman and skopeo. */

struct tool_run {
  char *out;           /* stdout, NUL-terminated */
  size_t out_len;
  char *err;           /* the error lines, joined by "; " */
  char *trying;        /* podman's last "Trying to pull NAME..." */
  int status;          /* the exit code, or 128 + the signal */
};

static void
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
static int
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

static int
run_tool (char *const argv[], bool relay, struct tool_run *r)
{
  return run_tool_out (argv, relay, false, r);
}

/* An argv under construction, of at most MAX_ARGS words. */
struct args {
  char *v[MAX_ARGS + 1];
  size_t n;
  char *owned[8];            /* strings built here, freed with it */
  size_t n_owned;
};

static void
args_free (struct args *a)
{
  for (size_t i = 0; i < a->n_owned; i++)
    free (a->owned[i]);
}

static void
add (struct args *a, const char *s)
{
  if (a->n < MAX_ARGS)
    a->v[a->n++] = (char *) s;
  a->v[a->n] = NULL;
}

static void __attribute__ ((format (printf, 2, 3)))
addf (struct args *a, const char *fmt, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) == -1)
    s = NULL;
  va_end (ap);
  if (s && a->n_owned < sizeof a->owned / sizeof a->owned[0]) {
    a->owned[a->n_owned++] = s;
    add (a, s);
  }
  else
    free (s);
}

/* The store of the request, the reference's own parts first. */
struct store_args {
  const char *root, *runroot, *driver;
};

static void
podman_store_args (struct args *a, const struct store_args *st)
{
  add (a, "podman");
  if (st->root) { add (a, "--root"); add (a, st->root); }
  if (st->runroot) { add (a, "--runroot"); add (a, st->runroot); }
  if (st->driver) { add (a, "--storage-driver"); add (a, st->driver); }
}

/* podman's and skopeo's credential and TLS options; PREFIX is "" for
 * podman, "src-" for skopeo.
 */
static void
credential_args (struct args *a, const struct pull_options *pull,
                 const char *prefix)
{
  const char *authfile = pull->authfile;
  if (!authfile && *prefix)
    authfile = getenv ("REGISTRY_AUTH_FILE");    /* podman reads it itself */
  if (authfile) addf (a, "--%sauthfile=%s", prefix, authfile);
  if (pull->creds) addf (a, "--%screds=%s", prefix, pull->creds);
  if (pull->cert_dir) addf (a, "--%scert-dir=%s", prefix, pull->cert_dir);
  if (pull->tls_verify) addf (a, "--%stls-verify=%s", prefix, pull->tls_verify);
}

/* ------------------------------------------------------------------ */
/* What went wrong, in one line. */

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

static int
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

/* ------------------------------------------------------------------ */
/* Images: podman pull. */

static bool
is_id (const char *s, size_t len)
{
  if (len != 64)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

/* The ID podman printed last. */
static char *
pulled_id (const char *out)
{
  const char *last = NULL;
  for (const char *p = out; *p; p += strcspn (p, "\n"), p += *p == '\n') {
    size_t len = strcspn (p, "\n");
    if (is_id (p, len))
      last = p;
  }
  return last ? strndup (last, 64) : NULL;
}

/* podman pull NAME: 0 with *ID, 1 when NAME turned out to be an artifact
 * (*QUALIFIED: the name podman tried), -1 with error ().
 */
static int
podman_pull (const char *name, const struct store_args *st,
             const struct pull_options *pull, char **id, char **qualified)
{
  struct args a = { 0 };
  struct tool_run r;

  podman_store_args (&a, st);
  add (&a, "pull");
  credential_args (&a, pull, "");
  if (pull->platform)
    addf (&a, "--platform=%s", pull->platform);
  add (&a, "--");
  add (&a, name);
  int rc = run_tool (a.v, true, &r);
  args_free (&a);
  if (rc == -1)
    return -1;
  if (r.status != 0 && r.err && strstr (r.err, ARTIFACT_ERROR) && r.trying) {
    *qualified = steal_pointer (&r.trying);
    rc = 1;
  }
  else if (r.status != 0)
    rc = pull_failed ("podman pull", name, &r);
  else if ((*id = pulled_id (r.out)) == NULL)
    rc = error ("%s: podman pull printed no image ID", name);
  tool_run_free (&r);
  return rc;
}

/* Is the stored image ID of the platform asked for (OS and
 * architecture)?  podman run's missing policy pulls when it is not.  1
 * yes, 0 no, -1 error.
 */
static int
local_platform_is (const char *id, const struct store_args *st,
                   const char *platform)
{
  struct args a = { 0 };
  struct tool_run r;

  podman_store_args (&a, st);
  add (&a, "image");
  add (&a, "inspect");
  add (&a, "--format");
  add (&a, "{{.Os}}/{{.Architecture}}");
  add (&a, id);
  int rc = run_tool (a.v, false, &r);
  args_free (&a);
  if (rc == -1)
    return -1;
  if (r.status != 0)
    rc = error ("podman image inspect %s: %s", id, r.err ? r.err : "failed");
  else {
    /* "linux/arm64\n" against linux/arm64[/v8]: podman 4.3's inspect
     * has no variant to compare.
     */
    const char *slash = strchr (platform, '/');
    size_t len = slash + 1 + strcspn (slash + 1, "/") - platform;
    rc = strncmp (r.out, platform, len) == 0 && r.out[len] == '\n';
  }
  tool_run_free (&r);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Artifacts: the cache, skopeo, podman artifact pull. */

/* Open or make directory NAME under DIRFD, 0700, and accept it only if it
 * is a directory of this user's own that nobody else can write: what
 * skopeo copies there is served.
 */
static int
own_dir (int dirfd, const char *name, const char *path)
{
  struct stat st;
  if (mkdirat (dirfd, name, 0700) == -1 && errno != EEXIST)
    return error_errno (errno, "%s: cannot make the artifact cache", path);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s", path);
  if (fstat (fd, &st) == -1 || st.st_uid != geteuid () || (st.st_mode & 022)) {
    close (fd);
    return error ("%s: not a directory of this user's own that only it can "
                  "write: the artifact cache is not used there", path);
  }
  return fd;
}

/* The artifact cache's path, made and checked; its lock held in *LOCKFD. */
static char *
artifact_cache (int *lockfd)
{
  const char *dir = getenv ("PODMAN_DISK_CACHE_DIR");
  const char *xdg = getenv ("XDG_CACHE_HOME"), *home = getenv ("HOME");
  _cleanup_free_ char *base = NULL;
  bool top = !dir;

  if (dir)
    base = strdup (dir);
  else if (xdg && xdg[0] == '/')
    base = strdup (xdg);
  else if (config_rootless_uid () == 0)
    base = strdup ("/var/cache");
  else if (home && home[0] == '/' && asprintf (&base, "%s/.cache", home) == -1)
    base = NULL;
  if (!base) {
    error ("no directory for the artifact cache: set XDG_CACHE_HOME or HOME");
    return NULL;
  }
  char *path;
  if (asprintf (&path, "%s%s/artifacts", base, top ? "/podman-disk" : "") == -1) {
    error_errno (errno, "asprintf");
    return NULL;
  }
  if (strchr (path, ':')) {
    error ("%s: the artifact cache's path must not hold ':' (it is an oci: "
           "reference)", path);
    free (path);
    return NULL;
  }
  mkdir (base, 0700);    /* a fresh account's ~/.cache, as others make it */
  _cleanup_close_ int b = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int t = -1;
  int fd = -1;
  if (b == -1)
    error_errno (errno, "%s", base);
  else if ((t = top ? own_dir (b, "podman-disk", base) : dup (b)) >= 0)
    fd = own_dir (t, "artifacts", path);
  if (fd >= 0) {
    *lockfd = openat (fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    close (fd);
    if (*lockfd >= 0 && flock (*lockfd, LOCK_EX) == 0)
      return path;
    error_errno (errno, "%s/.lock", path);
    if (*lockfd >= 0)
      close (*lockfd);
  }
  free (path);
  return NULL;
}

/* The name an artifact has in the cache: its full name, "+DISKTYPE" for
 * the disk picked from an index by --disktype.
 */
static char *
cache_name (const char *qualified, const char *disktype)
{
  char *s;
  if (asprintf (&s, "%s%s%s", qualified, disktype ? "+" : "",
                disktype ? disktype : "") == -1)
    return NULL;
  return s;
}

/* Whether the cache's index.json names NAME. */
static bool
cache_has (const char *cache, const char *name)
{
  _cleanup_free_ char *path = NULL;
  bool found = false;
  if (asprintf (&path, "%s/index.json", cache) == -1)
    return false;
  json_object *index = json_object_from_file (path), *m;
  if (index && json_object_object_get_ex (index, "manifests", &m)
      && json_object_is_type (m, json_type_array))
    for (size_t i = 0; !found && i < json_object_array_length (m); i++) {
      json_object *ann, *ref;
      if (json_object_object_get_ex (json_object_array_get_idx (m, i),
                                     "annotations", &ann)
          && json_object_object_get_ex (ann, "org.opencontainers.image.ref.name",
                                        &ref))
        found = strcmp (json_object_get_string (ref), name) == 0;
    }
  json_object_put (index);
  return found;
}

static int
locate_in_cache (const char *cache, const char *name,
                 const struct locate_request *req, struct disk_location *loc)
{
  _cleanup_free_ char *ref = NULL;
  if (asprintf (&ref, "oci:%s:%s", cache, name) == -1)
    return error_errno (errno, "asprintf");
  struct locate_request r = *req;
  r.platform = r.disktype = NULL;     /* one manifest per name there */
  return source_locate (ref, &r, loc);
}

/* A previously pulled artifact for one of NAME's candidates: 0 with LOC,
 * 1 when there is none, -1 with error ().
 */
static int
cached_artifact (const struct image_name *name, const char *disktype,
                 const struct locate_request *req, struct disk_location *loc)
{
  int lockfd = -1;
  _cleanup_free_ char *cache = artifact_cache (&lockfd);
  if (!cache) {
    debug ("artifact cache: %s", error_message ());
    error_clear ();
    return 1;
  }
  char **cands = image_name_candidates (name);
  int r = cands ? 1 : -1;
  for (char **c = cands; r == 1 && *c; c++) {
    _cleanup_free_ char *cn = cache_name (*c, disktype);
    if (cn && cache_has (cache, cn))
      r = locate_in_cache (cache, cn, req, loc);
  }
  strv_free (cands);
  close (lockfd);
  return r;
}

static bool
arch_matches (const char *have, const char *want)
{
  /* podman machine's disk images spell amd64 and arm64 as uname does. */
  static const char *const alias[][2] = {
    { "amd64", "x86_64" }, { "arm64", "aarch64" },
  };
  if (strcmp (have, want) == 0)
    return true;
  for (size_t i = 0; i < 2; i++)
    if ((!strcmp (have, alias[i][0]) && !strcmp (want, alias[i][1]))
        || (!strcmp (have, alias[i][1]) && !strcmp (want, alias[i][0])))
      return true;
  return false;
}

static const char *
host_arch (void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

/* The digest of the manifest of INDEX (raw JSON) whose "disktype"
 * annotation is DISKTYPE, for PLATFORM (or the host's): podman machine's
 * own choice (pkg/machine/ocipull).
 */
static char *
pick_disktype (const char *name, const char *raw, const char *disktype,
               const char *platform)
{
  char os[64] = "linux", arch[64];
  json_object *index = json_tokener_parse (raw), *m;
  char *digest = NULL;

  snprintf (arch, sizeof arch, "%s", host_arch ());
  if (platform)
    sscanf (platform, "%63[^/]/%63[^/]", os, arch);
  if (!index || !json_object_object_get_ex (index, "manifests", &m)
      || !json_object_is_type (m, json_type_array)) {
    json_object_put (index);
    error ("%s: not an image index: --disktype picks from an index whose "
           "entries carry a \"disktype\" annotation", name);
    return NULL;
  }
  for (size_t i = 0; !digest && i < json_object_array_length (m); i++) {
    json_object *e = json_object_array_get_idx (m, i), *ann, *dt, *p, *v, *d;
    if (!json_object_object_get_ex (e, "annotations", &ann)
        || !json_object_object_get_ex (ann, "disktype", &dt)
        || strcmp (json_object_get_string (dt), disktype)
        || !json_object_object_get_ex (e, "digest", &d))
      continue;
    if (json_object_object_get_ex (e, "platform", &p)) {
      if (json_object_object_get_ex (p, "os", &v)
          && strcmp (json_object_get_string (v), os))
        continue;
      if (json_object_object_get_ex (p, "architecture", &v)
          && !arch_matches (json_object_get_string (v), arch))
        continue;
    }
    digest = strdup (json_object_get_string (d));
  }
  json_object_put (index);
  if (!digest)
    error ("%s: no disk of disktype '%s' for %s/%s in the index", name,
           disktype, os, arch);
  return digest;
}

/* REPO@DIGEST of NAME (REPO[:TAG][@DIGEST]). */
static char *
with_digest (const char *name, const char *digest)
{
  struct image_name n;
  char *s = NULL;
  if (!image_name_parse (name, &n))
    return NULL;
  if (asprintf (&s, "%s%s%s@%s", n.domain ? n.domain : "", n.domain ? "/" : "",
                n.path, digest) == -1)
    s = NULL;
  image_name_free (&n);
  return s;
}

/* skopeo copy docker://NAME into the cache (as CNAME), locked. */
static int
skopeo_pull (const char *name, const char *cname, const struct pull_options *pull,
             struct disk_location *loc, const struct locate_request *req)
{
  int lockfd = -1;
  _cleanup_free_ char *cache = artifact_cache (&lockfd);
  _cleanup_free_ char *src = NULL;
  const char *regconf = getenv ("CONTAINERS_REGISTRIES_CONF");
  struct args a = { 0 };
  struct tool_run r;
  int rc;

  if (!cache)
    return -1;
  if (pull->disktype) {
    /* The index, for the entry of the disktype asked for. */
    add (&a, "skopeo");
    if (regconf) addf (&a, "--registries-conf=%s", regconf);
    add (&a, "inspect");
    add (&a, "--raw");
    credential_args (&a, pull, "");
    addf (&a, "docker://%s", name);
    rc = run_tool (a.v, false, &r);
    args_free (&a);
    memset (&a, 0, sizeof a);
    if (rc == 0 && r.status != 0)
      rc = pull_failed ("skopeo inspect", name, &r);
    _cleanup_free_ char *digest = NULL;
    if (rc == 0 && (digest = pick_disktype (name, r.out, pull->disktype,
                                             pull->platform)) == NULL)
      rc = -1;
    if (rc == 0 && (src = with_digest (name, digest)) == NULL)
      rc = error ("%s: not a valid name", name);
    tool_run_free (&r);
    if (rc == -1) {
      close (lockfd);
      return -1;
    }
  }
  else if ((src = strdup (name)) == NULL) {
    close (lockfd);
    return error_errno (errno, "strdup");
  }

  add (&a, "skopeo");
  if (regconf) addf (&a, "--registries-conf=%s", regconf);
  add (&a, "copy");
  credential_args (&a, pull, "src-");
  if (pull->platform && !pull->disktype) {
    char os[64], arch[64], variant[64] = "";
    if (sscanf (pull->platform, "%63[^/]/%63[^/]/%63s", os, arch, variant) >= 2) {
      addf (&a, "--override-os=%s", os);
      addf (&a, "--override-arch=%s", arch);
      if (*variant)
        addf (&a, "--override-variant=%s", variant);
    }
  }
  addf (&a, "docker://%s", src);
  addf (&a, "oci:%s:%s", cache, cname);
  rc = run_tool_out (a.v, true, true, &r);
  args_free (&a);
  if (rc == 0 && r.status != 0)
    rc = pull_failed ("skopeo copy", name, &r);
  tool_run_free (&r);
  if (rc == 0)
    rc = locate_in_cache (cache, cname, req, loc);
  close (lockfd);
  return rc;
}

/* podman's version as MAJOR * 100 + MINOR, or -1. */
static int
podman_version (void)
{
  char *const argv[] = { "podman", "version", "--format",
                         "{{.Client.Version}}", NULL };
  struct tool_run r;
  int major, minor, v = -1;

  if (run_tool (argv, false, &r) == -1) {
    error_clear ();
    return -1;
  }
  if (r.status == 0 && sscanf (r.out, "%d.%d", &major, &minor) == 2)
    v = major * 100 + minor;
  tool_run_free (&r);
  return v;
}

/* An artifact NAME (QUALIFIED: its full name): podman artifact pull into
 * podman's artifact store from podman 5.4 on, else skopeo into the cache.
 */
static int
artifact_pull (const char *ref, const char *qualified,
               const struct store_args *st, const struct pull_options *pull,
               const struct locate_request *req, struct disk_location *loc)
{
  if (!pull->disktype && podman_version () >= 504) {
    struct args a = { 0 };
    struct tool_run r;
    podman_store_args (&a, st);
    add (&a, "artifact");
    add (&a, "pull");
    credential_args (&a, pull, "");
    add (&a, "--");
    add (&a, qualified);
    int rc = run_tool (a.v, true, &r);
    args_free (&a);
    if (rc == 0 && r.status != 0)
      rc = pull_failed ("podman artifact pull", qualified, &r);
    tool_run_free (&r);
    /* The storage source reads podman's artifact store. */
    return rc == -1 ? -1 : source_locate (ref, req, loc);
  }
  _cleanup_free_ char *cname = cache_name (qualified, pull->disktype);
  if (!cname)
    return error_errno (errno, "asprintf");
  fprintf (stderr, "%s is an artifact, no image: copying it with skopeo "
           "into podman-disk's artifact cache\n", qualified);
  return skopeo_pull (qualified, cname, pull, loc, req);
}

/* ------------------------------------------------------------------ */

/* The reference REF with its image part (SPEC's ref) replaced by ID. */
static char *
ref_with_id (const char *ref, const struct storage_spec *spec, const char *id)
{
  char *s;
  int plen = (int) (strlen (ref) - strlen (spec->ref));
  if (asprintf (&s, "%.*s%s", plen, ref, id) == -1)
    return NULL;
  return s;
}

static int
locate_pulled (const char *ref, const struct storage_spec *spec,
               const char *id, const struct locate_request *req,
               struct disk_location *loc)
{
  _cleanup_free_ char *by_id = ref_with_id (ref, spec, id);
  if (!by_id)
    return error_errno (errno, "asprintf");
  /* Inside the rootless user namespace, the re-run finds it there. */
  setenv (PULLED_ENV, id, 1);
  int r = source_locate (by_id, req, loc);
  unsetenv (PULLED_ENV);
  return r;
}

/* Whether NAME is one to pull: a name, not an image ID or ID prefix that
 * the store has (those are looked up only), nor a localhost/ one.
 */
static bool
pullable (const char *name, struct image_name *parsed)
{
  if (strncmp (name, "sha256:", 7) == 0 || is_id (name, strlen (name)))
    return false;
  const char *at = strrchr (name, '@');
  if (at && is_id (at + 1, strlen (at + 1)))
    return false;     /* containers-storage's NAME@ID */
  if (!image_name_parse (name, parsed))
    return false;
  /* localhost/NAME is podman's name for what was built here: there is no
   * registry to ask (podman would try https://localhost), so a missing
   * one gets the store's "image not known".
   */
  if (parsed->domain && strcmp (parsed->domain, "localhost") == 0) {
    image_name_free (parsed);
    return false;
  }
  return true;
}

static int
pull_then_locate (const char *ref, const struct storage_spec *spec,
                  const struct image_name *name, const struct store_args *st,
                  const struct pull_options *pull,
                  const struct locate_request *req, struct disk_location *loc)
{
  _cleanup_free_ char *id = NULL, *qualified = NULL;

  if (pull->disktype) {
    if (!name->domain)
      return error ("%s: --disktype needs the full name (REGISTRY/"
                    "REPOSITORY:TAG): the disk images are pulled by skopeo",
                    spec->ref);
    return artifact_pull (ref, spec->ref, st, pull, req, loc);
  }
  int r = podman_pull (spec->ref, st, pull, &id, &qualified);
  if (r == 1)
    return artifact_pull (ref, qualified, st, pull, req, loc);
  if (r == -1)
    return -1;
  return locate_pulled (ref, spec, id, req, loc);
}

/* The digest a NAME@DIGEST reference was served by: its own, which the
 * image lists (its first digest may be an instance's of the index).
 */
static int
show_pinned_digest (const char *ref, struct disk_location *loc)
{
  const char *at = strrchr (ref, '@');
  if (!at || strncmp (at + 1, "sha256:", 7) || !is_id (at + 8, strlen (at + 8))
      || !loc->transport || strcmp (loc->transport, "containers-storage"))
    return 0;
  char *d = strdup (at + 1);
  if (!d)
    return error_errno (errno, "strdup");
  free (loc->digest);
  loc->digest = d;
  return 0;
}

static int pull_locate_store (const char *ref, const struct pull_options *pull,
                              const struct locate_request *req,
                              struct disk_location *loc);

int
pull_locate (const char *ref, const struct pull_options *pull,
             const struct locate_request *req, struct disk_location *loc)
{
  if (!is_store_ref (ref))
    return source_locate (ref, req, loc);
  if (pull_locate_store (ref, pull, req, loc) == -1)
    return -1;
  return show_pinned_digest (ref, loc);
}

static int
pull_locate_store (const char *ref, const struct pull_options *pull,
                   const struct locate_request *req, struct disk_location *loc)
{
  const char *pulled = getenv (PULLED_ENV);
  struct storage_spec spec;
  struct image_name name;
  int r;

  if (pull->policy == PULL_NEVER)
    return source_locate (ref, req, loc);
  if (storage_spec_parse (ref, &spec) == -1)
    return -1;
  if (pulled && is_id (pulled, strlen (pulled))) {
    /* The re-run inside the user namespace: pulled already. */
    r = locate_pulled (ref, &spec, pulled, req, loc);
    storage_spec_free (&spec);
    return r;
  }
  if (!pullable (spec.ref, &name)) {
    storage_spec_free (&spec);
    return source_locate (ref, req, loc);
  }
  struct store_args st = {
    .root = spec.root ? spec.root : req->store.root,
    .runroot = spec.runroot ? spec.runroot : req->store.runroot,
    .driver = spec.driver ? spec.driver : req->store.driver,
  };

  r = 1;
  if (pull->policy == PULL_MISSING) {
    if (pull->disktype)
      r = cached_artifact (&name, pull->disktype, req, loc);
    else if ((r = source_locate (ref, req, loc)) == 0 && pull->platform) {
      /* There, but maybe for another platform: podman pulls then. */
      int same = local_platform_is (loc->image_id, &st, pull->platform);
      if (same != 1) {
        disk_location_clear (loc);
        r = same == 0 ? 1 : -1;
      }
    }
    else if (r == -1 && strstr (error_message (), NOT_KNOWN)) {
      error_clear ();
      r = cached_artifact (&name, NULL, req, loc);
    }
    if (r == 1)
      debug ("%s: not in the store: pulling it (--pull missing)", spec.ref);
  }
  if (r == 1) {
    error_clear ();
    r = pull_then_locate (ref, &spec, &name, &st, pull, req, loc);
  }
  image_name_free (&name);
  storage_spec_free (&spec);
  return r;
}
