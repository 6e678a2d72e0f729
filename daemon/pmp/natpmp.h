/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NAT-PMP (RFC 6886) wire codec: bytes to struct and back. No I/O. */
#ifndef PORTLEASED_NATPMP_H
#define PORTLEASED_NATPMP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define NATPMP_PORT 5351
#define NATPMP_CLIENT_PORT 5350
#define NATPMP_VERSION 0
#define NATPMP_RESPONSE_BIT 0x80

enum natpmp_opcode {
	NATPMP_OP_EXTERNAL_ADDRESS = 0,
	NATPMP_OP_MAP_UDP = 1,
	NATPMP_OP_MAP_TCP = 2,
};

enum natpmp_result {
	NATPMP_SUCCESS = 0,
	NATPMP_UNSUPP_VERSION = 1,
	NATPMP_NOT_AUTHORIZED = 2,
	NATPMP_NETWORK_FAILURE = 3,
	NATPMP_OUT_OF_RESOURCES = 4,
	NATPMP_UNSUPP_OPCODE = 5,
};

enum natpmp_parse_status {
	NATPMP_PARSE_OK,
	NATPMP_PARSE_IGNORE,          /* a response, or too short to answer */
	NATPMP_PARSE_UNSUPP_VERSION,
	NATPMP_PARSE_UNSUPP_OPCODE,
};

struct natpmp_request {
	uint8_t opcode;
	/* Map requests only: */
	uint16_t internal_port;
	uint16_t suggested_external_port;
	uint32_t lifetime;
};

/* Length is checked before any field is read; trailing bytes are ignored
 * (RFC 6886 §3.2 sizes requests, it does not forbid padding). */
enum natpmp_parse_status natpmp_parse_request(const uint8_t *buf, size_t len,
					      struct natpmp_request *req);

/* Builders return the response length, 0 if cap is too small. */
size_t natpmp_build_external_address(uint8_t *out, size_t cap, enum natpmp_result result,
				     uint32_t epoch, struct in_addr external);
size_t natpmp_build_map(uint8_t *out, size_t cap, uint8_t request_opcode,
			enum natpmp_result result, uint32_t epoch, uint16_t internal_port,
			uint16_t external_port, uint32_t lifetime);
/* The 8-byte header-only answer for UNSUPP_VERSION and UNSUPP_OPCODE. */
size_t natpmp_build_error(uint8_t *out, size_t cap, uint8_t request_opcode,
			  enum natpmp_result result, uint32_t epoch);

/* Client side: a 12-byte map request (lifetime 0 deletes). */
size_t natpmp_build_map_request(uint8_t *out, size_t cap, uint8_t opcode, uint16_t internal_port,
				uint16_t suggested_external_port, uint32_t lifetime);

/* Client side: what a server answered. */
struct natpmp_response {
	uint8_t opcode;              /* the request's */
	enum natpmp_result result;
	uint32_t epoch;              /* seconds since the server's epoch began */
	struct in_addr external;     /* NATPMP_OP_EXTERNAL_ADDRESS */
	uint16_t internal_port;      /* map opcodes */
	uint16_t external_port;
	uint32_t lifetime;
};

/* Parses a response (version 0, the response bit set, as long as its
 * opcode and result say); -1 if it is not one. An error answer may be
 * the 8-byte header alone: its other fields are then 0. */
int natpmp_parse_response(const uint8_t *buf, size_t len, struct natpmp_response *resp);

const char *natpmp_result_name(enum natpmp_result result);

#endif
