/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: disk artifacts, see pull/artifact.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/proc.h"
#include "source.h"
#include "storage/config.h"
#include "storage/reference.h"
#include "pull/artifact.h"
#include "pull/tool.h"

/* Open or make directory NAME under DIRFD, 0700, and accept it only if it
 * is a directory of this user's own that nobody else can write: what
 * skopeo copies there is served.
 */
static int
own_dir (int dirfd, const char *name, const char *path)
{
  struct stat st;
  if (mkdirat (dirfd, name, 0700) == -1 && errno != EEXIST)
    return error_errno (errno, "%s: cannot make the artifact cache", path);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s", path);
  if (fstat (fd, &st) == -1 || st.st_uid != geteuid () || (st.st_mode & 022)) {
    close (fd);
    return error ("%s: not a directory of this user's own that only it can "
                  "write: the artifact cache is not used there", path);
  }
  return fd;
}

/* The artifact cache's path, made and checked; its lock held in *LOCKFD. */
static char *
artifact_cache (int *lockfd)
{
  const char *dir = getenv ("PODMAN_DISK_CACHE_DIR");
  const char *xdg = getenv ("XDG_CACHE_HOME"), *home = getenv ("HOME");
  _cleanup_free_ char *base = NULL;
  bool top = !dir;

  if (dir)
    base = strdup (dir);
  else if (xdg && xdg[0] == '/')
    base = strdup (xdg);
  else if (config_rootless_uid () == 0)
    base = strdup ("/var/cache");
  else if (home && home[0] == '/' && asprintf (&base, "%s/.cache", home) == -1)
    base = NULL;
  if (!base) {
    error ("no directory for the artifact cache: set XDG_CACHE_HOME or HOME");
    return NULL;
  }
  char *path;
  if (asprintf (&path, "%s%s/artifacts", base, top ? "/podman-disk" : "") == -1) {
    error_errno (errno, "asprintf");
    return NULL;
  }
  if (strchr (path, ':')) {
    error ("%s: the artifact cache's path must not hold ':' (it is an oci: "
           "reference)", path);
    free (path);
    return NULL;
  }
  mkdir (base, 0700);    /* a fresh account's ~/.cache, as others make it */
  _cleanup_close_ int b = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_close_ int t = -1;
  int fd = -1;
  if (b == -1)
    error_errno (errno, "%s", base);
  else if ((t = top ? own_dir (b, "podman-disk", base) : dup (b)) >= 0)
    fd = own_dir (t, "artifacts", path);
  if (fd >= 0) {
    *lockfd = openat (fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    close (fd);
    if (*lockfd >= 0 && flock (*lockfd, LOCK_EX) == 0)
      return path;
    error_errno (errno, "%s/.lock", path);
    if (*lockfd >= 0)
      close (*lockfd);
  }
  free (path);
  return NULL;
}

/* The name an artifact has in the cache: its full name, "+DISKTYPE" for
 * the disk picked from an index by --disktype.
 */
static char *
cache_name (const char *qualified, const char *disktype)
{
  char *s;
  if (asprintf (&s, "%s%s%s", qualified, disktype ? "+" : "",
                disktype ? disktype : "") == -1)
    return NULL;
  return s;
}

/* Whether the cache's index.json names NAME. */
static bool
cache_has (const char *cache, const char *name)
{
  _cleanup_free_ char *path = NULL;
  bool found = false;
  if (asprintf (&path, "%s/index.json", cache) == -1)
    return false;
  json_object *index = json_object_from_file (path), *m;
  if (index && json_object_object_get_ex (index, "manifests", &m)
      && json_object_is_type (m, json_type_array))
    for (size_t i = 0; !found && i < json_object_array_length (m); i++) {
      json_object *ann, *ref;
      if (json_object_object_get_ex (json_object_array_get_idx (m, i),
                                     "annotations", &ann)
          && json_object_object_get_ex (ann, "org.opencontainers.image.ref.name",
                                        &ref))
        found = strcmp (json_object_get_string (ref), name) == 0;
    }
  json_object_put (index);
  return found;
}

static int
locate_in_cache (const char *cache, const char *name,
                 const struct locate_request *req, struct disk_location *loc)
{
  _cleanup_free_ char *ref = NULL;
  if (asprintf (&ref, "oci:%s:%s", cache, name) == -1)
    return error_errno (errno, "asprintf");
  struct locate_request r = *req;
  r.platform = r.disktype = NULL;     /* one manifest per name there */
  return source_locate (ref, &r, loc);
}

/* A previously pulled artifact for one of NAME's candidates: 0 with LOC,
 * 1 when there is none, -1 with error ().
 */
int
cached_artifact (const struct image_name *name, const char *disktype,
                 const struct locate_request *req, struct disk_location *loc)
{
  int lockfd = -1;
  _cleanup_free_ char *cache = artifact_cache (&lockfd);
  if (!cache) {
    debug ("artifact cache: %s", error_message ());
    error_clear ();
    return 1;
  }
  char **cands = image_name_candidates (name);
  int r = cands ? 1 : -1;
  for (char **c = cands; r == 1 && *c; c++) {
    _cleanup_free_ char *cn = cache_name (*c, disktype);
    if (cn && cache_has (cache, cn))
      r = locate_in_cache (cache, cn, req, loc);
  }
  strv_free (cands);
  close (lockfd);
  return r;
}

static bool
arch_matches (const char *have, const char *want)
{
  /* podman machine's disk images spell amd64 and arm64 as uname does. */
  static const char *const alias[][2] = {
    { "amd64", "x86_64" }, { "arm64", "aarch64" },
  };
  if (strcmp (have, want) == 0)
    return true;
  for (size_t i = 0; i < 2; i++)
    if ((!strcmp (have, alias[i][0]) && !strcmp (want, alias[i][1]))
        || (!strcmp (have, alias[i][1]) && !strcmp (want, alias[i][0])))
      return true;
  return false;
}

static const char *
host_arch (void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

/* The digest of the manifest of INDEX (raw JSON) whose "disktype"
 * annotation is DISKTYPE, for PLATFORM (or the host's): podman machine's
 * own choice (pkg/machine/ocipull).
 */
static char *
pick_disktype (const char *name, const char *raw, const char *disktype,
               const char *platform)
{
  char os[64] = "linux", arch[64];
  json_object *index = json_tokener_parse (raw), *m;
  char *digest = NULL;

  snprintf (arch, sizeof arch, "%s", host_arch ());
  if (platform)
    sscanf (platform, "%63[^/]/%63[^/]", os, arch);
  if (!index || !json_object_object_get_ex (index, "manifests", &m)
      || !json_object_is_type (m, json_type_array)) {
    json_object_put (index);
    error ("%s: not an image index: --disktype picks from an index whose "
           "entries carry a \"disktype\" annotation", name);
    return NULL;
  }
  for (size_t i = 0; !digest && i < json_object_array_length (m); i++) {
    json_object *e = json_object_array_get_idx (m, i), *ann, *dt, *p, *v, *d;
    if (!json_object_object_get_ex (e, "annotations", &ann)
        || !json_object_object_get_ex (ann, "disktype", &dt)
        || strcmp (json_object_get_string (dt), disktype)
        || !json_object_object_get_ex (e, "digest", &d))
      continue;
    if (json_object_object_get_ex (e, "platform", &p)) {
      if (json_object_object_get_ex (p, "os", &v)
          && strcmp (json_object_get_string (v), os))
        continue;
      if (json_object_object_get_ex (p, "architecture", &v)
          && !arch_matches (json_object_get_string (v), arch))
        continue;
    }
    digest = strdup (json_object_get_string (d));
  }
  json_object_put (index);
  if (!digest)
    error ("%s: no disk of disktype '%s' for %s/%s in the index", name,
           disktype, os, arch);
  return digest;
}

/* REPO@DIGEST of NAME (REPO[:TAG][@DIGEST]). */
static char *
with_digest (const char *name, const char *digest)
{
  struct image_name n;
  char *s = NULL;
  if (!image_name_parse (name, &n))
    return NULL;
  if (asprintf (&s, "%s%s%s@%s", n.domain ? n.domain : "", n.domain ? "/" : "",
                n.path, digest) == -1)
    s = NULL;
  image_name_free (&n);
  return s;
}

/* skopeo copy docker://NAME into the cache (as CNAME), locked. */
static int
skopeo_pull (const char *name, const char *cname, const struct pull_options *pull,
             struct disk_location *loc, const struct locate_request *req)
{
  int lockfd = -1;
  _cleanup_free_ char *cache = artifact_cache (&lockfd);
  _cleanup_free_ char *src = NULL;
  const char *regconf = getenv ("CONTAINERS_REGISTRIES_CONF");
  struct args a = { 0 };
  struct tool_run r;
  int rc;

  if (!cache)
    return -1;
  if (pull->disktype) {
    /* The index, for the entry of the disktype asked for. */
    args_add (&a, "skopeo");
    if (regconf) args_addf (&a, "--registries-conf=%s", regconf);
    args_add (&a, "inspect");
    args_add (&a, "--raw");
    credential_args (&a, pull, "");
    args_addf (&a, "docker://%s", name);
    rc = run_tool (a.v, false, &r);
    args_free (&a);
    memset (&a, 0, sizeof a);
    if (rc == 0 && r.status != 0)
      rc = pull_failed ("skopeo inspect", name, &r);
    _cleanup_free_ char *digest = NULL;
    if (rc == 0 && (digest = pick_disktype (name, r.out, pull->disktype,
                                             pull->platform)) == NULL)
      rc = -1;
    if (rc == 0 && (src = with_digest (name, digest)) == NULL)
      rc = error ("%s: not a valid name", name);
    tool_run_free (&r);
    if (rc == -1) {
      close (lockfd);
      return -1;
    }
  }
  else if ((src = strdup (name)) == NULL) {
    close (lockfd);
    return error_errno (errno, "strdup");
  }

  args_add (&a, "skopeo");
  if (regconf) args_addf (&a, "--registries-conf=%s", regconf);
  args_add (&a, "copy");
  credential_args (&a, pull, "src-");
  if (pull->platform && !pull->disktype) {
    char os[64], arch[64], variant[64] = "";
    if (sscanf (pull->platform, "%63[^/]/%63[^/]/%63s", os, arch, variant) >= 2) {
      args_addf (&a, "--override-os=%s", os);
      args_addf (&a, "--override-arch=%s", arch);
      if (*variant)
        args_addf (&a, "--override-variant=%s", variant);
    }
  }
  args_addf (&a, "docker://%s", src);
  args_addf (&a, "oci:%s:%s", cache, cname);
  rc = run_tool_out (a.v, true, true, &r);
  args_free (&a);
  if (rc == 0 && r.status != 0)
    rc = pull_failed ("skopeo copy", name, &r);
  tool_run_free (&r);
  if (rc == 0)
    rc = locate_in_cache (cache, cname, req, loc);
  close (lockfd);
  return rc;
}

/* podman's version as MAJOR * 100 + MINOR, or -1. */
static int
podman_version (void)
{
  char *const argv[] = { "podman", "version", "--format",
                         "{{.Client.Version}}", NULL };
  struct tool_run r;
  int major, minor, v = -1;

  if (run_tool (argv, false, &r) == -1) {
    error_clear ();
    return -1;
  }
  if (r.status == 0 && sscanf (r.out, "%d.%d", &major, &minor) == 2)
    v = major * 100 + minor;
  tool_run_free (&r);
  return v;
}

/* An artifact NAME (QUALIFIED: its full name): podman artifact pull into
 * podman's artifact store from podman 5.4 on, else skopeo into the cache.
 */
int
artifact_pull (const char *ref, const char *qualified,
               const struct store_args *st, const struct pull_options *pull,
               const struct locate_request *req, struct disk_location *loc)
{
  if (!pull->disktype && podman_version () >= 504) {
    struct args a = { 0 };
    struct tool_run r;
    podman_store_args (&a, st);
    args_add (&a, "artifact");
    args_add (&a, "pull");
    credential_args (&a, pull, "");
    args_add (&a, "--");
    args_add (&a, qualified);
    int rc = run_tool (a.v, true, &r);
    args_free (&a);
    if (rc == 0 && r.status != 0)
      rc = pull_failed ("podman artifact pull", qualified, &r);
    tool_run_free (&r);
    /* The storage source reads podman's artifact store. */
    return rc == -1 ? -1 : source_locate (ref, req, loc);
  }
  _cleanup_free_ char *cname = cache_name (qualified, pull->disktype);
  if (!cname)
    return error_errno (errno, "asprintf");
  fprintf (stderr, "%s is an artifact, no image: copying it with skopeo "
           "into podman-disk's artifact cache\n", qualified);
  return skopeo_pull (qualified, cname, pull, loc, req);
}
