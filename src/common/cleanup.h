/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: resource cleanup attributes, so early returns stay short. */
#ifndef PODMAN_DISK_CLEANUP_H
#define PODMAN_DISK_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f) __attribute__((cleanup (f)))
/* A parameter a callback must take and does not use. */
#define _unused_ __attribute__((unused))

static inline void freep (void *p) { free (*(void **) p); }
static inline void closep (int *fd) { if (*fd >= 0) close (*fd); }
static inline void fclosep (FILE **f) { if (*f) fclose (*f); }
static inline void closedirp (DIR **d) { if (*d) closedir (*d); }

/* Free a NULL-terminated vector of strings. */
static inline void strv_free (char **v)
{
  if (v)
    for (char **p = v; *p; p++)
      free (*p);
  free (v);
}
static inline void strv_freep (char ***v) { strv_free (*v); }

#define _cleanup_free_ _cleanup_ (freep)
#define _cleanup_close_ _cleanup_ (closep)
#define _cleanup_fclose_ _cleanup_ (fclosep)
#define _cleanup_closedir_ _cleanup_ (closedirp)
#define _cleanup_strv_ _cleanup_ (strv_freep)

/* Hand a resource over to someone else: the cleanup then sees nothing. */
#define steal_pointer(pp) ({ __typeof__ (*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#endif
