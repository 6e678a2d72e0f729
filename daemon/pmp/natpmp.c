/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/pmp/natpmp.h"

#include <string.h>

#include "lib/wire.h"

/*
 * RFC 6886 request handling, in the order the RFC gives it:
 *   shorter than the 2-byte header         -> ignore (nothing to answer to)
 *   opcode >= 128                          -> ignore (a response, §3.5)
 *   version != 0                           -> UNSUPP_VERSION (§3.5); PCP
 *                                             clients rely on this to fall
 *                                             back (RFC 6887 §9)
 *   opcode 0, length >= 2                  -> external address request
 *   opcode 1/2, length >= 12               -> map request
 *   opcode 1/2, shorter                    -> ignore: no field to echo
 *   any other opcode                       -> UNSUPP_OPCODE (§3.5)
 */
enum natpmp_parse_status natpmp_parse_request(const uint8_t *buf, size_t len,
					      struct natpmp_request *req)
{
	memset(req, 0, sizeof(*req));
	if (len < 2)
		return NATPMP_PARSE_IGNORE;
	req->opcode = buf[1];
	if (req->opcode & NATPMP_RESPONSE_BIT)
		return NATPMP_PARSE_IGNORE;
	if (buf[0] != NATPMP_VERSION)
		return NATPMP_PARSE_UNSUPP_VERSION;

	switch (req->opcode) {
	case NATPMP_OP_EXTERNAL_ADDRESS:
		return NATPMP_PARSE_OK;
	case NATPMP_OP_MAP_UDP:
	case NATPMP_OP_MAP_TCP:
		if (len < 12)
			return NATPMP_PARSE_IGNORE;
		/* Bytes 2-3 are reserved: ignored, as receivers must. */
		req->internal_port = wire_get16(buf + 4);
		req->suggested_external_port = wire_get16(buf + 6);
		req->lifetime = wire_get32(buf + 8);
		return NATPMP_PARSE_OK;
	default:
		return NATPMP_PARSE_UNSUPP_OPCODE;
	}
}

static void put_header(uint8_t *out, uint8_t request_opcode, enum natpmp_result result,
		       uint32_t epoch)
{
	out[0] = NATPMP_VERSION;
	out[1] = (uint8_t)(request_opcode | NATPMP_RESPONSE_BIT);
	wire_put16(out + 2, (uint16_t)result);
	wire_put32(out + 4, epoch);
}

size_t natpmp_build_external_address(uint8_t *out, size_t cap, enum natpmp_result result,
				     uint32_t epoch, struct in_addr external)
{
	if (cap < 12)
		return 0;
	put_header(out, NATPMP_OP_EXTERNAL_ADDRESS, result, epoch);
	memcpy(out + 8, &external.s_addr, 4);  /* already network order */
	return 12;
}

size_t natpmp_build_map(uint8_t *out, size_t cap, uint8_t request_opcode,
			enum natpmp_result result, uint32_t epoch, uint16_t internal_port,
			uint16_t external_port, uint32_t lifetime)
{
	if (cap < 16)
		return 0;
	put_header(out, request_opcode, result, epoch);
	wire_put16(out + 8, internal_port);
	wire_put16(out + 10, external_port);
	wire_put32(out + 12, lifetime);
	return 16;
}

size_t natpmp_build_error(uint8_t *out, size_t cap, uint8_t request_opcode,
			  enum natpmp_result result, uint32_t epoch)
{
	if (cap < 8)
		return 0;
	put_header(out, request_opcode, result, epoch);
	return 8;
}

size_t natpmp_build_map_request(uint8_t *out, size_t cap, uint8_t opcode, uint16_t internal_port,
				uint16_t suggested_external_port, uint32_t lifetime)
{
	if (cap < 12)
		return 0;
	out[0] = NATPMP_VERSION;
	out[1] = opcode;
	out[2] = out[3] = 0;
	wire_put16(out + 4, internal_port);
	wire_put16(out + 6, suggested_external_port);
	wire_put32(out + 8, lifetime);
	return 12;
}

int natpmp_parse_response(const uint8_t *buf, size_t len, struct natpmp_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	if (len < 8 || buf[0] != NATPMP_VERSION || !(buf[1] & NATPMP_RESPONSE_BIT))
		return -1;
	resp->opcode = buf[1] & (uint8_t)~NATPMP_RESPONSE_BIT;
	resp->result = (enum natpmp_result)wire_get16(buf + 2);
	resp->epoch = wire_get32(buf + 4);
	if (resp->opcode == NATPMP_OP_EXTERNAL_ADDRESS) {
		if (len < 12)
			return resp->result == NATPMP_SUCCESS ? -1 : 0;
		memcpy(&resp->external.s_addr, buf + 8, 4);
		return 0;
	}
	if (resp->opcode != NATPMP_OP_MAP_UDP && resp->opcode != NATPMP_OP_MAP_TCP)
		return resp->result == NATPMP_SUCCESS ? -1 : 0;
	if (len < 16)
		return resp->result == NATPMP_SUCCESS ? -1 : 0;
	resp->internal_port = wire_get16(buf + 8);
	resp->external_port = wire_get16(buf + 10);
	resp->lifetime = wire_get32(buf + 12);
	return 0;
}

const char *natpmp_result_name(enum natpmp_result result)
{
	switch (result) {
	case NATPMP_SUCCESS: return "SUCCESS";
	case NATPMP_UNSUPP_VERSION: return "UNSUPP_VERSION";
	case NATPMP_NOT_AUTHORIZED: return "NOT_AUTHORIZED";
	case NATPMP_NETWORK_FAILURE: return "NETWORK_FAILURE";
	case NATPMP_OUT_OF_RESOURCES: return "OUT_OF_RESOURCES";
	case NATPMP_UNSUPP_OPCODE: return "UNSUPP_OPCODE";
	}
	return "UNKNOWN";
}
