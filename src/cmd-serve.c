/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk serve: a read-only NBD export of the disk of an image, in place. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "clone/clone.h"
#include "cmd-serve.h"
#include "common/cleanup.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/proc.h"
#include "common/text.h"
#include "serve/activation.h"
#include "serve/server.h"
#include "serve/socket.h"
#include "pull/pull.h"
#include "serve/supervisor.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk serve [OPTIONS] IMAGE\n"
  "       podman-disk serve [OPTIONS] IMAGE1 IMAGE2... | --all\n"
  "\n"
  "Export the disk of IMAGE over NBD, read-only, from where its bytes are:\n"
  "nbdkit (file plugin, offset filter) for raw disks, qemu-nbd decoding\n"
  "qcow2 disks to the guest view.  Prints the NBD URI on stdout, one line,\n"
  "once the server answers, for nbdinfo, nbdcopy, nbdfuse, qemu-img or\n"
  "qemu-system (for libguestfs, see below):\n"
  "\n"
  "  uri=$(podman-disk serve IMAGE)      # server left in the background\n"
  "  podman-disk serve IMAGE --run 'nbdcopy \"$uri\" disk.raw'\n"
  "\n"
  "--run sets nbdkit --run's variables: $uri (and $nbd, the same),\n"
  "$unixsocket and $port (one of them empty), $exportname.  libguestfs\n"
  "spells a Unix socket nbd://?socket=PATH:\n"
  "\n"
  "  podman-disk serve IMAGE --run \\\n"
  "    'guestfish --ro --format=raw -a \"nbd://?socket=$unixsocket\" -i'\n"
  "\n"
  "--format json prints one JSON object instead of the URI, on one line:\n"
  "uri, guestfs_uri (that spelling), socket, port, export_name, server, pid\n"
  "and, in the background, id (the export's, for stop).\n"
  "\n"
  "The socket is a Unix one in a private directory (/run/podman-disk as\n"
  "root, else $XDG_RUNTIME_DIR/podman-disk), removed when the server stops.\n"
  "Without --foreground or --run, the server stays in the background,\n"
  "watched by a podman-disk process that removes the socket when it exits,\n"
  "and recorded with the OCI hook's exports: 'podman-disk exports' lists it,\n"
  "'podman-disk stop' stops it (or kill the pid of --pidfile, the server's).\n"
  "\n"
  "Socket activation (systemd, or 'nbdinfo -- [ podman-disk serve IMAGE ]'\n"
  "as nbdinfo, nbdcopy and nbdfuse start a server): with LISTEN_PID and\n"
  "LISTEN_FDS=1, the server listens on the inherited socket (fd 3); nothing\n"
  "is printed, and serve stays until SIGTERM, as with --foreground.\n"
  "\n"
  "IMAGE is a name, an image ID or a transport reference (see locate --help).\n"
  "\n"
  "Several IMAGEs, or --all (every image of the store that holds a disk):\n"
  "one qemu-storage-daemon serves each disk, read-only (--writable: each on\n"
  "a throw-away overlay of its own), under its own export name, the IMAGE as\n"
  "given (--all: the image's first name, else its ID); one URI a line\n"
  "(--format json: an array), $uri of --run the server's ('nbdinfo --list\n"
  "\"$uri\"').  Not with --export-name, --server or\n"
  "--writable=persistent:DEST; --tls on is require.\n"
  "\n"
  "Options:\n"
  LOCATE_OPTIONS_HELP
  PULL_OPTIONS_HELP ("                             (default missing: serve starts a consumer of\n"
  "                             the image, as podman run does)\n")
  "      --socket PATH          listen on this Unix socket (must not exist)\n"
  "      --port N               listen on TCP port N instead, on loopback\n"
  "      --address ADDR         with --port: the address to listen on (0.0.0.0\n"
  "                             or ::: the URI names the host by its name)\n"
  "      --export-name NAME     the export's name (default: the default export)\n"
  "      --tls MODE             off (default), on (clients may use TLS) or\n"
  "                             require (TLS only); the URI is then nbds://\n"
  "      --tls-certificates DIR with --tls: x509 ca-cert.pem, server-cert.pem,\n"
  "                             server-key.pem in DIR\n"
  "      --tls-psk FILE         with --tls: pre-shared keys (psktool); the URI\n"
  "                             names the first username, never a key\n"
  "      --tls-verify-peer      with --tls-certificates: serve only clients\n"
  "                             whose certificate DIR's ca-cert.pem signed\n"
  "      --no-decode            export a qcow2 disk's bytes as stored\n"
  "      --writable             accept writes into a throw-away overlay; the\n"
  "                             image is never written\n"
  "      --writable=persistent:DEST\n"
  "                             serve DEST, a clone of the disk (podman-disk\n"
  "                             clone), made on first use: writes persist\n"
  "      --server SERVER        nbdkit or qemu-nbd (default: qemu-nbd to decode\n"
  "                             qcow2, nbdkit otherwise)\n"
  "      --all                  serve the disk of every image of the store\n"
  "      --foreground           stay and stop the server on SIGINT or SIGTERM\n"
  "      --pidfile FILE         write the server's pid in FILE (removed at exit)\n"
  "      --state-dir DIR        in the background: record the export in DIR\n"
  "                             (default /run/podman-disk, rootless\n"
  "                             $XDG_RUNTIME_DIR/podman-disk; see exports);\n"
  "                             a server in the foreground is not recorded\n"
  "      --run CMD              run the shell command CMD with $uri (and $tls,\n"
  "                             $unixsocket...) set, stop the server when it\n"
  "                             exits and exit with its status\n"
  "      --format FORMAT        text (the URI, the default) or json (every form\n"
  "                             of the URI); not with --run\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum {
  OPT_SOCKET = OPT_FIRST_COMMAND_OPTION,
  OPT_PORT,
  OPT_ADDRESS,
  OPT_EXPORT_NAME,
  OPT_NO_DECODE,
  OPT_WRITABLE,
  OPT_SERVER,
  OPT_FOREGROUND,
  OPT_PIDFILE,
  OPT_RUN,
  OPT_FORMAT,
  OPT_TLS,
  OPT_TLS_CERTIFICATES,
  OPT_TLS_PSK,
  OPT_TLS_VERIFY_PEER,
  OPT_STATE_DIR,
  OPT_ALL,
};

static bool
valid_port (const char *s)
{
  char *end;
  long n;

  if (!*s || strspn (s, "0123456789") != strlen (s))
    return false;
  errno = 0;
  n = strtol (s, &end, 10);
  return errno == 0 && n >= 1 && n <= 65535;
}

/* Run CMD by /bin/sh -c as nbdkit --run does, with the export in its
 * environment by nbdkit's names and values (nbdkit(1), CAPTIVE NBDKIT):
 * $uri and $nbd (the same since nbdkit 1.24), $exportname (maybe ""),
 * $unixsocket and $port, the one that does not apply set to "" (so that
 * none is inherited from our own environment); $tls, the mode served
 * (qemu-nbd's "on" is "require").
 */
static pid_t
run_command (const char *cmd, const struct server *srv, enum server_tls tls,
             int diskfd)
{
  pid_t pid;

  pid = process_fork ();
  if (pid == -1) {
    error_errno (errno, "fork");
    return -1;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    if (diskfd >= 0)
      close (diskfd);
    setenv ("uri", srv->uri, 1);
    setenv ("nbd", srv->uri, 1);
    setenv ("exportname", srv->export_name, 1);
    setenv ("unixsocket", srv->socket ? srv->socket : "", 1);
    setenv ("port", srv->port ? srv->port : "", 1);
    setenv ("tls", server_tls_name (tls), 1);
    execl ("/bin/sh", "sh", "-c", cmd, (char *) NULL);
    fprintf (stderr, "podman-disk: cannot run /bin/sh: %s\n", strerror (errno));
    _exit (127);
  }
  return pid;
}

/* The shell's convention: the exit code, or 128 + the signal. */
static int
exit_code (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return EXIT_ERROR;
}

int
run_captive (struct server *srv, const struct server_options *opts,
             const char *cmd, int diskfd)
{
  pid_t child = run_command (cmd, srv, server_tls_effective (opts, srv->kind),
                             diskfd);
  bool server_died = false;
  int value;

  if (child == -1) {
    server_stop (srv);
    return EXIT_ERROR;
  }
  for (;;) {
    switch (server_wait (srv, child, &value)) {
    case SERVER_WATCHED_EXITED:
      server_stop (srv);
      if (server_died && exit_code (value) == 0)
        return EXIT_ERROR;          /* printed below when it died */
      error_clear ();               /* CMD's own code: nothing to print */
      return exit_code (value);
    case SERVER_SIGNAL:
      kill (child, value);
      break;
    case SERVER_EXITED:
      /* CMD will notice; say why, and wait for it. */
      error_print ();
      server_died = true;
      break;
    }
  }
}

/* What serve prints once the server answers: the URI, or with --format
 * json every form of it, one line either way (a caller of --foreground
 * reads one line).
 */
static int
print_uri (const struct server *srv, enum output_format format)
{
  if (format == FORMAT_TEXT) {
    printf ("%s\n", srv->uri);
    return 0;
  }
  _cleanup_free_ char *guestfs = socket_guestfs_uri (srv);
  if (!guestfs)
    return -1;
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "uri", json_object_new_string (srv->uri));
  json_object_object_add (o, "guestfs_uri", json_object_new_string (guestfs));
  json_object_object_add (o, "socket",
                          srv->socket ? json_object_new_string (srv->socket) : NULL);
  json_object_object_add (o, "port",
                          srv->port ? json_object_new_int (atoi (srv->port)) : NULL);
  json_object_object_add (o, "export_name",
                          json_object_new_string (srv->export_name));
  json_object_object_add (o, "server",
                          json_object_new_string (server_name (srv->kind)));
  json_object_object_add (o, "pid", json_object_new_int (srv->pid));
  if (srv->record_id)
    json_object_object_add (o, "id", json_object_new_string (srv->record_id));
  text_fput_json (json_object_to_json_string_ext (
                    o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE),
                  stdout);
  putchar ('\n');
  json_object_put (o);
  return 0;
}

int
stay_in_foreground (struct server *srv)
{
  int value;

  for (;;) {
    switch (server_wait (srv, 0, &value)) {
    case SERVER_SIGNAL:
      debug ("%s: stopping the server", strsignal (value));
      server_stop (srv);
      return EXIT_OK;
    case SERVER_EXITED:
      return EXIT_ERROR;
    case SERVER_WATCHED_EXITED:
      break;
    }
  }
}

/* --tls and its credentials: a mode needs one of them, each needs a mode,
 * and what they name must be there (one line, before anything starts).
 * The path goes absolute in *PATH (the server runs in /), into OPTS.
 */
static int
check_tls (struct server_options *opts, const char *certificates,
           const char *psk, char **path)
{
  struct stat st;

  if (certificates && psk)
    return usage_error ("serve", "--tls-certificates and --tls-psk exclude "
                        "each other");
  if (opts->tls_verify_peer && !certificates)
    return usage_error ("serve", "--tls-verify-peer needs --tls-certificates "
                        "(a PSK client is always checked)");
  if ((certificates || psk) && opts->tls == SERVER_TLS_OFF)
    return usage_error ("serve", "%s needs --tls on or --tls require",
                        certificates ? "--tls-certificates" : "--tls-psk");
  if (opts->tls == SERVER_TLS_OFF)
    return EXIT_OK;
  if (!certificates && !psk)
    return usage_error ("serve", "--tls %s needs --tls-certificates DIR or "
                        "--tls-psk FILE", server_tls_name (opts->tls));
  const char *what = certificates ? certificates : psk;
  if (stat (what, &st) == -1) {
    error_errno (errno, "%s %s", certificates ? "--tls-certificates"
                 : "--tls-psk", what);
    return EXIT_ERROR;
  }
  if (certificates && !S_ISDIR (st.st_mode)) {
    error ("--tls-certificates %s is not a directory", what);
    return EXIT_ERROR;
  }
  if (psk && !S_ISREG (st.st_mode)) {
    error ("--tls-psk %s is not a file", what);
    return EXIT_ERROR;
  }
  if ((*path = absolute_path (what)) == NULL)
    return EXIT_ERROR;
  if (certificates)
    opts->tls_certificates = *path;
  else
    opts->tls_psk = *path;
  return EXIT_OK;
}

/* One line and exit 2: the way serve was socket-activated is wrong. */
static int
activation_error (void)
{
  error_print ();
  return EXIT_USAGE;
}

/* Socket activation: the options that name another socket or need the
 * URI printed, or none.
 */
static const char *
activation_conflict (const struct server_options *opts, const char *pidfile,
                     const char *run, enum output_format format)
{
  if (opts->socket)
    return "--socket";
  if (opts->port)
    return "--port";
  if (run)
    return "--run";
  if (pidfile)
    return "--pidfile";
  if (format == FORMAT_JSON)
    return "--format json";
  return NULL;
}

/* Socket-activated, our stdout may be the data stream of the client that
 * started us (nbdcopy -- [ podman-disk serve IMAGE ] -): nothing may reach
 * it, from us or from a child (podman pull).  It becomes our stderr.
 */
static int
quiet_stdout (void)
{
  if (dup2 (STDERR_FILENO, STDOUT_FILENO) == STDOUT_FILENO)
    return 0;
  _cleanup_close_ int nul = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (nul == -1 || dup2 (nul, STDOUT_FILENO) == -1)
    return error_errno (errno, "socket activation: cannot redirect stdout");
  return 0;
}

/* Serve on the socket that socket activation passed, until SIGTERM: the
 * client that started us is done (libnbd's nbd_close sends it to the pid
 * it started), or systemd stops the service.
 */
int
serve_activated (struct disk_location *loc, struct server_options *opts)
{
  struct server srv;
  int rc;

  server_block_signals ();
  if (server_start (loc, opts, &srv) == -1)
    return EXIT_ERROR;
  debug ("socket activation: %s serving on %s", server_name (srv.kind), srv.uri);
  rc = stay_in_foreground (&srv);
  server_clear (&srv);
  return rc;
}

int
serve_print (const struct server *srv, const struct server_options *opts,
             enum output_format format)
{
  return opts->n_exports ? print_uris (srv, opts, format) : print_uri (srv, format);
}

int
serve_in_background (const struct disk_location *loc,
                     const struct server_options *opts, const char *image,
                     const struct serve_how *how)
{
  struct server srv;
  int rc = EXIT_OK;

  if (server_start_detached (loc, opts, image, how->state_dir, how->pidfile,
                             &srv) == -1)
    return EXIT_ERROR;
  if (serve_print (&srv, opts, how->format) == -1) {
    kill (srv.pid, SIGTERM);      /* nobody would know of it */
    rc = EXIT_ERROR;
  }
  server_clear (&srv);
  return rc;
}

int
serve_here (const struct disk_location *loc, const struct server_options *opts,
            const struct serve_how *how)
{
  struct server srv;
  int rc;

  /* Only now: a Ctrl-C while locating (a slow --verify) ends us at once,
   * with nothing to stop; from here on it stops the server in order.
   * Before the server exists, so that no SIGCHLD or SIGTERM is missed.
   */
  server_block_signals ();
  struct pidfile_record pf = { .path = NULL };
  if (how->pidfile && pidfile_record_init (&pf, how->pidfile) == -1)
    return EXIT_ERROR;
  if (server_start (loc, opts, &srv) == -1
      || (how->pidfile && server_record (&srv, &pf.rec) == -1)) {
    server_stop (&srv);
    server_clear (&srv);
    pidfile_record_clear (&pf);
    return EXIT_ERROR;
  }
  /* One disk's fd is closed in --run's command (of several, none is). */
  if (how->run)
    rc = run_captive (&srv, opts, how->run, opts->n_exports ? -1 : loc->fd);
  else if (serve_print (&srv, opts, how->format) == -1) {
    server_stop (&srv);
    rc = EXIT_ERROR;
  }
  else {
    fflush (stdout);
    rc = stay_in_foreground (&srv);
  }
  server_clear (&srv);
  pidfile_record_clear (&pf);
  return rc;
}

int
cmd_serve (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    LOCATE_LONG_OPTIONS,
    PULL_LONG_OPTIONS,
    { "socket", required_argument, NULL, OPT_SOCKET },
    { "port", required_argument, NULL, OPT_PORT },
    { "address", required_argument, NULL, OPT_ADDRESS },
    { "export-name", required_argument, NULL, OPT_EXPORT_NAME },
    { "no-decode", no_argument, NULL, OPT_NO_DECODE },
    { "writable", optional_argument, NULL, OPT_WRITABLE },
    { "server", required_argument, NULL, OPT_SERVER },
    { "foreground", no_argument, NULL, OPT_FOREGROUND },
    { "pidfile", required_argument, NULL, OPT_PIDFILE },
    { "run", required_argument, NULL, OPT_RUN },
    { "format", required_argument, NULL, OPT_FORMAT },
    { "tls", required_argument, NULL, OPT_TLS },
    { "tls-certificates", required_argument, NULL, OPT_TLS_CERTIFICATES },
    { "tls-psk", required_argument, NULL, OPT_TLS_PSK },
    { "tls-verify-peer", no_argument, NULL, OPT_TLS_VERIFY_PEER },
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { "all", no_argument, NULL, OPT_ALL },
    { NULL, 0, NULL, 0 }
  };
  struct locate_request req = { 0 };
  struct pull_options pull = { .policy = PULL_MISSING };
  struct server_options opts = { .decode = true };
  bool foreground = false, all = false;
  enum output_format format = FORMAT_TEXT;
  bool format_given = false;
  const char *pidfile = NULL, *run = NULL, *clone = NULL, *state_dir = NULL;
  const char *tls_certificates = NULL, *tls_psk = NULL;
  _cleanup_free_ char *tls_path = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg)
        || cli_locate_option ("serve", c, optarg, &req)
        || cli_pull_option ("serve", c, optarg, &pull))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case OPT_SOCKET:
      if (!*optarg)
        return usage_error ("serve", "--socket PATH is empty");
      opts.socket = optarg;
      break;
    case OPT_PORT:
      if (!valid_port (optarg))
        return usage_error ("serve", "--port must be a number from 1 to 65535, "
                            "not '%s'", optarg);
      opts.port = optarg;
      break;
    case OPT_ADDRESS: opts.address = optarg; break;
    case OPT_EXPORT_NAME:
      if (strlen (optarg) > 4096)    /* the NBD protocol's limit */
        return usage_error ("serve", "--export-name is longer than 4096 bytes");
      opts.export_name = optarg;
      break;
    case OPT_NO_DECODE: opts.decode = false; break;
    case OPT_WRITABLE:
      if (!optarg)
        opts.writable = true;
      else if (strncmp (optarg, "persistent:", 11) == 0 && optarg[11])
        clone = optarg + 11;
      else
        return usage_error ("serve", "--writable takes no value, or "
                            "persistent:DEST, not '%s'", optarg);
      break;
    case OPT_SERVER:
      if (server_parse_kind (optarg, &opts.kind) == -1 || opts.kind == SERVER_QSD)
        return usage_error ("serve", "--server must be nbdkit or qemu-nbd, "
                            "not '%s'", optarg);
      break;
    case OPT_FOREGROUND: foreground = true; break;
    case OPT_PIDFILE: pidfile = optarg; break;
    case OPT_RUN: run = optarg; break;
    case OPT_FORMAT:
      if (cli_parse_format ("serve", optarg, &format) == -1)
        return EXIT_USAGE;
      format_given = true;
      break;
    case OPT_TLS:
      if (server_parse_tls (optarg, &opts.tls) == -1)
        return usage_error ("serve", "--tls must be off, on or require, "
                            "not '%s'", optarg);
      break;
    case OPT_TLS_CERTIFICATES: tls_certificates = optarg; break;
    case OPT_TLS_PSK: tls_psk = optarg; break;
    case OPT_TLS_VERIFY_PEER: opts.tls_verify_peer = true; break;
    case OPT_STATE_DIR: state_dir = optarg; break;
    case OPT_ALL: all = true; break;
    default: return cli_bad_option ("serve");
    }
  }
  /* Before anything else may run a child: the socket is ours alone. */
  int activated = socket_activation_take (&opts.listen_fd);
  if (activated == -1)
    return activation_error ();
  if (activated) {
    const char *conflict = activation_conflict (&opts, pidfile, run, format);
    if (conflict) {
      error ("%s cannot be used with socket activation (LISTEN_FDS): the "
             "server listens on the inherited socket, in the foreground",
             conflict);
      return activation_error ();
    }
    if (quiet_stdout () == -1)
      return activation_error ();
    /* podman unshare would not pass the socket on (source_rerun_in_userns). */
    setenv ("PODMAN_DISK_UNSHARE", "no", 1);
  }
  if (opts.socket && opts.port)
    return usage_error ("serve", "--socket and --port exclude each other");
  if (opts.address && !opts.port)
    return usage_error ("serve", "--address needs --port");
  if (foreground && run)
    return usage_error ("serve", "--foreground and --run exclude each other");
  if (format_given && run)
    return usage_error ("serve", "--format and --run exclude each other: "
                        "--run prints nothing, CMD has $uri and the rest");
  int r = check_tls (&opts, tls_certificates, tls_psk, &tls_path);
  if (r != EXIT_OK)
    return r;
  if (all || argc - optind > 1) {
    struct serve_how how = {
      .foreground = foreground, .activated = activated, .pidfile = pidfile,
      .run = run, .format = format, .clone = clone, .state_dir = state_dir,
    };
    return serve_multi (argv + optind, argc - optind, all, &req, &pull,
                        &opts, &how);
  }
  const char *image = cli_one_image ("serve", argc, argv);
  req.store = global_opts.store;
  if (!image || pull_check_request ("serve", image, &pull, &req)
      || source_check_request ("serve", image, &req))
    return EXIT_USAGE;

  if (clone && opts.writable)
    return usage_error ("serve", "--writable and --writable=persistent:DEST "
                        "exclude each other");
  if (clone && !opts.decode)
    return usage_error ("serve", "--writable=persistent:DEST serves the guest "
                        "view: not with --no-decode");

  _cleanup_location_ struct disk_location loc;
  disk_location_init (&loc);
  if (pull_locate (image, &pull, &req, &loc) == -1)
    return EXIT_ERROR;
  /* --writable=persistent:DEST: serve the clone DEST of the disk, made on
   * first use (its image held, see clone/clone.h).
   */
  if (clone) {
    if (clone_take_location (&loc, &req.store, clone, true) == -1)
      return EXIT_ERROR;
    opts.persistent = true;
  }

  if (activated)
    return serve_activated (&loc, &opts);

  struct serve_how how = {
    .pidfile = pidfile, .run = run, .format = format, .state_dir = state_dir,
  };
  if (!foreground && !run)
    return serve_in_background (&loc, &opts, image, &how);
  return serve_here (&loc, &opts, &how);
}
