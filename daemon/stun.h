/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STUN Binding (RFC 5389, and RFC 3489's classic servers): the request,
 * and the answer's mapped address and the server's other address, read
 * with explicit bounds. What the public address behind a NAT without a
 * mapping service is, and whether that NAT is symmetric. Pure. */
#ifndef PORTLEASED_STUN_H
#define PORTLEASED_STUN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STUN_PORT 3478
#define STUN_HEADER_LEN 20
#define STUN_TRANSACTION_LEN 12
#define STUN_MAX_PACKET 548  /* RFC 5389 §7.1: without path MTU knowledge */

struct stun_endpoint {
	struct in_addr addr;
	uint16_t port;
};

/* A Binding Request with this transaction ID (RFC 5389's magic cookie
 * before it); STUN_HEADER_LEN, or 0 when cap is too small. */
size_t stun_build_request(uint8_t *buf, size_t cap, const uint8_t id[STUN_TRANSACTION_LEN]);

struct stun_answer {
	bool has_mapped;
	struct stun_endpoint mapped;  /* how the server saw us: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	bool has_other;
	struct stun_endpoint other;   /* OTHER-ADDRESS (RFC 5780), else CHANGED-ADDRESS (RFC 3489) */
};

/* 0 and *out for a Binding success response to the request with id; -1
 * for anything else (another transaction, an error response, attributes
 * that overrun the message, IPv6 mapped addresses). */
int stun_parse_answer(const uint8_t *buf, size_t len, const uint8_t id[STUN_TRANSACTION_LEN],
		      struct stun_answer *out);

#endif
