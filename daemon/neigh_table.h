/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The router's neighbour table as the daemon keeps it: LAN address to
 * link-layer address, so that an address can be told to its host
 * (host.h). Filled from rtnetlink's neighbour messages (a dump at start,
 * then notices), which neigh_table_apply reads with explicit bounds. Pure:
 * neigh_watch.h does the socket.
 *
 * Memory is fixed: NEIGH_TABLE_MAX entries. When the table is full a new
 * neighbour is not kept (and counted): its addresses are "unresolved",
 * sharing one host's share, which costs the hosts already known nothing. */
#ifndef PORTLEASED_NEIGH_TABLE_H
#define PORTLEASED_NEIGH_TABLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/host.h"

#define NEIGH_TABLE_SLOTS 8192                      /* a power of two */
#define NEIGH_TABLE_MAX (NEIGH_TABLE_SLOTS / 4 * 3)  /* linear probing stays short */

struct neigh_entry {
	struct in6_addr addr;  /* IPv4 as IPv4-mapped */
	uint8_t mac[6];
	bool used;
};

struct neigh_table {
	uint32_t seed;
	size_t count;
	uint64_t not_kept;  /* neighbours left out because the table was full */
	struct neigh_entry slots[NEIGH_TABLE_SLOTS];
};

/* seed: hashes addresses to slots, so that hosts cannot choose addresses
 * that all probe one run. A zeroed table with its seed set is the same. */
void neigh_table_init(struct neigh_table *t, uint32_t seed);
void neigh_table_clear(struct neigh_table *t);

/* Applies the RTM_NEWNEIGH and RTM_DELNEIGH messages of one netlink
 * datagram: a neighbour with a usable link-layer address (reachable,
 * stale, being probed, or permanent) is kept; one that failed, is still
 * incomplete or was deleted is dropped. Other messages are skipped.
 * Returns how many messages ended a dump (NLMSG_DONE or NLMSG_ERROR). */
unsigned neigh_table_apply(struct neigh_table *t, const void *buf, size_t len);

/* The host addr belongs to (an IPv4-mapped or IPv6 address). */
struct host_id neigh_table_host(const struct neigh_table *t, const struct in6_addr *addr);
/* Whether the table knows addr; *mac gets its link-layer address. */
bool neigh_table_lookup(const struct neigh_table *t, const struct in6_addr *addr, uint8_t mac[6]);

#endif
