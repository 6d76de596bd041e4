/* podman-disk cp: placeholder */
#include "common/cli.h"
int cmd_cp (int argc, char **argv) { return 1; }
