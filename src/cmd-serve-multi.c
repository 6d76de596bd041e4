/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk serve IMAGE1 IMAGE2 ... and serve --all: several disks from
 * one server (qemu-storage-daemon, serve/qsd.h), each its own export.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd-serve.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/text.h"
#include "serve/qsd.h"
#include "serve/socket.h"
#include "serve/supervisor.h"
#include "source.h"

/* The NBD protocol's limit on an export name. */
#define EXPORT_NAME_MAX 4096

struct multi {
  struct disk_location *locs;
  char **names;              /* the export names (owned) */
  char **refs;               /* --all: what each is located by (its ID) */
  struct server_export *exports;
  size_t n, allocated;
};

static void
multi_clear (struct multi *m)
{
  for (size_t i = 0; i < m->n; i++) {
    disk_location_clear (&m->locs[i]);
    free (m->names[i]);
    free (m->refs[i]);
  }
  free (m->locs);
  free (m->names);
  free (m->refs);
  free (m->exports);
}

/* One more export named NAME, located by REF (both copied): its index,
 * or -1 with error () set.
 */
static int
multi_add (struct multi *m, const char *name, const char *ref)
{
  if (m->n == m->allocated) {
    size_t n = m->allocated ? 2 * m->allocated : 8;
    void *l = reallocarray (m->locs, n, sizeof *m->locs);
    if (l)
      m->locs = l;
    void *a = reallocarray (m->names, n, sizeof *m->names);
    if (a)
      m->names = a;
    void *r = reallocarray (m->refs, n, sizeof *m->refs);
    if (r)
      m->refs = r;
    if (!l || !a || !r)
      return error_errno (ENOMEM, "realloc");
    m->allocated = n;
  }
  disk_location_init (&m->locs[m->n]);
  m->names[m->n] = strdup (name);
  m->refs[m->n] = strdup (ref);
  if (!m->names[m->n] || !m->refs[m->n]) {
    free (m->names[m->n]);
    free (m->refs[m->n]);
    return error_errno (ENOMEM, "strdup");
  }
  return m->n++;
}

/* Each export name once, each within the protocol's limit: 0, or
 * EXIT_USAGE after a usage message.
 */
static int
check_names (const struct multi *m)
{
  for (size_t i = 0; i < m->n; i++) {
    if (strlen (m->names[i]) > EXPORT_NAME_MAX)
      return usage_error ("serve", "an IMAGE is longer than %d bytes, the "
                          "longest export name", EXPORT_NAME_MAX);
    for (size_t j = 0; j < i; j++)
      if (strcmp (m->names[i], m->names[j]) == 0)
        return usage_error ("serve", "IMAGE '%s' is given twice: each "
                            "export name once", m->names[i]);
  }
  return 0;
}

/* --all: every image of the store that holds a disk, by its first name
 * (else its ID); an image without one goes without a word, as in list.
 */
static int
collect_image (const char *image_id, char *const *names,
               const struct disk_location *loc, const char *why, void *arg)
{
  struct multi *m = arg;
  const char *name = names && names[0] ? names[0] : image_id;

  if (!loc) {
    if (error_is_not_container_disk ())
      return 0;
    /* A disk that cannot be served: the whole serve is refused, as for a
     * list of images.  (WHY may be the recorded message itself.)
     */
    _cleanup_free_ char *copy = strdup (why);
    return error ("image %s: %s", name, copy ? copy : "its disk cannot be served");
  }
  return multi_add (m, name, image_id) == -1 ? -1 : 0;
}

/* Locate every disk, before anything runs: 0, an exit code else. */
static int
locate_all (struct multi *m, char **images, size_t n, bool all,
            struct locate_request *req, const struct pull_options *pull)
{
  if (all) {
    const struct source *src = source_for (NULL);
    if (src->list (NULL, req, collect_image, m) == -1)
      return EXIT_ERROR;
    if (m->n == 0) {
      error ("serve --all: no image in the store holds a disk");
      return EXIT_ERROR;
    }
    for (size_t i = 0; i < m->n; i++)
      if (source_locate (m->refs[i], req, &m->locs[i]) == -1)
        return EXIT_ERROR;
    return EXIT_OK;
  }
  for (size_t i = 0; i < n; i++) {
    if (images[i][0] == '\0')
      return usage_error ("serve", "IMAGE is empty");
    if (multi_add (m, images[i], images[i]) == -1)
      return EXIT_ERROR;
  }
  if (check_names (m) != 0)
    return EXIT_USAGE;
  for (size_t i = 0; i < m->n; i++) {
    struct locate_request r = *req;
    struct pull_options p = *pull;
    if (pull_check_request ("serve", images[i], &p, &r)
        || source_check_request ("serve", images[i], &r))
      return EXIT_USAGE;
  }
  /* Every request checked (a usage error before any pull); then each
   * located, with its request as checked again (it moves --platform and
   * --disktype to the pull of a name).
   */
  for (size_t i = 0; i < m->n; i++) {
    struct locate_request r = *req;
    struct pull_options p = *pull;
    pull_check_request ("serve", images[i], &p, &r);
    if (pull_locate (images[i], &p, &r, &m->locs[i]) == -1)
      return EXIT_ERROR;
  }
  return EXIT_OK;
}

/* What does not go with several disks: the option, or NULL. */
static const char *
multi_conflict (const struct server_options *opts, const struct serve_how *how)
{
  if (opts->export_name)
    return "--export-name (each export is named after its image)";
  if (opts->kind != SERVER_AUTO)
    return "--server (qemu-storage-daemon serves several disks)";
  if (how->clone)
    return "--writable=persistent:DEST";
  return NULL;
}

/* Every export's URI, one a line; with --format json an array of what
 * serve prints for one.
 */
int
print_uris (const struct server *srv, const struct server_options *opts,
            enum output_format format)
{
  json_object *array = format == FORMAT_JSON ? json_object_new_array () : NULL;

  for (size_t i = 0; i < opts->n_exports; i++) {
    _cleanup_free_ char *uri = qsd_export_uri (opts, srv, i);
    if (!uri) {
      json_object_put (array);
      return -1;
    }
    if (!array) {
      text_fputs (uri, stdout);
      putchar ('\n');
      continue;
    }
    struct server one = *srv;
    one.export_name = (char *) opts->exports[i].name;
    _cleanup_free_ char *guestfs = socket_guestfs_uri (&one);
    if (!guestfs) {
      json_object_put (array);
      return -1;
    }
    json_object *o = json_object_new_object ();
    json_object_object_add (o, "uri", json_object_new_string (uri));
    json_object_object_add (o, "guestfs_uri", json_object_new_string (guestfs));
    json_object_object_add (o, "socket",
                            srv->socket ? json_object_new_string (srv->socket) : NULL);
    json_object_object_add (o, "port",
                            srv->port ? json_object_new_int (atoi (srv->port)) : NULL);
    json_object_object_add (o, "export_name",
                            json_object_new_string (opts->exports[i].name));
    json_object_object_add (o, "server",
                            json_object_new_string (server_name (srv->kind)));
    json_object_object_add (o, "pid", json_object_new_int (srv->pid));
    if (srv->record_id)
      json_object_object_add (o, "id", json_object_new_string (srv->record_id));
    json_object_array_add (array, o);
  }
  if (array) {
    text_fput_json (json_object_to_json_string_ext (
                      array, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE),
                    stdout);
    putchar ('\n');
    json_object_put (array);
  }
  return 0;
}

/* The server in the background, watched by a supervisor: serve's default. */
static int
serve_detached (const struct multi *m, const struct server_options *opts,
                const struct serve_how *how)
{
  _cleanup_free_ char *names = NULL;
  size_t len = 0;

  /* The record's image: every export name, for exports to show. */
  _cleanup_fclose_ FILE *f = open_memstream (&names, &len);
  if (!f)
    return error_errno (errno, "open_memstream"), EXIT_ERROR;
  for (size_t i = 0; i < m->n; i++)
    fprintf (f, "%s%s", i ? " " : "", m->names[i]);
  if (fclose (steal_pointer (&f)) == EOF)
    return error_errno (errno, "export names"), EXIT_ERROR;
  return serve_in_background (&m->locs[0], opts, names, how);
}

int
serve_multi (char **images, size_t n, bool all, struct locate_request *req,
             const struct pull_options *pull, struct server_options *opts,
             const struct serve_how *how)
{
  const char *conflict = multi_conflict (opts, how);
  struct multi m = { .locs = NULL };
  int rc;

  if (all && n > 0)
    return usage_error ("serve", "--all serves every image of the store: "
                        "no IMAGE with it, got '%s'", images[0]);
  if (conflict)
    return usage_error ("serve", "%s cannot be used with several images",
                        conflict);
  if (all && pull->policy != PULL_MISSING)
    return usage_error ("serve", "--pull cannot be used with --all: it "
                        "serves what the store holds");
  req->store = global_opts.store;
  rc = locate_all (&m, images, n, all, req, pull);
  if (rc == EXIT_OK && (m.exports = calloc (m.n, sizeof *m.exports)) == NULL) {
    error_errno (ENOMEM, "calloc");
    rc = EXIT_ERROR;
  }
  if (rc != EXIT_OK) {
    multi_clear (&m);
    return rc;
  }
  for (size_t i = 0; i < m.n; i++)
    m.exports[i] = (struct server_export) { &m.locs[i], m.names[i] };
  opts->exports = m.exports;
  opts->n_exports = m.n;

  if (how->activated)
    rc = serve_activated (&m.locs[0], opts);
  else if (!how->foreground && !how->run)
    rc = serve_detached (&m, opts, how);
  else
    rc = serve_here (&m.locs[0], opts, how);
  opts->exports = NULL;
  opts->n_exports = 0;
  multi_clear (&m);
  return rc;
}
