/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: the OCI hook's inputs (src/hook/state.c, src/hook/request.c,
 * src/hook/rootfs.c): state and config.json as runc and podman 4.3 write
 * them and hostile variants, the annotation rules, the container's names
 * from containers.json, and the overlay lowerdir syntax.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/error.h"
#include "hook/state.h"
#include "hook/request.h"
#include "hook/rootfs.h"

#include "unit.h"

/* The error recorded contains WANT. */
static bool
said (const char *want)
{
  bool ok = strstr (error_message (), want) != NULL;
  if (!ok)
    printf ("  error was: %s\n  expected: ...%s...\n", error_message (), want);
  return ok;
}

#define ID "721ade937a85b3d1206c1a9cb717836979e7da511f049ba6eb2fa21d0f135759"
#define BUNDLE "/var/lib/containers/storage/overlay-containers/" ID "/userdata"

/* What runc gave the createRuntime hook under podman 4.3. */
static const char state_create[] =
  "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"" ID "\",\"status\":\"creating\","
  "\"pid\":8032,\"bundle\":\"" BUNDLE "\",\"annotations\":{"
  "\"io.container.manager\":\"libpod\",\"io.podman-disk.export\":\"true\"}}";
/* What podman itself gives poststop: no pid. */
static const char state_stop[] =
  "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"" ID "\",\"status\":\"stopped\","
  "\"bundle\":\"" BUNDLE "\",\"annotations\":{\"io.podman-disk.export\":\"true\"}}\n";

static int
state (const char *json, struct oci_state *st)
{
  error_clear ();
  return oci_state_parse (json, strlen (json), st);
}

static void
test_state (void)
{
  struct oci_state st;

  check (state (state_create, &st) == 0 && strcmp (st.id, ID) == 0
         && st.pid == 8032 && strcmp (st.status, "creating") == 0
         && strcmp (st.bundle, BUNDLE) == 0
         && json_object_object_length (st.annotations) == 2,
         "state of createRuntime");
  oci_state_clear (&st);
  check (state (state_stop, &st) == 0 && st.pid == 0
         && strcmp (st.status, "stopped") == 0, "state of poststop: no pid");
  oci_state_clear (&st);
  check (state ("{\"id\":\"a\",\"status\":\"creating\",\"bundle\":\"/b\"}", &st) == 0
         && json_object_object_length (st.annotations) == 0,
         "no annotations is an empty map");
  oci_state_clear (&st);

  static const struct { const char *json, *why; } bad[] = {
    { "", "not valid JSON" },
    { "{\"id\":", "not valid JSON" },
    { "[1]", "not one JSON object" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\"} {}", "not one JSON object" },
    { "{\"status\":\"x\",\"bundle\":\"/b\"}", "has no \"id\"" },
    { "{\"id\":1,\"status\":\"x\",\"bundle\":\"/b\"}", "\"id\" is not a string" },
    { "{\"id\":\"../../etc\",\"status\":\"x\",\"bundle\":\"/b\"}", "not a valid id" },
    { "{\"id\":\"a/b\",\"status\":\"x\",\"bundle\":\"/b\"}", "not a valid id" },
    { "{\"id\":\"..\",\"status\":\"x\",\"bundle\":\"/b\"}", "not a valid id" },
    { "{\"id\":\"\",\"status\":\"x\",\"bundle\":\"/b\"}", "not a valid id" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"b\"}", "not an absolute path" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\",\"pid\":\"1\"}", "not an integer" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\",\"pid\":-5}", "not a process id" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\",\"pid\":99999999999}", "not a process id" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\",\"annotations\":[]}", "not an object" },
    { "{\"id\":\"a\",\"status\":\"x\",\"bundle\":\"/b\",\"annotations\":{\"k\":1}}",
      "annotation k is not a string" },
    { "{\"id\":\"a\\u0000b\",\"status\":\"x\",\"bundle\":\"/b\"}", "NUL byte" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    check (state (bad[i].json, &st) == -1 && said (bad[i].why) && st.id == NULL,
           "bad state %s", bad[i].json);
  }

  /* Nesting far deeper than json-c's limit is an error, not a crash. */
  size_t depth = 100000;
  char *deep = malloc (2 * depth + 1);
  memset (deep, '[', depth);
  memset (deep + depth, ']', depth);
  deep[2 * depth] = '\0';
  check (state (deep, &st) == -1 && said ("not valid JSON"), "10^5 nested arrays");
  free (deep);
}

static const char config[] =
  "{\"ociVersion\":\"1.0.2-dev\","
  " \"process\":{\"args\":[\"sleep\"],\"env\":[\"PATH=/bin\",\"HOSTNAME=diskpod\"]},"
  " \"root\":{\"path\":\"/store/overlay/abc/merged\"},"
  " \"mounts\":["
  "  {\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
  "  {\"destination\":\"/run/podman-disk/\",\"type\":\"bind\",\"source\":\"/srv/vol\","
  "   \"options\":[\"rw\",\"rprivate\",\"rbind\"]},"
  "  {\"destination\":\"/data\",\"type\":\"none\",\"source\":\"/srv/data\",\"options\":[\"rbind\"]},"
  "  {\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}],"
  " \"annotations\":{\"io.podman-disk.export/disk\":\"true\","
  "   \"io.kubernetes.cri-o.SandboxID\":\"6305\"},"
  " \"linux\":{\"mountLabel\":\"system_u:object_r:container_file_t:s0:c1,c2\"}}";

static int
cfg_parse (const char *json, struct oci_config *cfg)
{
  error_clear ();
  return oci_config_parse (json, strlen (json), "/bundle", cfg);
}

static void
test_config (void)
{
  struct oci_config cfg;

  check (cfg_parse (config, &cfg) == 0
         && strcmp (cfg.root_path, "/store/overlay/abc/merged") == 0
         && strcmp (cfg.mount_label, "system_u:object_r:container_file_t:s0:c1,c2") == 0
         && strcmp (cfg.hostname, "diskpod") == 0
         && cfg.n_mounts == 4 && cfg.mounts[1].bind && !cfg.mounts[0].bind
         && cfg.mounts[2].bind,
         "podman 4.3 config.json of a pod's container");
  const char *src = oci_config_bind_source (&cfg, "/run/podman-disk");
  check (src && strcmp (src, "/srv/vol") == 0, "volume at /run/podman-disk/ found");
  src = oci_config_bind_source (&cfg, "/data");
  check (src && strcmp (src, "/srv/data") == 0, "type none + rbind is a bind mount");
  check (oci_config_bind_source (&cfg, "/tmp") == NULL, "tmpfs has no host directory");
  check (oci_config_bind_source (&cfg, "/run") == NULL, "no mount at /run");
  oci_config_clear (&cfg);

  check (cfg_parse ("{\"root\":{\"path\":\"rootfs\"},\"hostname\":\"h\"}", &cfg) == 0
         && strcmp (cfg.root_path, "/bundle/rootfs") == 0 && cfg.mount_label == NULL
         && strcmp (cfg.hostname, "h") == 0 && cfg.n_mounts == 0,
         "relative root.path is against the bundle");
  oci_config_clear (&cfg);
  check (cfg_parse ("{\"root\":{\"path\":\"/r\"},\"linux\":{\"mountLabel\":\"\"}}", &cfg) == 0
         && cfg.mount_label == NULL, "empty mountLabel is no label");
  oci_config_clear (&cfg);

  static const struct { const char *json, *why; } bad[] = {
    { "{}", "has no \"root\"" },
    { "{\"root\":\"/r\"}", "\"root\" is not an object" },
    { "{\"root\":{}}", "has no \"path\"" },
    { "{\"root\":{\"path\":\"\"}}", "root.path is empty" },
    { "{\"root\":{\"path\":\"/r\"},\"mounts\":{}}", "\"mounts\" is not an array" },
    { "{\"root\":{\"path\":\"/r\"},\"mounts\":[1]}", "mounts[0] is not an object" },
    { "{\"root\":{\"path\":\"/r\"},\"mounts\":[{\"source\":\"/x\"}]}", "has no \"destination\"" },
    { "{\"root\":{\"path\":\"/r\"},\"linux\":{\"mountLabel\":7}}", "\"mountLabel\" is not a string" },
    { "{\"root\":{\"path\":\"/r\"},\"annotations\":{\"a\":null}}", "annotation a is not a string" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    check (cfg_parse (bad[i].json, &cfg) == -1 && said (bad[i].why)
           && cfg.root_path == NULL, "bad config %s", bad[i].json);
}

/* A container as podman kube play makes it: storage name POD-CNAME. */
static struct container_ident
ident (const char *name, const char *hostname, bool in_pod)
{
  struct container_ident ci = { 0 };
  ci.id = strdup (ID);
  ci.names = calloc (2, sizeof *ci.names);
  if (name)
    ci.names[0] = strdup (name);
  ci.hostname = hostname ? strdup (hostname) : NULL;
  ci.in_pod = in_pod;
  return ci;
}

static int
request (const char *annotations_json, const struct container_ident *ci,
         struct export_request *req)
{
  json_object *a = json_tokener_parse (annotations_json);
  error_clear ();
  int r = export_request_parse (a, ci, req);
  json_object_put (a);
  return r;
}

static void
test_request (void)
{
  struct container_ident disk = ident ("diskpod-disk", "diskpod", true);
  struct container_ident consumer = ident ("diskpod-consumer", "diskpod", true);
  struct container_ident plain = ident ("c1", ID, false);
  struct container_ident anon = ident (NULL, NULL, false);
  struct export_request req;

  check (request ("{\"io.podman-disk.export\":\"true\"}", &plain, &req) == 0
         && req.wanted && strcmp (req.name, "c1") == 0 && !req.disk && !req.cow,
         "export=true: named after the container");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export\":\"true\"}", &anon, &req) == 0
         && req.wanted && strcmp (req.name, "721ade937a85") == 0,
         "export=true, no name known: the short id");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export\":\"fedora-41_x.y\"}", &plain, &req) == 0
         && req.wanted && strcmp (req.name, "fedora-41_x.y") == 0, "export=NAME");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export\":\"false\"}", &plain, &req) == 0
         && !req.wanted, "export=false: no export");
  export_request_clear (&req);
  check (request ("{\"other\":\"x\",\"io.podman-disk.disk\":\"/disk/a\"}", &plain, &req) == 0
         && !req.wanted, "no export annotation: nothing");
  export_request_clear (&req);

  /* The pod: every container gets the annotation, one is meant. */
  const char *pod = "{\"io.podman-disk.export/disk\":\"true\","
    "\"io.podman-disk.disk\":\"/disk/x.qcow2\",\"io.podman-disk.writable\":\"cow\"}";
  check (request (pod, &disk, &req) == 0 && req.wanted
         && strcmp (req.name, "disk") == 0 && strcmp (req.disk, "/disk/x.qcow2") == 0
         && req.cow, "export/disk applies to POD-disk");
  export_request_clear (&req);
  check (request (pod, &consumer, &req) == 0 && !req.wanted,
         "export/disk does not apply to POD-consumer");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export/disk\":\"yes\"}", &consumer, &req) == 0
         && !req.wanted, "another container's bad value is not this one's business");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export/diskpod-disk\":\"true\"}", &disk, &req) == 0
         && req.wanted && strcmp (req.name, "diskpod-disk") == 0, "the full name matches");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export/c1\":\"vol\"}", &plain, &req) == 0
         && req.wanted && strcmp (req.name, "vol") == 0, "podman run --name c1");
  export_request_clear (&req);
  struct container_ident notpod = ident ("diskpod-disk", "diskpod", false);
  check (request ("{\"io.podman-disk.export/disk\":\"true\"}", &notpod, &req) == 0
         && !req.wanted, "the POD- prefix counts only in a pod");
  export_request_clear (&req);
  container_ident_clear (&notpod);
  check (request ("{\"io.podman-disk.export\":\"false\",\"io.podman-disk.export/disk\":\"true\","
                  "\"io.podman-disk.disk\":\"/disk/a\",\"io.podman-disk.disk/disk\":\"/disk/b\"}",
                  &disk, &req) == 0
         && req.wanted && strcmp (req.disk, "/disk/b") == 0, "the /CNAME form wins");
  export_request_clear (&req);
  check (request ("{\"io.podman-disk.export\":\"true\","
                  "\"io.podman-disk.writable\":\"persistent:/vm/a,b.qcow2\"}",
                  &plain, &req) == 0
         && req.wanted && !req.cow && req.persistent
         && strcmp (req.persistent, "/vm/a,b.qcow2") == 0, "writable=persistent:/PATH");
  export_request_clear (&req);
  struct container_ident crio = ident ("k8s_disk_pod_ns_uid_0", NULL, true);
  crio.k8s_name = strdup ("disk");
  check (request ("{\"io.podman-disk.export/disk\":\"true\"}", &crio, &req) == 0
         && req.wanted && strcmp (req.name, "disk") == 0,
         "CRI-O: io.kubernetes.container.name");
  export_request_clear (&req);
  container_ident_clear (&crio);

  static const struct { const char *json, *why; } bad[] = {
    { "{\"io.podman-disk.export\":\"yes\"}",
      "annotation io.podman-disk.export=\"yes\": the value must be true, false or an export name" },
    { "{\"io.podman-disk.export\":\"\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"True\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"1\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"off\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"a/b\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"../x\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"a b\"}", "the value must be true" },
    { "{\"io.podman-disk.export\":\"TRUE1234567890123456789012345678901234567890123456789012345678901\"}",
      "the value must be true" },
    { "{\"io.podman-disk.export/c1\":\"True?\"}", "io.podman-disk.export/c1=\"True?\"" },
    { "{\"io.podman-disk.export/\":\"true\"}", "\"\" is not a container name" },
    { "{\"io.podman-disk.export/-x\":\"true\"}", "\"-x\" is not a container name" },
    { "{\"io.podman-disk.export/a/b\":\"true\"}", "\"a/b\" is not a container name" },
    { "{\"io.podman-disk.export\":\"true\",\"io.podman-disk.disk\":\"disk/a\"}",
      "io.podman-disk.disk=\"disk/a\": the value must be the absolute path" },
    { "{\"io.podman-disk.export\":\"true\",\"io.podman-disk.writable\":\"true\"}",
      "io.podman-disk.writable=\"true\": the value must be cow" },
    { "{\"io.podman-disk.export\":\"true\",\"io.podman-disk.writable\":\"persistent:vm.qcow2\"}",
      "persistent:/PATH (writes go into the clone" },
    { "{\"io.podman-disk.export\":\"true\",\"io.podman-disk.writable\":\"persistent:\"}",
      "persistent:/PATH (writes go into the clone" },
    { "{\"io.podman-disk.export\":\"true\",\"io.podman-disk.disks\":\"/disk/a\"}",
      "unknown annotation io.podman-disk.disks" },
    { "{\"io.podman-disk.export/c1\":\"true\",\"io.podman-disk.export/" ID "x\":\"true\"}",
      "" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int r = request (bad[i].json, &plain, &req);
    if (bad[i].why[0] == '\0') {       /* an id-ish name that is not ours */
      check (r == 0 && req.wanted, "%s", bad[i].json);
      export_request_clear (&req);
      continue;
    }
    check (r == -1 && said (bad[i].why) && !req.wanted && !req.name,
           "refused: %s", bad[i].json);
  }

  container_ident_clear (&disk);
  container_ident_clear (&consumer);
  container_ident_clear (&plain);
  container_ident_clear (&anon);
}

static void
test_storage_names (void)
{
  char dir[] = "/tmp/test-hook-parse.XXXXXX";
  if (!mkdtemp (dir)) {
    check (false, "mkdtemp");
    return;
  }
  char path[256];
  snprintf (path, sizeof path, "%s/containers.json", dir);
  FILE *f = fopen (path, "w");
  fprintf (f, "[{\"id\":\"other\",\"names\":[\"x\"]},"
           "{\"id\":\"%s\",\"names\":[\"diskpod-disk\"],\"image\":\"b159\","
           "\"layer\":\"1d0f\",\"metadata\":\"{\\\"image-name\\\":\\\"localhost/testdisk:latest\\\","
           "\\\"name\\\":\\\"diskpod-disk\\\"}\"}]", ID);
  fclose (f);

  struct container_ident ci = { .id = strdup (ID) };
  check (container_ident_read_storage (&ci, path) == 0
         && ci.names && ci.names[0] && strcmp (ci.names[0], "diskpod-disk") == 0
         && !ci.names[1] && strcmp (ci.image_id, "b159") == 0
         && strcmp (ci.image_name, "localhost/testdisk:latest") == 0,
         "containers.json: names and image");
  container_ident_clear (&ci);
  ci = (struct container_ident) { .id = strdup ("absent") };
  check (container_ident_read_storage (&ci, path) == 1 && !ci.names,
         "containers.json: another container");
  container_ident_clear (&ci);

  /* The whole load, from a bundle in podman's layout. */
  char bundle[256], cfgpath[300], spath[256];
  snprintf (spath, sizeof spath, "%s/%s", dir, ID);
  snprintf (bundle, sizeof bundle, "%s/%s/userdata", dir, ID);
  mkdir (spath, 0700);
  mkdir (bundle, 0700);
  snprintf (cfgpath, sizeof cfgpath, "%s/config.json", bundle);
  f = fopen (cfgpath, "w");
  fputs (config, f);
  fclose (f);
  struct oci_state st;
  struct oci_config cfg;
  char sjson[1024];
  snprintf (sjson, sizeof sjson,
            "{\"id\":\"%s\",\"status\":\"creating\",\"pid\":1,\"bundle\":\"%s\"}", ID, bundle);
  bool ok = state (sjson, &st) == 0 && oci_config_load (bundle, &cfg) == 0
    && container_ident_load (&ci, &st, &cfg) == 0;
  check (ok && ci.in_pod && strcmp (ci.hostname, "diskpod") == 0
         && strcmp (ci.names[0], "diskpod-disk") == 0
         && strcmp (container_ident_short_name (&ci), "disk") == 0
         && container_ident_matches (&ci, "disk")
         && !container_ident_matches (&ci, "consumer"),
         "bundle to names: short name 'disk' in pod 'diskpod'");
  if (ok) {
    container_ident_clear (&ci);
    oci_config_clear (&cfg);
  }
  oci_state_clear (&st);
  unlink (cfgpath);
  rmdir (bundle);
  rmdir (spath);
  unlink (path);
  rmdir (dir);
}

static bool
split_is (const char *value, const char *base, const char *const *want)
{
  char **dirs;
  size_t n;

  error_clear ();
  if (rootfs_split_lowerdir (value, base, &dirs, &n) == -1)
    return want == NULL;
  bool ok = want != NULL;
  size_t i;
  for (i = 0; ok && want[i]; i++)
    ok = i < n && strcmp (dirs[i], want[i]) == 0;
  ok = ok && i == n && dirs[n] == NULL;
  for (i = 0; i < n; i++) {
    if (!ok)
      printf ("  got [%zu] %s\n", i, dirs[i]);
    free (dirs[i]);
  }
  free (dirs);
  return ok;
}

static void
test_lowerdir (void)
{
  check (split_is ("/a/l/X:/a/l/Y", NULL, (const char *[]) { "/a/l/X", "/a/l/Y", NULL }),
         "two absolute lowerdirs");
  check (split_is ("l/X:l/Y", "/home", (const char *[]) { "/home/l/X", "/home/l/Y", NULL }),
         "relative to the overlay home");
  check (split_is ("/a\\:b:/c d", NULL, (const char *[]) { "/a:b", "/c d", NULL }),
         "escaped colon");
  check (split_is ("/one", NULL, (const char *[]) { "/one", NULL }), "one lowerdir");
  check (split_is ("/a::/data", NULL, (const char *[]) { "/a", NULL }),
         "data-only layers are dropped");
  check (split_is ("/a:", NULL, NULL) && said ("empty entry"), "trailing colon");
  check (split_is ("", NULL, NULL) && said ("empty entry"), "empty");
}

int
main (void)
{
  test_state ();
  test_config ();
  test_request ();
  test_storage_names ();
  test_lowerdir ();
  return unit_summary ();
}
