/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: SHA-256 (FIPS 180-4), for --verify and blob digests.
 *
 * None of the libraries podman-disk links or loads exposes a hash, so this
 * is the textbook algorithm, small and dependency-free.
 */
#ifndef PODMAN_DISK_SHA256_H
#define PODMAN_DISK_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t length;           /* bytes hashed so far */
  uint8_t block[64];
  size_t used;               /* bytes in block */
};

void sha256_init (struct sha256 *s);
void sha256_update (struct sha256 *s, const void *data, size_t len);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_final_hex (struct sha256 *s, char hex[65]);

/* One call: the hex digest of LEN bytes at DATA. */
void sha256_hex (const void *data, size_t len, char hex[65]);

#endif
