/* Placeholder until src/storage lands. */
#include "common/error.h"
#include "storage/storage.h"
int storage_locate (const char *ref, const struct locate_request *req, struct disk_location *loc)
{ return error ("%s: containers/storage is not implemented yet", ref); }
int storage_list (storage_list_cb cb, void *arg) { return error ("not implemented yet"); }
