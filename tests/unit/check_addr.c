/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "unit.h"

static struct in_addr v4(const char *text)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, text, &a), 1);
	return a;
}

START_TEST(test_v4_kinds)
{
	static const char *const private_or_shared[] = { "10.1.2.3", "172.16.0.1", "172.31.255.255",
							 "192.168.1.1", "100.64.0.1", "100.127.255.254" };
	static const char *const reserved_only[] = { "127.0.0.1", "169.254.1.1", "192.0.2.1",
						     "198.51.100.7", "203.0.113.1", "198.19.0.1",
						     "0.1.2.3", "240.0.0.1", "192.0.0.8" };
	static const char *const public[] = { "8.8.8.8", "172.32.0.1", "100.128.0.1", "100.63.255.255",
					      "192.169.0.1", "198.20.0.1", "1.1.1.1" };

	for (size_t i = 0; i < sizeof(private_or_shared) / sizeof(*private_or_shared); i++) {
		ck_assert_msg(addr_v4_is_private_or_shared(v4(private_or_shared[i])), "%s",
			      private_or_shared[i]);
		ck_assert(addr_v4_is_reserved(v4(private_or_shared[i])));
	}
	for (size_t i = 0; i < sizeof(reserved_only) / sizeof(*reserved_only); i++) {
		ck_assert_msg(!addr_v4_is_private_or_shared(v4(reserved_only[i])), "%s",
			      reserved_only[i]);
		ck_assert_msg(addr_v4_is_reserved(v4(reserved_only[i])), "%s", reserved_only[i]);
	}
	for (size_t i = 0; i < sizeof(public) / sizeof(*public); i++)
		ck_assert_msg(!addr_v4_is_reserved(v4(public[i])), "%s", public[i]);
}
END_TEST

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
	tcase_add_test(tc, test_v4_kinds);
	tcase_add_test(tc, test_prefix_v4);
	tcase_add_test(tc, test_prefix_v6_any_covers_v4);
	tcase_add_test(tc, test_prefix_rejects_garbage);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
