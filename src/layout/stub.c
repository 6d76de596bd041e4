/* Placeholder until src/layout lands. */
#include <string.h>
#include "common/error.h"
#include "layout/layout.h"
bool layout_is_layout_ref (const char *ref)
{ return strncmp (ref, "oci:", 4) == 0 || strncmp (ref, "oci-archive:", 12) == 0 || strncmp (ref, "docker-archive:", 15) == 0; }
int layout_locate (const char *ref, const struct locate_request *req, struct disk_location *loc)
{ return error ("%s: OCI layouts are not implemented yet", ref); }
