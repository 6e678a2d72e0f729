/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One strict reading of numbers, ports, protocols and addresses
 * (lib/parse.c): what every text input of portleased goes through. */
#include <check.h>
#include <limits.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/parse.h"
#include "unit.h"

START_TEST(test_numbers)
{
	unsigned long v;

	ck_assert(parse_uint("0", 10, &v) && v == 0);
	ck_assert(parse_uint("4294967295", 0xffffffffUL, &v) && v == 4294967295UL);
	ck_assert(!parse_uint("4294967296", 0xffffffffUL, &v));
	ck_assert(!parse_uint("99999999999999999999", 0xffffffffUL, &v));  /* no overflow */
	ck_assert(parse_uint("0000000011", 20, &v) && v == 11);
	ck_assert(!parse_uint("00000000011", 20, &v));  /* 11 digits */
	static const char *const bad[] = { "", " 1", "1 ", "+1", "-1", "0x10", "1e3", "1.0", "١" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_uint(bad[i], 1000, &v), "took '%s'", bad[i]);
	ck_assert(!parse_uint(NULL, 10, &v));
}
END_TEST

START_TEST(test_ports)
{
	uint16_t p = 7, lo, hi;

	ck_assert(parse_port("1", &p) && p == 1);
	ck_assert(parse_port("65535", &p) && p == 65535);
	ck_assert(!parse_port("0", &p) && p == 65535);  /* unchanged on failure */
	ck_assert(!parse_port("65536", &p));
	ck_assert(parse_port_or_zero("0", &p) && p == 0);
	ck_assert(!parse_port_or_zero("65536", &p));
	ck_assert(parse_port_range("8080", &lo, &hi) && lo == 8080 && hi == 8080);
	ck_assert(parse_port_range("1-1023", &lo, &hi) && lo == 1 && hi == 1023);
	/* Syntax only: the caller decides about 0 and the order. */
	ck_assert(parse_port_range("9-3", &lo, &hi) && lo == 9 && hi == 3);
	static const char *const bad[] = { "", "-", "1-", "-5", "1--2", "1-2-3", "1 - 2", "70000",
					   "1-70000", "a-b" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_port_range(bad[i], &lo, &hi), "took '%s'", bad[i]);
}
END_TEST

START_TEST(test_protocols)
{
	uint8_t proto = 0;

	ck_assert(parse_proto("tcp", &proto) && proto == IPPROTO_TCP);
	ck_assert(parse_proto("UDP", &proto) && proto == IPPROTO_UDP);
	ck_assert(parse_proto("Tcp", &proto) && proto == IPPROTO_TCP);
	ck_assert(!parse_proto("sctp", &proto));
	ck_assert(!parse_proto("tcp ", &proto));
	ck_assert(!parse_proto("6", &proto));
	ck_assert(!parse_proto(NULL, &proto));
	ck_assert_str_eq(proto_name(IPPROTO_TCP), "tcp");
	ck_assert_str_eq(proto_name(IPPROTO_UDP), "udp");
	ck_assert_str_eq(proto_name(IPPROTO_ICMP), "?");
}
END_TEST

START_TEST(test_addresses)
{
	struct in6_addr a;
	char text[ADDR_STRLEN];

	ck_assert(parse_address("192.168.1.10", &a) && addr_is_v4(&a));
	ck_assert_str_eq(addr_format(&a, text), "192.168.1.10");
	ck_assert(parse_address("2001:db8::1", &a) && !addr_is_v4(&a));
	ck_assert_str_eq(addr_format(&a, text), "2001:db8::1");
	static const char *const bad[] = { "", "192.168.1", "192.168.1.10/24", "192.168.1.256",
					   "2001:db8::/32", " 192.168.1.10", "localhost" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_address(bad[i], &a), "took '%s'", bad[i]);
	ck_assert(!parse_address(NULL, &a));
}
END_TEST

START_TEST(test_macs)
{
	static const uint8_t want[6] = { 0x02, 0xab, 0xcd, 0x00, 0x1f, 0xff };
	uint8_t mac[6];

	ck_assert(parse_mac("02:ab:cd:00:1f:ff", mac) && memcmp(mac, want, 6) == 0);
	ck_assert(parse_mac("02-AB-CD-00-1F-FF", mac) && memcmp(mac, want, 6) == 0);
	static const char *const bad[] = { "", "02:ab:cd:00:1f", "02:ab:cd:00:1f:ff:00",
					   "02:ab:cd-00:1f:ff", "02:ab:cd:00:1f:fg", "2:ab:cd:00:1f:ff0",
					   "02ab.cd00.1fff", " 02:ab:cd:00:1f:f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_mac(bad[i], mac), "took '%s'", bad[i]);
	ck_assert(!parse_mac(NULL, mac));
}
END_TEST

START_TEST(test_durations)
{
	unsigned long v;

	ck_assert(parse_duration("90", 1000000, &v) && v == 90);
	ck_assert(parse_duration("90s", 1000000, &v) && v == 90);
	ck_assert(parse_duration("15m", 1000000, &v) && v == 900);
	ck_assert(parse_duration("12h", 1000000, &v) && v == 43200);
	ck_assert(parse_duration("7d", 1000000, &v) && v == 604800);
	ck_assert(parse_duration("1w", 1000000, &v) && v == 604800);
	ck_assert(!parse_duration("2w", 1000000, &v));  /* beyond max */
	static const char *const bad[] = { "", "m", "10x", "10mm", "-5", "1.5h", " 5", "5 ", "99999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_duration(bad[i], ULONG_MAX, &v), "took '%s'", bad[i]);
	ck_assert(!parse_duration(NULL, 10, &v));
}
END_TEST

START_TEST(test_dates)
{
	int64_t t;

	ck_assert(parse_date("1970-01-01", &t) && t == 0);
	ck_assert(parse_date("2026-12-07", &t) && t == 1796601600);
	ck_assert(parse_date("2028-02-29", &t) && t == 1835395200);
	static const char *const bad[] = { "", "2026-13-01", "2026-02-29", "2026-04-31", "2026-1-01",
					   "2026/12/07", "1969-12-31", "2026-12-07T00:00", "2026-00-10",
					   "2100-02-29" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!parse_date(bad[i], &t), "took '%s'", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_macs);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_dates);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
