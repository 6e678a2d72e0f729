/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "unit.h"

START_TEST(test_v4_round_trip)
{
	struct in6_addr a = unit_v4("192.168.1.10");
	char buf[ADDR_STRLEN];

	ck_assert(addr_is_v4(&a));
	ck_assert_str_eq(addr_format(&a, buf), "192.168.1.10");
	ck_assert_uint_eq(addr_to_v4(&a).s_addr, inet_addr("192.168.1.10"));
}
END_TEST

START_TEST(test_prefix_v4)
{
	struct addr_prefix p;
	struct in6_addr in = unit_v4("192.168.1.200"), out = unit_v4("192.168.2.1");

	ck_assert(addr_parse_prefix("192.168.1.77/24", &p));
	ck_assert_uint_eq(p.len, 120);
	ck_assert(addr_in_prefix(&in, &p));
	ck_assert(!addr_in_prefix(&out, &p));

	ck_assert(addr_parse_prefix("192.168.1.10", &p));
	ck_assert(!addr_in_prefix(&in, &p));
	in = unit_v4("192.168.1.10");
	ck_assert(addr_in_prefix(&in, &p));

	ck_assert(addr_parse_prefix("0.0.0.0/0", &p));
	ck_assert(addr_in_prefix(&out, &p));
}
END_TEST

START_TEST(test_prefix_v6_any_covers_v4)
{
	struct addr_prefix p;
	struct in6_addr a = unit_v4("10.0.0.1"), b;

	ck_assert(addr_parse_prefix("::/0", &p));
	ck_assert(addr_in_prefix(&a, &p));
	ck_assert(addr_parse_prefix("2001:db8::/32", &p));
	inet_pton(AF_INET6, "2001:db8:1::5", &b);
	ck_assert(addr_in_prefix(&b, &p));
	ck_assert(!addr_in_prefix(&a, &p));
}
END_TEST

START_TEST(test_prefix_rejects_garbage)
{
	static const char *const bad[] = {
		"", "/24", "192.168.1.0/", "192.168.1.0/33", "192.168.1.0/-1", "192.168.1.0/2x",
		"2001:db8::/129", "host.example", "1.2.3.4.5", "192.168.1.0/24/8",
		"999.1.1.1",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1",
	};
	struct addr_prefix p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!addr_parse_prefix(bad[i], &p), "accepted '%s'", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_v4_round_trip);
	tcase_add_test(tc, test_prefix_v4);
	tcase_add_test(tc, test_prefix_v6_any_covers_v4);
	tcase_add_test(tc, test_prefix_rejects_garbage);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
