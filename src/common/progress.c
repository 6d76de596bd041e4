/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: progress bar, see progress.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "common/clock.h"
#include "common/progress.h"

#define BAR 30

void
progress_start (struct progress *p, bool wanted, uint64_t total)
{
  memset (p, 0, sizeof *p);
  p->shown = wanted;
  p->tty = isatty (STDERR_FILENO);
  p->total = total;
  p->start_ms = now_ms ();
}

/* "12.3 MiB" */
static void
human (double bytes, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    u++;
  }
  snprintf (buf, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void
draw (struct progress *p, uint64_t done, int64_t now)
{
  double frac = p->total ? (double) done / p->total : 1;
  double secs = (now - p->start_ms) / 1000.0;
  char bar[BAR + 1], rate[32], eta[32] = "";
  int filled, n;

  if (frac > 1)
    frac = 1;
  filled = frac * BAR;
  memset (bar, '#', filled);
  memset (bar + filled, '.', BAR - filled);
  bar[BAR] = '\0';
  if (secs > 0.05) {
    human (done / secs, rate, sizeof rate - 2);
    strcat (rate, "/s");
  }
  else
    strcpy (rate, "-");
  if (done > 0 && done < p->total && secs > 0.05) {
    long left = (p->total - done) / (done / secs);
    snprintf (eta, sizeof eta, "ETA %ld:%02ld:%02ld", left / 3600, left / 60 % 60, left % 60);
  }
  else if (done >= p->total)
    snprintf (eta, sizeof eta, "in %.1fs", secs);
  n = fprintf (stderr, "\r[%s] %3d%%  %s  %s", bar, (int) (frac * 100), rate, eta);
  /* Wipe what a longer previous line left. */
  if (n < p->width)
    fprintf (stderr, "%*s", p->width - n, "");
  p->width = n;
  fflush (stderr);
}

/* Not a terminal: "copied 12.3 MiB of 1.0 GiB (1%)", a line each time. */
static void
line (struct progress *p, uint64_t done, int64_t now)
{
  char d[32], t[32];

  human (done, d, sizeof d);
  human (p->total, t, sizeof t);
  fprintf (stderr, "copied %s of %s (%d%%)", d, t,
           p->total ? (int) (100.0 * done / p->total) : 100);
  if (done >= p->total)
    fprintf (stderr, " in %.1fs", (now - p->start_ms) / 1000.0);
  fputc ('\n', stderr);
}

void
progress_update (struct progress *p, uint64_t done)
{
  int64_t now;

  if (!p->shown)
    return;
  now = now_ms ();
  if (now - p->last_ms < (p->tty ? 100 : PROGRESS_LINE_MS))
    return;
  p->last_ms = now;
  if (p->tty)
    draw (p, done, now);
  else if (p->last_ms - p->start_ms >= PROGRESS_LINE_MS)
    line (p, done, now);
}

void
progress_end (struct progress *p, bool ok)
{
  if (!p->shown)
    return;
  if (!p->tty) {
    if (ok)
      line (p, p->total, now_ms ());
    return;
  }
  if (ok)
    draw (p, p->total, now_ms ());
  fputc ('\n', stderr);
}
