/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The addresses of an interface, read from the kernel. Used at start and on
 * reload, and where addresses changed (getifaddrs is a netlink dump). */
#ifndef PORTLEASED_IFADDR_H
#define PORTLEASED_IFADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

#include "lib/addr.h"

struct if_address {
	unsigned ifindex;
	char ifname[IF_NAMESIZE];
	struct in6_addr addr;    /* IPv4 as IPv4-mapped */
	struct addr_prefix net;  /* the on-link prefix it belongs to */
};

/* Writes up to max addresses of family (AF_INET or AF_INET6) of ifname to
 * out; returns how many the interface has (0 if it has none or does not
 * exist), -1 on error. */
int ifaddr_list(const char *ifname, int family, struct if_address *out, size_t max);

/* Every address of every interface, IPv4 and IPv6: as ifaddr_list. */
int ifaddr_list_all(struct if_address *out, size_t max);

/* Whether peer is another host of local's on-link prefix: who the LAN
 * services answer (the router's own address is not a client). */
bool ifaddr_on_link(const struct if_address *local, const struct in6_addr *peer);

#endif
