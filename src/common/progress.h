/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: progress, like nbdcopy -p: a bar on a terminal; elsewhere
 * (a CI log, a file) a plain line every few seconds and one at the end.
 */
#ifndef PODMAN_DISK_PROGRESS_H
#define PODMAN_DISK_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
  bool shown;                /* it was asked for */
  bool tty;                  /* stderr is a terminal: the bar */
  uint64_t total;
  int64_t start_ms, last_ms;
  int width;                 /* of the last line drawn */
};

/* Start for TOTAL bytes, shown only if WANTED. */
void progress_start (struct progress *p, bool wanted, uint64_t total);
/* DONE bytes so far: the bar redrawn at most ten times a second, a plain
 * line every PROGRESS_LINE_MS.
 */
#define PROGRESS_LINE_MS 5000
void progress_update (struct progress *p, uint64_t done);
/* Draw 100% and end the line (OK), or just end the line. */
void progress_end (struct progress *p, bool ok);

#endif
