/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a datagram came from, as recvmsg() tells it with IP_PKTINFO or
 * IPV6_RECVPKTINFO set. Pure: reads only the message. */
#ifndef PORTLEASED_DATAGRAM_H
#define PORTLEASED_DATAGRAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/* The datagram's source address and arrival interface; false if the
 * message lacks either, or an IPv6 socket reports an IPv4-mapped source. */
bool datagram_origin(struct msghdr *msg, struct in6_addr *source, unsigned *ifindex);

#endif
