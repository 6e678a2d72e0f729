/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lease file on disk: read at start to restore the mappings, rewritten
 * (coalesced, at most once a second) after changes by a forked child, so
 * that neither the formatting of thousands of leases nor fsync holds up the
 * loop; written last, marked clean, at an orderly stop. */
#ifndef PORTLEASED_LEASE_STORE_H
#define PORTLEASED_LEASE_STORE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "daemon/mapper.h"

struct lease_store;

/* Who writes the file from the second write on: the user a daemon started
 * as root becomes. */
struct lease_owner {
	const char *name;
	uid_t uid;
	gid_t gid;
};

/* Restores the leases path holds into the mapper (a missing file is an
 * empty one), carries the epoch on if the file was closed cleanly, and
 * from then on keeps the file up to date. owner (NULL: this process stays
 * who it is) gets the directory it makes, and must be able to write one
 * that is there. NULL and a message in err when the file cannot be
 * written, now or by owner. */
struct lease_store *lease_store_open(struct event_base *base, const char *path,
				     struct mapper *mapper, const struct lease_owner *owner,
				     char *err, size_t errlen);
/* Writes the file a last time (clean: the daemon stops in order) and frees. */
void lease_store_close(struct lease_store *s, bool clean);

#endif
