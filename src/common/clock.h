/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: the monotonic clock, in milliseconds, for deadlines and
 * rates (never for dates).
 */
#ifndef PODMAN_DISK_CLOCK_H
#define PODMAN_DISK_CLOCK_H

#include <stdint.h>

int64_t now_ms (void);
/* The same in microseconds, for what --log-level debug reports timing. */
int64_t now_us (void);

#endif
