/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/host.h"

#include <stdio.h>

const char *mac_format(const uint8_t mac[6], char buf[HOST_ID_STRLEN])
{
	snprintf(buf, HOST_ID_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return buf;
}

const char *host_id_format(const struct host_id *h, char buf[HOST_ID_STRLEN])
{
	switch (h->kind) {
	case HOST_MAC:
		mac_format(h->mac, buf);
		break;
	case HOST_UNRESOLVED_V4:
		snprintf(buf, HOST_ID_STRLEN, "unresolved-ipv4");
		break;
	case HOST_UNRESOLVED_V6:
		snprintf(buf, HOST_ID_STRLEN, "unresolved-ipv6");
		break;
	default:
		snprintf(buf, HOST_ID_STRLEN, "none");
		break;
	}
	return buf;
}

uint32_t host_id_hash(const struct host_id *h, uint32_t seed)
{
	const uint8_t *b = (const uint8_t *)h;
	uint32_t x = seed ^ 0x9e3779b9u;

	/* FNV-style bytes, then a finaliser, so that the seed reaches every bit. */
	for (size_t i = 0; i < sizeof(*h); i++)
		x = (x ^ b[i]) * 0x01000193u;
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}
