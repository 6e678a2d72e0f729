/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/pmp/natpmp.h"
#include "unit.h"

START_TEST(test_parse_external_address_request)
{
	const uint8_t req[] = { 0, 0 };
	struct natpmp_request rq;

	ck_assert_int_eq(natpmp_parse_request(req, sizeof(req), &rq), NATPMP_PARSE_OK);
	ck_assert_uint_eq(rq.opcode, NATPMP_OP_EXTERNAL_ADDRESS);
}
END_TEST

START_TEST(test_parse_map_request_fields)
{
	const uint8_t req[] = { 0, 2, 0xff, 0xff, 0x1f, 0x90, 0x23, 0x28, 0x00, 0x00, 0x1c, 0x20 };
	struct natpmp_request rq;

	ck_assert_int_eq(natpmp_parse_request(req, sizeof(req), &rq), NATPMP_PARSE_OK);
	ck_assert_uint_eq(rq.opcode, NATPMP_OP_MAP_TCP);
	ck_assert_uint_eq(rq.internal_port, 8080);
	ck_assert_uint_eq(rq.suggested_external_port, 9000);
	ck_assert_uint_eq(rq.lifetime, 7200);
}
END_TEST

START_TEST(test_parse_max_lifetime)
{
	const uint8_t req[] = { 0, 1, 0, 0, 0, 53, 0, 53, 0xff, 0xff, 0xff, 0xff };
	struct natpmp_request rq;

	ck_assert_int_eq(natpmp_parse_request(req, sizeof(req), &rq), NATPMP_PARSE_OK);
	ck_assert_uint_eq(rq.opcode, NATPMP_OP_MAP_UDP);
	ck_assert_uint_eq(rq.lifetime, 0xffffffffu);
}
END_TEST

START_TEST(test_parse_truncated_map_ignored)
{
	uint8_t req[12] = { 0, 1 };
	struct natpmp_request rq;

	for (size_t len = 0; len < 12; len++) {
		enum natpmp_parse_status st = natpmp_parse_request(req, len, &rq);
		ck_assert_msg(st == NATPMP_PARSE_IGNORE, "length %zu gave %d", len, st);
	}
	req[1] = 0;
	ck_assert_int_eq(natpmp_parse_request(req, 1, &rq), NATPMP_PARSE_IGNORE);
}
END_TEST

START_TEST(test_parse_trailing_bytes_tolerated)
{
	uint8_t req[1100] = { 0, 2, 0, 0, 0, 80, 0, 80, 0, 0, 0, 60 };
	struct natpmp_request rq;

	ck_assert_int_eq(natpmp_parse_request(req, sizeof(req), &rq), NATPMP_PARSE_OK);
	ck_assert_uint_eq(rq.internal_port, 80);
}
END_TEST

START_TEST(test_parse_responses_ignored)
{
	for (unsigned op = 128; op < 256; op++) {
		uint8_t req[16] = { 0, (uint8_t)op };
		struct natpmp_request rq;
		ck_assert_int_eq(natpmp_parse_request(req, sizeof(req), &rq), NATPMP_PARSE_IGNORE);
	}
}
END_TEST

START_TEST(test_parse_unsupported_version_and_opcode)
{
	uint8_t pcp[24] = { 2, 1 };
	uint8_t op3[12] = { 0, 3 };
	struct natpmp_request rq;

	ck_assert_int_eq(natpmp_parse_request(pcp, sizeof(pcp), &rq), NATPMP_PARSE_UNSUPP_VERSION);
	ck_assert_uint_eq(rq.opcode, 1);
	for (unsigned op = 3; op < 128; op++) {
		op3[1] = (uint8_t)op;
		ck_assert_int_eq(natpmp_parse_request(op3, 2, &rq), NATPMP_PARSE_UNSUPP_OPCODE);
	}
}
END_TEST

START_TEST(test_build_external_address)
{
	uint8_t out[12];
	struct in_addr ext;
	const uint8_t expect[] = { 0, 128, 0, 0, 0, 0, 0x01, 0x02, 203, 0, 113, 1 };

	inet_pton(AF_INET, "203.0.113.1", &ext);
	ck_assert_uint_eq(natpmp_build_external_address(out, sizeof(out), NATPMP_SUCCESS, 258, ext),
			  12);
	ck_assert_mem_eq(out, expect, 12);
	ck_assert_uint_eq(natpmp_build_external_address(out, 11, NATPMP_SUCCESS, 0, ext), 0);
}
END_TEST

START_TEST(test_build_map)
{
	uint8_t out[16];
	const uint8_t expect[] = { 0, 130, 0, 2, 0, 0, 0, 9, 0x1f, 0x90, 0x1f, 0x91,
				   0, 0, 0x0e, 0x10 };

	ck_assert_uint_eq(natpmp_build_map(out, sizeof(out), NATPMP_OP_MAP_TCP,
					   NATPMP_NOT_AUTHORIZED, 9, 8080, 8081, 3600), 16);
	ck_assert_mem_eq(out, expect, 16);
	ck_assert_uint_eq(natpmp_build_map(out, 15, NATPMP_OP_MAP_TCP, 0, 0, 0, 0, 0), 0);
}
END_TEST

START_TEST(test_build_error)
{
	uint8_t out[8];
	const uint8_t expect[] = { 0, 0x83, 0, 5, 0, 0, 1, 0 };

	ck_assert_uint_eq(natpmp_build_error(out, sizeof(out), 3, NATPMP_UNSUPP_OPCODE, 256), 8);
	ck_assert_mem_eq(out, expect, 8);
	ck_assert_uint_eq(natpmp_build_error(out, 7, 3, NATPMP_UNSUPP_OPCODE, 256), 0);
}
END_TEST

START_TEST(test_build_map_request_round_trip)
{
	uint8_t out[12];
	struct natpmp_request rq;

	ck_assert_uint_eq(natpmp_build_map_request(out, sizeof(out), NATPMP_OP_MAP_UDP, 5000, 6000,
						   7200), 12);
	ck_assert_int_eq(natpmp_parse_request(out, 12, &rq), NATPMP_PARSE_OK);
	ck_assert_uint_eq(rq.opcode, NATPMP_OP_MAP_UDP);
	ck_assert_uint_eq(rq.internal_port, 5000);
	ck_assert_uint_eq(rq.suggested_external_port, 6000);
	ck_assert_uint_eq(rq.lifetime, 7200);
	ck_assert_uint_eq(natpmp_build_map_request(out, 11, NATPMP_OP_MAP_UDP, 1, 1, 1), 0);
}
END_TEST

/* The client's side: what our own builders write reads back; an error may
 * be the header alone; what is no answer is -1. */
START_TEST(test_parse_responses)
{
	uint8_t out[16];
	struct natpmp_response r;
	struct in_addr ext = { htonl(0xcb007101) };

	natpmp_build_external_address(out, sizeof(out), NATPMP_SUCCESS, 77, ext);
	ck_assert_int_eq(natpmp_parse_response(out, 12, &r), 0);
	ck_assert_uint_eq(r.opcode, NATPMP_OP_EXTERNAL_ADDRESS);
	ck_assert_uint_eq(r.result, NATPMP_SUCCESS);
	ck_assert_uint_eq(r.epoch, 77);
	ck_assert_uint_eq(r.external.s_addr, ext.s_addr);
	ck_assert_int_eq(natpmp_parse_response(out, 11, &r), -1);  /* success, no address */

	natpmp_build_map(out, sizeof(out), NATPMP_OP_MAP_TCP, NATPMP_SUCCESS, 78, 8080, 18080, 600);
	ck_assert_int_eq(natpmp_parse_response(out, 16, &r), 0);
	ck_assert_uint_eq(r.opcode, NATPMP_OP_MAP_TCP);
	ck_assert_uint_eq(r.internal_port, 8080);
	ck_assert_uint_eq(r.external_port, 18080);
	ck_assert_uint_eq(r.lifetime, 600);
	ck_assert_int_eq(natpmp_parse_response(out, 15, &r), -1);

	natpmp_build_error(out, sizeof(out), NATPMP_OP_MAP_UDP, NATPMP_UNSUPP_VERSION, 0);
	ck_assert_int_eq(natpmp_parse_response(out, 8, &r), 0);
	ck_assert_uint_eq(r.result, NATPMP_UNSUPP_VERSION);
	ck_assert_uint_eq(r.external_port, 0);

	out[1] = NATPMP_OP_MAP_UDP;  /* a request, not an answer */
	ck_assert_int_eq(natpmp_parse_response(out, 8, &r), -1);
	out[0] = 2;  /* PCP's version */
	out[1] = 0x81;
	ck_assert_int_eq(natpmp_parse_response(out, 8, &r), -1);
	ck_assert_int_eq(natpmp_parse_response(out, 7, &r), -1);
}
END_TEST

/* Every 2-byte prefix of version/opcode: never an out-of-bounds read (run
 * under ASan in make check), and a status that is one of the four. */
START_TEST(test_parse_every_header)
{
	for (unsigned v = 0; v < 256; v++) {
		for (unsigned op = 0; op < 256; op++) {
			for (size_t len = 2; len <= 12; len += 10) {
				uint8_t *req = malloc(len);
				struct natpmp_request rq;

				req[0] = (uint8_t)v;
				req[1] = (uint8_t)op;
				memset(req + 2, 0xa5, len - 2);
				enum natpmp_parse_status st = natpmp_parse_request(req, len, &rq);
				if (st > NATPMP_PARSE_UNSUPP_OPCODE)
					ck_abort_msg("v%u op%u: status %d", v, op, st);
				free(req);
			}
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("natpmp");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_parse_external_address_request);
	tcase_add_test(tc, test_parse_map_request_fields);
	tcase_add_test(tc, test_parse_max_lifetime);
	tcase_add_test(tc, test_parse_truncated_map_ignored);
	tcase_add_test(tc, test_parse_trailing_bytes_tolerated);
	tcase_add_test(tc, test_parse_responses_ignored);
	tcase_add_test(tc, test_parse_unsupported_version_and_opcode);
	tcase_add_test(tc, test_build_external_address);
	tcase_add_test(tc, test_build_map);
	tcase_add_test(tc, test_build_error);
	tcase_add_test(tc, test_parse_every_header);
	tcase_add_test(tc, test_build_map_request_round_trip);
	tcase_add_test(tc, test_parse_responses);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
