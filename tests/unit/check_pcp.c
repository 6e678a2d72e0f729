/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pmp/pcp.h"
#include "unit.h"
#include "lib/wire.h"

/* A request under construction. */
struct msg {
	uint8_t b[2048];
	size_t len;
};


static void header(struct msg *m, uint8_t version, uint8_t opcode, uint32_t lifetime,
		   const char *client)
{
	struct in6_addr a = unit_v4(client);

	memset(m, 0, sizeof(*m));
	m->b[0] = version;
	m->b[1] = opcode;
	wire_put32(m->b + 4, lifetime);
	memcpy(m->b + 8, &a, 16);
	m->len = PCP_HEADER_LEN;
}

static void map_body(struct msg *m, uint8_t proto, uint16_t iport, uint16_t eport)
{
	uint8_t *b = m->b + m->len;

	for (int i = 0; i < PCP_NONCE_LEN; i++)
		b[i] = (uint8_t)(0xa0 + i);
	b[12] = proto;
	wire_put16(b + 16, iport);
	wire_put16(b + 18, eport);
	m->len += PCP_MAP_LEN;
}

static void option(struct msg *m, uint8_t code, const void *data, uint16_t len)
{
	m->b[m->len] = code;
	wire_put16(m->b + m->len + 2, len);
	if (len)
		memcpy(m->b + m->len + 4, data, len);
	m->len += 4 + ((len + 3u) & ~3u);
}

static void filter(struct msg *m, uint8_t prefix, uint16_t port, const char *addr)
{
	uint8_t f[20] = { 0 };
	struct in6_addr a = unit_v4(addr);

	f[1] = prefix;
	wire_put16(f + 2, port);
	memcpy(f + 4, &a, 16);
	option(m, PCP_OPTION_FILTER, f, sizeof(f));
}

static struct pcp_request req;
static struct msg m;

static enum pcp_result parse(void)
{
	return pcp_parse_request(m.b, m.len, &req);
}

START_TEST(test_map_fields)
{
	struct in6_addr client = unit_v4("192.168.1.10");

	header(&m, 2, PCP_OP_MAP, 7200, "192.168.1.10");
	map_body(&m, 6, 8080, 9090);
	ck_assert_int_eq(parse(), PCP_SUCCESS);
	ck_assert_uint_eq(req.opcode, PCP_OP_MAP);
	ck_assert_uint_eq(req.lifetime, 7200);
	ck_assert_mem_eq(&req.client_addr, &client, 16);
	ck_assert_uint_eq(req.nonce[0], 0xa0);
	ck_assert_uint_eq(req.nonce[11], 0xab);
	ck_assert_uint_eq(req.protocol, 6);
	ck_assert_uint_eq(req.internal_port, 8080);
	ck_assert_uint_eq(req.suggested_external_port, 9090);
	ck_assert(!req.has_third_party && !req.prefer_failure && req.filter_count == 0);
}
END_TEST

START_TEST(test_announce)
{
	header(&m, 2, PCP_OP_ANNOUNCE, 0, "192.168.1.10");
	ck_assert_int_eq(parse(), PCP_SUCCESS);
	ck_assert_uint_eq(req.opcode, PCP_OP_ANNOUNCE);
}
END_TEST

START_TEST(test_peer_fields)
{
	struct in6_addr remote = unit_v4("203.0.113.20");

	header(&m, 2, PCP_OP_PEER, 60, "192.168.1.10");
	map_body(&m, 17, 5000, 5000);
	wire_put16(m.b + m.len, 443);
	memcpy(m.b + m.len + 4, &remote, 16);
	m.len += PCP_PEER_LEN - PCP_MAP_LEN;
	ck_assert_int_eq(parse(), PCP_SUCCESS);
	ck_assert_uint_eq(req.remote_port, 443);
	ck_assert_mem_eq(&req.remote_addr, &remote, 16);

	wire_put16(m.b + PCP_HEADER_LEN + 36, 0);
	ck_assert_int_eq(parse(), PCP_MALFORMED_REQUEST);
}
END_TEST

START_TEST(test_drops_and_versions)
{
	header(&m, 2, PCP_OP_MAP | PCP_RESPONSE_BIT, 0, "192.168.1.10");
	map_body(&m, 6, 1, 1);
	ck_assert_int_eq(parse(), PCP_DROP);
	ck_assert_int_eq(pcp_parse_request(m.b, 1, &req), PCP_DROP);
	ck_assert_int_eq(pcp_parse_request(m.b, 0, &req), PCP_DROP);

	for (unsigned v = 1; v < 256; v++) {
		if (v == 2)
			continue;
		header(&m, (uint8_t)v, PCP_OP_MAP, 0, "192.168.1.10");
		map_body(&m, 6, 1, 1);
		ck_assert_int_eq(parse(), PCP_UNSUPP_VERSION);
	}
}
END_TEST

START_TEST(test_malformed_lengths)
{
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	for (size_t len = 2; len < PCP_HEADER_LEN + PCP_MAP_LEN; len++)
		ck_assert_int_eq(pcp_parse_request(m.b, len, &req), PCP_MALFORMED_REQUEST);
	ck_assert_int_eq(pcp_parse_request(m.b, PCP_HEADER_LEN + PCP_MAP_LEN + 2, &req),
			 PCP_MALFORMED_REQUEST);
	ck_assert_int_eq(pcp_parse_request(m.b, 1104, &req), PCP_MALFORMED_REQUEST);
}
END_TEST

/* An oversized request, as the server reads it (its first 1101 octets), is
 * answered MALFORMED_REQUEST within 1100 octets, its opcode echoed. */
START_TEST(test_oversized_answered)
{
	static uint8_t big[PCP_MAX_PACKET + 1];
	uint8_t out[PCP_MAX_PACKET];
	struct pcp_answer ans = { .result = PCP_MALFORMED_REQUEST, .lifetime = 1800 };
	size_t n;

	memset(big, 0xab, sizeof(big));
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	memcpy(big, m.b, PCP_HEADER_LEN + PCP_MAP_LEN);
	ck_assert_int_eq(pcp_parse_request(big, sizeof(big), &req), PCP_MALFORMED_REQUEST);
	n = pcp_build_response(out, sizeof(out), big, sizeof(big), &req, &ans);
	ck_assert_uint_le(n, PCP_MAX_PACKET);
	ck_assert_uint_ge(n, PCP_HEADER_LEN + PCP_MAP_LEN);
	ck_assert_uint_eq(out[1], PCP_OP_MAP | PCP_RESPONSE_BIT);
	ck_assert_uint_eq(out[3], PCP_MALFORMED_REQUEST);
	ck_assert_mem_eq(out + PCP_HEADER_LEN, big + PCP_HEADER_LEN, PCP_MAP_LEN);
}
END_TEST

START_TEST(test_unsupported_opcodes)
{
	for (unsigned op = 3; op < 128; op++) {
		header(&m, 2, (uint8_t)op, 0, "192.168.1.10");
		map_body(&m, 6, 80, 80);
		ck_assert_int_eq(parse(), PCP_UNSUPP_OPCODE);
	}
}
END_TEST

START_TEST(test_protocol_zero_with_port)
{
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 0, 80, 0);
	ck_assert_int_eq(parse(), PCP_MALFORMED_REQUEST);
	header(&m, 2, PCP_OP_MAP, 0, "192.168.1.10");
	map_body(&m, 0, 0, 0);
	ck_assert_int_eq(parse(), PCP_SUCCESS);
}
END_TEST

START_TEST(test_options_decoded)
{
	struct in6_addr third = unit_v4("192.168.1.20");

	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, PCP_OPTION_THIRD_PARTY, &third, 16);
	option(&m, PCP_OPTION_PREFER_FAILURE, NULL, 0);
	filter(&m, 120, 0, "203.0.113.0");
	filter(&m, 128, 443, "198.51.100.7");
	option(&m, PCP_OPTION_DESCRIPTION, "game\nserver", 11);
	ck_assert_int_eq(parse(), PCP_SUCCESS);
	ck_assert(req.has_third_party);
	ck_assert_mem_eq(&req.third_party_addr, &third, 16);
	ck_assert(req.prefer_failure);
	ck_assert_uint_eq(req.filter_count, 2);
	ck_assert_uint_eq(req.filters[0].prefix_len, 120);
	ck_assert_uint_eq(req.filters[1].remote_port, 443);
	ck_assert(req.has_description);
	/* kept as it came: whatever shows it escapes it (text.h) */
	ck_assert_str_eq(req.description, "game\nserver");
}
END_TEST

START_TEST(test_option_errors)
{
	struct in6_addr third = unit_v4("192.168.1.20");
	uint8_t junk[16] = { 0 };

	/* Unknown mandatory option. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, 99, junk, 4);
	ck_assert_int_eq(parse(), PCP_UNSUPP_OPTION);

	/* Unknown optional option: ignored. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, 200, junk, 5);
	ck_assert_int_eq(parse(), PCP_SUCCESS);

	/* Wrong length. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, PCP_OPTION_THIRD_PARTY, &third, 12);
	ck_assert_int_eq(parse(), PCP_MALFORMED_OPTION);

	/* Twice. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, PCP_OPTION_PREFER_FAILURE, NULL, 0);
	option(&m, PCP_OPTION_PREFER_FAILURE, NULL, 0);
	ck_assert_int_eq(parse(), PCP_MALFORMED_OPTION);

	/* Not for this opcode. */
	header(&m, 2, PCP_OP_PEER, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	wire_put16(m.b + m.len, 443);
	m.len += PCP_PEER_LEN - PCP_MAP_LEN;
	option(&m, PCP_OPTION_PREFER_FAILURE, NULL, 0);
	ck_assert_int_eq(parse(), PCP_MALFORMED_OPTION);

	/* Length runs past the packet. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, PCP_OPTION_DESCRIPTION, "abcd", 4);
	wire_put16(m.b + m.len - 6, 200);
	ck_assert_int_eq(parse(), PCP_MALFORMED_OPTION);

	/* An IPv4 filter prefix shorter than the mapping bits. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	filter(&m, 24, 0, "203.0.113.0");
	ck_assert_int_eq(parse(), PCP_MALFORMED_OPTION);

	/* Too many filters. */
	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	for (int i = 0; i <= PCP_MAX_FILTERS; i++)
		filter(&m, 128, 0, "203.0.113.9");
	ck_assert_int_eq(parse(), PCP_EXCESSIVE_REMOTE_PEERS);
}
END_TEST

START_TEST(test_map_response_echoes)
{
	uint8_t out[PCP_MAX_PACKET];
	struct pcp_answer ans = { .result = PCP_SUCCESS, .lifetime = 3600, .epoch = 77,
				  .assigned_external_port = 9091,
				  .assigned_external_addr = unit_v4("203.0.113.1") };
	struct in6_addr third = unit_v4("192.168.1.20");
	size_t n;

	header(&m, 2, PCP_OP_MAP, 7200, "192.168.1.10");
	map_body(&m, 6, 8080, 9090);
	option(&m, PCP_OPTION_THIRD_PARTY, &third, 16);
	option(&m, 201, "ignored", 7);
	option(&m, PCP_OPTION_DESCRIPTION, "hi", 2);
	ck_assert_int_eq(parse(), PCP_SUCCESS);
	n = pcp_build_response(out, sizeof(out), m.b, m.len, &req, &ans);
	/* header + MAP + THIRD_PARTY(20) + DESCRIPTION(8); the unknown one is not echoed */
	ck_assert_uint_eq(n, PCP_HEADER_LEN + PCP_MAP_LEN + 20 + 8);
	ck_assert_uint_eq(out[0], 2);
	ck_assert_uint_eq(out[1], 0x81);
	ck_assert_uint_eq(out[3], 0);
	ck_assert_uint_eq(out[7], 0x10);  /* 3600 = 0x0e10 */
	ck_assert_uint_eq(out[11], 77);
	ck_assert_mem_eq(out + 24, m.b + 24, PCP_NONCE_LEN);
	ck_assert_uint_eq(out[36], 6);
	ck_assert_uint_eq(out[40] << 8 | out[41], 8080);
	ck_assert_uint_eq(out[42] << 8 | out[43], 9091);
	ck_assert_mem_eq(out + 44, &ans.assigned_external_addr, 16);
	ck_assert_uint_eq(out[60], PCP_OPTION_THIRD_PARTY);
	ck_assert_uint_eq(out[80], PCP_OPTION_DESCRIPTION);
	ck_assert_uint_eq(pcp_build_response(out, 80, m.b, m.len, &req, &ans), 0);
}
END_TEST

START_TEST(test_unsupported_opcode_echoes_payload)
{
	uint8_t out[PCP_MAX_PACKET];
	struct pcp_answer ans = { .result = PCP_UNSUPP_OPCODE, .lifetime = 1800, .epoch = 5 };

	header(&m, 2, 42, 60, "192.168.1.10");
	for (int i = 0; i < 40; i++)
		m.b[m.len++] = (uint8_t)i;
	ck_assert_int_eq(parse(), PCP_UNSUPP_OPCODE);
	ck_assert_uint_eq(pcp_build_response(out, sizeof(out), m.b, m.len, &req, &ans), m.len);
	ck_assert_uint_eq(out[1], 0x80 | 42);
	ck_assert_uint_eq(out[3], PCP_UNSUPP_OPCODE);
	ck_assert_mem_eq(out + 24, m.b + 24, 40);
}
END_TEST

START_TEST(test_unsupported_version_is_header_only)
{
	uint8_t out[PCP_MAX_PACKET];
	struct pcp_answer ans = { .result = PCP_UNSUPP_VERSION, .lifetime = 1800 };

	header(&m, 3, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 1, 1);
	ck_assert_int_eq(parse(), PCP_UNSUPP_VERSION);
	ck_assert_uint_eq(pcp_build_response(out, sizeof(out), m.b, m.len, &req, &ans), 24);
	ck_assert_uint_eq(out[0], PCP_VERSION);
	ck_assert_uint_eq(out[3], PCP_UNSUPP_VERSION);
}
END_TEST

START_TEST(test_announce_build)
{
	uint8_t out[24];

	ck_assert_uint_eq(pcp_build_announce(out, sizeof(out), 300), 24);
	ck_assert_uint_eq(out[1], 0x80);
	ck_assert_uint_eq(out[3], 0);
	ck_assert_uint_eq(out[10] << 8 | out[11], 300);
	ck_assert_uint_eq(pcp_build_announce(out, 23, 0), 0);
}
END_TEST

START_TEST(test_error_lifetimes)
{
	ck_assert_uint_eq(pcp_error_lifetime(PCP_NO_RESOURCES), PCP_SHORT_ERROR_LIFETIME);
	ck_assert_uint_eq(pcp_error_lifetime(PCP_NOT_AUTHORIZED), PCP_LONG_ERROR_LIFETIME);
	ck_assert_str_eq(pcp_result_name(PCP_EXCESSIVE_REMOTE_PEERS), "EXCESSIVE_REMOTE_PEERS");
	ck_assert_str_eq(pcp_result_name((enum pcp_result)99), "UNKNOWN");
}
END_TEST

START_TEST(test_client_round_trip)
{
	struct pcp_request out_req = { .opcode = PCP_OP_MAP, .lifetime = 600, .protocol = 17,
				       .internal_port = 5000, .suggested_external_port = 6000,
				       .client_addr = unit_v4("192.168.1.10"),
				       .has_third_party = true,
				       .third_party_addr = unit_v4("192.168.1.30"),
				       .prefer_failure = true, .has_description = true };
	struct pcp_answer ans = { .result = PCP_SUCCESS, .lifetime = 600, .epoch = 9,
				  .assigned_external_port = 6000,
				  .assigned_external_addr = unit_v4("203.0.113.1") };
	struct pcp_response resp;
	uint8_t wire[PCP_MAX_PACKET], answer[PCP_MAX_PACKET];
	size_t n;

	memset(out_req.nonce, 0x5a, PCP_NONCE_LEN);
	strcpy(out_req.description, "voice");
	n = pcp_build_request(wire, sizeof(wire), &out_req);
	ck_assert_uint_eq(n, PCP_HEADER_LEN + PCP_MAP_LEN + 20 + 4 + 12);
	ck_assert_int_eq(pcp_parse_request(wire, n, &req), PCP_SUCCESS);
	ck_assert_uint_eq(req.internal_port, 5000);
	ck_assert_uint_eq(req.suggested_external_port, 6000);
	ck_assert_uint_eq(req.protocol, 17);
	ck_assert(req.prefer_failure && req.has_third_party);
	ck_assert_str_eq(req.description, "voice");
	ck_assert_mem_eq(req.nonce, out_req.nonce, PCP_NONCE_LEN);

	n = pcp_build_response(answer, sizeof(answer), wire, n, &req, &ans);
	ck_assert_int_eq(pcp_parse_response(answer, n, &resp), 0);
	ck_assert_int_eq(resp.result, PCP_SUCCESS);
	ck_assert_uint_eq(resp.lifetime, 600);
	ck_assert_uint_eq(resp.epoch, 9);
	ck_assert_uint_eq(resp.assigned_external_port, 6000);
	ck_assert_mem_eq(resp.nonce, out_req.nonce, PCP_NONCE_LEN);
	ck_assert_mem_eq(&resp.assigned_external_addr, &ans.assigned_external_addr, 16);

	/* A request is not a response, nor is NAT-PMP. */
	ck_assert_int_eq(pcp_parse_response(wire, 24, &resp), -1);
	answer[0] = 0;
	ck_assert_int_eq(pcp_parse_response(answer, n, &resp), -1);
	ck_assert_uint_eq(pcp_build_request(wire, 59, &out_req), 0);
}
END_TEST

/* Every single-byte mutation and every truncation of a request full of
 * options: never a crash or an out-of-bounds read (ASan in make check), and
 * a response that always fits in a PCP datagram. */
START_TEST(test_mutations_never_escape_bounds)
{
	struct msg base;
	struct in6_addr third = unit_v4("192.168.1.20");
	uint8_t out[PCP_MAX_PACKET];
	struct pcp_answer ans = { .result = PCP_SUCCESS };
	unsigned too_long = 0;

	header(&m, 2, PCP_OP_MAP, 60, "192.168.1.10");
	map_body(&m, 6, 80, 80);
	option(&m, PCP_OPTION_THIRD_PARTY, &third, 16);
	filter(&m, 128, 1, "203.0.113.9");
	option(&m, PCP_OPTION_DESCRIPTION, "description", 11);
	base = m;

	for (size_t pos = 0; pos < base.len; pos++) {
		for (unsigned v = 0; v < 256; v += 17) {
			uint8_t *copy;
			m = base;
			m.b[pos] = (uint8_t)v;
			copy = malloc(m.len);
			memcpy(copy, m.b, m.len);
			enum pcp_result r = pcp_parse_request(copy, m.len, &req);
			if (r != PCP_DROP) {
				ans.result = r;
				size_t n = pcp_build_response(out, sizeof(out), copy, m.len, &req, &ans);
				too_long += n > PCP_MAX_PACKET;
			}
			free(copy);
		}
	}
	for (size_t len = 0; len <= base.len; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, base.b, len);
		pcp_parse_request(copy, len, &req);
		free(copy);
	}
	ck_assert_uint_eq(too_long, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pcp");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_map_fields);
	tcase_add_test(tc, test_announce);
	tcase_add_test(tc, test_peer_fields);
	tcase_add_test(tc, test_drops_and_versions);
	tcase_add_test(tc, test_malformed_lengths);
	tcase_add_test(tc, test_oversized_answered);
	tcase_add_test(tc, test_unsupported_opcodes);
	tcase_add_test(tc, test_protocol_zero_with_port);
	tcase_add_test(tc, test_options_decoded);
	tcase_add_test(tc, test_option_errors);
	tcase_add_test(tc, test_map_response_echoes);
	tcase_add_test(tc, test_unsupported_opcode_echoes_payload);
	tcase_add_test(tc, test_unsupported_version_is_header_only);
	tcase_add_test(tc, test_announce_build);
	tcase_add_test(tc, test_error_lifetimes);
	tcase_add_test(tc, test_mutations_never_escape_bounds);
	tcase_add_test(tc, test_client_round_trip);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
