/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCP (RFC 6887, with the DESCRIPTION option of RFC 7220) wire codec:
 * bytes to struct and back. No I/O, no state. */
#ifndef PORTLEASED_PCP_H
#define PORTLEASED_PCP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCP_VERSION 2
#define PCP_SERVER_PORT 5351  /* shared with NAT-PMP */
#define PCP_MAX_PACKET 1100
#define PCP_HEADER_LEN 24
#define PCP_MAP_LEN 36
#define PCP_PEER_LEN 56
#define PCP_NONCE_LEN 12
#define PCP_RESPONSE_BIT 0x80
/* FILTER options per request we accept; more is EXCESSIVE_REMOTE_PEERS. */
#define PCP_MAX_FILTERS 8
#define PCP_DESCRIPTION_MAX 128
/* RFC 6887 §7.2: how long a client should take an error to hold. */
#define PCP_LONG_ERROR_LIFETIME 1800
#define PCP_SHORT_ERROR_LIFETIME 30

enum pcp_opcode {
	PCP_OP_ANNOUNCE = 0,
	PCP_OP_MAP = 1,
	PCP_OP_PEER = 2,
};

enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
	/* Not a result code: the datagram gets no answer at all. */
	PCP_DROP = -1,
};

enum pcp_option_code {
	PCP_OPTION_THIRD_PARTY = 1,
	PCP_OPTION_PREFER_FAILURE = 2,
	PCP_OPTION_FILTER = 3,
	PCP_OPTION_DESCRIPTION = 128,
};

struct pcp_filter {
	uint8_t prefix_len;       /* in IPv6 bits, 0..128; 0 removes all filters */
	uint16_t remote_port;     /* 0: any */
	struct in6_addr remote_addr;
};

struct pcp_request {
	uint8_t version;
	uint8_t opcode;
	uint32_t lifetime;
	struct in6_addr client_addr;  /* as the client wrote it in the header */

	/* MAP and PEER. */
	uint8_t nonce[PCP_NONCE_LEN];
	uint8_t protocol;             /* 0: all protocols */
	uint16_t internal_port;
	uint16_t suggested_external_port;
	struct in6_addr suggested_external_addr;

	/* PEER only. */
	uint16_t remote_port;
	struct in6_addr remote_addr;

	/* Whether the opcode's fields were all present and read: the response
	 * echoes them structured if so, the raw payload if not. */
	bool body_complete;

	/* Options. */
	bool has_third_party;
	struct in6_addr third_party_addr;
	bool prefer_failure;
	size_t filter_count;
	struct pcp_filter filters[PCP_MAX_FILTERS];
	bool has_description;
	char description[PCP_DESCRIPTION_MAX + 1];  /* NUL-terminated, cut to fit */
};

/*
 * Parses and validates one request. Returns PCP_SUCCESS, PCP_DROP (no
 * answer), or the result code to answer with. On an error the fields parsed
 * so far are still set, for the response to echo. Does not compare the
 * header's client address with the packet's source: the caller knows it.
 */
enum pcp_result pcp_parse_request(const uint8_t *buf, size_t len, struct pcp_request *req);

/* What the server decided, for the response. */
struct pcp_answer {
	enum pcp_result result;
	uint32_t lifetime;         /* granted lifetime, or how long an error holds */
	uint32_t epoch;
	uint16_t assigned_external_port;
	struct in6_addr assigned_external_addr;
};

/*
 * Builds the response to a request parsed by pcp_parse_request, echoing what
 * RFC 6887 says to echo: the opcode, for MAP and PEER the nonce, protocol and
 * internal port (and PEER's remote peer), and the options that were
 * understood. A request whose opcode is not understood is echoed as it came,
 * after the header. Returns the length, 0 if cap is too small.
 */
size_t pcp_build_response(uint8_t *out, size_t cap, const uint8_t *request, size_t request_len,
			  const struct pcp_request *req, const struct pcp_answer *ans);

/* Client side. Builds a request from the fields and options set in *req
 * (version is always 2). Returns the length, 0 if cap is too small. */
size_t pcp_build_request(uint8_t *out, size_t cap, const struct pcp_request *req);

struct pcp_response {
	uint8_t opcode;
	enum pcp_result result;
	uint32_t lifetime;
	uint32_t epoch;
	/* MAP and PEER: */
	uint8_t nonce[PCP_NONCE_LEN];
	uint8_t protocol;
	uint16_t internal_port;
	uint16_t assigned_external_port;
	struct in6_addr assigned_external_addr;
};

/* Parses a PCP response (not NAT-PMP); -1 if it is not a well-formed one. */
int pcp_parse_response(const uint8_t *buf, size_t len, struct pcp_response *resp);

/* An unsolicited ANNOUNCE response (RFC 6887 §14.1.3). */
size_t pcp_build_announce(uint8_t *out, size_t cap, uint32_t epoch);

/* RFC 6887 §7.4: which errors are short-lived (30 s) and which long. */
uint32_t pcp_error_lifetime(enum pcp_result result);
const char *pcp_result_name(enum pcp_result result);

#endif
