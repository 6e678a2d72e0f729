/* SPDX-License-Identifier: GPL-2.0-or-later */
/* in6_pktinfo (RFC 3542) is a GNU extension in glibc. */
#define _GNU_SOURCE

#include "lib/datagram.h"

#include "lib/addr.h"

bool datagram_origin(struct msghdr *msg, struct in6_addr *source, unsigned *ifindex)
{
	bool have_ifindex = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			const struct in_pktinfo *pi = (const void *)CMSG_DATA(c);
			*ifindex = (unsigned)pi->ipi_ifindex;
			have_ifindex = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			const struct in6_pktinfo *pi = (const void *)CMSG_DATA(c);
			*ifindex = pi->ipi6_ifindex;
			have_ifindex = true;
		}
	}
	if (msg->msg_namelen == sizeof(struct sockaddr_in)) {
		*source = addr_from_v4(((const struct sockaddr_in *)msg->msg_name)->sin_addr);
	} else if (msg->msg_namelen == sizeof(struct sockaddr_in6)) {
		*source = ((const struct sockaddr_in6 *)msg->msg_name)->sin6_addr;
		if (addr_is_v4(source))
			return false;  /* never on an IPv6-only socket */
	} else {
		return false;
	}
	return have_ifindex;
}
