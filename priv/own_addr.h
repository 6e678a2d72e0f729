/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What no mapping may forward to: an address of the router itself, the
 * network or broadcast address of one of its prefixes, and addresses no
 * LAN host has (unspecified, loopback, link-local, multicast). Both halves
 * ask it: the daemon to answer such a request with the protocol's own
 * refusal, the helper to refuse it again by its own reading of the
 * interfaces (docs/security.md). Pure: the caller reads the addresses
 * (ifaddr_list_all, own_addr_counted).
 */
#ifndef PORTLEASED_OWN_ADDR_H
#define PORTLEASED_OWN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/addr.h"
#include "lib/ifaddr.h"

/* A router with more than this, IPv4 and IPv6 together, cannot be vouched
 * for: every mapping is refused until it has fewer. */
#define OWN_ADDR_MAX 256

struct own_addresses {
	struct if_address addrs[OWN_ADDR_MAX];
	size_t count;
	bool incomplete;  /* the interfaces had more than OWN_ADDR_MAX */
};

/* NULL if a may be a mapping's internal address, or why not
 * ("an address of the router (br-lan)", ...). The text is static or in
 * a buffer that the next call overwrites. */
const char *own_addr_refusal(const struct own_addresses *own, const struct in6_addr *a);

/* Sets count and incomplete from what ifaddr_list_all(own->addrs,
 * OWN_ADDR_MAX) returned (-1: none could be read). */
void own_addr_counted(struct own_addresses *own, int n);

/* Whether a is on the prefix of an address of one of the nlan interfaces. */
bool own_addr_on_lan(const struct own_addresses *own, const char (*lan)[IF_NAMESIZE],
		     size_t nlan, const struct in6_addr *a);

#endif
