/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/neigh_table.h"

#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/nlmsg.h"

/* Neighbour states whose link-layer address is the host's. */
#define USABLE_STATES (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

void neigh_table_init(struct neigh_table *t, uint32_t seed)
{
	memset(t, 0, sizeof(*t));
	t->seed = seed;
}

void neigh_table_clear(struct neigh_table *t)
{
	neigh_table_init(t, t->seed);
}

static size_t home_of(const struct neigh_table *t, const struct in6_addr *addr)
{
	uint32_t x = t->seed ^ 0x85ebca6bu, word;

	for (int i = 0; i < 16; i += 4) {
		memcpy(&word, &addr->s6_addr[i], 4);
		x = (x ^ word) * 0xcc9e2d51u;
		x ^= x >> 15;
	}
	x *= 0x1b873593u;
	x ^= x >> 13;
	return x & (NEIGH_TABLE_SLOTS - 1);
}

/* The slot holding addr, or the empty slot that ends its probe run. */
static size_t find(const struct neigh_table *t, const struct in6_addr *addr)
{
	size_t i = home_of(t, addr);

	while (t->slots[i].used && !addr_equal(&t->slots[i].addr, addr))
		i = (i + 1) & (NEIGH_TABLE_SLOTS - 1);
	return i;
}

static void keep(struct neigh_table *t, const struct in6_addr *addr, const uint8_t mac[6])
{
	size_t i = find(t, addr);

	if (!t->slots[i].used) {
		if (t->count >= NEIGH_TABLE_MAX) {
			t->not_kept++;
			return;
		}
		t->slots[i].used = true;
		t->slots[i].addr = *addr;
		t->count++;
	}
	memcpy(t->slots[i].mac, mac, 6);
}

/* Linear probing's deletion: entries after the hole that would no longer
 * be found past it move back into it. */
static void drop(struct neigh_table *t, const struct in6_addr *addr)
{
	size_t hole = find(t, addr), i = hole;

	if (!t->slots[hole].used)
		return;
	t->slots[hole].used = false;
	t->count--;
	for (;;) {
		size_t home;

		i = (i + 1) & (NEIGH_TABLE_SLOTS - 1);
		if (!t->slots[i].used)
			return;
		home = home_of(t, &t->slots[i].addr);
		/* Moves unless home lies cyclically in (hole, i]. */
		if (((i - home) & (NEIGH_TABLE_SLOTS - 1)) >= ((i - hole) & (NEIGH_TABLE_SLOTS - 1))) {
			t->slots[hole] = t->slots[i];
			t->slots[i].used = false;
			hole = i;
		}
	}
}

static void apply_one(struct neigh_table *t, const struct nlmsghdr *h)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(h);
	const struct nlattr *dst = NULL, *lladdr = NULL, *attr;
	size_t off = mnl_nlmsg_get_payload_len(h) >= sizeof(*nd) ? NLMSG_ALIGN(sizeof(*nd)) : 0;
	struct in6_addr addr;
	int left;

	if (!off)
		return;
	/* The attributes, each bounded by what is left of the message. */
	left = (int)(mnl_nlmsg_get_payload_len(h) - off);
	for (attr = (const struct nlattr *)((const char *)nd + off);
	     left >= (int)sizeof(*attr) && attr->nla_len >= sizeof(*attr) && attr->nla_len <= left;
	     left -= NLA_ALIGN(attr->nla_len),
	     attr = (const struct nlattr *)((const char *)attr + NLA_ALIGN(attr->nla_len))) {
		uint16_t type = attr->nla_type & NLA_TYPE_MASK;

		if (type == NDA_DST)
			dst = attr;
		else if (type == NDA_LLADDR)
			lladdr = attr;
	}
	if (!dst)
		return;
	if (nd->ndm_family == AF_INET && mnl_attr_get_payload_len(dst) == 4) {
		struct in_addr v4;

		memcpy(&v4, mnl_attr_get_payload(dst), 4);
		addr = addr_from_v4(v4);
	} else if (nd->ndm_family == AF_INET6 && mnl_attr_get_payload_len(dst) == 16) {
		memcpy(&addr, mnl_attr_get_payload(dst), 16);
	} else {
		return;
	}
	if (h->nlmsg_type == RTM_NEWNEIGH && (nd->ndm_state & USABLE_STATES) && lladdr &&
	    mnl_attr_get_payload_len(lladdr) == 6) {
		static const uint8_t zero[6];

		if (memcmp(mnl_attr_get_payload(lladdr), zero, 6) != 0) {
			keep(t, &addr, mnl_attr_get_payload(lladdr));
			return;
		}
	}
	drop(t, &addr);
}

unsigned neigh_table_apply(struct neigh_table *t, const void *buf, size_t len)
{
	int left = len > (size_t)INT32_MAX ? INT32_MAX : (int)len;
	unsigned ends = 0;

	for (const struct nlmsghdr *h = buf; nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			ends++;
		else if (h->nlmsg_type == RTM_NEWNEIGH || h->nlmsg_type == RTM_DELNEIGH)
			apply_one(t, h);
	}
	return ends;
}

bool neigh_table_lookup(const struct neigh_table *t, const struct in6_addr *addr, uint8_t mac[6])
{
	size_t i = find(t, addr);

	if (!t->slots[i].used)
		return false;
	memcpy(mac, t->slots[i].mac, 6);
	return true;
}

struct host_id neigh_table_host(const struct neigh_table *t, const struct in6_addr *addr)
{
	uint8_t mac[6];

	if (neigh_table_lookup(t, addr, mac))
		return host_id_of_mac(mac);
	return host_id_unresolved(addr_is_v4(addr));
}
