/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "daemon/router_ports.h"
#include "unit.h"

static struct in_addr external;

static bool takes4(const char *bound, unsigned ifindex)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, bound, &a), 1);
	return router_ports_socket_takes(AF_INET, &a, ifindex, false, &external, 3);
}

static bool takes6(const char *bound, bool v6only)
{
	struct in6_addr a;

	ck_assert_int_eq(inet_pton(AF_INET6, bound, &a), 1);
	return router_ports_socket_takes(AF_INET6, &a, 0, v6only, &external, 3);
}

/* Which of the router's sockets take what the WAN sends to the external
 * address: those a DNAT of that port would steal from. */
START_TEST(test_socket_takes)
{
	inet_pton(AF_INET, "203.0.113.1", &external);
	ck_assert(takes4("0.0.0.0", 0));
	ck_assert(takes4("203.0.113.1", 0));
	ck_assert(takes4("0.0.0.0", 3));         /* bound to the WAN device */
	ck_assert(!takes4("0.0.0.0", 4));        /* bound to a LAN device */
	ck_assert(!takes4("192.168.1.1", 0));    /* a LAN address */
	ck_assert(!takes4("127.0.0.1", 0));
	ck_assert(takes6("::", false));           /* dual stack takes IPv4 */
	ck_assert(!takes6("::", true));           /* IPV6_V6ONLY does not */
	ck_assert(takes6("::ffff:203.0.113.1", false));
	ck_assert(takes6("::ffff:0.0.0.0", false));
	ck_assert(!takes6("::ffff:192.168.1.1", false));
	ck_assert(!takes6("2001:db8::1", false));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("router_ports");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_socket_takes);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
