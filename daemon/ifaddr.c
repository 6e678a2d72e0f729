#include "ifaddr.h"

#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>

int ifaddr_ipv4(const char *ifname, struct if_ipv4 *out, size_t max)
{
	struct ifaddrs *all;
	int count = 0;

	if (getifaddrs(&all) < 0)
		return -1;
	for (const struct ifaddrs *ifa = all; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET ||
		    strcmp(ifa->ifa_name, ifname) != 0)
			continue;
		if ((size_t)count < max) {
			struct if_ipv4 *a = &out[count];
			a->ifindex = if_nametoindex(ifname);
			snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
			a->addr = ((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr;
			a->netmask = ifa->ifa_netmask ?
				((const struct sockaddr_in *)(const void *)ifa->ifa_netmask)->sin_addr :
				(struct in_addr){ .s_addr = 0xffffffff };
		}
		count++;
	}
	freeifaddrs(all);
	return count;
}
