/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/parse.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"

/* Digits up to the first other character: how many, and their value if
 * it is at most max (10 digits, so no overflow on 64 bits). */
static size_t read_digits(const char *s, unsigned long max, unsigned long *out, bool *fits)
{
	unsigned long v = 0;
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9' && n < 11) {
		v = v * 10 + (unsigned long)(s[n] - '0');
		n++;
	}
	*fits = n > 0 && n <= 10 && v <= max;
	*out = v;
	return n;
}

bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	bool fits;
	size_t n;

	if (!s)
		return false;
	n = read_digits(s, max, &v, &fits);
	if (!fits || s[n] != '\0')
		return false;
	*out = v;
	return true;
}

bool parse_port_or_zero(const char *s, uint16_t *port)
{
	unsigned long v;

	if (!parse_uint(s, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

bool parse_port(const char *s, uint16_t *port)
{
	uint16_t p;

	if (!parse_port_or_zero(s, &p) || p == 0)
		return false;
	*port = p;
	return true;
}

bool parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	unsigned long a, b;
	bool fits;
	size_t n;

	if (!s)
		return false;
	n = read_digits(s, 65535, &a, &fits);
	if (!fits)
		return false;
	b = a;
	if (s[n] == '-') {
		s += n + 1;
		n = read_digits(s, 65535, &b, &fits);
		if (!fits)
			return false;
	}
	if (s[n] != '\0')
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

bool parse_proto(const char *s, uint8_t *proto)
{
	if (s && strcasecmp(s, "tcp") == 0)
		*proto = IPPROTO_TCP;
	else if (s && strcasecmp(s, "udp") == 0)
		*proto = IPPROTO_UDP;
	else
		return false;
	return true;
}

const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

bool parse_address(const char *s, struct in6_addr *out)
{
	struct in_addr v4;

	if (!s)
		return false;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		*out = addr_from_v4(v4);
		return true;
	}
	return inet_pton(AF_INET6, s, out) == 1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool parse_mac(const char *s, uint8_t mac[6])
{
	char separator;

	if (!s || strlen(s) != 17)
		return false;
	separator = s[2];
	if (separator != ':' && separator != '-')
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != separator))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}
