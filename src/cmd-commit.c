/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk commit: a clone flattened into a new containerDisk image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "clone/clone.h"
#include "clone/run.h"
#include "common/cli.h"
#include "common/error.h"

static const char usage[] =
  "Usage: podman-disk commit [OPTIONS] DEST NEWIMAGE\n"
  "\n"
  "Build NEWIMAGE, a containerDisk image of what the guest of clone DEST\n"
  "sees: its disk flattened into one qcow2 (qemu-img convert, sparse), as\n"
  "/disk/disk.qcow2 owned by 107:107 with mode 0440, FROM scratch, built by\n"
  "podman build into the store.  'podman push NEWIMAGE' publishes it;\n"
  "'podman-disk serve NEWIMAGE' and 'podman-disk clone NEWIMAGE' use it.\n"
  "The clone's base must be intact.  The temporary build context is made\n"
  "under $TMPDIR (default /var/tmp) and removed.\n"
  "\n"
  "Options:\n"
  "      --compress             compress the qcow2's clusters (qemu-img -c)\n"
  "\n"
  GLOBAL_OPTIONS_HELP;

enum { OPT_COMPRESS = OPT_FIRST_COMMAND_OPTION };

/* The build context: a private directory with the disk and a Containerfile. */
struct context {
  char dir[4096];
  char disk[4200];
  char file[4200];
};

static void
context_remove (struct context *ctx)
{
  if (!ctx->dir[0])
    return;
  unlink (ctx->disk);
  unlink (ctx->file);
  rmdir (ctx->dir);
}

static int
context_make (struct context *ctx)
{
  const char *tmp = getenv ("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/var/tmp";
  snprintf (ctx->dir, sizeof ctx->dir, "%s/podman-disk-commit.XXXXXX", tmp);
  if (!mkdtemp (ctx->dir)) {        /* mode 0700, ours */
    int e = errno;
    ctx->dir[0] = '\0';
    return error_errno (e, "cannot make a build directory under %s", tmp);
  }
  snprintf (ctx->disk, sizeof ctx->disk, "%s/disk.qcow2", ctx->dir);
  snprintf (ctx->file, sizeof ctx->file, "%s/Containerfile", ctx->dir);
  return 0;
}

/* As kubevirt/containerdisks ship them: qemu's uid and gid in KubeVirt,
 * read-only.  podman 4.3's COPY takes --chmod; the mode is on the file too.
 */
static const char containerfile[] =
  "FROM scratch\n"
  "COPY --chown=107:107 --chmod=0440 disk.qcow2 /disk/disk.qcow2\n";

static int
write_containerfile (const char *path)
{
  _cleanup_close_ int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                 0600);
  if (fd == -1 || write (fd, containerfile, strlen (containerfile))
      != (ssize_t) strlen (containerfile))
    return error_errno (errno, "%s", path);
  return 0;
}

/* The guest's view of DEST into OUT: the source's format named (the
 * backing's is named in DEST's header), sparse, compressed if asked.
 */
static int
flatten (const char *dest, const char *out, bool compress)
{
  _cleanup_free_ char *err = NULL;
  const char *argv[11] = { "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2" };
  size_t n = 7;
  if (compress)
    argv[n++] = "-c";
  argv[n++] = dest;
  argv[n++] = out;
  argv[n] = NULL;
  int r = run_program (argv, -1, NULL, &err);
  if (r == -1)
    return -1;
  if (r != 0)
    return error ("qemu-img convert failed: %s", err && *err ? err : "no message");
  if (chmod (out, 0440) == -1)
    return error_errno (errno, "%s", out);
  return 0;
}

static int
build (const char *ctxdir, const char *newimage, char **id)
{
  const char *args[] = { "build", "--quiet", "--pull=never", "--tag", newimage,
                         ctxdir, NULL };
  if (run_podman (&global_opts.store, args, id) == -1)
    return error_context ("cannot build %s", newimage);
  return 0;
}

int
cmd_commit (int argc, char **argv)
{
  static const struct option longopts[] = {
    GLOBAL_LONG_OPTIONS,
    { "compress", no_argument, NULL, OPT_COMPRESS },
    { NULL, 0, NULL, 0 }
  };
  bool compress = false;
  int c;

  while ((c = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
    if (cli_global_option (c, optarg))
      continue;
    switch (c) {
    case 'h': fputs (usage, stdout); return EXIT_OK;
    case OPT_COMPRESS: compress = true; break;
    default: return cli_bad_option ("commit");
    }
  }
  if (argc - optind < 2)
    return usage_error ("commit", argc == optind ? "missing DEST and NEWIMAGE"
                        : "missing NEWIMAGE");
  if (argc - optind > 2)
    return usage_error ("commit", "one DEST and one NEWIMAGE only, got '%s' too",
                        argv[optind + 2]);
  const char *dest = argv[optind], *newimage = argv[optind + 1];
  if (!*dest || !*newimage)
    return usage_error ("commit", "%s is empty", *dest ? "NEWIMAGE" : "DEST");

  struct clone_info info;
  struct context ctx;
  ctx.dir[0] = '\0';
  _cleanup_free_ char *id = NULL;
  run_catch_signals ();
  int r = clone_check (dest, &global_opts.store, &info);
  clone_info_clear (&info);
  if (r == 0)
    r = context_make (&ctx);
  if (r == 0)
    r = write_containerfile (ctx.file);
  if (r == 0)
    r = flatten (dest, ctx.disk, compress);
  if (r == 0 && run_interrupted ())
    r = error ("interrupted");
  if (r == 0)
    r = build (ctx.dir, newimage, &id);
  context_remove (&ctx);
  if (r == 0 && run_interrupted ())
    r = error ("interrupted");
  if (r == -1)
    return EXIT_ERROR;
  /* podman build --quiet's answer: the image id. */
  fputs (id ? id : "", stdout);
  return EXIT_OK;
}
