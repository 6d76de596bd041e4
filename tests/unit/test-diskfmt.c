/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: disk format detection (src/image/diskfmt.c) on hand-built
 * headers for every case, and on real images made by qemu-img if present.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/diskfmt.h"
#include "common/error.h"

#include "unit.h"

static unsigned char buf[DISKFMT_HEADER_SIZE];

static void
put32 (size_t off, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    buf[off + i] = v >> (24 - 8 * i);
}

static void
put64 (size_t off, uint64_t v)
{
  put32 (off, v >> 32);
  put32 (off + 4, v);
}

#define MiB (1024 * 1024)
#define DISK_FILE_SIZE (4 * MiB)

/* A sound qcow2 header of VERSION: 1 GiB, 64 KiB clusters, L1 table of 2
 * entries at 192 KiB, in a 4 MiB file.
 */
static void
qcow2 (uint32_t version)
{
  memset (buf, 0, sizeof buf);
  memcpy (buf, "QFI\xfb", 4);
  put32 (4, version);
  put32 (20, 16);                  /* cluster_bits */
  put64 (24, 1024ULL * MiB);       /* size */
  put32 (36, 2);                   /* l1_size */
  put64 (40, 3 * 65536);           /* l1_table_offset */
  put64 (48, 65536);               /* refcount_table_offset */
  put32 (56, 1);
  if (version >= 3) {
    put32 (96, 4);                 /* refcount_order */
    put32 (100, 104);              /* header_length */
  }
}

static void
expect_ok (const char *what, size_t len, uint64_t size, enum disk_format f,
           uint64_t vsize, uint32_t version, uint32_t cluster_bits)
{
  struct disk_format_info info;
  error_clear ();
  int r = diskfmt_probe_buffer (buf, len, size, &info);
  check (r == 0 && info.format == f && info.virtual_size == vsize &&
         info.qcow2_version == version && info.cluster_bits == cluster_bits,
         "%s: %s, virtual size %llu, version %u, cluster_bits %u%s%s", what,
         diskfmt_name (f), (unsigned long long) vsize, version, cluster_bits,
         r == 0 ? "" : ": ", r == 0 ? "" : error_message ());
}

static void
expect_refused (const char *what, size_t len, uint64_t size,
                enum disk_format f, const char *message)
{
  struct disk_format_info info;
  error_clear ();
  int r = diskfmt_probe_buffer (buf, len, size, &info);
  bool ok = r == -1 && info.format == f && !strcmp (error_message (), message);
  check (ok, "%s: refused as %s: \"%s\"%s%s", what, diskfmt_name (f), message,
         ok ? "" : " got: ", ok ? "" : (r == 0 ? "success" : error_message ()));
}

static void
test_qcow2 (void)
{
  qcow2 (2);
  expect_ok ("qcow2 v2", sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
             1024ULL * MiB, 2, 16);
  qcow2 (3);
  expect_ok ("qcow2 v3", sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
             1024ULL * MiB, 3, 16);
  put64 (72, 1 | 8 | 16);          /* dirty, compression type, extended L2 */
  put32 (100, 112);
  buf[104] = 1;                    /* zstd */
  expect_ok ("qcow2 v3 dirty, zstd, extended L2", sizeof buf, DISK_FILE_SIZE,
             DISK_QCOW2, 1024ULL * MiB, 3, 16);

  qcow2 (3);
  put64 (8, 0x200);
  put32 (16, 11);
  memcpy (buf + 0x200, "/etc/passwd", 11);
  expect_refused ("qcow2 with backing file", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 with a backing file (/etc/passwd) would "
                  "open a host path: refused");
  qcow2 (2);
  put64 (8, 0x10000);
  put32 (16, 11);
  expect_refused ("qcow2 v2 with backing file beyond the header", sizeof buf,
                  DISK_FILE_SIZE, DISK_QCOW2, "qcow2 with a backing file (?) "
                  "would open a host path: refused");
  qcow2 (2);
  put64 (8, 0x200);
  put32 (16, 3);
  memcpy (buf + 0x200, "a\nb", 3);
  expect_refused ("qcow2 backing file name with a newline", sizeof buf,
                  DISK_FILE_SIZE, DISK_QCOW2, "qcow2 with a backing file "
                  "(a?b) would open a host path: refused");

  qcow2 (3);
  put64 (72, 4);
  put32 (104, 0x44415441);         /* "DATA" extension */
  put32 (108, 8);
  memcpy (buf + 112, "/dev/sda", 8);
  expect_refused ("qcow2 with external data file", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 with an external data file (/dev/sda) "
                  "would open a host path: refused");
  put32 (104, 0x6803f857);         /* another extension first */
  put32 (108, 3);
  put32 (120, 0x44415441);         /* 3 bytes padded to 8 */
  put32 (124, 4);
  memcpy (buf + 128, "data", 4);
  expect_refused ("qcow2 external data file after another extension",
                  sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
                  "qcow2 with an external data file (data) would open a host "
                  "path: refused");
  put32 (104, 0);
  expect_refused ("qcow2 external data file without a name", sizeof buf,
                  DISK_FILE_SIZE, DISK_QCOW2, "qcow2 with an external data "
                  "file (?) would open a host path: refused");

  qcow2 (3);
  put64 (72, 2);
  expect_refused ("qcow2 corrupt bit", sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
                  "qcow2 image marked corrupt: refused (qemu-img check -r all "
                  "repairs a copy)");
  qcow2 (3);
  put64 (72, 1ULL << 40);
  expect_refused ("qcow2 unknown incompatible feature", sizeof buf,
                  DISK_FILE_SIZE, DISK_QCOW2, "qcow2 with unknown "
                  "incompatible features 0x10000000000: refused");
  qcow2 (3);
  put32 (100, 48);
  expect_refused ("qcow2 v3 header_length 48", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 header_length 48 is invalid: corrupt "
                  "header");
  qcow2 (3);
  put32 (100, 70000);
  expect_refused ("qcow2 v3 header_length beyond the cluster", sizeof buf,
                  DISK_FILE_SIZE, DISK_QCOW2, "qcow2 header_length 70000 is "
                  "invalid: corrupt header");
}

static void
test_qcow2_fields (void)
{
  qcow2 (3);
  put32 (20, 40);
  expect_refused ("qcow2 cluster_bits 40", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 cluster_bits 40 is out of range (9 to "
                  "21): corrupt header");
  put32 (20, 8);
  expect_refused ("qcow2 cluster_bits 8", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 cluster_bits 8 is out of range (9 to "
                  "21): corrupt header");
  qcow2 (1);
  expect_refused ("qcow version 1", sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
                  "qcow2 version 1 is not supported (2 and 3 are)");
  qcow2 (4);
  expect_refused ("qcow2 version 4", sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
                  "qcow2 version 4 is not supported (2 and 3 are)");
  qcow2 (2);
  put64 (24, 0);
  expect_refused ("qcow2 virtual size 0", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 virtual size 0 is out of range: corrupt "
                  "header");
  put64 (24, 1ULL << 62);
  expect_refused ("qcow2 virtual size 2^62", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 virtual size 4611686018427387904 is out "
                  "of range: corrupt header");
  qcow2 (2);
  put32 (36, 0x10000000);
  expect_refused ("qcow2 huge L1 table", sizeof buf, DISK_FILE_SIZE,
                  DISK_QCOW2, "qcow2 L1 table (268435456 entries at offset "
                  "196608) lies beyond the end of the disk (4194304 bytes): "
                  "corrupt or truncated");
  qcow2 (2);
  put64 (40, ~0ULL);
  expect_refused ("qcow2 L1 table offset beyond the file", sizeof buf,
                  DISK_FILE_SIZE, DISK_QCOW2, "qcow2 L1 table (2 entries at "
                  "offset 18446744073709551615) lies beyond the end of the "
                  "disk (4194304 bytes): corrupt or truncated");
  qcow2 (3);
  put32 (32, 2);
  expect_refused ("qcow2 encrypted", sizeof buf, DISK_FILE_SIZE, DISK_QCOW2,
                  "encrypted qcow2 (crypt_method 2) is not supported");
  qcow2 (3);
  expect_refused ("qcow2 magic, 50 bytes", 50, 50, DISK_QCOW2,
                  "qcow2 header truncated (50 bytes)");
  expect_refused ("qcow2 v3, 80 bytes", 80, 80, DISK_QCOW2,
                  "qcow2 header truncated (80 bytes)");
  expect_refused ("qcow2 v3, 4096 bytes read, member of 80", sizeof buf, 80,
                  DISK_QCOW2, "qcow2 header truncated (80 bytes)");
}

static void
test_others (void)
{
  static const char refuse[] = " disks are not supported yet: convert with "
    "qemu-img convert -O qcow2";
  char msg[256];

  memset (buf, 0, sizeof buf);
  memcpy (buf, "KDMV", 4);
  snprintf (msg, sizeof msg, "vmdk%s", refuse);
  expect_refused ("vmdk sparse", sizeof buf, DISK_FILE_SIZE, DISK_VMDK, msg);
  memset (buf, 0, sizeof buf);
  strcpy ((char *) buf, "# Disk DescriptorFile\nversion=1\n");
  expect_refused ("vmdk descriptor", sizeof buf, DISK_FILE_SIZE, DISK_VMDK,
                  msg);
  memset (buf, 0, sizeof buf);
  memcpy (buf, "vhdxfile", 8);
  snprintf (msg, sizeof msg, "vhdx%s", refuse);
  expect_refused ("vhdx", sizeof buf, DISK_FILE_SIZE, DISK_VHDX, msg);
  memset (buf, 0, sizeof buf);
  memcpy (buf, "conectix", 8);
  snprintf (msg, sizeof msg, "vpc%s", refuse);
  expect_refused ("vpc (dynamic VHD)", sizeof buf, DISK_FILE_SIZE, DISK_VPC,
                  msg);
  memset (buf, 0, sizeof buf);
  strcpy ((char *) buf, "<<< Oracle VM VirtualBox Disk Image >>>\n");
  expect_ok ("vdi text without the signature is raw", sizeof buf,
             DISK_FILE_SIZE, DISK_RAW, DISK_FILE_SIZE, 0, 0);
  memcpy (buf + 64, "\x7f\x10\xda\xbe", 4);
  snprintf (msg, sizeof msg, "vdi%s", refuse);
  expect_refused ("vdi", sizeof buf, DISK_FILE_SIZE, DISK_VDI, msg);

  memset (buf, 0, sizeof buf);
  expect_ok ("zeros are raw", sizeof buf, DISK_FILE_SIZE, DISK_RAW,
             DISK_FILE_SIZE, 0, 0);
  /* An ISO 9660 volume descriptor sits at 32 KiB, beyond the header. */
  expect_ok ("ISO-like is raw", sizeof buf, 3 * MiB, DISK_RAW, 3 * MiB, 0, 0);
  memcpy (buf, "QFI", 3);
  expect_ok ("3 bytes of qcow2 magic is raw", 3, 3, DISK_RAW, 3, 0, 0);
  expect_ok ("empty is raw", 0, 0, DISK_RAW, 0, 0, 0);
  memcpy (buf, "\xeb\x63\x90", 3);
  memcpy (buf + 510, "\x55\xaa", 2);
  expect_ok ("MBR boot sector is raw", sizeof buf, DISK_FILE_SIZE, DISK_RAW,
             DISK_FILE_SIZE, 0, 0);
  check (!strcmp (diskfmt_name (DISK_RAW), "raw") &&
         !strcmp (diskfmt_name (DISK_QCOW2), "qcow2") &&
         !strcmp (diskfmt_name (DISK_VPC), "vpc"), "diskfmt_name");
}

/* ---- diskfmt_probe_fd ---- */

static char tmpdir[] = "/tmp/test-diskfmt.XXXXXX";

static char *
tmp_path (const char *name)
{
  static char p[2][512];
  static int i;
  i ^= 1;
  snprintf (p[i], sizeof p[i], "%s/%s", tmpdir, name);
  return p[i];
}

static void
test_probe_fd (void)
{
  int fd = open (tmp_path ("tar"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0600);
  struct disk_format_info info;

  qcow2 (3);
  /* A qcow2 at offset 1536 of a bigger file, as in a tar. */
  if (fd == -1 || pwrite (fd, "tar header", 10, 0) != 10 ||
      pwrite (fd, buf, sizeof buf, 1536) != sizeof buf)
    unit_die ("test setup");
  error_clear ();
  int r = diskfmt_probe_fd (fd, 1536, DISK_FILE_SIZE, &info);
  check (r == 0 && info.format == DISK_QCOW2 && info.qcow2_version == 3,
         "probe_fd at an offset: qcow2 v3 %s", error_message ());
  r = diskfmt_probe_fd (fd, 2000, 100, &info);
  check (r == 0 && info.format == DISK_RAW && info.virtual_size == 100,
         "probe_fd of a small raw member: raw 100 %s", error_message ());
  r = diskfmt_probe_fd (fd, 3000, DISK_FILE_SIZE, &info);
  check (r == -1 && !strcmp (error_message (), "disk header truncated: 2632 "
                             "of 4096 bytes at offset 3000 (the file is "
                             "shorter than it should be)"),
         "probe_fd of a file shorter than said: %s", error_message ());
  r = diskfmt_probe_fd (-1, 0, 100, &info);
  check (r == -1 && strstr (error_message (), "Bad file descriptor"),
         "probe_fd on a bad fd: %s", error_message ());
  close (fd);
  unlink (tmp_path ("tar"));
}

/* ---- real images from qemu-img ---- */

static bool
run (char *const argv[])
{
  pid_t pid = fork ();
  if (pid == 0) {
    int null = open ("/dev/null", O_WRONLY);
    dup2 (null, 1);
    execvp (argv[0], argv);
    _exit (127);
  }
  int status;
  return pid > 0 && waitpid (pid, &status, 0) == pid && WIFEXITED (status)
    && WEXITSTATUS (status) == 0;
}

static int
probe_file (const char *path, struct disk_format_info *info)
{
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  error_clear ();
  if (fd == -1 || fstat (fd, &st) == -1)
    return error_errno (errno, "%s", path);
  int r = diskfmt_probe_fd (fd, 0, st.st_size, info);
  close (fd);
  return r;
}

static void
test_qemu_img (void)
{
  struct disk_format_info info;
  char *base = strdup (tmp_path ("base.qcow2"));

  if (!run ((char *[]) { "qemu-img", "--version", NULL })) {
    printf ("qemu-img not found: real-image checks skipped\n");
    free (base);
    return;
  }
  run ((char *[]) { "qemu-img", "create", "-q", "-f", "qcow2", base, "1G",
                    NULL });
  int r = probe_file (base, &info);
  check (r == 0 && info.format == DISK_QCOW2 && info.qcow2_version == 3 &&
         info.virtual_size == 1024ULL * MiB && info.cluster_bits == 16,
         "qemu-img qcow2 v3: 1 GiB, 64 KiB clusters %s", error_message ());
  run ((char *[]) { "qemu-img", "create", "-q", "-f", "qcow2", "-o",
                    "compat=0.10,cluster_size=4096", tmp_path ("v2.qcow2"),
                    "10M", NULL });
  r = probe_file (tmp_path ("v2.qcow2"), &info);
  check (r == 0 && info.format == DISK_QCOW2 && info.qcow2_version == 2 &&
         info.virtual_size == 10 * MiB && info.cluster_bits == 12,
         "qemu-img qcow2 v2: 10 MiB, 4 KiB clusters %s", error_message ());
  run ((char *[]) { "qemu-img", "create", "-q", "-f", "qcow2", "-b", base,
                    "-F", "qcow2", tmp_path ("over.qcow2"), NULL });
  r = probe_file (tmp_path ("over.qcow2"), &info);
  char msg[1024];
  snprintf (msg, sizeof msg, "qcow2 with a backing file (%s) would open a "
            "host path: refused", base);
  check (r == -1 && !strcmp (error_message (), msg), "qemu-img overlay: %s",
         error_message ());
  char opt[600];
  snprintf (opt, sizeof opt, "data_file=%s", tmp_path ("data.raw"));
  run ((char *[]) { "qemu-img", "create", "-q", "-f", "qcow2", "-o", opt,
                    tmp_path ("ext.qcow2"), "1M", NULL });
  r = probe_file (tmp_path ("ext.qcow2"), &info);
  snprintf (msg, sizeof msg, "qcow2 with an external data file (%s) would "
            "open a host path: refused", tmp_path ("data.raw"));
  check (r == -1 && !strcmp (error_message (), msg),
         "qemu-img external data file: %s", error_message ());
  run ((char *[]) { "qemu-img", "create", "-q", "-f", "vmdk",
                    tmp_path ("d.vmdk"), "1M", NULL });
  r = probe_file (tmp_path ("d.vmdk"), &info);
  check (r == -1 && info.format == DISK_VMDK, "qemu-img vmdk: %s",
         error_message ());
  const char *refused[] = { "vhdx", "vpc", "vdi" };
  const enum disk_format formats[] = { DISK_VHDX, DISK_VPC, DISK_VDI };
  for (int i = 0; i < 3; i++) {
    char *p = tmp_path (refused[i]);
    run ((char *[]) { "qemu-img", "create", "-q", "-f", (char *) refused[i],
                      p, "1M", NULL });
    r = probe_file (p, &info);
    check (r == -1 && info.format == formats[i], "qemu-img %s: %s",
           refused[i], error_message ());
    unlink (p);
  }
  const char *names[] = { "base.qcow2", "v2.qcow2", "over.qcow2", "ext.qcow2",
                          "data.raw", "d.vmdk" };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unlink (tmp_path (names[i]));
  free (base);
}

int
main (void)
{
  unit_tmpdir (tmpdir);
  test_qcow2 ();
  test_qcow2_fields ();
  test_others ();
  test_probe_fd ();
  test_qemu_img ();
  return unit_summary ();
}
