/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What no mapping may forward to (priv/own_addr.c). */
#include "unit.h"

#include <check.h>
#include <string.h>

#include "priv/own_addr.h"

static struct own_addresses own;

static void setup(void)
{
	memset(&own, 0, sizeof(own));
	unit_own_address(&own, "br-lan", "192.168.1.1", 24);
	unit_own_address(&own, "wan0", "203.0.113.2", 24);
	unit_own_address(&own, "wg0", "100.64.0.1", 31);
	unit_own_address(&own, "br-lan", "2001:db8:1::1", 64);
	unit_own_address(&own, "lo", "127.0.0.1", 8);
}

static const char *refusal(const char *addr)
{
	struct in6_addr a = strchr(addr, ':') ? unit_v6(addr) : unit_v4(addr);

	return own_addr_refusal(&own, &a);
}

START_TEST(test_hosts_pass)
{
	ck_assert_ptr_null(refusal("192.168.1.10"));
	ck_assert_ptr_null(refusal("192.168.1.254"));
	ck_assert_ptr_null(refusal("2001:db8:1::10"));
	/* beyond the router's prefixes: a routed subnet's host */
	ck_assert_ptr_null(refusal("10.20.30.40"));
	/* a /31 has no network or broadcast address: its other end is a host */
	ck_assert_ptr_null(refusal("100.64.0.0"));
}
END_TEST

START_TEST(test_router_addresses)
{
	ck_assert_str_eq(refusal("192.168.1.1"), "an address of the router (br-lan)");
	ck_assert_str_eq(refusal("203.0.113.2"), "an address of the router (wan0)");
	ck_assert_str_eq(refusal("100.64.0.1"), "an address of the router (wg0)");
	ck_assert_str_eq(refusal("2001:db8:1::1"), "an address of the router (br-lan)");
}
END_TEST

START_TEST(test_network_and_broadcast)
{
	ck_assert_str_eq(refusal("192.168.1.0"), "the network address of 192.168.1.0/24 (br-lan)");
	ck_assert_str_eq(refusal("192.168.1.255"),
			 "the broadcast address of 192.168.1.0/24 (br-lan)");
	ck_assert_str_eq(refusal("203.0.113.255"),
			 "the broadcast address of 203.0.113.0/24 (wan0)");
	/* IPv6 has no broadcast; its all-zero host is the subnet routers' */
	ck_assert_str_eq(refusal("2001:db8:1::"), "the network address of 2001:db8:1::/64 (br-lan)");
	ck_assert_ptr_null(refusal("2001:db8:1::ffff:ffff:ffff:ffff"));
}
END_TEST

START_TEST(test_no_host_has_them)
{
	ck_assert_str_eq(refusal("0.0.0.0"), "an unspecified (0.0.0.0/8) address");
	ck_assert_str_eq(refusal("127.0.0.2"), "a loopback address");
	ck_assert_str_eq(refusal("169.254.10.10"), "a link-local address");
	ck_assert_str_eq(refusal("224.0.0.251"), "a multicast or broadcast address");
	ck_assert_str_eq(refusal("255.255.255.255"), "a multicast or broadcast address");
	ck_assert_str_eq(refusal("::"), "the unspecified address");
	ck_assert_str_eq(refusal("::1"), "a loopback address");
	ck_assert_str_eq(refusal("fe80::1"), "a link-local address");
	ck_assert_str_eq(refusal("ff02::1"), "a multicast address");
	/* and without knowing the router at all */
	memset(&own, 0, sizeof(own));
	ck_assert_str_eq(refusal("169.254.1.1"), "a link-local address");
	ck_assert_ptr_null(refusal("192.168.1.1"));
}
END_TEST

/* What cannot be read is not vouched for. */
START_TEST(test_incomplete)
{
	own_addr_counted(&own, OWN_ADDR_MAX + 1);
	ck_assert(own.incomplete);
	ck_assert_uint_eq(own.count, OWN_ADDR_MAX);
	ck_assert_str_eq(refusal("192.168.1.10"), "the router's addresses are not all known");
	own_addr_counted(&own, -1);
	ck_assert(own.incomplete);
	ck_assert_uint_eq(own.count, 0);
	own_addr_counted(&own, 5);
	ck_assert(!own.incomplete);
	ck_assert_ptr_null(refusal("192.168.1.10"));
}
END_TEST

START_TEST(test_on_lan)
{
	static const char lan[][IF_NAMESIZE] = { "br-lan" };
	struct in6_addr host = unit_v4("192.168.1.10"), wan = unit_v4("203.0.113.9"),
			v6 = unit_v6("2001:db8:1::10"), far = unit_v4("10.0.0.1");

	ck_assert(own_addr_on_lan(&own, lan, 1, &host));
	ck_assert(own_addr_on_lan(&own, lan, 1, &v6));
	ck_assert(!own_addr_on_lan(&own, lan, 1, &wan));
	ck_assert(!own_addr_on_lan(&own, lan, 1, &far));
	ck_assert(!own_addr_on_lan(&own, lan, 0, &host));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("own_addr");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_hosts_pass);
	tcase_add_test(tc, test_router_addresses);
	tcase_add_test(tc, test_network_and_broadcast);
	tcase_add_test(tc, test_no_host_has_them);
	tcase_add_test(tc, test_incomplete);
	tcase_add_test(tc, test_on_lan);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
