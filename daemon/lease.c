/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/lease.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "lib/portset.h"

/* How many leases one client holds, for per-client quotas, and where they
 * are: one run of the all-leases list, so that "delete all of mine" costs
 * the client's leases, not the table's. Slots come from a pool of one per
 * possible lease, so counting never allocates. */
struct client_slot {
	struct in6_addr client;
	size_t leases;
	struct lease *first, *last;  /* the client's run in the all-leases list */
	struct client_slot *next;    /* in its bucket, or in the free list */
};

/* How many leases one host holds (lease.host), for per-host quotas: a
 * host may ask from many addresses. Pooled like client slots. */
struct host_slot {
	struct host_id host;
	size_t leases;
	struct host_slot *next;
};

struct lease_table {
	size_t count, capacity;
	size_t nbuckets;  /* power of two */
	uint32_t seed;
	struct lease **by_external;
	struct lease **by_internal;
	struct lease **by_pinhole_id;
	uint16_t last_pinhole_id;
	struct lease **heap;  /* min-heap on expires_ms */
	struct lease *all_head, *all_tail;
	struct portset tcp_ports, udp_ports;
	/* Slots past client_pool_used were never touched: a pool sized for
	 * the largest table costs memory only as it fills. */
	struct client_slot *client_pool, *free_clients;
	size_t client_pool_used;
	struct client_slot **by_client;
	struct host_slot *host_pool, *free_hosts;
	size_t host_pool_used;
	struct host_slot **by_host;
	size_t hosts;  /* with a lease each */
};

static struct portset *ports_of(struct lease_table *t, uint8_t proto)
{
	return proto == IPPROTO_TCP ? &t->tcp_ports : &t->udp_ports;
}

static const struct portset *ports_of_const(const struct lease_table *t, uint8_t proto)
{
	return proto == IPPROTO_TCP ? &t->tcp_ports : &t->udp_ports;
}

/* The seed keeps LAN hosts from choosing ports that all land in one chain. */
static uint32_t mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x9e3779b1u;
	return h ^ (h >> 15);
}

static size_t external_bucket(const struct lease_table *t, uint8_t proto, uint16_t port)
{
	return mix(t->seed, ((uint32_t)proto << 16) | port) & (t->nbuckets - 1);
}

static size_t internal_bucket(const struct lease_table *t, const struct in6_addr *addr,
			      uint8_t proto, uint16_t port)
{
	uint32_t h = t->seed, word;

	for (int i = 0; i < 16; i += 4) {
		memcpy(&word, &addr->s6_addr[i], 4);
		h = mix(h, word);
	}
	return mix(h, ((uint32_t)proto << 16) | port) & (t->nbuckets - 1);
}

static size_t pinhole_bucket(const struct lease_table *t, uint16_t id)
{
	return mix(t->seed ^ 0x27d4eb2fu, id) & (t->nbuckets - 1);
}

static size_t client_bucket(const struct lease_table *t, const struct in6_addr *addr)
{
	uint32_t h = t->seed ^ 0x5bd1e995u, word;

	for (int i = 0; i < 16; i += 4) {
		memcpy(&word, &addr->s6_addr[i], 4);
		h = mix(h, word);
	}
	return h & (t->nbuckets - 1);
}

static struct client_slot **client_link(const struct lease_table *t, const struct in6_addr *client)
{
	struct client_slot **pp = &t->by_client[client_bucket(t, client)];

	while (*pp && memcmp(&(*pp)->client, client, sizeof(*client)) != 0)
		pp = &(*pp)->next;
	return pp;
}

size_t lease_count_of_client(const struct lease_table *t, const struct in6_addr *client)
{
	const struct client_slot *slot = *client_link(t, client);

	return slot ? slot->leases : 0;
}

static struct host_slot **host_link(const struct lease_table *t, const struct host_id *host)
{
	struct host_slot **pp = &t->by_host[host_id_hash(host, t->seed) & (t->nbuckets - 1)];

	while (*pp && !host_id_equal(&(*pp)->host, host))
		pp = &(*pp)->next;
	return pp;
}

size_t lease_count_of_host(const struct lease_table *t, const struct host_id *host)
{
	const struct host_slot *slot = *host_link(t, host);

	return slot ? slot->leases : 0;
}

static void count_for_host(struct lease_table *t, const struct lease *l)
{
	struct host_slot **pp, *slot;

	if (l->host.kind == HOST_NONE)
		return;
	pp = host_link(t, &l->host);
	slot = *pp;
	if (!slot) {
		/* There is always a free slot: no more hosts than leases. */
		if (t->free_hosts) {
			slot = t->free_hosts;
			t->free_hosts = slot->next;
		} else {
			slot = &t->host_pool[t->host_pool_used++];
		}
		*slot = (struct host_slot){ .host = l->host, .next = NULL };
		*pp = slot;
		t->hosts++;
	}
	slot->leases++;
}

static void uncount_for_host(struct lease_table *t, const struct lease *l)
{
	struct host_slot **pp, *slot;

	if (l->host.kind == HOST_NONE)
		return;
	pp = host_link(t, &l->host);
	slot = *pp;
	if (--slot->leases == 0) {
		*pp = slot->next;
		slot->next = t->free_hosts;
		t->free_hosts = slot;
		t->hosts--;
	}
}

struct lease *lease_first_of_client(const struct lease_table *t, const struct in6_addr *client)
{
	const struct client_slot *slot = *client_link(t, client);

	return slot ? slot->first : NULL;
}

struct lease *lease_next_of_client(const struct lease *l)
{
	struct lease *next = l->all_next;

	return next && addr_equal(&next->client, &l->client) ? next : NULL;
}

static void link_all_after(struct lease_table *t, struct lease *prev, struct lease *l)
{
	l->all_prev = prev;
	l->all_next = prev ? prev->all_next : t->all_head;
	if (l->all_next)
		l->all_next->all_prev = l;
	else
		t->all_tail = l;
	if (prev)
		prev->all_next = l;
	else
		t->all_head = l;
}

static void unlink_all(struct lease_table *t, struct lease *l)
{
	if (l->all_prev)
		l->all_prev->all_next = l->all_next;
	else
		t->all_head = l->all_next;
	if (l->all_next)
		l->all_next->all_prev = l->all_prev;
	else
		t->all_tail = l->all_prev;
}

/* Counts l for its client and links it at the end of the client's run (a
 * new client's run begins at the end of the list). */
static void link_by_client(struct lease_table *t, struct lease *l)
{
	struct client_slot **pp = client_link(t, &l->client), *slot = *pp;

	if (!slot) {
		/* There is always a free slot: no more clients than leases. */
		if (t->free_clients) {
			slot = t->free_clients;
			t->free_clients = slot->next;
		} else {
			slot = &t->client_pool[t->client_pool_used++];
		}
		*slot = (struct client_slot){ .client = l->client, .next = NULL };
		*pp = slot;
	}
	link_all_after(t, slot->last ? slot->last : t->all_tail, l);
	if (!slot->first)
		slot->first = l;
	slot->last = l;
	slot->leases++;
}

static void unlink_by_client(struct lease_table *t, struct lease *l)
{
	struct client_slot **pp = client_link(t, &l->client), *slot = *pp;

	if (--slot->leases == 0) {
		*pp = slot->next;
		slot->next = t->free_clients;
		t->free_clients = slot;
	} else if (slot->first == l) {
		slot->first = l->all_next;
	} else if (slot->last == l) {
		slot->last = l->all_prev;
	}
	unlink_all(t, l);
}

struct lease_table *lease_table_new(size_t max_leases, uint32_t hash_seed)
{
	struct lease_table *t = calloc(1, sizeof(*t));

	if (!t || max_leases == 0)
		goto fail;
	t->capacity = max_leases;
	t->seed = hash_seed;
	t->nbuckets = 64;
	while (t->nbuckets < max_leases)
		t->nbuckets <<= 1;
	t->by_external = calloc(t->nbuckets, sizeof(*t->by_external));
	t->by_internal = calloc(t->nbuckets, sizeof(*t->by_internal));
	t->by_pinhole_id = calloc(t->nbuckets, sizeof(*t->by_pinhole_id));
	t->heap = calloc(max_leases, sizeof(*t->heap));
	t->by_client = calloc(t->nbuckets, sizeof(*t->by_client));
	t->client_pool = calloc(max_leases, sizeof(*t->client_pool));
	t->by_host = calloc(t->nbuckets, sizeof(*t->by_host));
	t->host_pool = calloc(max_leases, sizeof(*t->host_pool));
	if (!t->by_external || !t->by_internal || !t->by_pinhole_id || !t->heap || !t->by_client ||
	    !t->client_pool || !t->by_host || !t->host_pool)
		goto fail;
	portset_init(&t->tcp_ports);
	portset_init(&t->udp_ports);
	return t;
fail:
	lease_table_free(t);
	return NULL;
}

static const char no_description[] = "";

/* A lease's description and filters are const to its readers, but the
 * table's own. */
static void free_owned(const void *p)
{
	free((void *)(uintptr_t)p);
}

static void free_parts(struct lease *l)
{
	if (l->description != no_description)
		free_owned(l->description);
	free_owned(l->filters);
}

void lease_table_free(struct lease_table *t)
{
	if (!t)
		return;
	for (struct lease *l = t->all_head, *next; l; l = next) {
		next = l->all_next;
		free_parts(l);
		free(l);
	}
	free(t->by_external);
	free(t->by_internal);
	free(t->by_pinhole_id);
	free(t->heap);
	free(t->by_client);
	free(t->client_pool);
	free(t->by_host);
	free(t->host_pool);
	free(t);
}

size_t lease_host_count(const struct lease_table *t)
{
	return t->hosts;
}

size_t lease_count(const struct lease_table *t)
{
	return t->count;
}

size_t lease_capacity(const struct lease_table *t)
{
	return t->capacity;
}

struct lease *lease_by_external(const struct lease_table *t, uint8_t proto, uint16_t port)
{
	for (struct lease *l = t->by_external[external_bucket(t, proto, port)]; l; l = l->ext_next)
		if (l->proto == proto && l->external_port == port)
			return l;
	return NULL;
}

struct lease *lease_by_internal(const struct lease_table *t, const struct in6_addr *addr,
				uint8_t proto, uint16_t port)
{
	for (struct lease *l = t->by_internal[internal_bucket(t, addr, proto, port)]; l;
	     l = l->int_next)
		if (l->proto == proto && l->internal_port == port &&
		    memcmp(&l->internal_addr, addr, sizeof(*addr)) == 0)
			return l;
	return NULL;
}

struct lease *lease_by_pinhole_id(const struct lease_table *t, uint16_t id)
{
	for (struct lease *l = t->by_pinhole_id[pinhole_bucket(t, id)]; l; l = l->pin_next)
		if (l->pinhole_id == id)
			return l;
	return NULL;
}

/* --- expiry heap --- */

static void heap_place(struct lease_table *t, size_t pos, struct lease *l)
{
	t->heap[pos] = l;
	l->heap_pos = pos;
}

static void heap_up(struct lease_table *t, size_t pos)
{
	struct lease *l = t->heap[pos];

	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (t->heap[parent]->expires_ms <= l->expires_ms)
			break;
		heap_place(t, pos, t->heap[parent]);
		pos = parent;
	}
	heap_place(t, pos, l);
}

static void heap_down(struct lease_table *t, size_t pos)
{
	struct lease *l = t->heap[pos];

	for (;;) {
		size_t child = 2 * pos + 1;
		if (child >= t->count)
			break;
		if (child + 1 < t->count && t->heap[child + 1]->expires_ms < t->heap[child]->expires_ms)
			child++;
		if (l->expires_ms <= t->heap[child]->expires_ms)
			break;
		heap_place(t, pos, t->heap[child]);
		pos = child;
	}
	heap_place(t, pos, l);
}

/* An IPv6 pinhole has no external port of the router's own: its external
 * endpoint is its internal one. */
static bool has_external_port(const struct lease *l)
{
	return addr_is_v4(&l->internal_addr);
}

/*
 * The next free id after the last one given: an id is not handed out again
 * soon after its pinhole goes, so a client holding a stale one finds nothing
 * rather than someone else's pinhole. Probes skip only ids in use, so they
 * are bounded by the number of pinholes. 0 when all are taken.
 */
static uint16_t next_pinhole_id(struct lease_table *t)
{
	uint16_t id = t->last_pinhole_id;

	for (uint32_t tries = 0; tries < UINT16_MAX; tries++) {
		id = id == UINT16_MAX ? 1 : (uint16_t)(id + 1);
		if (!lease_by_pinhole_id(t, id))
			return t->last_pinhole_id = id;
	}
	return 0;
}

int lease_set_description(struct lease *l, const char *description)
{
	char *copy;

	if (description == l->description)
		return 0;
	if (!description || !*description) {
		copy = NULL;
	} else if (!(copy = strndup(description, LEASE_DESCRIPTION_MAX))) {
		return -1;
	}
	if (l->description != no_description)
		free_owned(l->description);
	l->description = copy ? copy : no_description;
	return 0;
}

int lease_set_filters(struct lease *l, const struct remote_filter *filters, size_t n)
{
	struct remote_filter *copy = NULL;

	if (filters == l->filters)
		return 0;
	if (n > FILTER_MAX)
		n = FILTER_MAX;
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return -1;
	if (n)
		memcpy(copy, filters, n * sizeof(*copy));
	free_owned(l->filters);
	l->filters = copy;
	l->nfilters = (uint8_t)n;
	return 0;
}

struct lease *lease_insert(struct lease_table *t, const struct lease *fields)
{
	struct lease *l;
	size_t eb, ib;
	uint16_t pinhole_id = 0;

	if (t->count == t->capacity || fields->external_port == 0 ||
	    (has_external_port(fields) &&
	     lease_by_external(t, fields->proto, fields->external_port)) ||
	    lease_by_internal(t, &fields->internal_addr, fields->proto, fields->internal_port))
		return NULL;
	if (!has_external_port(fields) && !(pinhole_id = next_pinhole_id(t)))
		return NULL;
	l = malloc(sizeof(*l));
	if (!l)
		return NULL;
	*l = *fields;
	l->description = no_description;
	l->filters = NULL;
	l->nfilters = 0;
	if (lease_set_description(l, fields->description) < 0 ||
	    lease_set_filters(l, fields->filters, fields->nfilters) < 0) {
		free_parts(l);
		free(l);
		return NULL;
	}
	l->pinhole_id = pinhole_id;
	if (pinhole_id) {
		size_t pb = pinhole_bucket(t, pinhole_id);

		l->pin_next = t->by_pinhole_id[pb];
		t->by_pinhole_id[pb] = l;
	}

	if (has_external_port(l)) {
		eb = external_bucket(t, l->proto, l->external_port);
		l->ext_next = t->by_external[eb];
		t->by_external[eb] = l;
		portset_add(ports_of(t, l->proto), l->external_port);
	}
	ib = internal_bucket(t, &l->internal_addr, l->proto, l->internal_port);
	l->int_next = t->by_internal[ib];
	t->by_internal[ib] = l;

	link_by_client(t, l);
	count_for_host(t, l);
	heap_place(t, t->count, l);
	t->count++;
	heap_up(t, l->heap_pos);
	return l;
}

void lease_set_expiry(struct lease_table *t, struct lease *l, uint64_t expires_ms)
{
	uint64_t old = l->expires_ms;

	l->expires_ms = expires_ms;
	if (expires_ms < old)
		heap_up(t, l->heap_pos);
	else
		heap_down(t, l->heap_pos);
}

static void unlink_external(struct lease_table *t, struct lease *l)
{
	struct lease **pp = &t->by_external[external_bucket(t, l->proto, l->external_port)];

	while (*pp != l)
		pp = &(*pp)->ext_next;
	*pp = l->ext_next;
}

static void unlink_internal(struct lease_table *t, struct lease *l)
{
	struct lease **pp =
		&t->by_internal[internal_bucket(t, &l->internal_addr, l->proto, l->internal_port)];

	while (*pp != l)
		pp = &(*pp)->int_next;
	*pp = l->int_next;
}

static void unlink_pinhole(struct lease_table *t, struct lease *l)
{
	struct lease **pp = &t->by_pinhole_id[pinhole_bucket(t, l->pinhole_id)];

	while (*pp != l)
		pp = &(*pp)->pin_next;
	*pp = l->pin_next;
}

void lease_delete(struct lease_table *t, struct lease *l)
{
	size_t pos = l->heap_pos;

	if (has_external_port(l)) {
		unlink_external(t, l);
		portset_remove(ports_of(t, l->proto), l->external_port);
	}
	unlink_internal(t, l);
	if (l->pinhole_id)
		unlink_pinhole(t, l);
	unlink_by_client(t, l);
	uncount_for_host(t, l);

	t->count--;
	if (pos != t->count) {
		struct lease *moved = t->heap[t->count];

		heap_place(t, pos, moved);
		heap_up(t, pos);
		heap_down(t, moved->heap_pos);
	}
	free_parts(l);
	free(l);
}

struct lease *lease_soonest(const struct lease_table *t)
{
	return t->count ? t->heap[0] : NULL;
}

struct lease *lease_first(const struct lease_table *t)
{
	return t->all_head;
}

struct lease *lease_next(const struct lease *l)
{
	return l->all_next;
}

bool lease_external_free(const struct lease_table *t, uint8_t proto, uint16_t port)
{
	return port != 0 && !portset_test(ports_of_const(t, proto), port);
}

int lease_pick_external(const struct lease_table *t, uint8_t proto, uint16_t suggested,
			const struct port_range *allowed, size_t nallowed)
{
	const struct portset *ps = ports_of_const(t, proto);
	int port;

	for (size_t i = 0; i < nallowed; i++) {
		const struct port_range *r = &allowed[i];
		if (suggested < r->lo || suggested > r->hi)
			continue;
		port = portset_find_free(ps, suggested, r->hi);
		if (port < 0 && suggested > r->lo)
			port = portset_find_free(ps, r->lo, (uint16_t)(suggested - 1));
		if (port >= 0)
			return port;
	}
	for (size_t i = 0; i < nallowed; i++) {
		port = portset_find_free(ps, allowed[i].lo, allowed[i].hi);
		if (port >= 0)
			return port;
	}
	return -1;
}

const char *lease_origin_name(enum lease_origin o)
{
	static const char *const names[LEASE_ORIGINS] = { "natpmp", "pcp", "upnp", "static" };

	return (size_t)o < LEASE_ORIGINS ? names[o] : "?";
}

const char *lease_conflict_text(enum lease_conflict c)
{
	switch (c) {
	case LEASE_CONFLICT_ROUTER_SERVES: return "the router itself now serves this port from the WAN";
	case LEASE_CONFLICT_FORWARDED: return "another nftables rule now forwards this port";
	default: return NULL;
	}
}

const char *lease_conflict_name(enum lease_conflict c)
{
	switch (c) {
	case LEASE_CONFLICT_ROUTER_SERVES: return "router_serves";
	case LEASE_CONFLICT_FORWARDED: return "forwarded_elsewhere";
	default: return NULL;
	}
}
