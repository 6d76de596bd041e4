/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a layout's files, in a directory or an archive, and the
 * JSON and digest helpers of src/layout.  See layout-internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/error.h"
#include "common/sha256.h"
#include "image/tarscan.h"
#include "layout/layout-internal.h"

/* index.json, manifests and configs are small; a bigger one is refused. */
#define MAX_JSON_SIZE (16 << 20)
#define MAX_JSON_DEPTH 32

char *
store_display (const struct layout *s, const char *name)
{
  char *d;
  if (asprintf (&d, s->archive ? "%2$s in %1$s" : "%s/%s", s->path, name) == -1)
    return NULL;
  return d;
}

/* Files are opened O_NONBLOCK, so that a FIFO (or a device) in their
 * place cannot block the open: once it is known to be a regular file,
 * the fd is made blocking again for whoever reads it (qemu, nbdkit).
 */
static int
clear_nonblock (int fd, const char *name)
{
  int flags = fcntl (fd, F_GETFL);

  if (flags == -1 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) == -1)
    return error_errno (errno, "%s", name);
  return 0;
}

/* A file of the layout with other hard links, owned by someone else than
 * the layout's owner, is a file from elsewhere: its owner (or whoever
 * linked it: root's /etc/shadow, where protected_hardlinks is off) decides
 * its bytes, whatever the layout's digests said when they were checked.
 * Refused: a layout made with hard links of its owner's own files is fine.
 */
static int
check_foreign_link (const struct layout *s, const char *file,
                    const struct stat *st)
{
  if (st->st_nlink <= 1 || st->st_uid == s->owner)
    return 0;
  return error ("%s: a hard link (%ju links) owned by uid %lu, not by the "
                "owner of the %s (uid %lu): its bytes are another file's; "
                "refused (copy the file in, do not link it)", file,
                (uintmax_t) st->st_nlink, (unsigned long) st->st_uid,
                s->archive ? "archive's directory" : "layout",
                (unsigned long) s->owner);
}

/* The owner of PATH's directory. */
static int
parent_owner (const char *path, uid_t *owner)
{
  _cleanup_free_ char *dir = strdup (path);
  struct stat st;
  char *slash;

  if (!dir)
    return error_errno (errno, "strdup");
  slash = strrchr (dir, '/');
  if (slash)
    slash[slash == dir] = '\0';
  if (stat (dir, &st) == -1)
    return error_errno (errno, "%s", dir);
  *owner = st.st_uid;
  return 0;
}

static int
open_archive (struct layout *s)
{
  struct stat st;
  const char *compression;

  s->fd = open (s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (s->fd == -1)
    return error_errno (errno, "%s:%s", s->transport, s->path);
  if (fstat (s->fd, &st) == -1)
    return error_errno (errno, "%s", s->path);
  if (!S_ISREG (st.st_mode))
    return error ("%s:%s: not a regular file (a %s reference names a tar "
                  "file)", s->transport, s->path, s->transport);
  if (parent_owner (s->path, &s->owner) == -1
      || check_foreign_link (s, s->path, &st) == -1)
    return -1;
  if (clear_nonblock (s->fd, s->path) == -1)
    return -1;
  if (st.st_size == 0)
    return error ("%s:%s: the file is empty", s->transport, s->path);
  s->map_len = st.st_size;
  s->map = mmap (NULL, s->map_len, PROT_READ, MAP_PRIVATE, s->fd, 0);
  if (s->map == MAP_FAILED) {
    s->map = NULL;
    return error_errno (errno, "mapping %s", s->path);
  }
  /* No read-around: tarscan asks for what it reads (see there). */
  madvise ((void *) s->map, s->map_len, MADV_RANDOM);
  if ((compression = tarscan_compression (s->map, s->map_len)) != NULL)
    return error ("%s:%s is %s-compressed: its blobs cannot be served in "
                  "place; decompress it first, or " TARSCAN_HINT,
                  s->transport, s->path, compression);

  _cleanup_free_ char *what = NULL;
  if (asprintf (&what, "archive %s", s->path) == -1)
    return error_errno (errno, "asprintf");
  if ((s->members = tartree_new ()) == NULL
      || tartree_begin_layer (s->members, 0, what, false) == -1
      || tarscan_memory (s->map, s->map_len, 0, what, tartree_add_member,
                         s->members) == -1
      || tartree_end_layer (s->members) == -1)
    return -1;
  tartree_tree (s->members, &s->tree);
  return 0;
}

int
store_open (struct layout *s, const char *transport, const char *path)
{
  memset (s, 0, sizeof *s);
  s->fd = -1;
  s->transport = transport;
  s->archive = strcmp (transport, "oci") != 0;

  if ((s->path = realpath (path, NULL)) == NULL)
    return error_errno (errno, "%s:%s", transport, path);
  if (s->archive)
    return open_archive (s);
  struct stat st;
  s->fd = open (s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->fd == -1)
    return error_errno (errno, "oci:%s: an OCI layout is a directory", path);
  if (fstat (s->fd, &st) == -1)
    return error_errno (errno, "%s", s->path);
  s->owner = st.st_uid;
  return 0;
}

void
store_close (struct layout *s)
{
  if (s->map)
    munmap ((void *) s->map, s->map_len);
  if (s->fd >= 0)
    close (s->fd);
  tartree_free (s->members);
  json_object_put (s->index);
  json_object_put (s->manifest);
  free (s->path);
  memset (s, 0, sizeof *s);
  s->fd = -1;
}

/* Without openat2 (Linux < 5.6, or valgrind): open NAME one component
 * at a time with O_NOFOLLOW, so a symlink anywhere in it (blobs/ or
 * blobs/sha256/ as well as the blob) is refused with ELOOP, and ".."
 * never climbs out.
 */
static int
open_nofollow_walk (int dirfd, const char *name)
{
  _cleanup_free_ char *copy = strdup (name);
  _cleanup_close_ int dir = -1;
  char *comp, *next;
  struct stat st = { 0 };
  int fd;

  if (!copy)
    return -1;
  for (comp = copy; (next = strchr (comp, '/')) != NULL; comp = next + 1) {
    *next = '\0';
    if (*comp == '\0' || !strcmp (comp, "."))
      continue;
    if (!strcmp (comp, "..")) {
      errno = EXDEV;            /* as RESOLVE_BENEATH says it */
      return -1;
    }
    /* O_PATH: a symlink opens as itself, and is then refused as one. */
    fd = openat (dir >= 0 ? dir : dirfd, comp,
                 O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd == -1)
      return -1;
    if (fstat (fd, &st) == -1 || !S_ISDIR (st.st_mode)) {
      int e = S_ISLNK (st.st_mode) ? ELOOP : ENOTDIR;
      close (fd);
      errno = e;
      return -1;
    }
    if (dir >= 0)
      close (dir);
    dir = fd;
  }
  if (!strcmp (comp, "..")) {
    errno = EXDEV;
    return -1;
  }
  return openat (dir >= 0 ? dir : dirfd, comp,
                 O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
}

/* Open NAME under the layout directory, O_NONBLOCK (see
 * clear_nonblock): symlinks in it resolve inside the layout, so a hostile
 * layout cannot make us read a host file.
 */
static int
open_beneath (int dirfd, const char *name)
{
  struct open_how how = {
    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  int fd = syscall (SYS_openat2, dirfd, name, &how, sizeof how);
  /* Linux < 5.6, or a seccomp filter that does not know openat2 (some
   * container runtimes' say EPERM).
   */
  if (fd == -1 && (errno == ENOSYS || errno == EPERM))
    fd = open_nofollow_walk (dirfd, name);
  return fd;
}

/* Read B's SIZE bytes into memory (B is small: JSON). */
static int
read_dir_blob (struct blob *b)
{
  if (b->size > MAX_JSON_SIZE)
    return error ("%s: %" PRIu64 " bytes is too big for an image's JSON file",
                  b->file, b->size);
  if ((b->heap = malloc (b->size + 1)) == NULL)
    return error_errno (errno, "malloc");
  for (uint64_t got = 0; got < b->size;) {
    ssize_t n = pread (b->fd, b->heap + got, b->size - got, got);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1)
      return error_errno (errno, "reading %s", b->file);
    if (n == 0)
      return error ("%s: shorter than it was a moment ago: the layout "
                    "changed", b->file);
    got += n;
  }
  b->data = (const unsigned char *) b->heap;
  return 0;
}

/* Name the file that was opened: a symlink in the layout resolved
 * inside it, and whoever opens the name (qemu) must find the same file.
 */
static int
name_opened_file (struct blob *b)
{
  char proc[64], real[PATH_MAX];

  snprintf (proc, sizeof proc, "/proc/self/fd/%d", b->fd);
  ssize_t len = readlink (proc, real, sizeof real - 1);
  if (len > 0 && real[0] == '/') {
    real[len] = '\0';
    char *file = strdup (real);
    if (!file)
      return error_errno (errno, "strdup");
    free (b->file);
    b->file = file;
  }
  return 0;
}

static int
open_dir_blob (struct layout *s, struct blob *b, bool small)
{
  struct stat st;

  if ((b->fd = open_beneath (s->fd, b->name)) == -1)
    return error_errno (errno, "%s", b->file);
  if (!small && name_opened_file (b) == -1)
    return -1;
  if (fstat (b->fd, &st) == -1)
    return error_errno (errno, "%s", b->file);
  if (!S_ISREG (st.st_mode))
    return error ("%s: not a regular file", b->file);
  if (check_foreign_link (s, b->file, &st) == -1)
    return -1;
  b->size = st.st_size;
  /* Small files are read with pread, which O_NONBLOCK does not change. */
  if (small)
    return read_dir_blob (b);
  if (clear_nonblock (b->fd, b->file) == -1)
    return -1;
  if (b->size > 0) {
    b->map = mmap (NULL, b->size, PROT_READ, MAP_PRIVATE, b->fd, 0);
    if (b->map == MAP_FAILED) {
      b->map = NULL;
      return error_errno (errno, "mapping %s", b->file);
    }
    madvise (b->map, b->size, MADV_RANDOM);
  }
  b->data = b->map;
  return 0;
}

static int
open_archive_blob (struct layout *s, struct blob *b)
{
  _cleanup_free_ char *path = NULL, *resolved = NULL;
  struct tnode node;

  if (asprintf (&path, "/%s", b->name) == -1)
    return error_errno (errno, "asprintf");
  if (tree_resolve (&s->tree, path, &node, &resolved) == -1)
    return error_context ("archive %s", s->path);
  const struct tartree_entry *e = tartree_node_entry (&node);
  enum tnode_type type = node.type;
  tnode_release (&s->tree, &node);
  if (type != TN_REG)
    return error ("%s: not a regular file", b->file);
  _cleanup_free_ char *what = NULL;
  if (asprintf (&what, "archive %s", s->path) == -1) {
    what = NULL;
    return error_errno (errno, "asprintf");
  }
  if (tartree_entry_check (e, what) == -1)
    return -1;
  b->offset = e->offset;
  b->size = e->size;
  b->header_offset = e->header_offset;
  b->data = s->map + e->offset;
  return 0;
}

bool
store_exists (struct layout *s, const char *name)
{
  if (!s->archive)
    return faccessat (s->fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

  _cleanup_free_ char *path = NULL, *resolved = NULL;
  struct tnode node;
  if (asprintf (&path, "/%s", name) == -1)
    return false;
  if (tree_resolve (&s->tree, path, &node, &resolved) == -1) {
    error_clear ();
    return false;
  }
  tnode_release (&s->tree, &node);
  return true;
}

static int
open_blob (struct layout *s, const char *name, struct blob *b, bool small)
{
  memset (b, 0, sizeof *b);
  b->fd = -1;
  b->header_offset = -1;
  if ((b->name = strdup (name)) == NULL)
    return error_errno (errno, "strdup");
  if (s->archive) {
    if ((b->file = strdup (s->path)) == NULL)
      return error_errno (errno, "strdup");
    return open_archive_blob (s, b);
  }
  if (asprintf (&b->file, "%s/%s", s->path, name) == -1) {
    b->file = NULL;
    return error_errno (errno, "asprintf");
  }
  return open_dir_blob (s, b, small);
}

int
store_open_blob (struct layout *s, const char *name, struct blob *b)
{
  return open_blob (s, name, b, false);
}

int
store_read_small (struct layout *s, const char *name, struct blob *b)
{
  return open_blob (s, name, b, true);
}

void
blob_close (struct blob *b)
{
  if (b->map)
    munmap (b->map, b->size);
  if (b->fd >= 0)
    close (b->fd);
  free (b->heap);
  free (b->name);
  free (b->file);
  memset (b, 0, sizeof *b);
  b->fd = -1;
}

int
blob_take_fd (struct layout *s, struct blob *b)
{
  int fd;
  if (b->fd >= 0)
    return steal_fd (&b->fd);
  if ((fd = fcntl (s->fd, F_DUPFD_CLOEXEC, 3)) == -1)
    return error_errno (errno, "dup");
  return fd;
}

int
json_parse_bytes (const char *data, size_t len, const char *display,
                  json_type type, json_object **out)
{
  struct json_tokener *tok;
  enum json_tokener_error err;

  if (len > MAX_JSON_SIZE)
    return error ("%s: %zu bytes is too big for an image's JSON file",
                  display, len);
  if ((tok = json_tokener_new_ex (MAX_JSON_DEPTH)) == NULL)
    return error_errno (ENOMEM, "json_tokener_new");
  *out = json_tokener_parse_ex (tok, data, len);
  err = json_tokener_get_error (tok);
  size_t end = json_tokener_get_parse_end (tok);
  json_tokener_free (tok);

  if (err == json_tokener_continue)
    return error ("%s: truncated JSON (%zu bytes)", display, len);
  if (err == json_tokener_error_depth)
    return error ("%s: JSON nested more than %d levels deep: refused",
                  display, MAX_JSON_DEPTH);
  if (err != json_tokener_success)
    return error ("%s: invalid JSON near byte %zu: %s", display, end,
                  json_tokener_error_desc (err));
  for (size_t i = end; i < len; i++)
    if (!strchr (" \t\r\n", data[i])) {
      json_object_put (*out);
      *out = NULL;
      return error ("%s: invalid JSON: garbage after the value at byte %zu",
                    display, i);
    }
  /* json-c parses "null" to NULL with success. */
  if (!*out || !json_object_is_type (*out, type)) {
    const char *have = *out ? json_type_to_name (json_object_get_type (*out))
                            : "null";
    json_object_put (*out);
    *out = NULL;
    return error ("%s: not a JSON %s (it holds %s)", display,
                  type == json_type_array ? "array" : "object", have);
  }
  return 0;
}

int
store_read_json (struct layout *s, const char *name, json_type type,
                 json_object **out)
{
  struct blob b;
  _cleanup_free_ char *display = store_display (s, name);
  int r;

  *out = NULL;
  if (store_read_small (s, name, &b) == -1) {
    blob_close (&b);
    return -1;
  }
  r = json_parse_bytes ((const char *) b.data, b.size,
                        display ? display : name, type, out);
  blob_close (&b);
  return r;
}

static bool
all_of (const char *s, size_t len, const char *set)
{
  for (size_t i = 0; i < len; i++)
    if (!s[i] || !strchr (set, s[i]))
      return false;
  return len > 0;
}

int
digest_blob_name (const char *digest, const char *display, char **name)
{
  static const char hex[] = "0123456789abcdef";
  const char *colon = strchr (digest, ':');
  size_t alen = colon ? (size_t) (colon - digest) : 0;
  const char *enc = colon ? colon + 1 : "";
  size_t elen = strlen (enc);

  if ((alen == 6 && strncmp (digest, "sha256", 6) == 0 && elen == 64
       && all_of (enc, elen, hex))
      || (alen == 6 && strncmp (digest, "sha512", 6) == 0 && elen == 128
          && all_of (enc, elen, hex))) {
    if (asprintf (name, "blobs/%.*s/%s", (int) alen, digest, enc) == -1)
      return error_errno (errno, "asprintf");
    return 0;
  }
  return error ("%s: '%.80s' is not a sha256 or sha512 digest", display, digest);
}

int
digest_check (const char *digest, const void *data, size_t len,
              const char *what)
{
  char hex[65];

  if (strncmp (digest, "sha256:", 7) != 0)
    return error ("%s: --verify checks sha256 digests only, not %s", what, digest);
  sha256_hex (data, len, hex);
  if (strcmp (hex, digest + 7) != 0)
    return error ("%s: the content's digest is sha256:%s, not %s: the "
                  "layout is damaged or was modified", what, hex, digest);
  return 0;
}

static const char *
type_name (json_type t)
{
  switch (t) {
  case json_type_string: return "a string";
  case json_type_int: return "an integer";
  case json_type_array: return "an array";
  case json_type_object: return "an object";
  case json_type_boolean: return "a boolean";
  case json_type_double: return "a number";
  default: return "null";
  }
}

int
json_typed (json_object *o, const char *key, json_type type, bool required,
            const char *display, const char *ctx, json_object **out)
{
  json_object *v;

  *out = NULL;
  if (!json_object_object_get_ex (o, key, &v) || v == NULL) {
    if (required)
      return error ("%s: %s%s%s is missing", display, ctx, *ctx ? "." : "", key);
    return 0;
  }
  if (!json_object_is_type (v, type))
    return error ("%s: %s%s%s is %s, not %s", display, ctx, *ctx ? "." : "",
                  key, type_name (json_object_get_type (v)), type_name (type));
  *out = v;
  return 0;
}

int
json_string (json_object *o, const char *key, bool required,
             const char *display, const char *ctx, const char **out)
{
  json_object *v;
  *out = NULL;
  if (json_typed (o, key, json_type_string, required, display, ctx, &v) == -1)
    return -1;
  if (v)
    *out = json_object_get_string (v);
  return 0;
}

int
json_int (json_object *o, const char *key, bool required,
          const char *display, const char *ctx, int64_t *out)
{
  json_object *v;
  *out = -1;
  if (json_typed (o, key, json_type_int, required, display, ctx, &v) == -1)
    return -1;
  if (v) {
    errno = 0;
    *out = json_object_get_int64 (v);
    if (errno || *out < 0)
      return error ("%s: %s%s%s is out of range", display, ctx,
                    *ctx ? "." : "", key);
  }
  return 0;
}

void
image_clear (struct image *img)
{
  free (img->id);
  strv_free (img->names);
  for (size_t i = 0; i < img->n_layers; i++) {
    free (img->layers[i].digest);
    free (img->layers[i].media_type);
    free (img->layers[i].name);
    free (img->layers[i].title);
  }
  free (img->layers);
  memset (img, 0, sizeof *img);
}
