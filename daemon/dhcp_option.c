/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/dhcp_option.h"

#include <arpa/inet.h>
#include <string.h>

#include "lib/parse.h"

/* An option's payload is at most 255 bytes. */
#define PAYLOAD_MAX 255

bool dhcp_pcp_server_decode(const uint8_t *payload, size_t len, struct in_addr *out)
{
	size_t list;

	if (len < 5)
		return false;
	list = payload[0];
	if (list < 4 || list % 4 || 1 + list > len)
		return false;
	memcpy(&out->s_addr, payload + 1, 4);
	return out->s_addr != 0;
}

/* dhclient's colon-separated hex ("4:64:40:0:1"), up to the ';'. */
static bool read_hex_bytes(const char *s, const char *end, uint8_t *out, size_t *n)
{
	*n = 0;
	while (s < end && *s != ';') {
		int hi = parse_hex_digit(*s), lo;

		if (hi < 0 || *n >= PAYLOAD_MAX)
			return false;
		s++;
		lo = s < end ? parse_hex_digit(*s) : -1;
		if (lo >= 0) {
			out[(*n)++] = (uint8_t)(hi * 16 + lo);
			s++;
		} else {
			out[(*n)++] = (uint8_t)hi;
		}
		if (s < end && *s == ':')
			s++;
		else if (s < end && *s != ';')
			return false;
	}
	return s < end && *n > 0;
}

/* Where the value of the last statement starting with key begins, or NULL. */
static const char *last_statement(const char *text, size_t len, const char *key)
{
	size_t key_len = strlen(key);
	const char *found = NULL, *end = text + len;

	for (const char *p = text; p && (size_t)(end - p) >= key_len; p++) {
		if (!(p = memchr(p, key[0], (size_t)(end - p))) || (size_t)(end - p) < key_len)
			break;
		if (memcmp(p, key, key_len) == 0)
			found = p + key_len;
	}
	return found;
}

/* dhclient -6's "::ffff:100.64.0.1, 2001:db8::1;": the first IPv4-mapped
 * address (RFC 7291 §4: how an IPv4 PCP server is named over DHCPv6). */
static bool first_mapped_v4(const char *s, const char *end, struct in_addr *out)
{
	while (s < end) {
		char text[INET6_ADDRSTRLEN];
		struct in6_addr a;
		size_t n = 0;

		while (s < end && *s == ' ')
			s++;
		while (s < end && *s != ',' && *s != ';' && n + 1 < sizeof(text))
			text[n++] = *s++;
		text[n] = '\0';
		if (s >= end || (*s != ',' && *s != ';') || inet_pton(AF_INET6, text, &a) != 1)
			return false;
		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			memcpy(&out->s_addr, a.s6_addr + 12, 4);
			return out->s_addr != 0;
		}
		if (*s++ == ';')
			return false;
	}
	return false;
}

bool dhcp_pcp_server_from_leases(const char *text, size_t len, struct in_addr *out)
{
	const char *v4, *v6;
	uint8_t payload[PAYLOAD_MAX];
	size_t n;

	if (len > DHCP_LEASES_MAX)
		return false;
	v4 = last_statement(text, len, "option pcp-server ");
	v6 = last_statement(text, len, "option dhcp6.pcp-server ");
	if (v6 && (!v4 || v6 > v4))
		return first_mapped_v4(v6, text + len, out);
	return v4 && read_hex_bytes(v4, text + len, payload, &n) &&
	       dhcp_pcp_server_decode(payload, n, out);
}
