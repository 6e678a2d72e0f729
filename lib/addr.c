/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct in6_addr addr_from_v4(struct in_addr v4)
{
	struct in6_addr a = { 0 };

	a.s6_addr[10] = 0xff;
	a.s6_addr[11] = 0xff;
	memcpy(&a.s6_addr[12], &v4.s_addr, 4);
	return a;
}

bool addr_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool addr_is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

struct in_addr addr_to_v4(const struct in6_addr *a)
{
	struct in_addr v4;

	memcpy(&v4.s_addr, &a->s6_addr[12], 4);
	return v4;
}

const char *addr_format(const struct in6_addr *a, char buf[ADDR_STRLEN])
{
	if (addr_is_v4(a)) {
		struct in_addr v4 = addr_to_v4(a);
		inet_ntop(AF_INET, &v4, buf, ADDR_STRLEN);
	} else {
		inet_ntop(AF_INET6, a, buf, ADDR_STRLEN);
	}
	return buf;
}

void addr_mask(struct in6_addr *a, unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		if (bits < 8)
			a->s6_addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

bool addr_parse_prefix(const char *text, struct addr_prefix *out)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	size_t hostlen = slash ? (size_t)(slash - text) : strlen(text);
	struct in_addr v4;
	unsigned long len;
	bool is_v4;

	if (hostlen == 0 || hostlen >= sizeof(host))
		return false;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';

	if (inet_pton(AF_INET, host, &v4) == 1) {
		out->net = addr_from_v4(v4);
		is_v4 = true;
	} else if (inet_pton(AF_INET6, host, &out->net) == 1) {
		is_v4 = false;
	} else {
		return false;
	}

	len = is_v4 ? 32 : 128;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		len = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || len > (is_v4 ? 32u : 128u))
			return false;
	}
	out->len = (uint8_t)(is_v4 ? len + 96 : len);
	addr_mask(&out->net, out->len);
	return true;
}

bool addr_in_prefix(const struct in6_addr *a, const struct addr_prefix *p)
{
	struct in6_addr masked = *a;

	addr_mask(&masked, p->len);
	return memcmp(&masked, &p->net, sizeof(masked)) == 0;
}

struct in6_addr addr_prefix_last(const struct addr_prefix *p)
{
	struct in6_addr last = p->net;

	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = p->len > i * 8 ? p->len - i * 8 : 0;
		if (bits < 8)
			last.s6_addr[i] |= (uint8_t)(0xffu >> bits);
	}
	return last;
}

bool addr_prefix_contains(const struct addr_prefix *outer, const struct addr_prefix *inner)
{
	return outer->len <= inner->len && addr_in_prefix(&inner->net, outer);
}

/* Whether a (host order) is in net/len (net in host order). */
static bool v4_in(uint32_t a, uint32_t net, unsigned len)
{
	uint32_t mask = len ? ~0u << (32 - len) : 0;

	return (a & mask) == net;
}

bool addr_v4_is_private_or_shared(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return v4_in(h, 0x0a000000, 8) || v4_in(h, 0xac100000, 12) || v4_in(h, 0xc0a80000, 16) ||
	       v4_in(h, 0x64400000, 10);
}

bool addr_v4_is_reserved(struct in_addr a)
{
	static const struct { uint32_t net; unsigned len; } others[] = {
		{ 0x00000000, 8 },  { 0x7f000000, 8 },  { 0xa9fe0000, 16 }, { 0xc0000000, 24 },
		{ 0xc0000200, 24 }, { 0xc6120000, 15 }, { 0xc6336400, 24 }, { 0xcb007100, 24 },
		{ 0xf0000000, 4 },
	};
	uint32_t h = ntohl(a.s_addr);

	if (addr_v4_is_private_or_shared(a))
		return true;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (v4_in(h, others[i].net, others[i].len))
			return true;
	return false;
}
