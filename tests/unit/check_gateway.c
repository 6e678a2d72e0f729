/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The default gateway from the kernel's routing table (lib/gateway.c). */
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "lib/gateway.h"

static const char table[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	"wan0\t00004064\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"   /* on-link */
	"br-lan\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" /* another interface's */
	"wan0\t00000000\t09004064\t0003\t0\t0\t200\t00000000\t0\t0\t0\n" /* a worse metric */
	"wan0\t00000000\t01004064\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	"wan0\t00000000\t05004064\t0002\t0\t0\t0\t00000000\t0\t0\t0\n";  /* not up */

static const char *addr_text(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

START_TEST(test_default_gateway)
{
	struct in_addr gw;
	char text[INET_ADDRSTRLEN];

	/* The hexadecimal is the machine's own byte order: this test's table
	 * was written for a little-endian one. */
	if (htonl(1) == 1)
		return;
	ck_assert(gateway_of(table, strlen(table), "wan0", &gw));
	ck_assert_str_eq(addr_text(gw, text), "100.64.0.1");
	ck_assert(gateway_of(table, strlen(table), "br-lan", &gw));
	ck_assert_str_eq(addr_text(gw, text), "192.168.1.1");
	ck_assert(!gateway_of(table, strlen(table), "wan1", &gw));
	ck_assert(!gateway_of(table, 0, "wan0", &gw));
}
END_TEST

START_TEST(test_hostile_table)
{
	char big[600];
	struct in_addr gw;

	memset(big, 'x', sizeof(big));
	ck_assert(!gateway_of(big, sizeof(big), "wan0", &gw));  /* no line end, too long */
	ck_assert(!gateway_of("wan0 0 1\n", 9, "wan0", &gw));    /* short */
	ck_assert(!gateway_of("averyveryverylongname 00000000 01004064 0003 0 0 0 00000000\n", 61,
			      "averyveryverylongname", &gw));
	/* cut in the middle of a line: the part is not read past len */
	ck_assert(!gateway_of("wan0\t00000000\t01004064\t0003\t0\t0\t100\t00000000\n", 20, "wan0",
			      &gw));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gateway");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_default_gateway);
	tcase_add_test(tc, test_hostile_table);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
