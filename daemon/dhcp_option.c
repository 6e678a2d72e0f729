/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/dhcp_option.h"

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

bool dhcp_pcp_server_from_leases(const char *text, size_t len, struct in_addr *out)
{
	static const char key[] = "option pcp-server ";
	const char *found = NULL;
	uint8_t payload[PAYLOAD_MAX];
	size_t n;

	if (len > DHCP_LEASES_MAX)
		return false;
	for (const char *p = text; (size_t)(text + len - p) >= sizeof(key) - 1; p++) {
		p = memchr(p, 'o', (size_t)(text + len - p));
		if (!p || (size_t)(text + len - p) < sizeof(key) - 1)
			break;
		if (memcmp(p, key, sizeof(key) - 1) == 0)
			found = p + sizeof(key) - 1;
	}
	return found && read_hex_bytes(found, text + len, payload, &n) &&
	       dhcp_pcp_server_decode(payload, n, out);
}
