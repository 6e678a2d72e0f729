/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "priv/own_addr.h"

#include <stdio.h>
#include <string.h>

/* Addresses no LAN host answers on, whatever the interfaces say. */
static const char *not_a_host(const struct in6_addr *a)
{
	if (addr_is_v4(a)) {
		uint32_t h = ntohl(addr_to_v4(a).s_addr);

		if ((h >> 24) == 0)
			return "an unspecified (0.0.0.0/8) address";
		if ((h >> 24) == 127)
			return "a loopback address";
		if ((h >> 16) == 0xa9fe)
			return "a link-local address";
		if (h >= 0xe0000000u)
			return "a multicast or broadcast address";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a))
		return "a loopback address";
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return "a link-local address";
	if (IN6_IS_ADDR_MULTICAST(a))
		return "a multicast address";
	return NULL;
}

/* Host bits all zero (the network, IPv6's subnet-router anycast) or, for
 * IPv4, all one (the broadcast). Point-to-point prefixes (/31, /32, /127,
 * /128) have no such addresses. */
static const char *edge_of(const struct if_address *own, const struct in6_addr *a)
{
	const struct addr_prefix *p = &own->net;
	struct in6_addr last;

	if (p->len >= 127 || !addr_in_prefix(a, p))
		return NULL;
	if (addr_equal(a, &p->net))
		return "network";
	last = addr_prefix_last(p);
	if (addr_is_v4(a) && addr_equal(a, &last))
		return "broadcast";
	return NULL;
}

const char *own_addr_refusal(const struct own_addresses *own, const struct in6_addr *a)
{
	static char why[64 + IF_NAMESIZE + ADDR_STRLEN];
	const char *reason = not_a_host(a);

	if (reason)
		return reason;
	if (own->incomplete)
		return "the router's addresses are not all known";
	for (size_t i = 0; i < own->count; i++) {
		const struct if_address *o = &own->addrs[i];
		const char *edge;
		char net[ADDR_STRLEN];

		if (addr_equal(a, &o->addr)) {
			snprintf(why, sizeof(why), "an address of the router (%s)", o->ifname);
			return why;
		}
		if ((edge = edge_of(o, a))) {
			snprintf(why, sizeof(why), "the %s address of %s/%u (%s)", edge,
				 addr_format(&o->net.net, net),
				 addr_is_v4(a) ? o->net.len - 96u : o->net.len, o->ifname);
			return why;
		}
	}
	return NULL;
}

void own_addr_counted(struct own_addresses *own, int n)
{
	own->incomplete = n < 0 || n > OWN_ADDR_MAX;
	own->count = n < 0 ? 0 : n > OWN_ADDR_MAX ? OWN_ADDR_MAX : (size_t)n;
}

bool own_addr_on_lan(const struct own_addresses *own, const char (*lan)[IF_NAMESIZE],
		     size_t nlan, const struct in6_addr *a)
{
	for (size_t i = 0; i < own->count; i++)
		for (size_t j = 0; j < nlan; j++)
			if (strcmp(own->addrs[i].ifname, lan[j]) == 0 &&
			    addr_in_prefix(a, &own->addrs[i].net))
				return true;
	return false;
}
