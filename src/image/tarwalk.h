/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a minimal walk over tar headers, for the offset pass.
 *
 * libarchive costs a first locate more than the walk itself: about 10 ms
 * to load (it pulls in a dozen libraries) and about 4 us a header (wide
 * character conversions, an entry rebuilt per header).  This walk reads
 * the headers real image tools write, in place, and reports what
 * tarscan_memory would report through libarchive, byte for byte:
 * ustar (with its prefix), GNU (long names and links, 'L' and 'K'), v7,
 * pax 'x' headers (path, linkpath and size) and 'g' headers (ignored, as
 * libarchive does), octal and base-256 sizes, checksums verified.
 *
 * It is sure or it says so: anything it does not know to the last detail
 * (sparse files, hard links with data, odd types, malformed or truncated
 * headers, a first block some libarchive filter could claim, non-ASCII pax
 * names, AppleDouble "._" members, ...) makes it return TARWALK_UNSURE
 * before a single member is reported, and the caller asks libarchive,
 * which refuses or reads it exactly as before.  fuzz/fuzz-tarwalk.c holds
 * it to libarchive's answers.
 */
#ifndef PODMAN_DISK_TARWALK_H
#define PODMAN_DISK_TARWALK_H

#include <stddef.h>
#include <stdint.h>

#include "image/tarscan.h"

#define TARWALK_UNSURE (-2)

/* Called with the offset of every header block about to be read (the
 * caller's read-ahead), ARG as given.
 */
typedef void (*tarwalk_ahead_fn) (void *arg, uint64_t offset);

/* Walk the tar of LEN bytes at BUF.  If the whole tar is understood,
 * call CB for every member in archive order (offsets are BASE plus the
 * offset in BUF, as tarscan_memory reports them) and return 0 or the
 * first non-zero return of CB.  Otherwise return TARWALK_UNSURE without
 * having called CB, or -1 with an error (out of memory).  AHEAD may be
 * NULL.
 */
int tarwalk_memory (const void *buf, size_t len, uint64_t base,
                    tarwalk_ahead_fn ahead, void *ahead_arg,
                    tarscan_cb cb, void *arg);

#endif
