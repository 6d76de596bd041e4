/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what the OCI runtime hands the hook (src/hook/state.c): the
 * container state on stdin and the bundle's config.json.
 *
 * The input is parsed as both.  Properties: a parsed state's id is a plain
 * name (it names files of ours), its bundle absolute, its annotations an
 * object; a parsed config's root path is absolute and every mount has a
 * destination; a failure is one printable line; nothing leaks.
 */
#include <json-c/json.h>

#include "hook/state.h"
#include "registry/registry.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *buf = fuzz_strndup (data, size);
  struct oci_state st;
  struct oci_config cfg;

  memset (&st, 0, sizeof st);
  error_clear ();
  if (oci_state_parse (buf, size, &st) == 0) {
    FUZZ_CHECK (st.id && registry_id_valid (st.id) && !strchr (st.id, '/') &&
                strcmp (st.id, "..") && strcmp (st.id, "."),
                "state id '%s' accepted", st.id ? st.id : "(null)");
    FUZZ_CHECK (st.bundle && st.bundle[0] == '/', "bundle '%s' accepted",
                st.bundle ? st.bundle : "(null)");
    FUZZ_CHECK (st.annotations &&
                json_object_is_type (st.annotations, json_type_object),
                "state annotations not an object");
    oci_state_clear (&st);
  }
  else
    fuzz_check_error_message ();

  memset (&cfg, 0, sizeof cfg);
  error_clear ();
  if (oci_config_parse (buf, size, "/run/bundle", &cfg) == 0) {
    FUZZ_CHECK (cfg.root_path && cfg.root_path[0] == '/',
                "root path '%s' accepted", cfg.root_path ? cfg.root_path : "(null)");
    FUZZ_CHECK (cfg.annotations &&
                json_object_is_type (cfg.annotations, json_type_object),
                "config annotations not an object");
    for (size_t i = 0; i < cfg.n_mounts; i++)
      FUZZ_CHECK (cfg.mounts[i].destination, "mount %zu without destination", i);
    (void) oci_config_bind_source (&cfg, "/run/podman-disk");
    oci_config_clear (&cfg);
  }
  else
    fuzz_check_error_message ();
  free (buf);
  return 0;
}
