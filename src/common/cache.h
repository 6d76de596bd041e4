/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: a per-user cache of answers that are slow to derive.
 *
 * Parsing a 500-image images.json, or scanning 10,000 tar headers, costs
 * milliseconds every time although the files almost never change.  An
 * answer is stored with the QUESTION it answers (what was asked: it names
 * the cache file, so a changed store replaces the entry rather than adding
 * one) and the SOURCES it came from (device, inode, size, mtime and ctime
 * of each file read).  It is used only while every source still has the
 * same identity, and the callers re-check what they can cheaply (a tar
 * header, a layer directory) before trusting it.
 *
 * The cache lives in $PODMAN_DISK_CACHE_DIR, else $XDG_CACHE_HOME/podman-disk,
 * else ~/.cache/podman-disk, and must be a directory of the user's own that
 * nobody else can write.  The path to it is walked by safefile.h's rules:
 * no symlink another user made is followed, and nothing is created in
 * another user's directory (root run with a user's HOME or XDG_CACHE_HOME
 * has no cache, rather than one wherever that user points).  Entries are
 * written whole and renamed into place.  PODMAN_DISK_CACHE=off turns it
 * off.  Any failure to read or write it only costs speed: it is never an
 * error (--log-level debug says why).
 */
#ifndef PODMAN_DISK_CACHE_H
#define PODMAN_DISK_CACHE_H

#include <stdbool.h>

struct json_object;

struct cache {
  const char *kind;                 /* subdirectory: "storage", "layout" */
  struct json_object *question;     /* object: name -> string */
  struct json_object *sources;      /* array of file identities */
  bool unusable;                    /* a source could not be described */
};

void cache_init (struct cache *c, const char *kind);
void cache_clear (struct cache *c);
static inline void cache_clearp (struct cache *c) { cache_clear (c); }
#define _cleanup_cache_ __attribute__ ((cleanup (cache_clearp)))

/* Part of the question: NAME is VALUE (NULL is a value too). */
void cache_ask (struct cache *c, const char *name, const char *value);

/* The answer depends on the file open as FD, or at PATH (whose absence is
 * an identity too).
 */
void cache_source_fd (struct cache *c, const char *name, int fd);
void cache_source_path (struct cache *c, const char *path);

/* The stored answer to C's question from the same sources (a new
 * reference, json_object_put it), or NULL.
 */
struct json_object *cache_lookup (const struct cache *c);

/* Remember ANSWER (not consumed) for C's question and sources. */
void cache_store (const struct cache *c, struct json_object *answer);

/* Whether the cache is on: for tests and --log-level debug. */
bool cache_enabled (void);

#endif
