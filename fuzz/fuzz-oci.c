/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the OCI image layout's JSON (src/layout/index.c): index.json,
 * nested image indexes, platforms, ref names, manifests, their layer and
 * config descriptors; then the layers those name, as layout_locate and
 * layout_list read them.
 *
 * A manifest is read only if its blob's sha256 is the digest that names
 * it, which no mutation finds by chance: so the input is an index.json and
 * up to 9 blobs, and the target writes each blob under its own digest.
 * Input: parts separated by "\n--\n":
 *   part 0        index.json (an optional first line "!OS/ARCH[/VARIANT]"
 *                 is not part of it but the --platform asked for)
 *   parts 1..9    blobs, written as blobs/sha256/<their sha256>
 * In a part that starts with '{' or '[' (JSON), "$N" becomes the digest
 * "sha256:..." of part N and "#N" its size, for a part N after it (so
 * a manifest names its layers, an index its manifests; a reference to
 * itself or back is left as it is, and refused as not a digest).  The
 * layout is a directory in /dev/shm, its oci-layout file always valid.
 * fuzz/oci-seeds.py writes the seeds (fuzz/corpus/oci/) in this form.
 *
 * Properties: oci_select_image succeeds only with a manifest digest and
 * 1 to 500 layers, each with a digest, a media type and a blob name
 * "blobs/sha256/HEX" or "blobs/sha512/HEX" (a path that stays in blobs/);
 * a located disk (layout_locate, and each image of layout_list) lies
 * inside one of the blobs written, never another file, and a disk in a
 * tar layer is named by an absolute member path; every failure, and every reason layout_list
 * gives for an image without a disk, is one printable line; nothing
 * leaks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "location.h"
#include "common/sha256.h"
#include "layout/layout.h"
#include "layout/layout-internal.h"
#include "fuzz.h"

#define MAX_PARTS 10
#define SEP "\n--\n"

static char dir[64];

struct part {
  const char *data;          /* in the input, or TEXT once substituted */
  size_t size;
  char *text;                /* substituted JSON, owned */
  char hex[65];              /* its sha256 */
  dev_t dev;                 /* the file written, to recognise a location */
  ino_t ino;
};

static struct part parts[MAX_PARTS];
static size_t n_parts;

static void
write_file (const char *name, const void *data, size_t size,
            struct part *p)
{
  char path[256];
  struct stat st;
  int fd;

  snprintf (path, sizeof path, "%s/%s", dir, name);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1 || (size && write (fd, data, size) != (ssize_t) size))
    abort ();
  if (p) {
    if (fstat (fd, &st) == -1)
      abort ();
    p->dev = st.st_dev;
    p->ino = st.st_ino;
  }
  close (fd);
}

static bool
is_json (const struct part *p)
{
  for (size_t i = 0; i < p->size; i++)
    if (p->data[i] != ' ' && p->data[i] != '\t' && p->data[i] != '\n')
      return p->data[i] == '{' || p->data[i] == '[';
  return false;
}

/* Part I with "$N" and "#N" of later parts replaced. */
static void
substitute (size_t i)
{
  struct part *p = &parts[i];
  char *s = NULL;
  size_t len = 0;
  FILE *f;

  if (!is_json (p))
    return;
  if ((f = open_memstream (&s, &len)) == NULL)
    abort ();
  for (size_t k = 0; k < p->size; k++) {
    char c = p->data[k];
    size_t n;
    if ((c == '$' || c == '#') && k + 1 < p->size && p->data[k + 1] >= '1'
        && p->data[k + 1] <= '9' && (n = p->data[k + 1] - '0') > i
        && n < n_parts) {
      if (c == '$')
        fprintf (f, "sha256:%s", parts[n].hex);
      else
        fprintf (f, "%zu", parts[n].size);
      k++;
    }
    else
      fputc (c, f);
  }
  if (fclose (f) != 0)
    abort ();
  p->text = s;
  p->data = s;
  p->size = len;
}

/* Is FD one of the blobs written? */
static bool
is_part_file (int fd, uint64_t offset, uint64_t size)
{
  struct stat st;

  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode))
    return false;
  for (size_t i = 1; i < n_parts; i++)
    if (parts[i].dev == st.st_dev && parts[i].ino == st.st_ino)
      return offset <= (uint64_t) st.st_size
        && size <= (uint64_t) st.st_size - offset
        && (uint64_t) st.st_size == parts[i].size;
  return false;
}

static void
check_location (const char *what, const struct disk_location *loc)
{
  /* A listing hands on an entry that repeats an image already listed
   * without an fd (layout_list keeps no fd per entry: 30,000 of them
   * would be 30,000 open files); what it says was checked the first time.
   */
  if (loc->fd < 0 && strcmp (what, "list") == 0)
    return;
  FUZZ_CHECK (loc->fd >= 0, "%s: no fd", what);
  FUZZ_CHECK (is_part_file (loc->fd, loc->offset, loc->size),
              "%s: disk [%" PRIu64 ", +%" PRIu64 ") of %s is not inside a "
              "blob of the layout", what, loc->offset, loc->size,
              loc->file ? loc->file : "(null)");
  /* A tar member is a path in the image; an artifact's disk, a whole
   * blob, is named by its title (or digest).
   */
  FUZZ_CHECK (loc->member && loc->member[0] != '\0'
              && (loc->header_offset < 0 || loc->member[0] == '/'),
              "%s: member '%s' (header at %" PRId64 ")", what,
              loc->member ? loc->member : "(null)", loc->header_offset);
}

static void
check_line (const char *what, const char *m)
{
  FUZZ_CHECK (m && m[0] != '\0', "%s: no reason given", what);
  for (const unsigned char *p = (const unsigned char *) m; *p; p++)
    FUZZ_CHECK (*p >= 0x20 && *p != 0x7f,
                "%s: control character 0x%02x in: %s", what, *p, m);
}

static int
list_cb (const char *image_id, char *const *names,
         const struct disk_location *loc, const char *why, void *arg)
{
  (void) arg;
  FUZZ_CHECK (image_id != NULL && names != NULL, "list: no id or names");
  for (char *const *n = names; *n; n++)
    (void) strlen (*n);
  if (loc)
    check_location ("list", loc);
  else
    check_line ("list", why);
  return 0;
}

static bool
valid_blob_name (const char *name)
{
  const char *hex = NULL;
  size_t want = 0;

  if (!strncmp (name, "blobs/sha256/", 13))
    hex = name + 13, want = 64;
  else if (!strncmp (name, "blobs/sha512/", 13))
    hex = name + 13, want = 128;
  return hex && strlen (hex) == want
    && strspn (hex, "0123456789abcdef") == want;
}

static void
select_directly (const char *platform)
{
  struct layout s;
  struct image img = { 0 };

  error_clear ();
  if (store_open (&s, "oci", dir) == 0
      && oci_select_image (&s, NULL, -1, platform, NULL, &img) == 0) {
    FUZZ_CHECK (img.id && !strncmp (img.id, "sha256:", 7) && strlen (img.id) == 71,
                "selected manifest '%s'", img.id ? img.id : "(null)");
    FUZZ_CHECK (img.names != NULL, "no names");
    FUZZ_CHECK (img.n_layers >= 1 && img.n_layers <= 500, "%zu layers",
                img.n_layers);
    for (size_t i = 0; i < img.n_layers; i++) {
      const struct layer *l = &img.layers[i];
      FUZZ_CHECK (l->digest && l->media_type && l->name,
                  "layer %zu incomplete", i);
      FUZZ_CHECK (valid_blob_name (l->name), "layer %zu: blob '%s'", i,
                  l->name);
    }
  }
  else
    fuzz_check_error_message ();
  image_clear (&img);
  store_close (&s);
}

static const char *const fixed_files[] = { "oci-layout", "index.json" };

/* At exit: the layout directory goes (its blobs went after each input). */
static void
remove_dir (void)
{
  char path[128];

  for (size_t i = 0; i < sizeof fixed_files / sizeof *fixed_files; i++) {
    snprintf (path, sizeof path, "%s/%s", dir, fixed_files[i]);
    unlink (path);
  }
  snprintf (path, sizeof path, "%s/blobs/sha256", dir);
  rmdir (path);
  snprintf (path, sizeof path, "%s/blobs", dir);
  rmdir (path);
  rmdir (dir);
}

static void
make_dir (void)
{
  char path[128];

  /* The answer cache would keep files in ~/.cache: not wanted here. */
  setenv ("PODMAN_DISK_CACHE", "off", 1);
  snprintf (dir, sizeof dir, "/dev/shm/fuzz-oci.%d", (int) getpid ());
  if (mkdir (dir, 0700) == -1 && errno != EEXIST)
    abort ();
  snprintf (path, sizeof path, "%s/blobs", dir);
  if (mkdir (path, 0700) == -1 && errno != EEXIST)
    abort ();
  snprintf (path, sizeof path, "%s/blobs/sha256", dir);
  if (mkdir (path, 0700) == -1 && errno != EEXIST)
    abort ();
  atexit (remove_dir);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *in = (const char *) data, *end = in + size;
  char platform[128] = "", ref[128];
  struct locate_request req = { 0 };
  struct disk_location loc;

  if (!dir[0])
    make_dir ();

  /* "!PLATFORM\n" first: the --platform asked for. */
  if (size > 0 && in[0] == '!') {
    const char *nl = memchr (in, '\n', size);
    if (nl) {
      snprintf (platform, sizeof platform, "%.*s", (int) (nl - in - 1), in + 1);
      in = nl + 1;
    }
  }

  /* Split, digest from the last part back, substituting. */
  n_parts = 0;
  for (const char *p = in; n_parts < MAX_PARTS; ) {
    const char *sep = memmem (p, end - p, SEP, strlen (SEP));
    parts[n_parts] = (struct part) { .data = p, .size = (sep ? sep : end) - p };
    n_parts++;
    if (!sep)
      break;
    p = sep + strlen (SEP);
  }
  for (size_t i = n_parts; i-- > 0; ) {
    substitute (i);
    sha256_hex (parts[i].data, parts[i].size, parts[i].hex);
  }

  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  write_file (fixed_files[0], layout, strlen (layout), NULL);
  write_file (fixed_files[1], parts[0].data, parts[0].size, &parts[0]);
  for (size_t i = 1; i < n_parts; i++) {
    char name[128];
    snprintf (name, sizeof name, "blobs/sha256/%s", parts[i].hex);
    write_file (name, parts[i].data, parts[i].size, &parts[i]);
  }
  if (platform[0])
    req.platform = platform;

  select_directly (req.platform);

  /* By name, as oci:DIR:img. */
  snprintf (ref, sizeof ref, "oci:%s:img", dir);
  disk_location_init (&loc);
  error_clear ();
  if (layout_locate (ref, &req, &loc) == 0)
    check_location (ref, &loc);
  else
    fuzz_check_error_message ();
  disk_location_clear (&loc);

  /* Every image of index.json, by its entry. */
  snprintf (ref, sizeof ref, "oci:%s", dir);
  error_clear ();
  if (layout_list (ref, &req, list_cb, NULL) == -1)
    fuzz_check_error_message ();

  for (size_t i = 1; i < n_parts; i++) {
    char path[256];
    snprintf (path, sizeof path, "%s/blobs/sha256/%s", dir, parts[i].hex);
    unlink (path);
  }
  for (size_t i = 0; i < n_parts; i++)
    free (parts[i].text);
  return 0;
}
