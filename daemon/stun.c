/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/stun.h"

#include <arpa/inet.h>
#include <string.h>

#include "lib/wire.h"

#define BINDING_REQUEST 0x0001
#define BINDING_SUCCESS 0x0101
#define MAGIC_COOKIE 0x2112A442u
#define ATTR_MAPPED_ADDRESS 0x0001
#define ATTR_CHANGED_ADDRESS 0x0005
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_OTHER_ADDRESS 0x802C
#define FAMILY_IPV4 0x01

size_t stun_build_request(uint8_t *buf, size_t cap, const uint8_t id[STUN_TRANSACTION_LEN])
{
	if (cap < STUN_HEADER_LEN)
		return 0;
	wire_put16(buf, BINDING_REQUEST);
	wire_put16(buf + 2, 0);
	wire_put32(buf + 4, MAGIC_COOKIE);
	memcpy(buf + 8, id, STUN_TRANSACTION_LEN);
	return STUN_HEADER_LEN;
}

/* An address attribute's value: 0 for IPv4, -1 otherwise; xor: XOR-MAPPED. */
static int read_address(const uint8_t *v, size_t len, bool xor, struct stun_endpoint *out)
{
	uint32_t addr;
	uint16_t port;

	if (len != 8 || v[1] != FAMILY_IPV4)
		return -1;
	port = wire_get16(v + 2);
	addr = wire_get32(v + 4);
	if (xor) {
		port ^= (uint16_t)(MAGIC_COOKIE >> 16);
		addr ^= MAGIC_COOKIE;
	}
	out->port = port;
	out->addr.s_addr = htonl(addr);
	return 0;
}

int stun_parse_answer(const uint8_t *buf, size_t len, const uint8_t id[STUN_TRANSACTION_LEN],
		      struct stun_answer *out)
{
	size_t body, pos = STUN_HEADER_LEN;
	bool has_xor = false, has_plain = false, has_changed = false;
	struct stun_endpoint xor_mapped, plain_mapped, changed;

	memset(out, 0, sizeof(*out));
	if (len < STUN_HEADER_LEN || wire_get16(buf) != BINDING_SUCCESS ||
	    wire_get32(buf + 4) != MAGIC_COOKIE || memcmp(buf + 8, id, STUN_TRANSACTION_LEN) != 0)
		return -1;
	body = wire_get16(buf + 2);
	if (body % 4 || STUN_HEADER_LEN + body > len)
		return -1;
	while (pos + 4 <= STUN_HEADER_LEN + body) {
		uint16_t type = wire_get16(buf + pos), alen = wire_get16(buf + pos + 2);
		const uint8_t *v = buf + pos + 4;
		size_t padded = ((size_t)alen + 3) & ~(size_t)3;

		if (pos + 4 + padded > STUN_HEADER_LEN + body)
			return -1;
		switch (type) {
		case ATTR_XOR_MAPPED_ADDRESS:
			if (!has_xor)
				has_xor = read_address(v, alen, true, &xor_mapped) == 0;
			break;
		case ATTR_MAPPED_ADDRESS:
			if (!has_plain)
				has_plain = read_address(v, alen, false, &plain_mapped) == 0;
			break;
		case ATTR_OTHER_ADDRESS:
			out->has_other = read_address(v, alen, false, &out->other) == 0;
			break;
		case ATTR_CHANGED_ADDRESS:
			has_changed = read_address(v, alen, false, &changed) == 0;
			break;
		default:
			break;  /* comprehension-optional or not ours: skipped */
		}
		pos += 4 + padded;
	}
	if (pos != STUN_HEADER_LEN + body)
		return -1;
	if (!out->has_other && has_changed) {
		out->has_other = true;
		out->other = changed;
	}
	out->has_mapped = has_xor || has_plain;
	out->mapped = has_xor ? xor_mapped : plain_mapped;
	return out->has_mapped ? 0 : -1;
}
