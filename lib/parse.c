/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/parse.h"

#include <arpa/inet.h>
#include <limits.h>
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

int parse_hex_digit(char c)
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
		int hi = parse_hex_digit(s[3 * i]), lo = parse_hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != separator))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool parse_duration(const char *s, unsigned long max, unsigned long *seconds)
{
	static const struct { char unit; unsigned long seconds; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 },
	};
	unsigned long v, scale = 1;
	bool fits;
	size_t n;

	if (!s)
		return false;
	n = read_digits(s, ULONG_MAX / 604800, &v, &fits);
	if (n == 0 || !fits)
		return false;
	if (s[n] != '\0') {
		size_t i;

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (s[n] == units[i].unit)
				break;
		if (i == sizeof(units) / sizeof(units[0]) || s[n + 1] != '\0')
			return false;
		scale = units[i].seconds;
	}
	if (v * scale > max)
		return false;
	*seconds = v * scale;
	return true;
}

bool parse_date(const char *s, int64_t *unix_seconds)
{
	static const int days_in[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, month, day;
	int64_t days = 0;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	month = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (year < 1970 || month < 1 || month > 12 || day < 1 ||
	    day > days_in[month - 1] + (month == 2 && leap))
		return false;
	for (int y = 1970; y < year; y++)
		days += 365 + ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
	for (int m = 1; m < month; m++)
		days += days_in[m - 1] + (m == 2 && leap);
	days += day - 1;
	*unix_seconds = days * 86400;
	return true;
}
