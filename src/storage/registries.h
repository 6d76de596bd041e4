/* SPDX-License-Identifier: Apache-2.0 */
/* podman-disk: what registries.conf says about short names, read the way
 * containers/image's sysregistriesv2 reads it for podman's local lookup
 * (containers-registries.conf(5), containers-registries.conf.d(5)).
 *
 * The main file is $CONTAINERS_REGISTRIES_CONF, else
 * ~/.config/containers/registries.conf when it exists (then only the
 * drop-ins of ~/.config/containers/registries.conf.d), else
 * /etc/containers/registries.conf; the drop-ins (*.conf of
 * /etc/containers/registries.conf.d and ~/.config/containers/
 * registries.conf.d, in the order of their full paths) follow it.  A file
 * that sets unqualified-search-registries replaces the list; [aliases]
 * entries are merged, a later one winning and "" removing one.  The
 * aliases podman recorded itself (short-name-aliases.conf, in
 * /var/cache/containers for root, else $XDG_CACHE_HOME/containers) win
 * over all of these.  Only what the local lookup needs is kept: mirrors,
 * blocking and the short-name mode are podman pull's business.
 */
#ifndef PODMAN_DISK_STORAGE_REGISTRIES_H
#define PODMAN_DISK_STORAGE_REGISTRIES_H

#include <stddef.h>

struct cache;

struct registries_conf {
  char **search;           /* unqualified-search-registries, in order */
  char **alias_names;      /* short names: "fedora", "containerdisks/x" */
  char **alias_values;     /* their "quay.io/..." ("" when removed) */
  size_t n_aliases;
};

/* 0, or -1 with error () naming the file and line that is wrong. */
int registries_conf_load (struct registries_conf *rc);
void registries_conf_free (struct registries_conf *rc);

/* The alias of SHORT_NAME (a repository, no tag), or NULL. */
const char *registries_conf_alias (const struct registries_conf *rc,
                                   const char *short_name);

/* Every file (and drop-in directory) that registries_conf_load reads or
 * would read, as sources of the answer cache C: a cached short-name
 * lookup is not believed once one of them changes.
 */
void registries_conf_cache_sources (struct cache *c);

#endif
