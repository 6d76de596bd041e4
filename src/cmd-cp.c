/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk cp: extract the disk of an image to a file or block device. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/proc.h"
#include "common/progress.h"
#include "common/safefile.h"
#include "serve/qemuspec.h"
#include "serve/server.h"
#include "serve/spawn.h"
#include "serve/sparsecopy.h"
#include "pull/pull.h"
#include "source.h"

static const char usage[] =
  "Usage: podman-disk cp [OPTIONS] IMAGE DEST\n"
  "\n"
  "Extract the disk of IMAGE to DEST, a file (created, or replaced whole\n"
  "once the copy is complete), a block device, or - for stdout (the raw\n"
  "disk, or a qcow2 disk as stored with --format qcow2).  A dangling symlink, or a\n"
  "symlink owned by another user than you or root, is never written\n"
  "through.  A raw disk, or a qcow2 disk kept as qcow2, is copied by\n"
  "the kernel (copy_file_range: a reflink where the filesystem allows), and\n"
  "sparse: holes stay holes and all-zero blocks become holes, so a 10 GiB\n"
  "disk holding 1 GiB of data takes 1 GiB.  Other conversions (qcow2 to raw,\n"
  "raw to qcow2) are done by qemu-img convert, reading the disk in place.\n"
  "\n"
  "IMAGE is a name, an image ID or a transport reference (see locate --help).\n"
  "\n"
  "Options:\n"
  LOCATE_OPTIONS_HELP
  PULL_OPTIONS_HELP ("                             (default missing: cp consumes the image, as\n"
  "                             podman run does)\n")
  "      --format FORMAT        raw (the default: qcow2 disks are decoded) or qcow2\n"
  "      --progress             show a progress bar on the terminal, and a\n"
  "                             line every few seconds elsewhere\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_FORMAT = OPT_FIRST_COMMAND_OPTION, OPT_PROGRESS };

static volatile sig_atomic_t interrupted;

static void
on_signal (int sig)
{
  interrupted = sig;
}

/* Stop on SIGINT, SIGTERM and SIGHUP without dying at once, so that the
 * partial destination file can be removed.  No SA_RESTART: a blocking
 * read or wait returns EINTR.
 */
static void
catch_signals (void)
{
  struct sigaction sa = { .sa_handler = on_signal };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
}

static int
check_interrupted (void)
{
  if (interrupted)
    return error ("interrupted by SIG%s", sigabbrev_np (interrupted));
  return 0;
}

/* Where the disk goes.  A file is written as a new file (unnamed, or under
 * a temporary name) and given DEST's name only when complete, replacing an
 * existing file atomically: a failed copy leaves nothing, and a symlink or
 * hardlink planted at DEST is replaced, never written through.  DEST's
 * path is walked by safefile.h's rules: no symlink another user made is
 * followed, and a dangling one is refused.  A block device is written in
 * place, opened without O_CREAT.
 */
struct dest {
  const char *path;          /* as given */
  bool blockdev;
  bool replace;              /* an existing file is replaced */
  mode_t mode;               /* the replaced file's permissions, kept */
  struct safe_path where;    /* the directory and name DEST leads to */
  struct safe_file file;     /* the new file, fd -1 for a block device */
  int fd;                    /* what is written: the new file or the device */
};

static void
dest_clear (struct dest *d)
{
  if (d->blockdev && d->fd >= 0)
    close (d->fd);
  safe_file_discard (&d->file);    /* nothing left unless committed */
  safe_path_clear (&d->where);
  d->fd = -1;
}

/* The block device DEST leads to, opened for writing (never created). */
static int
open_blockdev (struct dest *d)
{
  struct stat st;

  d->blockdev = true;
  d->fd = openat (d->where.dirfd, d->where.name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (d->fd == -1)
    return error_errno (errno, "cannot open %s", d->path);
  if (fstat (d->fd, &st) == -1 || !S_ISBLK (st.st_mode)
      || st.st_rdev != d->where.st.st_rdev)
    return error ("%s changed while it was checked", d->path);
  return 0;
}

/* What DEST is, before anything is written: a clear error now rather than
 * a half-done copy later.  Opens what will be written.
 */
static int
check_dest (const char *path, const struct disk_location *loc, struct dest *d)
{
  const struct stat *st = &d->where.st;
  struct stat src;

  *d = (struct dest) { .path = path, .fd = -1, .file = { .fd = -1 } };
  if (safe_path_resolve (path, &d->where) == -1)
    return -1;
  if (d->where.exists) {
    if (S_ISDIR (st->st_mode))
      return error ("%s is a directory: give the path of the file to write", path);
    if (d->where.trailing_slash)
      return error ("%s is not a directory", path);
    if (S_ISBLK (st->st_mode))
      return open_blockdev (d);
    if (!S_ISREG (st->st_mode))
      return error ("%s is neither a regular file nor a block device", path);
    if (fstat (loc->fd, &src) == 0 && src.st_dev == st->st_dev
        && src.st_ino == st->st_ino)
      return error ("%s is the file the disk is in", path);
    d->replace = true;
    d->mode = st->st_mode & 0777;
  }
  else if (d->where.trailing_slash)
    return error ("%s: no such directory", path);
  if (safe_file_open (&d->file, d->where.dirfd, 0644) == -1)
    return error_context ("%s", path);
  d->fd = d->file.fd;
  return 0;
}

/* The new file complete: it takes DEST's name. */
static int
commit_dest (struct dest *d)
{
  if (d->blockdev)
    return 0;
  /* A replaced file keeps its permissions: a private disk stays private. */
  if (d->replace && fchmod (d->fd, d->mode) == -1)
    return error_errno (errno, "%s", d->path);
  if (safe_file_commit (&d->file, d->where.name, d->replace) == -1) {
    if (errno == EEXIST)
      return error ("%s was created by someone else during the copy: "
                    "not replaced; copy again to replace it", d->path);
    return error_context ("%s", d->path);
  }
  return 0;
}

/* A block device must hold NEED bytes. */
static int
check_blockdev_size (int fd, const char *path, uint64_t need)
{
  uint64_t size;

  if (ioctl (fd, BLKGETSIZE64, &size) == -1)
    return error_errno (errno, "%s: cannot get the device size", path);
  if (size < need)
    return error ("%s is too small: %" PRIu64 " bytes, the disk needs %" PRIu64,
                  path, size, need);
  return 0;
}

static int
on_progress (uint64_t done, void *arg)
{
  progress_update (arg, done);
  return check_interrupted ();
}

/* The bytes of the disk as they are, sparse, in the kernel. */
static int
copy_bytes (const struct disk_location *loc, struct dest *d, bool show)
{
  struct progress prog;
  int r;

  if (d->blockdev && check_blockdev_size (d->fd, d->path, loc->size) == -1)
    return -1;
  progress_start (&prog, show, loc->size);
  r = sparsecopy (loc->fd, loc->offset, loc->size, d->fd, d->blockdev,
                  on_progress, &prog);
  progress_end (&prog, r == 0);
  return r;
}

/* qemu-img -p prints "    (12.34/100%)\r" on stdout: read it from FD. */
static void
follow_qemu_progress (int fd, struct progress *prog, uint64_t total, pid_t child)
{
  char buf[256];
  size_t len = 0;

  for (;;) {
    ssize_t n = read (fd, buf + len, sizeof buf - 1 - len);
    if (n == -1 && errno == EINTR) {
      if (interrupted)
        kill (child, SIGTERM);
      continue;
    }
    if (n <= 0)
      return;
    len += n;
    buf[len] = '\0';
    char *open = strrchr (buf, '(');
    double pct;
    if (open && sscanf (open, "(%lf/100%%)", &pct) == 1)
      progress_update (prog, pct / 100 * total);
    /* Keep the unfinished tail only. */
    if (open && !strchr (open, ')')) {
      len = strlen (open);
      memmove (buf, open, len + 1);
    }
    else
      len = 0;
  }
}

/* Through qemu-img convert on the disk in place (read through the
 * location's fd, which qemu-img inherits as fd 3).
 */
static int
convert (const struct disk_location *loc, struct dest *d,
         const char *format, bool show)
{
  _cleanup_free_ char *exe = server_find_program ("qemu-img");
  _cleanup_free_ char *spec = qemuspec_build (loc, true, "/dev/fd/3");
  _cleanup_close_ int errfd = -1;
  int out = -1;
  struct progress prog;
  pid_t pid;
  int status;

  if (!exe)
    return error ("qemu-img not found: install qemu-utils (Debian) or qemu-img (Fedora)");
  if (!spec)
    return -1;                          /* error() says why */
  if (d->blockdev && strcmp (format, "raw") == 0
      && check_blockdev_size (d->fd, d->path, loc->fmt.virtual_size) == -1)
    return -1;
  /* qemu-img writes what DEST's fd is, inherited as fd 4: it never opens
   * DEST's path (O_CREAT | O_TRUNC would follow a symlink planted there).
   */
  const char *argv[9] = { exe, "convert", show ? "-p" : "-q", "-O", format };
  int n = 5;
  if (d->blockdev)
    argv[n++] = "-n";         /* a block device is written, not created */
  argv[n++] = spec;
  argv[n++] = "/dev/fd/4";
  argv[n] = NULL;
  debug ("running %s convert ... /dev/fd/4 (%s)", exe, d->path);

  if ((errfd = output_capture ()) == -1)
    return -1;
  if ((pid = process_fork_pipe (&out)) == -1)
    return -1;
  if (pid == 0) {
    int src = fcntl (loc->fd, F_DUPFD, 10);
    int dst = fcntl (d->fd, F_DUPFD, 10);
    int nul = open ("/dev/null", O_RDONLY);
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    if (src == -1 || dst == -1 || nul == -1 || dup2 (nul, 0) == -1
        || dup2 (out, 1) == -1 || dup2 (errfd, 2) == -1 || dup2 (src, 3) == -1
        || dup2 (dst, 4) == -1)
      _exit (126);
    close_range (5, ~0U, 0);
    execv (exe, (char **) argv);
    dprintf (2, "cannot run %s: %s\n", exe, strerror (errno));
    _exit (127);
  }
  progress_start (&prog, show, loc->fmt.virtual_size);
  follow_qemu_progress (out, &prog, loc->fmt.virtual_size, pid);
  close (out);
  if (process_wait (pid, &status, &interrupted) == -1)
    return -1;
  bool ok = WIFEXITED (status) && WEXITSTATUS (status) == 0;
  progress_end (&prog, ok && !interrupted);
  if (check_interrupted () == -1)
    return -1;
  if (!ok) {
    _cleanup_free_ char *err = output_line (errfd, 0);
    if (strstr (err, "No space left"))
      return error ("no space left on the destination device (qemu-img: %s)", err);
    return error ("qemu-img convert failed: %s", *err ? err : "no message");
  }
  return 0;
}

/* The guest view of a qcow2 disk on stdout: qemu-img cannot write a
 * stream, so qemu-nbd serves it and nbdcopy reads it out, in order.
 */
static int
decode_to_stdout (const struct disk_location *loc, bool show)
{
  _cleanup_free_ char *exe = server_find_program ("nbdcopy");
  struct server_options opts = { .kind = SERVER_AUTO, .decode = true };
  struct server srv;
  int status;

  if (!exe)
    return error ("nbdcopy not found (it decodes a qcow2 disk to stdout): "
                  "install libnbd-bin (Debian) or libnbd (Fedora)");
  if (server_start (loc, &opts, &srv) == -1)
    return -1;
  pid_t pid = process_fork ();
  if (pid == 0) {
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    signal (SIGHUP, SIG_DFL);
    if (show)
      execl (exe, exe, "--progress", "--", srv.uri, "-", (char *) NULL);
    else
      execl (exe, exe, "--", srv.uri, "-", (char *) NULL);
    dprintf (2, "cannot run %s: %s\n", exe, strerror (errno));
    _exit (127);
  }
  int r = pid == -1 ? -1 : process_wait (pid, &status, &interrupted);
  server_stop (&srv);
  server_clear (&srv);
  if (r == -1 || check_interrupted () == -1)
    return -1;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return error ("nbdcopy failed to write the disk to stdout");
  return 0;
}

/* DEST "-": the disk on stdout, in order, holes as zeros. */
static int
copy_to_stdout (const struct disk_location *loc, const char *format, bool show)
{
  struct progress prog;

  if (strcmp (format, diskfmt_name (loc->fmt.format)) == 0) {
    progress_start (&prog, show, loc->size);
    int r = streamcopy (loc->fd, loc->offset, loc->size, STDOUT_FILENO,
                        on_progress, &prog);
    progress_end (&prog, r == 0);
    return r;
  }
  if (strcmp (format, "qcow2") == 0)
    return error ("a raw disk cannot be converted to qcow2 on a stream: give "
                  "DEST a file name");
  return decode_to_stdout (loc, show);
}

int
cmd_cp (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    LOCATE_LONG_OPTIONS,
    PULL_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { "progress", no_argument, NULL, OPT_PROGRESS },
    { NULL, 0, NULL, 0 }
  };
  struct locate_request req = { 0 };
  struct pull_options pull = { .policy = PULL_MISSING };
  const char *format = "raw";
  bool show = false;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg)
        || cli_locate_option ("cp", c, optarg, &req)
        || cli_pull_option ("cp", c, optarg, &pull))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case OPT_FORMAT:
      if (strcmp (optarg, "raw") && strcmp (optarg, "qcow2"))
        return usage_error ("cp", "--format must be raw or qcow2, not '%s'", optarg);
      format = optarg;
      break;
    case OPT_PROGRESS: show = true; break;
    default: return cli_bad_option ("cp");
    }
  }
  if (argc - optind < 2)
    return usage_error ("cp", argc == optind ? "missing IMAGE and DEST" : "missing DEST");
  if (argc - optind > 2)
    return usage_error ("cp", "one IMAGE and one DEST only, got '%s' too",
                        argv[optind + 2]);
  const char *image = argv[optind], *dest = argv[optind + 1];
  if (!*image || !*dest)
    return usage_error ("cp", "%s is empty", *image ? "DEST" : "IMAGE");
  req.store = global_opts.store;
  if (pull_check_request ("cp", image, &pull, &req)
      || source_check_request ("cp", image, &req))
    return EXIT_USAGE;

  _cleanup_location_ struct disk_location loc;
  _cleanup_(dest_clear) struct dest d = { .fd = -1, .file = { .fd = -1 },
                                          .where = { .dirfd = -1 } };
  disk_location_init (&loc);
  if (strcmp (dest, "-") == 0) {
    if (isatty (STDOUT_FILENO))
      return usage_error ("cp", "stdout is a terminal: redirect it (cp IMAGE - "
                          "> FILE), or give DEST a file name");
    if (pull_locate (image, &pull, &req, &loc) == -1)
      return EXIT_ERROR;
    catch_signals ();
    return copy_to_stdout (&loc, format, show) == -1 ? EXIT_ERROR : EXIT_OK;
  }
  if (pull_locate (image, &pull, &req, &loc) == -1 || check_dest (dest, &loc, &d) == -1)
    return EXIT_ERROR;

  catch_signals ();
  /* The bytes as stored are already what is asked for: raw to raw, or a
   * qcow2 disk kept as qcow2.
   */
  bool as_stored = strcmp (format, diskfmt_name (loc.fmt.format)) == 0;
  int r = as_stored ? copy_bytes (&loc, &d, show) : convert (&loc, &d, format, show);
  /* A failed copy never gets DEST's name (dest_clear drops the new file);
   * a device is what it is.
   */
  if (r == -1 || check_interrupted () == -1 || commit_dest (&d) == -1)
    return EXIT_ERROR;
  return EXIT_OK;
}
