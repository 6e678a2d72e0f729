/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STUN Binding (daemon/stun.c): the request, and answers from RFC 5389
 * and RFC 3489 servers, read with bounds. */
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "daemon/stun.h"

static const uint8_t id[STUN_TRANSACTION_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* A success response: header, then the attributes given (already encoded). */
static size_t answer(uint8_t *buf, const uint8_t *attrs, size_t attrs_len)
{
	buf[0] = 0x01;
	buf[1] = 0x01;
	buf[2] = (uint8_t)(attrs_len >> 8);
	buf[3] = (uint8_t)attrs_len;
	buf[4] = 0x21;
	buf[5] = 0x12;
	buf[6] = 0xa4;
	buf[7] = 0x42;
	memcpy(buf + 8, id, sizeof(id));
	if (attrs_len)
		memcpy(buf + 20, attrs, attrs_len);
	return 20 + attrs_len;
}

static const char *text(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

START_TEST(test_request)
{
	uint8_t buf[STUN_HEADER_LEN];

	ck_assert_uint_eq(stun_build_request(buf, sizeof(buf), id), 20);
	ck_assert(memcmp(buf, "\x00\x01\x00\x00\x21\x12\xa4\x42", 8) == 0);
	ck_assert(memcmp(buf + 8, id, sizeof(id)) == 0);
	ck_assert_uint_eq(stun_build_request(buf, 19, id), 0);
}
END_TEST

START_TEST(test_answers)
{
	/* XOR-MAPPED-ADDRESS 198.51.100.4:40000 (RFC 5389), an unknown
	 * attribute of 3 bytes (padded), OTHER-ADDRESS 203.0.113.101:3479. */
	static const uint8_t rfc5389[] = {
		0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0x9c ^ 0x21, 0x40 ^ 0x12,
		198 ^ 0x21, 51 ^ 0x12, 100 ^ 0xa4, 4 ^ 0x42,
		0x80, 0x22, 0x00, 0x03, 'a', 'b', 'c', 0,
		0x80, 0x2c, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x97, 203, 0, 113, 101,
	};
	/* MAPPED-ADDRESS and CHANGED-ADDRESS (RFC 3489, stund). */
	static const uint8_t rfc3489[] = {
		0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9c, 0x40, 198, 51, 100, 4,
		0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x97, 203, 0, 113, 101,
	};
	uint8_t buf[128];
	struct stun_answer a;
	char t[INET_ADDRSTRLEN];
	size_t len;

	len = answer(buf, rfc5389, sizeof(rfc5389));
	ck_assert_int_eq(stun_parse_answer(buf, len, id, &a), 0);
	ck_assert_str_eq(text(a.mapped.addr, t), "198.51.100.4");
	ck_assert_uint_eq(a.mapped.port, 40000);
	ck_assert(a.has_other);
	ck_assert_str_eq(text(a.other.addr, t), "203.0.113.101");
	ck_assert_uint_eq(a.other.port, 3479);
	len = answer(buf, rfc3489, sizeof(rfc3489));
	ck_assert_int_eq(stun_parse_answer(buf, len, id, &a), 0);
	ck_assert_str_eq(text(a.mapped.addr, t), "198.51.100.4");
	ck_assert_uint_eq(a.mapped.port, 40000);
	ck_assert_str_eq(text(a.other.addr, t), "203.0.113.101");
}
END_TEST

START_TEST(test_hostile_answers)
{
	static const uint8_t mapped[] = { 0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x9c, 0x40,
					  198, 51, 100, 4 };
	static const uint8_t overrun[] = { 0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x9c, 0x40,
					   198, 51, 100, 4 };
	static const uint8_t ipv6[] = { 0x00, 0x01, 0x00, 0x08, 0x00, 0x02, 0x9c, 0x40,
					0x20, 0x01, 0x0d, 0xb8 };
	uint8_t buf[128], other[STUN_TRANSACTION_LEN] = { 0 };
	struct stun_answer a;
	size_t len = answer(buf, mapped, sizeof(mapped));

	ck_assert_int_eq(stun_parse_answer(buf, len, other, &a), -1);  /* another transaction */
	ck_assert_int_eq(stun_parse_answer(buf, len - 1, id, &a), -1);  /* cut short */
	buf[1] = 0x11;                                                  /* an error response */
	ck_assert_int_eq(stun_parse_answer(buf, len, id, &a), -1);
	len = answer(buf, overrun, sizeof(overrun));
	ck_assert_int_eq(stun_parse_answer(buf, len, id, &a), -1);
	len = answer(buf, ipv6, sizeof(ipv6));
	ck_assert_int_eq(stun_parse_answer(buf, len, id, &a), -1);      /* no IPv4 mapped address */
	len = answer(buf, NULL, 0);
	ck_assert_int_eq(stun_parse_answer(buf, len, id, &a), -1);      /* nothing mapped */
	buf[3] = 2;                                                     /* a length not of 4 */
	ck_assert_int_eq(stun_parse_answer(buf, 22, id, &a), -1);
	ck_assert_int_eq(stun_parse_answer(buf, 3, id, &a), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stun");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_hostile_answers);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
