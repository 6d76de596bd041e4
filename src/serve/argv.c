/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the command line of a server and what its program is, see
 * serve/argv.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/names.h"
#include "common/pathtrust.h"
#include "common/proc.h"
#include "serve/argv.h"
#include "serve/pin.h"
#include "serve/qemuspec.h"

static const char *const kind_names[] = {
  [SERVER_AUTO] = "auto", [SERVER_NBDKIT] = "nbdkit",
  [SERVER_QEMU_NBD] = "qemu-nbd", [SERVER_QSD] = "qemu-storage-daemon",
};

static const char *const tls_names[] = {
  [SERVER_TLS_OFF] = "off", [SERVER_TLS_ON] = "on",
  [SERVER_TLS_REQUIRE] = "require",
};

const char *
server_name (enum server_kind kind)
{
  return kind_names[kind];
}

int
server_parse_kind (const char *name, enum server_kind *out)
{
  int i = names_lookup (kind_names, ARRAY_SIZE (kind_names), name);

  if (i == -1)
    return -1;
  *out = i;
  return 0;
}

const char *
server_tls_name (enum server_tls tls)
{
  return tls_names[tls];
}

int
server_parse_tls (const char *name, enum server_tls *out)
{
  int i = names_lookup (tls_names, ARRAY_SIZE (tls_names), name);

  if (i == -1)
    return -1;
  *out = i;
  return 0;
}

enum server_tls
server_tls_effective (const struct server_options *opts, enum server_kind kind)
{
  if ((kind == SERVER_QEMU_NBD || kind == SERVER_QSD) && opts->tls == SERVER_TLS_ON)
    return SERVER_TLS_REQUIRE;
  return opts->tls;
}

bool
decodes_qcow2 (const struct disk_location *loc, const struct server_options *opts)
{
  return opts->decode && loc->fmt.format == DISK_QCOW2;
}

int
server_choose (const struct disk_location *loc,
               const struct server_options *opts, enum server_kind *out)
{
  if (opts->kind == SERVER_QSD || opts->n_exports)
    return error ("qemu-storage-daemon serves several disks only (this is "
                  "a bug)");
  if (opts->persistent) {
    if (opts->kind == SERVER_NBDKIT)
      return error ("nbdkit cannot serve a clone (a qcow2 overlay): use "
                    "--server qemu-nbd, the default");
    *out = SERVER_QEMU_NBD;
    return 0;
  }
  if (opts->kind == SERVER_AUTO) {
    *out = decodes_qcow2 (loc, opts) ? SERVER_QEMU_NBD : SERVER_NBDKIT;
    return 0;
  }
  if (opts->kind == SERVER_NBDKIT && decodes_qcow2 (loc, opts))
    return error ("nbdkit cannot decode the qcow2 disk: use --server qemu-nbd, "
                  "or --no-decode to export its bytes as stored");
  /* qemu sees files in 512-byte sectors: it would refuse the raw window,
   * or export a whole file rounded up with bytes that are not the disk's.
   */
  if (opts->kind == SERVER_QEMU_NBD && !decodes_qcow2 (loc, opts)
      && loc->size % 512)
    return error ("qemu-nbd cannot export %" PRIu64 " bytes exactly (not a "
                  "multiple of 512): use --server nbdkit", loc->size);
  *out = opts->kind;
  return 0;
}


struct strv {
  char **v;
  size_t n;
};

static void __attribute__ ((format (printf, 2, 3)))
push (struct strv *s, const char *fmt, ...)
{
  va_list ap;
  char *str;

  va_start (ap, fmt);
  if (vasprintf (&str, fmt, ap) == -1)
    abort ();
  va_end (ap);
  s->v = realloc (s->v, (s->n + 2) * sizeof *s->v);
  if (!s->v)
    abort ();
  s->v[s->n++] = str;
  s->v[s->n] = NULL;
}

/* ---- Argument vectors ---------------------------------------------------- */

/* nbdkit's TLS options, by their own names. */
static void
push_nbdkit_tls (struct strv *a, const struct server_options *opts)
{
  if (opts->tls == SERVER_TLS_OFF)
    return;
  push (a, "--tls=%s", server_tls_name (opts->tls));
  if (opts->tls_certificates)
    push (a, "--tls-certificates=%s", opts->tls_certificates);
  if (opts->tls_psk)
    push (a, "--tls-psk=%s", opts->tls_psk);
  if (opts->tls_verify_peer)
    push (a, "--tls-verify-peer");
}

/* S as a value in qemu's KEY=VALUE,... syntax: commas doubled. */
static char *
qemu_opt_escape (const char *s)
{
  char *out = malloc (strlen (s) * 2 + 1), *o = out;

  if (!out)
    abort ();
  for (; *s; s++) {
    if (*s == ',')
      *o++ = ',';
    *o++ = *s;
  }
  *o = '\0';
  return out;
}

/* qemu-nbd's TLS: a credentials object and --tls-creds, always required
 * (it has no optional TLS).  Its x509 credentials check the client's
 * certificate too unless told (verify-peer): only with
 * opts->tls_verify_peer, as nbdkit checks it only with --tls-verify-peer,
 * so that both servers mean the same: by default the client checks the
 * server, PSK checks both.
 */
char *
server_qemu_tls_object (const struct server_options *opts)
{
  char *obj;
  int r;

  if (opts->tls_certificates) {
    _cleanup_free_ char *dir = qemu_opt_escape (opts->tls_certificates);
    r = asprintf (&obj, "tls-creds-x509,id=" QEMU_TLS_ID ",dir=%s,"
                  "endpoint=server,verify-peer=%s", dir,
                  opts->tls_verify_peer ? "on" : "off");
  }
  else {
    _cleanup_free_ char *dir = qemu_opt_escape (opts->tls_psk_dir
                                                ? opts->tls_psk_dir : "");
    r = asprintf (&obj, "tls-creds-psk,id=" QEMU_TLS_ID ",dir=%s,"
                  "endpoint=server", dir);
  }
  if (r == -1)
    abort ();
  return obj;
}

static void
push_qemu_nbd_tls (struct strv *a, const struct server_options *opts)
{
  if (opts->tls == SERVER_TLS_OFF)
    return;
  _cleanup_free_ char *obj = server_qemu_tls_object (opts);
  push (a, "--object");
  push (a, "%s", obj);
  push (a, "--tls-creds=" QEMU_TLS_ID);
}

/* qemu-nbd --snapshot puts a writable overlay on top of the image's node,
 * which it refuses when that node says read-only: the file node under it
 * stays read-only, so the image still cannot be written.
 */
static char *
qemu_nbd_spec (const struct disk_location *loc, bool decode, bool writable)
{
  json_object *tree = qemuspec_tree (loc, decode, DISK_FD_PATH);

  if (tree && writable)
    json_object_object_del (tree, "read-only");
  return qemuspec_filename (tree);
}

/* How long "nbdkit --version" may take: it answers in milliseconds; a
 * program that does not must not hang a serve or a hook.
 */
#define VERSION_TIMEOUT_MS 2000


/* What "EXE --version" prints first, or "" (EXE not run, silent, or not
 * done within VERSION_TIMEOUT_MS: then killed).  It gets no stdin and no
 * stderr of ours, and dies with us, so it holds nothing of the caller's
 * (a hook's runtime waits for the hook's output to close).
 */
static void
program_version (const char *exe, char *buf, size_t len)
{
  int fd, status;
  size_t got = 0;

  buf[0] = '\0';
  pid_t pid = process_fork_pipe (&fd);
  if (pid == -1) {
    error_clear ();
    return;
  }
  if (pid == 0) {
    int null = open ("/dev/null", O_RDWR);
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (null == -1 || dup2 (null, STDIN_FILENO) == -1
        || dup2 (fd, STDOUT_FILENO) == -1 || dup2 (null, STDERR_FILENO) == -1)
      _exit (127);
    execl (exe, exe, "--version", (char *) NULL);
    _exit (127);
  }
  int64_t deadline = now_ms () + VERSION_TIMEOUT_MS;
  for (;;) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int64_t left = deadline - now_ms ();
    if (left <= 0 || got >= len - 1)
      break;
    int r = poll (&pfd, 1, left);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ssize_t n = read (fd, buf + got, len - 1 - got);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += n;
  }
  buf[got] = '\0';
  close (fd);
  kill (pid, SIGKILL);         /* done or not: it has said all we read */
  process_wait (pid, &status, NULL);
  error_clear ();
}

bool
server_nbdkit_takes_fd (const char *exe)
{
  char version[256];
  int major, minor;

  program_version (exe, version, sizeof version);
  if (sscanf (version, "nbdkit %d.%d", &major, &minor) != 2)
    return false;
  bool takes_fd = major > 1 || minor >= 34;
  debug ("%s is nbdkit %d.%d: the disk goes as %s", exe, major, minor,
         takes_fd ? "fd=5" : "file=" PIN_PATH);
  return takes_fd;
}

char **
server_argv (const struct disk_location *loc,
             const struct server_options *opts,
             enum server_kind kind, const char *exe)
{
  struct strv a = { NULL, 0 };

  push (&a, "%s", exe);
  if (kind == SERVER_NBDKIT) {
    push (&a, "--foreground");
    push_nbdkit_tls (&a, opts);
    /* nbdkit answers to any export name unless told, qemu-nbd to its own:
     * the same for both.
     */
    if (opts->export_name && *opts->export_name)
      push (&a, "--filter=exportname");
    /* The cow filter opens the plugin read-only below its overlay. */
    push (&a, opts->writable ? "--filter=cow" : "--readonly");
    if (opts->nbdkit_plugin) {
      /* Ours reads the inherited fd at the offset, any nbdkit version. */
      push (&a, "%s", opts->nbdkit_plugin);
      push (&a, "fd=%d", DISK_FD);
      push (&a, "offset=%" PRIu64, loc->offset);
      push (&a, "size=%" PRIu64, loc->size);
    }
    else {
      push (&a, "--filter=offset");
      push (&a, "file");
      /* fd= (nbdkit 1.34) serves the very file.  file= is resolved by
       * realpath at start and that path opened again for every
       * connection: it gets a name that only leads to the disk
       * (serve/pin.h).
       */
      if (server_nbdkit_takes_fd (exe))
        push (&a, "fd=%d", DISK_FD);
      else
        push (&a, "file=%s", PIN_PATH);
      push (&a, "offset=%" PRIu64, loc->offset);
      push (&a, "range=%" PRIu64, loc->size);
    }
    if (opts->export_name && *opts->export_name) {
      push (&a, "exportname=%s", opts->export_name);
      push (&a, "exportname-strict=true");
    }
  }
  else if (opts->persistent) {
    /* The clone read-write; its backing chain is the one its header
     * names, every format named there (clone/clone.h), the base
     * read-only.
     */
    push (&a, "--persistent");
    push (&a, "--shared=0");
    push_qemu_nbd_tls (&a, opts);
    if (opts->export_name && *opts->export_name)
      push (&a, "--export-name=%s", opts->export_name);
    push (&a, "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\","
          "\"filename\":\"%s\"}}", DISK_FD_PATH);
  }
  else {
    char *spec = qemu_nbd_spec (loc, opts->decode, opts->writable);
    if (!spec) {                        /* error() says why */
      strv_free (a.v);
      return NULL;
    }
    push (&a, opts->writable ? "--snapshot" : "--read-only");
    push (&a, "--persistent");          /* not just the first client */
    push (&a, "--shared=0");            /* any number of clients */
    push_qemu_nbd_tls (&a, opts);
    if (opts->export_name && *opts->export_name)
      push (&a, "--export-name=%s", opts->export_name);
    push (&a, "%s", spec);
    free (spec);
  }
  return a.v;
}

bool
server_needs_proxy (const struct server_options *opts, enum server_kind kind)
{
  return opts->also_socket && kind == SERVER_QEMU_NBD;
}

char **
server_argv_proxied (const struct disk_location *loc,
                     const struct server_options *opts,
                     const char *nbdkit, const char *qemu_nbd)
{
  /* qemu-nbd as nbdkit's one client: the default export, and it goes
   * when nbdkit's connection does (no --persistent), even if nbdkit was
   * killed.
   */
  struct server_options inner = *opts;
  inner.export_name = NULL;
  inner.tls = SERVER_TLS_OFF;           /* nbdkit's, in front */
  _cleanup_strv_ char **q = server_argv (loc, &inner, SERVER_QEMU_NBD, qemu_nbd);
  struct strv a = { NULL, 0 };

  if (!q)
    return NULL;
  push (&a, "%s", nbdkit);
  push (&a, "--foreground");
  push_nbdkit_tls (&a, opts);
  if (opts->export_name && *opts->export_name)
    push (&a, "--filter=exportname");
  if (!opts->writable && !opts->persistent)
    push (&a, "--readonly");
  push (&a, "nbd");
  push (&a, "command=%s", qemu_nbd);
  for (char **w = q + 1; *w; w++)
    if (strcmp (*w, "--persistent") && strcmp (*w, "--shared=0"))
      push (&a, "arg=%s", *w);
  if (opts->export_name && *opts->export_name) {
    push (&a, "exportname=%s", opts->export_name);
    push (&a, "exportname-strict=true");
  }
  return a.v;
}

char *
server_find_program (const char *name)
{
  const char *path = getenv ("PATH");
  char *ret;

  if (strchr (name, '/'))
    return access (name, X_OK) == 0 ? strdup (name) : NULL;
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; ; p += strcspn (p, ":") + 1) {
    int len = strcspn (p, ":");
    struct stat st;
    if (asprintf (&ret, "%.*s%s%s", len, p, len ? "/" : "", name) == -1)
      abort ();
    if (stat (ret, &st) == 0 && S_ISREG (st.st_mode) && access (ret, X_OK) == 0)
      return ret;
    free (ret);
    if (p[len] == '\0')
      return NULL;
  }
}

#define PLUGIN_SO "nbdkit-podman-disk-plugin.so"

/* DIR's plugin, if nbdkit may load it for us: a regular file that no one
 * but root and the caller can change, nor the directories that lead to it
 * (common/pathtrust.h); else NULL.
 */
static char *
plugin_in (const char *dir)
{
  char *path;
  struct stat st;

  if (asprintf (&path, "%s/" PLUGIN_SO, dir) == -1)
    abort ();
  if (stat (path, &st) == 0 && S_ISREG (st.st_mode)
      && pathtrust_check (path, -1) == 0)
    return path;
  if (*error_message ())
    debug ("not loading %s", error_message ());
  error_clear ();
  free (path);
  return NULL;
}

char *
server_find_plugin (void)
{
  char *path = NULL;

#if PLUGIN_BESIDE_PROGRAM
  /* The build tree's, as its podman-disk is run by the tests.  (Not in a
   * sanitizer build: nbdkit cannot load a plugin built with ASan.)
   */
  _cleanup_free_ char *self = realpath ("/proc/self/exe", NULL);
  char *slash = self ? strrchr (self, '/') : NULL;
  if (slash) {
    *slash = '\0';
    if ((path = plugin_in (self)) != NULL)
      return path;
  }
#endif
  if (*NBDKIT_PLUGINDIR && (path = plugin_in (NBDKIT_PLUGINDIR)) != NULL)
    return path;
  debug ("no %s: nbdkit serves with its file plugin", PLUGIN_SO);
  return NULL;
}

char *
server_find (enum server_kind kind)
{
  char *exe = server_find_program (server_name (kind));

  if (exe)
    return exe;
  if (kind == SERVER_NBDKIT)
    error ("nbdkit not found: install nbdkit (Debian: nbdkit, "
           "Fedora: nbdkit nbdkit-basic-filters)");
  else if (kind == SERVER_QSD)
    error ("qemu-storage-daemon not found: install qemu-system-common "
           "(Debian) or qemu-storage-daemon (Fedora)");
  else
    error ("qemu-nbd not found: install qemu-utils (Debian) or "
           "qemu-img (Fedora)");
  return NULL;
}

