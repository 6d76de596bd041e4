/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a progress bar on the terminal, like nbdcopy -p. */
#ifndef PODMAN_DISK_PROGRESS_H
#define PODMAN_DISK_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
  bool shown;                /* stderr is a terminal and it was asked for */
  uint64_t total;
  int64_t start_ms, last_ms;
  int width;                 /* of the last line drawn */
};

/* Start a bar for TOTAL bytes, drawn only if WANTED and stderr is a tty. */
void progress_start (struct progress *p, bool wanted, uint64_t total);
/* DONE bytes so far: redrawn at most ten times a second. */
void progress_update (struct progress *p, uint64_t done);
/* Draw 100% and end the line (OK), or just end the line. */
void progress_end (struct progress *p, bool ok);

#endif
