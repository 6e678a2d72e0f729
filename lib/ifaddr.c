/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/ifaddr.h"

#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>

static unsigned mask_length(const struct sockaddr *mask, int family)
{
	const uint8_t *bytes;
	size_t len;
	unsigned bits = 0;

	if (!mask)
		return family == AF_INET ? 32 : 128;
	if (family == AF_INET) {
		bytes = (const uint8_t *)&((const struct sockaddr_in *)(const void *)mask)->sin_addr;
		len = 4;
	} else {
		bytes = ((const struct sockaddr_in6 *)(const void *)mask)->sin6_addr.s6_addr;
		len = 16;
	}
	for (size_t i = 0; i < len; i++)
		bits += (unsigned)__builtin_popcount(bytes[i]);
	return bits;
}

static void fill(struct if_address *a, const struct ifaddrs *ifa)
{
	int family = ifa->ifa_addr->sa_family;
	unsigned len = mask_length(ifa->ifa_netmask, family);

	a->ifindex = if_nametoindex(ifa->ifa_name);
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifa->ifa_name);
	if (family == AF_INET) {
		a->addr = addr_from_v4(((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr);
		len += 96;
	} else {
		a->addr = ((const struct sockaddr_in6 *)(const void *)ifa->ifa_addr)->sin6_addr;
	}
	a->net.net = a->addr;
	a->net.len = (uint8_t)len;
	addr_mask(&a->net.net, len);
}

/* ifname NULL: every interface's; family AF_UNSPEC: IPv4 and IPv6. */
static int list(const char *ifname, int family, struct if_address *out, size_t max)
{
	struct ifaddrs *all;
	int count = 0;

	if (getifaddrs(&all) < 0)
		return -1;
	for (const struct ifaddrs *ifa = all; ifa; ifa = ifa->ifa_next) {
		int f = ifa->ifa_addr ? ifa->ifa_addr->sa_family : AF_UNSPEC;

		if ((f != AF_INET && f != AF_INET6) || (family != AF_UNSPEC && f != family) ||
		    (ifname && strcmp(ifa->ifa_name, ifname) != 0))
			continue;
		if ((size_t)count < max)
			fill(&out[count], ifa);
		count++;
	}
	freeifaddrs(all);
	return count;
}

int ifaddr_list(const char *ifname, int family, struct if_address *out, size_t max)
{
	return list(ifname, family, out, max);
}

int ifaddr_list_all(struct if_address *out, size_t max)
{
	return list(NULL, AF_UNSPEC, out, max);
}

bool ifaddr_on_link(const struct if_address *local, const struct in6_addr *peer)
{
	return addr_in_prefix(peer, &local->net) && !addr_equal(peer, &local->addr);
}
