/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "daemon/leasefile.h"
#include "unit.h"

static struct leasefile_record full(void)
{
	struct leasefile_record r = {
		.proto = IPPROTO_TCP, .origin = LEASE_ORIGIN_PCP, .has_client = true,
		.client = unit_v4("192.168.1.10"), .internal_addr = unit_v4("192.168.1.11"),
		.internal_port = 8080, .external_port = 18080, .created = 1795000100,
		.expires = 1795003700, .has_nonce = true,
		.nonce = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff }, .nfilters = 2,
		.description = "web % server\x1b=x",
	};

	ck_assert(addr_parse_prefix("198.51.100.0/24", &r.filters[0].remote));
	r.filters[0].port = 443;
	ck_assert(addr_parse_prefix("2001:db8::/32", &r.filters[1].remote));
	return r;
}

START_TEST(test_round_trip)
{
	struct leasefile_record r = full(), back;
	char line[LEASEFILE_LINE_MAX];
	size_t n = leasefile_format(line, sizeof(line), &r);

	ck_assert_uint_gt(n, 0);
	ck_assert_str_eq(line, "lease proto=tcp origin=pcp client=192.168.1.10 internal=192.168.1.11 "
			       "iport=8080 eport=18080 created=1795000100 expires=1795003700 "
			       "nonce=0102030405060708090a0bff filter=198.51.100.0/24,443 "
			       "filter=2001:db8::/32,0 description=web%20%25%20server%1b=x\n");
	line[n - 1] = '\0';
	ck_assert_int_eq(leasefile_parse(line, &back), 0);
	ck_assert_mem_eq(&back, &r, sizeof(r));

	/* A static pinhole: no client, never expires. */
	r = (struct leasefile_record){ .proto = IPPROTO_UDP, .origin = LEASE_ORIGIN_STATIC,
				       .internal_port = 9000, .external_port = 9000, .created = 5,
				       .expires = LEASEFILE_NEVER };
	inet_pton(AF_INET6, "2001:db8:1::20", &r.internal_addr);
	n = leasefile_format(line, sizeof(line), &r);
	ck_assert_str_eq(line, "lease proto=udp origin=static internal=2001:db8:1::20 iport=9000 "
			       "eport=9000 created=5 expires=never\n");
	line[n - 1] = '\0';
	ck_assert_int_eq(leasefile_parse(line, &back), 0);
	ck_assert_mem_eq(&back, &r, sizeof(r));

	/* The device: its link-layer address and the name its DHCP lease gave it. */
	r = full();
	r.has_mac = true;
	memcpy(r.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 0x0a }, 6);
	snprintf(r.device, sizeof(r.device), "nas.lan");
	n = leasefile_format(line, sizeof(line), &r);
	ck_assert_ptr_nonnull(strstr(line, " mac=02:00:00:00:00:0a device=nas.lan\n"));
	line[n - 1] = '\0';
	ck_assert_int_eq(leasefile_parse(line, &back), 0);
	ck_assert_mem_eq(&back, &r, sizeof(r));

	/* A PEER mapping: its remote peers are its filters. */
	r = full();
	r.nfilters = 1;
	memset(&r.filters[1], 0, sizeof(r.filters[1]));
	ck_assert(addr_parse_prefix("198.51.100.7/32", &r.filters[0].remote));
	r.filters[0].port = 3478;
	r.peer = true;
	memset(r.description, 0, sizeof(r.description));
	n = leasefile_format(line, sizeof(line), &r);
	ck_assert_ptr_nonnull(strstr(line, " filter=198.51.100.7/32,3478 peer=1\n"));
	line[n - 1] = '\0';
	ck_assert_int_eq(leasefile_parse(line, &back), 0);
	ck_assert_mem_eq(&back, &r, sizeof(r));
}
END_TEST

START_TEST(test_header)
{
	struct leasefile_header h = { .epoch_start = 1795000000, .clean = true }, back;
	char line[LEASEFILE_LINE_MAX];
	size_t n = leasefile_format_header(line, sizeof(line), &h);

	ck_assert_str_eq(line, "portleased-leases 1 epoch_start=1795000000 clean=1\n");
	line[n - 1] = '\0';
	ck_assert_int_eq(leasefile_parse_header(line, &back), 0);
	ck_assert(back.clean);
	ck_assert_int_eq(back.epoch_start, 1795000000);
	ck_assert_int_eq(leasefile_parse_header("portleased-leases 1 epoch_start=7 later=1", &back), 0);
	ck_assert(!back.clean);
	ck_assert_int_eq(leasefile_parse_header("portleased-leases 2 epoch_start=7", &back), -1);
	ck_assert_int_eq(leasefile_parse_header("portleased-leases 1", &back), -1);
	ck_assert_int_eq(leasefile_parse_header("portleased-leases 1 epoch_start=-1", &back), -1);
	ck_assert_int_eq(leasefile_parse_header("portleased-leases 1 epoch_start=7 clean=2", &back), -1);
	ck_assert_int_eq(leasefile_parse_header("", &back), -1);
}
END_TEST

START_TEST(test_bad_lines_refused)
{
	static const char *const bad[] = {
		"",
		"lease",
		"lease proto=tcp",
		"lease proto=sctp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2",
		"lease proto=tcp origin=nat client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2",
		"lease proto=tcp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=0 eport=1 created=1 expires=2",
		"lease proto=tcp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=65536 created=1 expires=2",
		"lease proto=tcp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1",
		"lease proto=tcp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=x expires=2",
		"lease proto=tcp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=never",
		"lease proto=tcp origin=static client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=never",
		"lease proto=tcp origin=natpmp internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 client=1.2.3",
		"lease proto=tcp origin=pcp client=2001:db8::1 internal=2001:db8::1 iport=1 eport=2 created=1 expires=2",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 nonce=0102",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 nonce=0102030405060708090a0bfg",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 filter=1.2.3.0/24",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 filter=1.2.3.0/33,1",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 description=a%2",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 description=a%00b",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 junk",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 mac=02:00:00:00:00",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 device=a%20b",
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 device=",
		/* a PEER mapping is PCP's, with its remote peers */
		"lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 peer=1",
		"lease proto=tcp origin=natpmp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 created=1 expires=2 filter=5.6.7.8/32,9 peer=1",
	};
	struct leasefile_record r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(leasefile_parse(bad[i], &r) == -1, "accepted: %s", bad[i]);
}
END_TEST

/* Nine filters are one too many; a description past 128 bytes too. */
START_TEST(test_bounds)
{
	char line[LEASEFILE_LINE_MAX] = "lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 "
					"iport=1 eport=1 created=1 expires=2";
	struct leasefile_record r;

	for (int i = 0; i < 9; i++)
		strcat(line, " filter=10.0.0.0/8,1");
	ck_assert_int_eq(leasefile_parse(line, &r), -1);
	strcpy(line, "lease proto=tcp origin=pcp client=1.2.3.4 internal=1.2.3.4 iport=1 eport=1 "
		     "created=1 expires=2 description=");
	for (int i = 0; i < 129; i++)
		strcat(line, "x");
	ck_assert_int_eq(leasefile_parse(line, &r), -1);
	line[strlen(line) - 1] = '\0';
	ck_assert_int_eq(leasefile_parse(line, &r), 0);
	ck_assert_uint_eq(strlen(r.description), 128);
	/* The longest record there can be fits a line. */
	struct leasefile_record big = full();
	big.nfilters = FILTER_MAX;
	for (size_t i = 0; i < FILTER_MAX; i++) {
		inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &big.filters[i].remote.net);
		big.filters[i].remote.len = 128;
		big.filters[i].port = 65535;
	}
	memset(big.description, 0x01, LEASE_DESCRIPTION_MAX);
	big.description[LEASE_DESCRIPTION_MAX] = '\0';
	inet_pton(AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &big.client);
	ck_assert_uint_gt(leasefile_format(line, sizeof(line), &big), 0);
}
END_TEST

/* Damaged lines (bytes flipped, cut short) are refused or read, never a
 * crash; under ASan in make check. */
START_TEST(test_mutations)
{
	struct leasefile_record r = full(), back;
	char line[LEASEFILE_LINE_MAX], copy[LEASEFILE_LINE_MAX];
	size_t n = leasefile_format(line, sizeof(line), &r);

	line[n - 1] = '\0';
	srand(42);
	for (int i = 0; i < 20000; i++) {
		memcpy(copy, line, n);
		for (int k = 0; k < 1 + rand() % 4; k++)
			copy[rand() % (n - 1)] = (char)(rand() % 255 + 1);
		if (rand() % 4 == 0)
			copy[rand() % (n - 1)] = '\0';
		(void)leasefile_parse(copy, &back);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("leasefile");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_header);
	tcase_add_test(tc, test_bad_lines_refused);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
