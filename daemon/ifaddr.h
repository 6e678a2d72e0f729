/* The IPv4 addresses of an interface, read from the kernel. Used at start and
 * on reload only (getifaddrs is a netlink dump). */
#ifndef PORTLEASED_IFADDR_H
#define PORTLEASED_IFADDR_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

struct if_ipv4 {
	unsigned ifindex;
	char ifname[IF_NAMESIZE];
	struct in_addr addr;
	struct in_addr netmask;
};

/* Writes up to max addresses of ifname to out; returns how many the
 * interface has (0 if it has none or does not exist), -1 on error. */
int ifaddr_ipv4(const char *ifname, struct if_ipv4 *out, size_t max);

#endif
