/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: qemu-storage-daemon's command line for several disks, see
 * serve/qsd.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clone/clone.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "serve/argv.h"
#include "serve/qemuspec.h"
#include "serve/qsd.h"
#include "serve/socket.h"
#include "serve/tls.h"

/* Append WORD (taken) to the NULL-terminated vector *V of *N words. */
static void
push_word (char ***v, size_t *n, char *word)
{
  if (!word)
    abort ();
  *v = realloc (*v, (*n + 2) * sizeof **v);
  if (!*v)
    abort ();
  (*v)[(*n)++] = word;
  (*v)[*n] = NULL;
}

/* OPTION and the JSON text of O (put): qemu-storage-daemon reads each of
 * its options as JSON when it starts with '{', so an export name needs no
 * escaping of qemu's own.
 */
static void
push_json (char ***v, size_t *n, const char *option, json_object *o)
{
  push_word (v, n, strdup (option));
  push_word (v, n, strdup (json_object_to_json_string_ext (
                             o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
  json_object_put (o);
}

/* --writable: export I's overlay node, a qcow2 in its inherited file over
 * the disk's node (named here: the file's header names no backing file).
 */
static json_object *
overlay_node (const struct server_options *opts, size_t i)
{
  char path[32], node[32], backing[32];
  snprintf (path, sizeof path, "/dev/fd/%d", QSD_OVERLAY_FD (opts->n_exports, i));
  snprintf (node, sizeof node, "overlay%zu", i);
  snprintf (backing, sizeof backing, "disk%zu", i);
  json_object *file = json_object_new_object ();
  json_object_object_add (file, "driver", json_object_new_string ("file"));
  json_object_object_add (file, "filename", json_object_new_string (path));
  json_object *o = json_object_new_object ();
  json_object_object_add (o, "driver", json_object_new_string ("qcow2"));
  json_object_object_add (o, "node-name", json_object_new_string (node));
  json_object_object_add (o, "file", file);
  json_object_object_add (o, "backing", json_object_new_string (backing));
  return o;
}

int
qsd_make_overlays (const struct server_options *opts, const char *dir, int *fds)
{
  for (size_t i = 0; i < opts->n_exports; i++)
    fds[i] = -1;
  for (size_t i = 0; i < opts->n_exports; i++) {
    /* No name: nothing to remove, whatever happens to the server. */
    fds[i] = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fds[i] == -1) {
      error_errno (errno, "cannot create an overlay in %s", dir);
      goto fail;
    }
    if (clone_write_qcow2 (fds[i], NULL, NULL, qsd_export_size (opts, i)) == -1) {
      error_context ("the overlay of %s", opts->exports[i].name);
      goto fail;
    }
  }
  return 0;
 fail:
  for (size_t i = 0; i < opts->n_exports; i++)
    if (fds[i] >= 0)
      close (steal_fd (&fds[i]));
  return -1;
}

char **
server_argv_qsd (const struct server_options *opts, const char *exe)
{
  char **v = NULL;
  size_t n = 0;

  push_word (&v, &n, strdup (exe));
  for (size_t i = 0; i < opts->n_exports; i++) {
    char path[32], node[32];
    snprintf (path, sizeof path, "/dev/fd/%d", QSD_DISK_FD (i));
    snprintf (node, sizeof node, "disk%zu", i);
    json_object *tree = qemuspec_tree (opts->exports[i].loc, opts->decode, path);
    if (!tree) {                        /* error () says why */
      strv_free (v);
      return NULL;
    }
    json_object_object_add (tree, "node-name", json_object_new_string (node));
    push_json (&v, &n, "--blockdev", tree);
    if (opts->writable)
      push_json (&v, &n, "--blockdev", overlay_node (opts, i));
  }
  /* As qemu-nbd's, always required (see serve/argv.h). */
  if (opts->tls != SERVER_TLS_OFF) {
    push_word (&v, &n, strdup ("--object"));
    push_word (&v, &n, server_qemu_tls_object (opts));
  }
  /* The socket podman-disk bound and listens on, inherited as fd 3. */
  json_object *addr = json_object_new_object ();
  json_object_object_add (addr, "type", json_object_new_string ("fd"));
  json_object_object_add (addr, "str", json_object_new_string ("3"));
  json_object *server = json_object_new_object ();
  json_object_object_add (server, "addr", addr);
  if (opts->tls != SERVER_TLS_OFF)
    json_object_object_add (server, "tls-creds",
                            json_object_new_string (QEMU_TLS_ID));
  push_json (&v, &n, "--nbd-server", server);
  for (size_t i = 0; i < opts->n_exports; i++) {
    char id[32], node[32];
    snprintf (id, sizeof id, "export%zu", i);
    snprintf (node, sizeof node, opts->writable ? "overlay%zu" : "disk%zu", i);
    json_object *e = json_object_new_object ();
    json_object_object_add (e, "type", json_object_new_string ("nbd"));
    json_object_object_add (e, "id", json_object_new_string (id));
    json_object_object_add (e, "node-name", json_object_new_string (node));
    json_object_object_add (e, "name",
                            json_object_new_string (opts->exports[i].name));
    json_object_object_add (e, "writable", json_object_new_boolean (opts->writable));
    push_json (&v, &n, "--export", e);
  }
  return v;
}

uint64_t
qsd_export_size (const struct server_options *opts, size_t i)
{
  const struct disk_location *loc = opts->exports[i].loc;

  return decodes_qcow2 (loc, opts) ? loc->fmt.virtual_size : loc->size;
}

int
qsd_check_exports (const struct server_options *opts)
{
  for (size_t i = 0; i < opts->n_exports; i++) {
    const struct disk_location *loc = opts->exports[i].loc;
    struct stat st;

    if (loc->fd < 0)
      return error ("%s: the disk file is not open (this is a bug)",
                    opts->exports[i].name);
    if (fstat (loc->fd, &st) == 0 && st.st_nlink == 0)
      return error ("%s: the disk file was removed since it was located "
                    "(was the image removed?)", opts->exports[i].name);
    /* As for qemu-nbd (server_choose): qemu sees files in sectors. */
    if (!decodes_qcow2 (loc, opts) && loc->size % 512)
      return error ("%s: qemu-storage-daemon cannot export %" PRIu64 " bytes "
                    "exactly (not a multiple of 512): serve it alone, by "
                    "nbdkit", opts->exports[i].name, loc->size);
  }
  return 0;
}

char *
qsd_export_uri (const struct server_options *opts, const struct server *srv,
                size_t i)
{
  struct server one = *srv;
  _cleanup_free_ char *user = NULL;

  one.export_name = (char *) opts->exports[i].name;
  /* A supervisor's report has the URI, not the PSK username in it. */
  if (opts->tls != SERVER_TLS_OFF && opts->tls_psk && !one.tls_username) {
    if ((user = tls_psk_username (opts->tls_psk)) == NULL)
      return NULL;
    one.tls_username = user;
  }
  return socket_uri (opts, &one);
}
