/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Addresses as the daemon holds them: every address is an in6_addr, IPv4 as
 * IPv4-mapped (::ffff:a.b.c.d), the form PCP uses on the wire, so that policy,
 * leases and logs have one code path for both families. */
#ifndef PORTLEASED_ADDR_H
#define PORTLEASED_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* Long enough for any IPv6 text form plus "/128". */
#define ADDR_STRLEN 64

struct addr_prefix {
	struct in6_addr net;  /* host bits are zero */
	uint8_t len;          /* 0..128, counted in IPv6 bits */
};

struct in6_addr addr_from_v4(struct in_addr v4);
bool addr_is_v4(const struct in6_addr *a);
bool addr_equal(const struct in6_addr *a, const struct in6_addr *b);
struct in_addr addr_to_v4(const struct in6_addr *a);
/* Prints IPv4-mapped addresses in dotted quad form. */
const char *addr_format(const struct in6_addr *a, char buf[ADDR_STRLEN]);
/* "a.b.c.d", "a.b.c.d/n", "x::y" or "x::y/n"; false if malformed. */
bool addr_parse_prefix(const char *text, struct addr_prefix *out);
bool addr_in_prefix(const struct in6_addr *a, const struct addr_prefix *p);
/* Clears the bits after the first len. */
void addr_mask(struct in6_addr *a, unsigned len);
/* The highest address of the prefix. */
struct in6_addr addr_prefix_last(const struct addr_prefix *p);
bool addr_prefix_contains(const struct addr_prefix *outer, const struct addr_prefix *inner);
/* Private (RFC 1918) or shared (RFC 6598, carrier-grade NAT): an address
 * behind another NAT, which the internet cannot reach. */
bool addr_v4_is_private_or_shared(struct in_addr a);
/* That, or any other address not routed on the internet: loopback,
 * link-local, documentation, benchmarking, "this network", reserved. */
bool addr_v4_is_reserved(struct in_addr a);

#endif
