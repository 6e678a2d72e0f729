/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The router's connection tracking over ctnetlink, for PCP PEER: the
 * implicit mapping of an outbound flow (where the router's source NAT put
 * it) and keeping that flow alive. Like nft.c, every call is one request
 * whose answers the kernel queues before sendmsg returns. */
#ifndef PORTLEASED_CONNTRACK_H
#define PORTLEASED_CONNTRACK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct conntrack;

/* A flow as the LAN host sent it; addresses IPv4-mapped for IPv4. */
struct ct_flow {
	uint8_t proto;
	struct in6_addr internal_addr;
	uint16_t internal_port;
	struct in6_addr remote_addr;
	uint16_t remote_port;
};

struct conntrack *conntrack_open(char *err, size_t errlen);
void conntrack_close(struct conntrack *ct);

/*
 * Finds the flow's conntrack entry, writes the address and port the remote
 * peer sees (after any source NAT), and sets the entry's timeout to
 * lifetime seconds. Returns 0, -ENOENT if the router tracks no such flow,
 * or another negative errno.
 */
int conntrack_peer(struct conntrack *ct, const struct ct_flow *flow, uint32_t lifetime,
		   struct in6_addr *external_addr, uint16_t *external_port);

#endif
