/* Placeholder until diskfmt.c lands. */
#include "diskfmt.h"
const char *diskfmt_name (enum disk_format f) { static const char *n[] = {"raw","qcow2","vmdk","vhdx","vpc","vdi"}; return n[f]; }
