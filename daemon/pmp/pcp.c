/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/pmp/pcp.h"

#include <stdint.h>
#include <string.h>

#include "lib/wire.h"

#define OPCODE_BIT(op) (1u << (op))

/* Every option we understand, with where and how often it may appear
 * (RFC 6887 §13, RFC 7220 §4). Lengths are of the data, before padding. */
static const struct option_rule {
	uint8_t code;
	uint16_t min_len, max_len;
	uint8_t max_count;
	unsigned opcodes;
	enum pcp_result too_many;  /* the error when max_count is exceeded */
} option_rules[] = {
	{ PCP_OPTION_THIRD_PARTY, 16, 16, 1, OPCODE_BIT(PCP_OP_MAP) | OPCODE_BIT(PCP_OP_PEER),
	  PCP_MALFORMED_OPTION },
	{ PCP_OPTION_PREFER_FAILURE, 0, 0, 1, OPCODE_BIT(PCP_OP_MAP), PCP_MALFORMED_OPTION },
	{ PCP_OPTION_FILTER, 20, 20, PCP_MAX_FILTERS, OPCODE_BIT(PCP_OP_MAP),
	  PCP_EXCESSIVE_REMOTE_PEERS },
	{ PCP_OPTION_DESCRIPTION, 0, 1016, 1, OPCODE_BIT(PCP_OP_MAP) | OPCODE_BIT(PCP_OP_PEER),
	  PCP_MALFORMED_OPTION },
};
#define OPTION_RULES (sizeof(option_rules) / sizeof(option_rules[0]))

static bool is_v4_mapped(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

static enum pcp_result decode_option(const struct option_rule *rule, const uint8_t *data,
				     uint16_t len, struct pcp_request *req)
{
	switch (rule->code) {
	case PCP_OPTION_THIRD_PARTY:
		req->has_third_party = true;
		memcpy(&req->third_party_addr, data, 16);
		return PCP_SUCCESS;
	case PCP_OPTION_PREFER_FAILURE:
		req->prefer_failure = true;
		return PCP_SUCCESS;
	case PCP_OPTION_FILTER: {
		struct pcp_filter *f = &req->filters[req->filter_count++];
		f->prefix_len = data[1];
		f->remote_port = wire_get16(data + 2);
		memcpy(&f->remote_addr, data + 4, 16);
		/* An IPv4 prefix is written as IPv4-mapped: its length counts
		 * the 96 mapping bits too (RFC 6887 §13.3). */
		if (f->prefix_len > 128 || (is_v4_mapped(&f->remote_addr) && f->prefix_len != 0 &&
					    f->prefix_len < 96))
			return PCP_MALFORMED_OPTION;
		return PCP_SUCCESS;
	}
	case PCP_OPTION_DESCRIPTION: {
		size_t n = len < PCP_DESCRIPTION_MAX ? len : PCP_DESCRIPTION_MAX;
		/* Kept as it came, up to a NUL; whatever shows or logs it
		 * escapes it (text.h). */
		memcpy(req->description, data, n);
		req->description[n] = '\0';
		req->has_description = true;
		return PCP_SUCCESS;
	}
	}
	return PCP_SUCCESS;
}

/*
 * Options, RFC 6887 §7.3: each is code(1) reserved(1) length(2) data,
 * padded to a multiple of 4.
 *   runs past the end of the packet          -> MALFORMED_OPTION
 *   unknown, code 0-127 (mandatory)          -> UNSUPP_OPTION
 *   unknown, code 128-255 (optional)         -> skipped
 *   known, but not for this opcode           -> MALFORMED_OPTION
 *   known, wrong length                      -> MALFORMED_OPTION
 *   more often than allowed                  -> MALFORMED_OPTION (FILTER:
 *                                               EXCESSIVE_REMOTE_PEERS)
 */
static enum pcp_result parse_options(const uint8_t *p, size_t len, struct pcp_request *req)
{
	uint8_t seen[OPTION_RULES] = { 0 };
	size_t off = 0;

	while (off < len) {
		const struct option_rule *rule = NULL;
		size_t rule_index = 0;
		uint8_t code;
		uint16_t data_len;
		size_t padded;
		enum pcp_result r;

		if (len - off < 4)
			return PCP_MALFORMED_OPTION;
		code = p[off];
		data_len = wire_get16(p + off + 2);
		padded = ((size_t)data_len + 3) & ~(size_t)3;
		if (padded > len - off - 4)
			return PCP_MALFORMED_OPTION;

		for (size_t i = 0; i < OPTION_RULES; i++)
			if (option_rules[i].code == code) {
				rule = &option_rules[i];
				rule_index = i;
			}
		if (!rule) {
			if (code < 128)
				return PCP_UNSUPP_OPTION;
		} else {
			if (!(rule->opcodes & OPCODE_BIT(req->opcode)) || data_len < rule->min_len ||
			    data_len > rule->max_len)
				return PCP_MALFORMED_OPTION;
			if (++seen[rule_index] > rule->max_count)
				return rule->too_many;
			r = decode_option(rule, p + off + 4, data_len, req);
			if (r != PCP_SUCCESS)
				return r;
		}
		off += 4 + padded;
	}
	return PCP_SUCCESS;
}

/* The length of an opcode's fields after the header; SIZE_MAX if we do not
 * know the opcode. */
static size_t opcode_body_len(uint8_t opcode)
{
	switch (opcode) {
	case PCP_OP_ANNOUNCE: return 0;
	case PCP_OP_MAP: return PCP_MAP_LEN;
	case PCP_OP_PEER: return PCP_PEER_LEN;
	default: return SIZE_MAX;
	}
}

/*
 * Request validation, RFC 6887 §8.3, in this order:
 *   shorter than 2 octets, or R bit set        -> dropped, no answer
 *   version not 2                              -> UNSUPP_VERSION
 *   over 1100 octets, under 24, not a multiple
 *   of 4                                       -> MALFORMED_REQUEST
 *   opcode not ANNOUNCE, MAP or PEER           -> UNSUPP_OPCODE
 *   too short for the opcode's fields          -> MALFORMED_REQUEST
 *   MAP/PEER protocol 0 with a port            -> MALFORMED_REQUEST
 *   PEER without a remote peer port            -> MALFORMED_REQUEST
 *   options                                    -> see parse_options()
 */
enum pcp_result pcp_parse_request(const uint8_t *buf, size_t len, struct pcp_request *req)
{
	size_t body_len;
	const uint8_t *body;

	memset(req, 0, sizeof(*req));
	if (len < 2 || (buf[1] & PCP_RESPONSE_BIT))
		return PCP_DROP;
	req->version = buf[0];
	req->opcode = buf[1] & 0x7f;
	if (req->version != PCP_VERSION)
		return PCP_UNSUPP_VERSION;
	if (len > PCP_MAX_PACKET || len < PCP_HEADER_LEN || len % 4 != 0)
		return PCP_MALFORMED_REQUEST;
	req->lifetime = wire_get32(buf + 4);
	memcpy(&req->client_addr, buf + 8, 16);

	body_len = opcode_body_len(req->opcode);
	if (body_len == SIZE_MAX)
		return PCP_UNSUPP_OPCODE;
	if (len < PCP_HEADER_LEN + body_len)
		return PCP_MALFORMED_REQUEST;

	body = buf + PCP_HEADER_LEN;
	if (req->opcode != PCP_OP_ANNOUNCE) {
		memcpy(req->nonce, body, PCP_NONCE_LEN);
		req->protocol = body[12];
		req->internal_port = wire_get16(body + 16);
		req->suggested_external_port = wire_get16(body + 18);
		memcpy(&req->suggested_external_addr, body + 20, 16);
	}
	if (req->opcode == PCP_OP_PEER) {
		req->remote_port = wire_get16(body + 36);
		memcpy(&req->remote_addr, body + 40, 16);
	}
	req->body_complete = true;

	if (req->opcode != PCP_OP_ANNOUNCE && req->protocol == 0 && req->internal_port != 0)
		return PCP_MALFORMED_REQUEST;
	if (req->opcode == PCP_OP_PEER && (req->remote_port == 0 || req->protocol == 0))
		return PCP_MALFORMED_REQUEST;
	return parse_options(body + body_len, len - PCP_HEADER_LEN - body_len, req);
}

/* --- responses --- */

static void put_header(uint8_t *out, uint8_t opcode, const struct pcp_answer *ans)
{
	memset(out, 0, PCP_HEADER_LEN);
	out[0] = PCP_VERSION;
	out[1] = (uint8_t)(opcode | PCP_RESPONSE_BIT);
	out[3] = (uint8_t)ans->result;
	wire_put32(out + 4, ans->lifetime);
	wire_put32(out + 8, ans->epoch);
}

/* Appends one option; false if it does not fit. */
static bool put_option(uint8_t *out, size_t cap, size_t *len, uint8_t code, const void *data,
		       uint16_t data_len)
{
	size_t padded = ((size_t)data_len + 3) & ~(size_t)3;

	if (*len + 4 + padded > cap)
		return false;
	memset(out + *len, 0, 4 + padded);
	out[*len] = code;
	wire_put16(out + *len + 2, data_len);
	if (data_len)
		memcpy(out + *len + 4, data, data_len);
	*len += 4 + padded;
	return true;
}

static bool put_options(uint8_t *out, size_t cap, size_t *len, const struct pcp_request *req)
{
	if (req->has_third_party &&
	    !put_option(out, cap, len, PCP_OPTION_THIRD_PARTY, &req->third_party_addr, 16))
		return false;
	if (req->prefer_failure && !put_option(out, cap, len, PCP_OPTION_PREFER_FAILURE, NULL, 0))
		return false;
	for (size_t i = 0; i < req->filter_count; i++) {
		uint8_t f[20] = { 0 };
		f[1] = req->filters[i].prefix_len;
		wire_put16(f + 2, req->filters[i].remote_port);
		memcpy(f + 4, &req->filters[i].remote_addr, 16);
		if (!put_option(out, cap, len, PCP_OPTION_FILTER, f, sizeof(f)))
			return false;
	}
	if (req->has_description &&
	    !put_option(out, cap, len, PCP_OPTION_DESCRIPTION, req->description,
			(uint16_t)strlen(req->description)))
		return false;
	return true;
}

/* The MAP or PEER fields, the same in both directions but for the external
 * port and address (suggested in a request, assigned in a response).
 * Returns the new length, 0 if cap is too small. */
static size_t put_body(uint8_t *out, size_t cap, size_t len, const struct pcp_request *req,
		       uint16_t external_port, const struct in6_addr *external_addr)
{
	size_t body_len = opcode_body_len(req->opcode);
	uint8_t *b = out + len;

	if (body_len == 0)
		return len;
	if (len + body_len > cap)
		return 0;
	memset(b, 0, body_len);
	memcpy(b, req->nonce, PCP_NONCE_LEN);
	b[12] = req->protocol;
	wire_put16(b + 16, req->internal_port);
	wire_put16(b + 18, external_port);
	memcpy(b + 20, external_addr, 16);
	if (req->opcode == PCP_OP_PEER) {
		wire_put16(b + 36, req->remote_port);
		memcpy(b + 40, &req->remote_addr, 16);
	}
	return len + body_len;
}

size_t pcp_build_response(uint8_t *out, size_t cap, const uint8_t *request, size_t request_len,
			  const struct pcp_request *req, const struct pcp_answer *ans)
{
	size_t len = PCP_HEADER_LEN;

	if (cap < PCP_HEADER_LEN)
		return 0;
	put_header(out, req->opcode, ans);
	if (ans->result == PCP_UNSUPP_VERSION)
		return len;

	if (!req->body_complete) {
		/* Opcode not understood, or its fields not all there: echo the
		 * payload as it came, so the client can match the answer. */
		size_t payload = request_len > PCP_HEADER_LEN ? request_len - PCP_HEADER_LEN : 0;
		if (PCP_HEADER_LEN + payload > PCP_MAX_PACKET)
			payload = PCP_MAX_PACKET - PCP_HEADER_LEN;
		payload &= ~(size_t)3;
		if (len + payload > cap)
			return 0;
		memcpy(out + len, request + PCP_HEADER_LEN, payload);
		return len + payload;
	}

	len = put_body(out, cap, len, req, ans->assigned_external_port,
		       &ans->assigned_external_addr);
	if (len == 0 || !put_options(out, cap, &len, req))
		return 0;
	return len;
}

size_t pcp_build_request(uint8_t *out, size_t cap, const struct pcp_request *req)
{
	size_t len;

	if (cap < PCP_HEADER_LEN || opcode_body_len(req->opcode) == SIZE_MAX)
		return 0;
	memset(out, 0, PCP_HEADER_LEN);
	out[0] = PCP_VERSION;
	out[1] = req->opcode & 0x7f;
	wire_put32(out + 4, req->lifetime);
	memcpy(out + 8, &req->client_addr, 16);
	len = put_body(out, cap, PCP_HEADER_LEN, req, req->suggested_external_port,
		       &req->suggested_external_addr);
	if (len == 0 || !put_options(out, cap, &len, req))
		return 0;
	return len;
}

int pcp_parse_response(const uint8_t *buf, size_t len, struct pcp_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (len < PCP_HEADER_LEN || len > PCP_MAX_PACKET || buf[0] != PCP_VERSION ||
	    !(buf[1] & PCP_RESPONSE_BIT))
		return -1;
	resp->opcode = buf[1] & 0x7f;
	resp->result = (enum pcp_result)buf[3];
	resp->lifetime = wire_get32(buf + 4);
	resp->epoch = wire_get32(buf + 8);
	if ((resp->opcode == PCP_OP_MAP && len >= PCP_HEADER_LEN + PCP_MAP_LEN) ||
	    (resp->opcode == PCP_OP_PEER && len >= PCP_HEADER_LEN + PCP_PEER_LEN)) {
		const uint8_t *b = buf + PCP_HEADER_LEN;
		memcpy(resp->nonce, b, PCP_NONCE_LEN);
		resp->protocol = b[12];
		resp->internal_port = wire_get16(b + 16);
		resp->assigned_external_port = wire_get16(b + 18);
		memcpy(&resp->assigned_external_addr, b + 20, 16);
	}
	return 0;
}

size_t pcp_build_announce(uint8_t *out, size_t cap, uint32_t epoch)
{
	struct pcp_answer ans = { .result = PCP_SUCCESS, .epoch = epoch };

	if (cap < PCP_HEADER_LEN)
		return 0;
	put_header(out, PCP_OP_ANNOUNCE, &ans);
	return PCP_HEADER_LEN;
}

uint32_t pcp_error_lifetime(enum pcp_result result)
{
	switch (result) {
	case PCP_NETWORK_FAILURE:
	case PCP_NO_RESOURCES:
	case PCP_USER_EX_QUOTA:
	case PCP_CANNOT_PROVIDE_EXTERNAL:
		return PCP_SHORT_ERROR_LIFETIME;
	case PCP_SUCCESS:
		return 0;
	default:
		return PCP_LONG_ERROR_LIFETIME;
	}
}

const char *pcp_result_name(enum pcp_result result)
{
	static const char *const names[] = {
		"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST",
		"UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE",
		"NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
		"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
	};

	if (result >= 0 && (size_t)result < sizeof(names) / sizeof(names[0]))
		return names[result];
	return result == PCP_DROP ? "DROP" : "UNKNOWN";
}
