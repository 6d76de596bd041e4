/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: pull on demand, see pull/pull.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/names.h"
#include "common/proc.h"
#include "source.h"
#include "storage/config.h"
#include "storage/reference.h"
#include "pull/artifact.h"
#include "pull/pull.h"
#include "pull/tool.h"

/* After a pull, the image's ID for a re-run of the same command inside
 * the rootless user namespace (storage/userns.c): it must not pull again.
 */
#define PULLED_ENV "PODMAN_DISK_PULLED"
/* storage_locate's words for an image the store does not have. */
#define NOT_KNOWN ": image not known in "
#define ARTIFACT_ERROR "unsupported image-specific operation on artifact"

static const char *const policy_names[] = {
  [PULL_NEVER] = "never", [PULL_MISSING] = "missing",
  [PULL_ALWAYS] = "always", [PULL_NEWER] = "newer",
};

int
pull_parse_policy (const char *arg, enum pull_policy *policy)
{
  int i = names_lookup (policy_names, ARRAY_SIZE (policy_names), arg);

  if (i == -1)
    return -1;
  *policy = i;
  return 0;
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

/* ---- Images: podman pull ------------------------------------------------- */

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
  args_add (&a, "pull");
  credential_args (&a, pull, "");
  if (pull->platform)
    args_addf (&a, "--platform=%s", pull->platform);
  args_add (&a, "--");
  args_add (&a, name);
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
  args_add (&a, "image");
  args_add (&a, "inspect");
  args_add (&a, "--format");
  args_add (&a, "{{.Os}}/{{.Architecture}}");
  args_add (&a, id);
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
