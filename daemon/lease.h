/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lease table: every mapping portleased has granted, indexed by external
 * endpoint and by internal endpoint, with a min-heap of expiry times. Pure
 * data structure: the caller supplies the clock. */
#ifndef PORTLEASED_LEASE_H
#define PORTLEASED_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "priv/filter.h"
#include "daemon/host.h"
#include "config/policy.h"

#define LEASE_NONCE_LEN 12
#define LEASE_DESCRIPTION_MAX 128

enum lease_origin {
	LEASE_ORIGIN_NATPMP,
	LEASE_ORIGIN_PCP,
	LEASE_ORIGIN_UPNP,
	LEASE_ORIGIN_STATIC,  /* the operator's: never expires, no client may touch it */
};
#define LEASE_ORIGINS 4

/* A static mapping's expiry. */
#define LEASE_NEVER UINT64_MAX

/* "natpmp", "pcp", "upnp", "static". */
const char *lease_origin_name(enum lease_origin o);

/*
 * Tens of thousands of these may be held, so the rare parts (a UPnP
 * description, PCP filters) live apart, and the fields are ordered to
 * leave no holes: about 160 bytes for a plain NAT-PMP lease.
 */
struct lease {
	struct in6_addr client;        /* who asked */
	struct host_id host;           /* the host client belongs to (HOST_NONE: the operator's) */
	struct in6_addr internal_addr; /* where traffic goes */
	uint64_t created_ms;           /* monotonic clock */
	uint64_t expires_ms;           /* LEASE_NEVER for a static mapping */
	/* What the kernel let through elements that a refresh has since
	 * replaced (their counters went with them). */
	uint64_t packets_before, bytes_before, limited_before;
	/* In a lease of the table, the table's own copies: "" for none, and
	 * NULL for no filters; changed only by lease_set_description and
	 * lease_set_filters. In the fields given to lease_insert, the
	 * caller's (NULL description: none). */
	const char *description;
	const struct remote_filter *filters;  /* only these remotes may use it */
	int rule;                      /* policy rule that allowed it */
	uint8_t limit_class;           /* that rule's inbound limit (nft_mapping) */
	enum lease_origin origin;
	uint16_t internal_port;
	uint16_t external_port;        /* IPv6 pinhole: the internal port; the router's
					  external ports are IPv4's */
	uint8_t proto;                 /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t nfilters;              /* 0: every remote may use it */
	bool has_nonce;                /* PCP: only the nonce's holder may renew or delete */
	bool declared;                 /* static: from the config file, not portleasectl add */
	/* PCP PEER's: its filters are the remote peers (one address and port
	 * each) whose flows with the internal endpoint it carries, both ways. */
	bool peer;
	bool batch_pending;            /* the mapper's: its add is queued, not yet applied */
	/* The mapper's: its twin at the mapping service upstream, when this
	 * router is behind another NAT (mapper_chain.c). */
	uint8_t upstream;              /* enum lease_upstream */
	uint16_t upstream_port;        /* LEASE_UPSTREAM_OK: where the internet reaches it */
	uint32_t upstream_lifetime;    /* ...what the upstream granted, seconds */
	uint64_t upstream_expires_ms;  /* ...until then (monotonic) */
	/* The mapper's: what else takes its external port from the WAN since it
	 * was granted (enum lease_conflict). */
	uint8_t conflict;
	uint8_t nonce[LEASE_NONCE_LEN];
	/* Owned by lease.c. */
	uint16_t pinhole_id;  /* IPv6 pinholes: 1-65535, unique (UPnP's UniqueID);
				 port forwards: 0 */
	size_t heap_pos;
	struct lease *ext_next, *int_next, *pin_next;
	struct lease *all_prev, *all_next;
};

enum lease_upstream {
	LEASE_UPSTREAM_NONE,   /* not chained: no upstream, or not asked yet */
	LEASE_UPSTREAM_ASKED,  /* asked for the first time, no answer yet */
	LEASE_UPSTREAM_OK,     /* the upstream maps it (a renewal may be in flight) */
	LEASE_UPSTREAM_LOCAL,  /* the upstream would not: this router's alone */
};

/* Something that came after a mapping and takes its external port too. */
enum lease_conflict {
	LEASE_CONFLICT_NONE,
	LEASE_CONFLICT_ROUTER_SERVES,  /* a service of the router's listens on it */
	LEASE_CONFLICT_FORWARDED,      /* another nftables rule forwards it */
};
/* "the router itself now serves this port from the WAN", or another
 * rule's; NULL for none. */
const char *lease_conflict_text(enum lease_conflict c);
/* "router_serves", "forwarded_elsewhere"; NULL for none. */
const char *lease_conflict_name(enum lease_conflict c);

struct lease_table;

struct lease_table *lease_table_new(size_t max_leases, uint32_t hash_seed);
void lease_table_free(struct lease_table *t);
size_t lease_count(const struct lease_table *t);
size_t lease_capacity(const struct lease_table *t);
/* Leases the client (the host that asked, whoever they are for) holds. */
size_t lease_count_of_client(const struct lease_table *t, const struct in6_addr *client);
/* Leases the host holds, from whichever of its addresses it asked. */
size_t lease_count_of_host(const struct lease_table *t, const struct host_id *host);
/* How many hosts hold a lease (static mappings belong to none). */
size_t lease_host_count(const struct lease_table *t);

struct lease *lease_by_external(const struct lease_table *t, uint8_t proto, uint16_t port);
struct lease *lease_by_internal(const struct lease_table *t, const struct in6_addr *addr,
				uint8_t proto, uint16_t port);

/* An IPv6 pinhole by its pinhole_id. */
struct lease *lease_by_pinhole_id(const struct lease_table *t, uint16_t id);

/* Copies the public fields of *fields (the description, up to
 * LEASE_DESCRIPTION_MAX bytes, and the filters, up to FILTER_MAX, into the
 * table's own memory). NULL when the table is full, either endpoint is
 * already leased, (IPv6) every pinhole id is taken, or memory is short.
 * Only IPv4 leases take an external port; only IPv6 ones a pinhole id. */
struct lease *lease_insert(struct lease_table *t, const struct lease *fields);
/* A lease's description (NULL or "": none) and filters, replaced by copies
 * of these. 0, or -1 with the old ones kept when memory is short. */
int lease_set_description(struct lease *l, const char *description);
int lease_set_filters(struct lease *l, const struct remote_filter *filters, size_t n);
void lease_set_expiry(struct lease_table *t, struct lease *l, uint64_t expires_ms);
void lease_delete(struct lease_table *t, struct lease *l);
/* The lease that expires first, or NULL. */
struct lease *lease_soonest(const struct lease_table *t);

/* Iteration over every lease, a client's together in the order they were
 * inserted. Safe against
 * deleting the current lease if the next one is fetched first. */
struct lease *lease_first(const struct lease_table *t);
struct lease *lease_next(const struct lease *l);
/* The same, over one client's leases only: as costly as they are many. */
struct lease *lease_first_of_client(const struct lease_table *t, const struct in6_addr *client);
struct lease *lease_next_of_client(const struct lease *l);

bool lease_external_free(const struct lease_table *t, uint8_t proto, uint16_t port);
/*
 * Chooses an external port among the allowed ranges: the suggested one when
 * it is allowed and free, otherwise the next free port at or above it in its
 * range, otherwise the lowest free port of the other ranges. Bounded time: a
 * few bitmap words per range. Returns -1 when no allowed port is free.
 */
int lease_pick_external(const struct lease_table *t, uint8_t proto, uint16_t suggested,
			const struct port_range *allowed, size_t nallowed);

#endif
