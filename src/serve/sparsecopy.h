/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: copy a byte range of a file out, sparse, in the kernel.
 *
 * containers/storage stores layer files fully allocated, so a 10 GiB disk
 * with 1 GiB of data is 10 GiB of allocated blocks there.  The copy keeps
 * the source's holes (SEEK_DATA/SEEK_HOLE) and also turns every all-zero
 * block into a hole, as qemu-img convert does; the data itself moves with
 * copy_file_range, a reflink where the filesystem and alignment allow.
 * The zero test reads the first bytes of each block, and the whole block
 * only when they are zero, so data blocks cost next to nothing to test.
 */
#ifndef PODMAN_DISK_SPARSECOPY_H
#define PODMAN_DISK_SPARSECOPY_H

#include <stdbool.h>
#include <stdint.h>

/* The granularity of the zero test: destination blocks this big and
 * aligned are made holes when all zero.
 */
#define SPARSECOPY_BLOCK (64 * 1024)

/* Called now and then with the bytes of the destination done so far;
 * returns 0 to go on, -1 (with error () set) to stop the copy.
 */
typedef int (*sparsecopy_progress_fn) (uint64_t done, void *arg);

/* Copy SIZE bytes at OFFSET of SRC to bytes 0..SIZE of DST.
 *
 * DST is a regular file (it is truncated to SIZE first, so skipped ranges
 * are holes) or, when BLOCKDEV, a block device (skipped ranges are zeroed
 * explicitly, the device is not truncated and is synced at the end).
 * Returns 0, or -1 with error () set (the caller removes a partial file).
 */
int sparsecopy (int src, uint64_t offset, uint64_t size, int dst, bool blockdev,
                sparsecopy_progress_fn progress, void *arg);

/* Copy SIZE bytes at OFFSET of SRC to the stream DST (a pipe, a socket,
 * stdout), in order, holes as zeros: sendfile, or read and write where it
 * cannot.  Returns 0, or -1 with error () set.
 */
int streamcopy (int src, uint64_t offset, uint64_t size, int dst,
                sparsecopy_progress_fn progress, void *arg);

/* Whether LEN bytes at BUF are all zero. */
bool is_zero (const void *buf, size_t len);

#endif
