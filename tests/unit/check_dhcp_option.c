/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PCP server DHCP names (daemon/dhcp_option.c): RFC 7291's option
 * 158, as dhclient's lease file holds it. */
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "daemon/dhcp_option.h"

static const char *text(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

START_TEST(test_payload)
{
	/* Two servers: the first has two addresses; the first address wins. */
	static const uint8_t two[] = { 8, 100, 64, 0, 9, 100, 64, 0, 10, 4, 192, 0, 2, 1 };
	struct in_addr a;
	char t[INET_ADDRSTRLEN];

	ck_assert(dhcp_pcp_server_decode(two, sizeof(two), &a));
	ck_assert_str_eq(text(a, t), "100.64.0.9");
	ck_assert(!dhcp_pcp_server_decode(two, 4, &a));                           /* cut short */
	ck_assert(!dhcp_pcp_server_decode((const uint8_t *)"\x03\x01\x02\x03\x04", 5, &a));
	ck_assert(!dhcp_pcp_server_decode((const uint8_t *)"\x08\x01\x02\x03\x04", 5, &a));
	ck_assert(!dhcp_pcp_server_decode((const uint8_t *)"\x04\x00\x00\x00\x00", 5, &a));
}
END_TEST

static bool from(const char *leases, struct in_addr *a)
{
	return dhcp_pcp_server_from_leases(leases, strlen(leases), a);
}

START_TEST(test_lease_file)
{
	struct in_addr a;
	char t[INET_ADDRSTRLEN];

	/* As dhclient writes it; the newest lease, last, wins. */
	ck_assert(from("lease {\n  interface \"wan0\";\n  fixed-address 100.64.0.2;\n"
		       "  option pcp-server 4:64:40:0:1;\n  renew 1 2026/12/07 06:00:00;\n}\n"
		       "lease {\n  interface \"wan0\";\n  option routers 100.64.0.1;\n"
		       "  option pcp-server 4:64:40:0:9;\n}\n", &a));
	ck_assert_str_eq(text(a, t), "100.64.0.9");
	ck_assert(from("option pcp-server 08:c0:0:2:1:c0:0:2:2;", &a));
	ck_assert_str_eq(text(a, t), "192.0.2.1");
	ck_assert(!from("lease {\n  option routers 100.64.0.1;\n}\n", &a));      /* none */
	ck_assert(!from("option pcp-server 4:64:40:0:1", &a));                    /* no ';' */
	ck_assert(!from("option pcp-server 4:64:40:zz:1;", &a));
	ck_assert(!from("option pcp-server 4:164:40:0:1;", &a));                  /* 3 digits */
	ck_assert(!from("option pcp-server \"text\";", &a));
	ck_assert(!from("option pcp-server ", &a));
	ck_assert(!from("", &a));
}
END_TEST

START_TEST(test_dhcpv6_lease_file)
{
	struct in_addr a;
	char t[INET_ADDRSTRLEN];

	/* dhclient -6 with "option dhcp6.pcp-server code 86 = array of
	 * ip6-address;": the first IPv4-mapped address. */
	ck_assert(from("lease6 {\n  interface \"wan0\";\n  option dhcp6.pcp-server 2001:db8::1, "
		       "::ffff:100.64.0.1;\n}\n", &a));
	ck_assert_str_eq(text(a, t), "100.64.0.1");
	/* the later statement counts, whichever kind */
	ck_assert(from("option dhcp6.pcp-server ::ffff:100.64.0.1;\noption pcp-server 4:64:40:0:9;\n",
		       &a));
	ck_assert_str_eq(text(a, t), "100.64.0.9");
	ck_assert(!from("option dhcp6.pcp-server 2001:db8::1;", &a));  /* no IPv4 server */
	ck_assert(!from("option dhcp6.pcp-server ::ffff:100.64.0.1", &a));  /* no ';' */
	ck_assert(!from("option dhcp6.pcp-server nonsense;", &a));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dhcp_option");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_payload);
	tcase_add_test(tc, test_lease_file);
	tcase_add_test(tc, test_dhcpv6_lease_file);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
