/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Follows the router's neighbour table (rtnetlink: a dump, then notices)
 * so that the daemon can tell which host an address belongs to (host.h)
 * without a netlink round trip per request. */
#ifndef PORTLEASED_NEIGH_WATCH_H
#define PORTLEASED_NEIGH_WATCH_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/host.h"

struct neigh_watch;

/* Starts the dump; its answer and later notices are read from the loop.
 * NULL and a message in err on failure. */
struct neigh_watch *neigh_watch_new(struct event_base *base, uint32_t seed, char *err,
				    size_t errlen);
void neigh_watch_free(struct neigh_watch *w);

/* The host addr belongs to. On a miss, notices already queued are read
 * first: a host's first request often arrives together with the notice
 * of its neighbour entry (the router learnt it from the ARP or neighbour
 * solicitation that came just before). NULL w: every address is its own
 * family's unresolved host. */
struct host_id neigh_watch_host(struct neigh_watch *w, const struct in6_addr *addr);
/* Neighbours known, and left out because the table was full. */
size_t neigh_watch_count(const struct neigh_watch *w, uint64_t *not_kept);

#endif
