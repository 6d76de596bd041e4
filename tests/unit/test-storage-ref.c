/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test: image references in containers/storage
 * (src/storage/reference.c): the containers-storage: store specifier,
 * docker reference parsing and normalisation, and podman's local lookup
 * order over a fixed set of images.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "storage/reference.h"

#include "unit.h"

static bool
same (const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp (a, b) == 0);
}

/* ---- containers-storage:[DRIVER@ROOT+RUNROOT]REF ---- */

static void
spec_ok (const char *in, const char *driver, const char *root,
         const char *runroot, const char *ref)
{
  struct storage_spec s;
  int r = storage_spec_parse (in, &s);
  check (r == 0 && same (s.driver, driver) && same (s.root, root)
         && same (s.runroot, runroot) && same (s.ref, ref),
         "spec %s -> driver %s root %s runroot %s ref %s", in,
         driver ? driver : "-", root ? root : "-", runroot ? runroot : "-", ref);
  if (r == 0)
    storage_spec_free (&s);
  else
    printf ("  error: %s\n", error_message ());
}

static void
spec_bad (const char *in, const char *message)
{
  struct storage_spec s;
  error_clear ();
  int r = storage_spec_parse (in, &s);
  check (r == -1 && strstr (error_message (), message),
         "spec %s refused: %s", in, error_message ());
  if (r == 0)
    storage_spec_free (&s);
}

static void
test_spec (void)
{
  spec_ok ("fedora:41", NULL, NULL, NULL, "fedora:41");
  spec_ok ("containers-storage:fedora", NULL, NULL, NULL, "fedora");
  spec_ok ("containers-storage:[overlay@/var/r+/run/r]quay.io/a/b:1",
           "overlay", "/var/r", "/run/r", "quay.io/a/b:1");
  spec_ok ("containers-storage:[/var/r]x", NULL, "/var/r", NULL, "x");
  spec_ok ("containers-storage:[vfs@/r+/rr:vfs.ignore_chown_errors=true]x",
           "vfs", "/r", "/rr", "x");
  spec_ok ("containers-storage:[overlay@/r]@0123", "overlay", "/r", NULL,
           "@0123");
  spec_bad ("containers-storage:[]x", "is empty");
  spec_bad ("containers-storage:[overlay@]x", "DRIVER@ROOT");
  spec_bad ("containers-storage:[@/r]x", "DRIVER@ROOT");
  spec_bad ("containers-storage:[overlay@relative]x", "absolute paths");
  spec_bad ("containers-storage:[overlay@/r+relative]x", "absolute paths");
  spec_bad ("containers-storage:[overlay@/r", "no closing ']'");
  spec_bad ("containers-storage:[overlay@/r]", "no image named");
  spec_bad ("containers-storage:", "no image named");
}

/* ---- docker references ---- */

#define D64 "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"

static void
name_ok (const char *in, const char *domain, const char *path,
         const char *tag, const char *digest, const char *cand0,
         const char *cand1)
{
  struct image_name n;
  bool r = image_name_parse (in, &n);
  bool ok = r && same (n.domain, domain) && same (n.path, path)
    && same (n.tag, tag) && same (n.digest, digest);
  char **c = r ? image_name_candidates (&n) : NULL;
  ok = ok && c && same (c[0], cand0) && same (c[1], cand1);
  check (ok, "name %s -> %s | %s", in, cand0, cand1 ? cand1 : "-");
  if (!ok && c)
    printf ("  got %s %s %s %s; %s | %s\n", n.domain, n.path, n.tag, n.digest,
            c[0], c[1]);
  strv_free (c);
  if (r)
    image_name_free (&n);
}

static void
name_bad (const char *in)
{
  struct image_name n;
  bool r = image_name_parse (in, &n);
  check (!r, "not a name: '%s'", in);
  if (r)
    image_name_free (&n);
}

static void
test_names (void)
{
  name_ok ("vmdisk", NULL, "vmdisk", NULL, NULL,
           "localhost/vmdisk:latest", "docker.io/library/vmdisk:latest");
  name_ok ("vmdisk:41", NULL, "vmdisk", "41", NULL,
           "localhost/vmdisk:41", "docker.io/library/vmdisk:41");
  name_ok ("containerdisks/fedora:41", NULL, "containerdisks/fedora", "41",
           NULL, "localhost/containerdisks/fedora:41",
           "docker.io/containerdisks/fedora:41");
  name_ok ("quay.io/containerdisks/fedora:41", "quay.io",
           "containerdisks/fedora", "41", NULL,
           "quay.io/containerdisks/fedora:41", NULL);
  name_ok ("localhost:5000/a/b", "localhost:5000", "a/b", NULL, NULL,
           "localhost:5000/a/b:latest", NULL);
  name_ok ("localhost/demo", "localhost", "demo", NULL, NULL,
           "localhost/demo:latest", NULL);
  name_ok ("docker.io/busybox", "docker.io", "busybox", NULL, NULL,
           "docker.io/library/busybox:latest", NULL);
  name_ok ("index.docker.io/busybox:1", "index.docker.io", "busybox", "1",
           NULL, "docker.io/library/busybox:1", NULL);
  name_ok ("vmdisk@sha256:" D64, NULL, "vmdisk", NULL, "sha256:" D64,
           "localhost/vmdisk@sha256:" D64,
           "docker.io/library/vmdisk@sha256:" D64);
  /* registries.conf: an alias comes first, its tag or digest carried. */
  name_ok ("aliased:2", NULL, "aliased", "2", NULL,
           "quay.io/containerdisks/real:2", "localhost/aliased:2");
  name_ok ("team/aliased", NULL, "team/aliased", NULL, NULL,
           "registry.example.com:5000/t/a:latest", "localhost/team/aliased:latest");
  name_ok ("x/a-b__c.d_e---f:T.1-x", NULL, "x/a-b__c.d_e---f", "T.1-x", NULL,
           "localhost/x/a-b__c.d_e---f:T.1-x", "docker.io/x/a-b__c.d_e---f:T.1-x");
  name_bad ("a_b.c/d");         /* a domain cannot hold '_' */
  name_bad ("Fedora");
  name_bad ("fedora:");
  name_bad ("a//b");
  name_bad ("a/b/");
  name_bad ("-a");
  name_bad ("a___b");
  name_bad ("a..b");
  name_bad ("fedora:-x");
  name_bad ("fedora@sha256:abc");
  name_bad ("fedora@");
  name_bad ("quay.io:x/a");
  name_bad ("");
}

/* ---- lookup ---- */

#define ID_A "aaaa0000000000000000000000000000000000000000000000000000000000aa"
#define ID_B "ab120000000000000000000000000000000000000000000000000000000000bb"
#define ID_C "cccc0000000000000000000000000000000000000000000000000000000000cc"
#define ID_E "eeee0000000000000000000000000000000000000000000000000000000000ee"
#define ID_F "ffff0000000000000000000000000000000000000000000000000000000000ff"
#define ID_G "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *names_a[] = { "quay.io/containerdisks/fedora:41", NULL };
static char *digests_a[] = { "sha256:" D64, NULL };
static char *names_b[] = { "localhost/fedora:41", NULL };
static char *names_c[] = { "docker.io/library/fedora:latest", NULL };
static char *names_e[] = { "quay.io/x/centos:9", "quay.io/x/centos:latest", NULL };
static char *names_f[] = { "quay.io/y/centos:9", NULL };
static char *names_g[] = { "registry.example.com:5000/team/tool@sha256:" D64, NULL };
static char *none[] = { NULL };

static const struct st_image img[] = {
  { ID_A, names_a, digests_a, NULL, 0 },
  { ID_B, names_b, none, NULL, 0 },
  { ID_C, names_c, none, NULL, 0 },
  { ID_E, names_e, none, NULL, 0 },
  { ID_F, names_f, none, NULL, 1 },
  { ID_G, names_g, digests_a, NULL, 1 },
};
static const struct st_image *imgs[] = {
  &img[0], &img[1], &img[2], &img[3], &img[4], &img[5],
};
#define N (sizeof imgs / sizeof imgs[0])

static void
finds (const char *ref, const char *id)
{
  size_t found = 99;
  error_clear ();
  int r = storage_ref_lookup (ref, imgs, N, &found);
  check (r == 0 && found < N && strcmp (imgs[found]->id, id) == 0,
         "%s is %.4s", ref, id);
  if (r != 0)
    printf ("  r=%d %s\n", r, error_message ());
}

static void
unknown (const char *ref)
{
  size_t found;
  int r = storage_ref_lookup (ref, imgs, N, &found);
  check (r == 1, "%s is not known", ref);
  if (r == 0)
    printf ("  found %s\n", imgs[found]->id);
}

static void
refused (const char *ref, const char *message)
{
  size_t found;
  error_clear ();
  int r = storage_ref_lookup (ref, imgs, N, &found);
  check (r == -1 && strstr (error_message (), message),
         "%s refused: %s", ref, error_message ());
}

static void
test_lookup (void)
{
  /* Names: localhost/ first, then docker.io, then the fuzzy suffix. */
  finds ("fedora:41", ID_B);
  finds ("localhost/fedora:41", ID_B);
  finds ("quay.io/containerdisks/fedora:41", ID_A);
  finds ("containerdisks/fedora:41", ID_A);
  finds ("fedora", ID_C);
  finds ("fedora:latest", ID_C);
  finds ("docker.io/fedora", ID_C);
  finds ("x/centos", ID_E);
  finds ("centos", ID_E);       /* only x/centos has :latest */
  refused ("centos:9", "ambiguous name: it matches 2 images: "
           "quay.io/x/centos:9 (eeee00000000), quay.io/y/centos:9 (ffff00000000)");
  unknown ("entos:9");          /* not at a path boundary */
  unknown ("centos:8");
  unknown ("quay.io/centos:9"); /* qualified: no fuzzy match */
  unknown ("nothere");
  unknown ("Fedora");

  /* IDs. */
  finds (ID_A, ID_A);
  finds ("sha256:" ID_A, ID_A);
  finds ("aaaa", ID_A);
  finds ("ab", ID_B);
  finds ("0123", ID_G);
  refused ("a", "ambiguous image ID prefix: it matches 2 images");
  refused ("sha256:aaaa", "must be 64 hex digits");
  unknown ("sha256:" "bbbb0000000000000000000000000000000000000000000000000000000000bb");
  unknown ("9999");

  /* containers-storage's NAME@ID. */
  finds ("whatever@" ID_E, ID_E);
  finds ("@" ID_F, ID_F);

  /* Digests. */
  finds ("fedora@sha256:" D64, ID_A);
  finds ("containerdisks/fedora@sha256:" D64, ID_A);
  finds ("quay.io/containerdisks/fedora@sha256:" D64, ID_A);
  finds ("fedora:41@sha256:" D64, ID_A);       /* the tag is ignored */
  unknown ("other/fedora@sha256:" D64);
  unknown ("centos@sha256:" D64);
  finds ("registry.example.com:5000/team/tool@sha256:" D64, ID_G);
  finds ("team/tool@sha256:" D64, ID_G);       /* an exact digested name */
}

/* The tests' own registries.conf (drop-ins of /etc/containers/
 * registries.conf.d still apply, as for podman: the names above are none
 * that a distribution aliases).
 */
static void
registries_conf (void)
{
  static char dir[] = "/tmp/podman-disk-unit-XXXXXX";
  char path[sizeof dir + 32];
  unit_tmpdir (dir);
  snprintf (path, sizeof path, "%s/registries.conf", dir);
  FILE *f = fopen (path, "w");
  if (!f)
    unit_die (path);
  fputs ("unqualified-search-registries = [\"docker.io\"]\n"
         "[aliases]\n"
         "\"aliased\" = \"quay.io/containerdisks/real\"\n"
         "\"team/aliased\" = \"registry.example.com:5000/t/a\"\n", f);
  fclose (f);
  setenv ("CONTAINERS_REGISTRIES_CONF", path, 1);
  setenv ("HOME", dir, 1);
}

int
main (void)
{
  registries_conf ();
  test_spec ();
  test_names ();
  test_lookup ();
  return unit_summary ();
}
