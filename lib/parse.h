/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Numbers, ports, protocol names and addresses from text, and protocol
 * names back: one strict reading for the config, the control protocol, the
 * lease file, the static file, SOAP arguments and portleasectl. Decimal
 * digits only: no sign, no space, no base prefix, no leading "+". Pure. */
#ifndef PORTLEASED_PARSE_H
#define PORTLEASED_PARSE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

/* At most max (and 10 digits). */
bool parse_uint(const char *s, unsigned long max, unsigned long *out);
/* 1-65535. */
bool parse_port(const char *s, uint16_t *port);
/* 0-65535: where 0 means "any" or "all". */
bool parse_port_or_zero(const char *s, uint16_t *port);
/* "N" or "LO-HI", each 0-65535: the syntax only; the caller says which
 * ranges it takes. */
bool parse_port_range(const char *s, uint16_t *lo, uint16_t *hi);
/* "tcp" or "udp", in any case. */
bool parse_proto(const char *s, uint8_t *proto);
/* "tcp", "udp", or "?" for any other number. */
const char *proto_name(uint8_t proto);
/* An IPv4 address (written IPv4-mapped) or an IPv6 one, without prefix. */
bool parse_address(const char *s, struct in6_addr *out);
/* A duration in seconds: digits with an optional unit, s, m, h, d or w
 * ("90", "90s", "15m", "12h", "7d", "2w"), at most max seconds. */
bool parse_duration(const char *s, unsigned long max, unsigned long *seconds);
/* A calendar date "YYYY-MM-DD" (UTC midnight), as Unix seconds. */
bool parse_date(const char *s, int64_t *unix_seconds);
/* A hex digit's value, in either case; -1 for any other character. */
int parse_hex_digit(char c);
/* A link-layer address: six pairs of hex digits, in any case, separated
 * by ":" (or all by "-"). */
bool parse_mac(const char *s, uint8_t mac[6]);

#endif
