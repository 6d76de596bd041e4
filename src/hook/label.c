/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: SELinux labels, see label.h. */
#include <errno.h>
#include <unistd.h>

#include "common/dl.h"
#include "common/error.h"
#include "hook/label.h"

int
label_path (const char *path, const char *label)
{
  /* No selinuxfs, no SELinux: not even worth loading the library. */
  if (!label || access ("/sys/fs/selinux/enforce", F_OK) == -1)
    return 0;
  if (dl_libselinux () == -1)
    return error_context ("SELinux is enabled, cannot label %s", path);
  if (sym_is_selinux_enabled () <= 0)
    return 0;
  if (sym_lsetfilecon (path, label) == -1)
    return error_errno (errno, "cannot give %s the SELinux label %s", path, label);
  return 0;
}
