/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the monotonic clock, in milliseconds, for deadlines and
 * rates (never for dates).
 */
#ifndef PODMAN_DISK_CLOCK_H
#define PODMAN_DISK_CLOCK_H

#include <stdint.h>

int64_t now_ms (void);

#endif
