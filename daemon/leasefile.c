/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/leasefile.h"
#include "lib/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "portleased-leases 1"
#define TOKEN_MAX 512

struct out {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

static size_t finish(struct out *o)
{
	put(o, "\n");
	return o->overflow ? 0 : o->len;
}

size_t leasefile_format_header(char *buf, size_t cap, const struct leasefile_header *h)
{
	struct out o = { buf, cap, 0, false };

	put(&o, "%s epoch_start=%" PRId64 " clean=%d", MAGIC, h->epoch_start, h->clean ? 1 : 0);
	return finish(&o);
}

static const char *proto_text(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

size_t leasefile_format(char *buf, size_t cap, const struct leasefile_record *r)
{
	struct out o = { buf, cap, 0, false };
	char a[ADDR_STRLEN];

	put(&o, "lease proto=%s origin=%s", proto_text(r->proto), lease_origin_name(r->origin));
	if (r->has_client)
		put(&o, " client=%s", addr_format(&r->client, a));
	put(&o, " internal=%s iport=%u eport=%u created=%" PRId64, addr_format(&r->internal_addr, a),
	    r->internal_port, r->external_port, r->created);
	if (r->expires == LEASEFILE_NEVER)
		put(&o, " expires=never");
	else
		put(&o, " expires=%" PRId64, r->expires);
	if (r->has_nonce) {
		put(&o, " nonce=");
		for (size_t i = 0; i < LEASE_NONCE_LEN; i++)
			put(&o, "%02x", r->nonce[i]);
	}
	for (size_t i = 0; i < r->nfilters && i < FILTER_MAX; i++) {
		const struct addr_prefix *f = &r->filters[i].remote;
		/* Prefix lengths count IPv6 bits; an IPv4 one is written as
		 * addr_parse_prefix reads it. */
		unsigned len = addr_is_v4(&f->net) && f->len >= 96 ? f->len - 96u : f->len;

		put(&o, " filter=%s/%u,%u", addr_format(&f->net, a), len, r->filters[i].port);
	}
	if (r->peer)
		put(&o, " peer=1");
	if (r->description[0]) {
		/* Percent-encoded: a token holds no space, and the file no
		 * control character from a client. */
		put(&o, " description=");
		for (const unsigned char *c = (const unsigned char *)r->description; *c; c++) {
			if (*c > 0x20 && *c < 0x7f && *c != '%')
				put(&o, "%c", *c);
			else
				put(&o, "%%%02x", *c);
		}
	}
	if (r->has_mac) {
		char mac[HOST_ID_STRLEN];

		put(&o, " mac=%s", mac_format(r->mac, mac));
	}
	if (r->device[0])
		put(&o, " device=%s", r->device);
	return finish(&o);
}

/* The next space-separated token of *p, at most TOKEN_MAX - 1 bytes. */
static bool next_token(const char **p, char token[TOKEN_MAX])
{
	size_t len;

	while (**p == ' ')
		(*p)++;
	len = strcspn(*p, " ");
	if (len == 0 || len >= TOKEN_MAX)
		return false;
	memcpy(token, *p, len);
	token[len] = '\0';
	*p += len;
	return true;
}

static bool parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool parse_hex_byte(const char *s, uint8_t *out)
{
	int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);

	if (lo < 0)
		return false;
	*out = (uint8_t)(hi << 4 | lo);
	return true;
}

static bool parse_nonce(const char *s, uint8_t nonce[LEASE_NONCE_LEN])
{
	if (strlen(s) != 2 * LEASE_NONCE_LEN)
		return false;
	for (size_t i = 0; i < LEASE_NONCE_LEN; i++)
		if (!parse_hex_byte(s + 2 * i, &nonce[i]))
			return false;
	return true;
}

static bool parse_filter(const char *s, struct remote_filter *f)
{
	char prefix[ADDR_STRLEN];
	const char *comma = strchr(s, ',');

	if (!comma || (size_t)(comma - s) >= sizeof(prefix))
		return false;
	memcpy(prefix, s, (size_t)(comma - s));
	prefix[comma - s] = '\0';
	return addr_parse_prefix(prefix, &f->remote) && parse_port_or_zero(comma + 1, &f->port);
}

static bool parse_description(const char *s, char out[LEASE_DESCRIPTION_MAX + 1])
{
	size_t n = 0;

	for (; *s; s++) {
		uint8_t c = (uint8_t)*s;

		if (c == '%' && !parse_hex_byte(s + 1, &c))
			return false;
		if (*s == '%')
			s += 2;
		if (c == 0 || n == LEASE_DESCRIPTION_MAX)
			return false;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return true;
}

static bool parse_origin(const char *s, enum lease_origin *o)
{
	for (size_t i = 0; i < LEASE_ORIGINS; i++)
		if (strcmp(s, lease_origin_name((enum lease_origin)i)) == 0) {
			*o = (enum lease_origin)i;
			return true;
		}
	return false;
}

int leasefile_parse_header(const char *line, struct leasefile_header *h)
{
	const char *p = line + strlen(MAGIC);
	char token[TOKEN_MAX];
	bool has_epoch = false;

	memset(h, 0, sizeof(*h));
	if (strncmp(line, MAGIC, strlen(MAGIC)) != 0 || (*p && *p != ' '))
		return -1;
	while (*p) {
		int64_t v;

		if (!next_token(&p, token)) {
			if (*p)
				return -1;
			break;
		}
		if (strncmp(token, "epoch_start=", 12) == 0) {
			if (!parse_int64(token + 12, &h->epoch_start))
				return -1;
			has_epoch = true;
		} else if (strncmp(token, "clean=", 6) == 0) {
			if (!parse_int64(token + 6, &v) || v > 1)
				return -1;
			h->clean = v == 1;
		}
	}
	return has_epoch ? 0 : -1;
}

int leasefile_parse(const char *line, struct leasefile_record *r)
{
	const char *p = line;
	char token[TOKEN_MAX];
	bool has_proto = false, has_origin = false, has_internal = false, has_iport = false,
	     has_eport = false, has_created = false, has_expires = false;

	memset(r, 0, sizeof(*r));
	if (strncmp(line, "lease ", 6) != 0)
		return -1;
	p += 6;
	while (*p) {
		const char *v;

		if (!next_token(&p, token)) {
			if (*p)
				return -1;
			break;
		}
		if (!(v = strchr(token, '=')))
			return -1;
		v++;
		if (strncmp(token, "proto=", 6) == 0) {
			if (!parse_proto(v, &r->proto))
				return -1;
			has_proto = true;
		} else if (strncmp(token, "origin=", 7) == 0) {
			if (!(has_origin = parse_origin(v, &r->origin)))
				return -1;
		} else if (strncmp(token, "client=", 7) == 0) {
			if (!(r->has_client = parse_address(v, &r->client)))
				return -1;
		} else if (strncmp(token, "internal=", 9) == 0) {
			if (!(has_internal = parse_address(v, &r->internal_addr)))
				return -1;
		} else if (strncmp(token, "iport=", 6) == 0) {
			if (!(has_iport = parse_port(v, &r->internal_port)))
				return -1;
		} else if (strncmp(token, "eport=", 6) == 0) {
			if (!(has_eport = parse_port(v, &r->external_port)))
				return -1;
		} else if (strncmp(token, "created=", 8) == 0) {
			if (!(has_created = parse_int64(v, &r->created)))
				return -1;
		} else if (strncmp(token, "expires=", 8) == 0) {
			if (strcmp(v, "never") == 0)
				r->expires = LEASEFILE_NEVER;
			else if (!parse_int64(v, &r->expires) || r->expires == LEASEFILE_NEVER)
				return -1;
			has_expires = true;
		} else if (strncmp(token, "nonce=", 6) == 0) {
			if (!(r->has_nonce = parse_nonce(v, r->nonce)))
				return -1;
		} else if (strncmp(token, "filter=", 7) == 0) {
			if (r->nfilters == FILTER_MAX || !parse_filter(v, &r->filters[r->nfilters++]))
				return -1;
		} else if (strcmp(token, "peer=1") == 0) {
			r->peer = true;
		} else if (strncmp(token, "description=", 12) == 0) {
			if (!parse_description(v, r->description))
				return -1;
		} else if (strncmp(token, "mac=", 4) == 0) {
			if (!(r->has_mac = parse_mac(v, r->mac)))
				return -1;
		} else if (strncmp(token, "device=", 7) == 0) {
			if (!device_name_valid(v))
				return -1;
			snprintf(r->device, sizeof(r->device), "%s", v);
		}
	}
	if (!has_proto || !has_origin || !has_internal || !has_iport || !has_eport ||
	    !has_created || !has_expires)
		return -1;
	/* What the rest of the daemon takes for granted. */
	if ((r->origin == LEASE_ORIGIN_STATIC) != !r->has_client ||
	    (r->origin == LEASE_ORIGIN_STATIC) != (r->expires == LEASEFILE_NEVER) ||
	    (!addr_is_v4(&r->internal_addr) && r->external_port != r->internal_port) ||
	    (r->peer && (r->origin != LEASE_ORIGIN_PCP || r->nfilters == 0)))
		return -1;
	return 0;
}
