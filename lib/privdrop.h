/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Giving up privileges for good, for both of portleased's processes. */
#ifndef PORTLEASED_PRIVDROP_H
#define PORTLEASED_PRIVDROP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PRIVDROP_NET_ADMIN (1ull << 12)  /* CAP_NET_ADMIN */

/*
 * Started as root: becomes user (its group, no supplementary groups).
 * Either way: keeps of the capabilities only those in keep (a mask of
 * 1 << CAP_*; 0 for none), clears the ambient and inheritable ones, sets
 * no_new_privs, and then checks that all of it holds (root cannot be had
 * back). Returns 0, or -1 and why in err: the caller must not go on.
 */
int privdrop(const char *user, uint64_t keep, char *err, size_t errlen);
/* Whom privdrop will make this process: 1 with user's uid and gid (started
 * as root), 0 when it stays who it is, -1 and why in err (no such user, or
 * root). */
int privdrop_target(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

#endif
