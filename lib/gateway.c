/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/gateway.h"

#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Flags of a route (linux/route.h): up, and through a gateway. */
#define ROUTE_UP 0x0001
#define ROUTE_GATEWAY 0x0002
#define LINE_MAX_LEN 256

/* "Iface Destination Gateway Flags RefCnt Use Metric Mask ...": the
 * addresses are the kernel's 32-bit values in hexadecimal, in the byte
 * order of the machine that printed them, which is ours. */
static bool read_line(const char *line, char ifname[IF_NAMESIZE], uint32_t *dest, uint32_t *gw,
		      unsigned *flags, unsigned *metric, uint32_t *mask)
{
	char name[IF_NAMESIZE + 1];
	unsigned refcnt, use;

	if (sscanf(line, "%16s %8x %8x %4x %u %u %u %8x", name, dest, gw, flags, &refcnt, &use,
		   metric, mask) != 8 || strlen(name) >= IF_NAMESIZE)
		return false;
	memcpy(ifname, name, strlen(name) + 1);
	return true;
}

bool gateway_of(const char *text, size_t len, const char *ifname, struct in_addr *gw)
{
	unsigned best_metric = 0;
	bool found = false;

	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		char line[LINE_MAX_LEN], name[IF_NAMESIZE];
		uint32_t dest, gateway, mask;
		unsigned flags, metric;

		if (n < sizeof(line)) {
			memcpy(line, text + at, n);
			line[n] = '\0';
			if (read_line(line, name, &dest, &gateway, &flags, &metric, &mask) &&
			    strcmp(name, ifname) == 0 && dest == 0 && mask == 0 && gateway != 0 &&
			    (flags & (ROUTE_UP | ROUTE_GATEWAY)) == (ROUTE_UP | ROUTE_GATEWAY) &&
			    (!found || metric < best_metric)) {
				gw->s_addr = gateway;
				best_metric = metric;
				found = true;
			}
		}
		at += n + 1;
	}
	return found;
}
