/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking a datagram of netlink messages. libmnl's mnl_nlmsg_ok compares
 * (int)nlmsg_len with what is left, so a length of 2^31 or more passes and
 * mnl_nlmsg_next then jumps far past the buffer; and libmnl walks a
 * message's attributes up to its length rounded up to 4, up to 3 bytes past
 * a datagram that ends unaligned (both found by fuzz_nft_watch). This one
 * compares unsigned, and wants the rounded length inside too. */
#ifndef PORTLEASED_NLMSG_H
#define PORTLEASED_NLMSG_H

#include <linux/netlink.h>
#include <stdbool.h>

/* Whether a whole message, header and all, lies within the left bytes at h. */
static inline bool nlmsg_ok(const struct nlmsghdr *h, int left)
{
	/* The first bound keeps the rounding from overflowing. */
	return left >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	       h->nlmsg_len <= (unsigned)left && NLMSG_ALIGN(h->nlmsg_len) <= (unsigned)left;
}

#endif
