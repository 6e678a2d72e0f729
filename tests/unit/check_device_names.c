/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device names from DHCP servers' lease files (daemon/device_names.c). */
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/device_names.h"
#include "lib/parse.h"

static struct device_names *names;

static void setup(void)
{
	names = device_names_new();
	ck_assert_ptr_nonnull(names);
}

static void teardown(void)
{
	device_names_free(names);
}

static size_t parse(const char *text)
{
	size_t took = device_names_parse(names, text, strlen(text));

	device_names_finish(names);
	return took;
}

static const char *by_mac(const char *text)
{
	uint8_t mac[6];

	ck_assert(parse_mac(text, mac));
	return device_names_by_mac(names, mac);
}

static const char *by_addr(const char *text)
{
	struct in6_addr a;

	ck_assert(parse_address(text, &a));
	return device_names_by_addr(names, &a);
}

START_TEST(test_dnsmasq)
{
	ck_assert_uint_eq(parse("1795000000 02:00:00:00:00:0a 192.168.1.10 nas 01:02:00:00:00:00:0a\n"
				"1795000000 02:00:00:00:00:0b 192.168.1.11 * *\n"
				"duid 00:01:00:01:2c:00:00:00:02:00:00:00:00:01\n"
				"1795000000 1234 2001:db8::10 nas-v6 00:01:00:01:aa\n"),
			  3);
	ck_assert_str_eq(by_mac("02:00:00:00:00:0a"), "nas");
	ck_assert_str_eq(by_addr("192.168.1.10"), "nas");
	ck_assert_ptr_null(by_mac("02:00:00:00:00:0b"));  /* "*": no name */
	ck_assert_ptr_null(by_addr("192.168.1.11"));
	ck_assert_str_eq(by_addr("2001:db8::10"), "nas-v6");
	ck_assert_uint_eq(device_names_count(names), 3);
}
END_TEST

START_TEST(test_odhcpd)
{
	ck_assert_uint_eq(parse("# br-lan 000100012c0000000200000000aa 5a2b tv 1795000000 10 128 "
				"2001:db8::aa/128 fd00::aa/128\n"
				"# br-lan 2:0:0:0:0:c ipv4 printer 1795000000 c0a8010c 32 192.168.1.12/32\n"
				"# br-lan 0001 1 broken\\x20name 1795000000 1 128 2001:db8::ab/128\n"
				"2001:db8::aa\ttv.lan tv\n"
				"# The format of this file is documented 1 2 3 in 192.168.1.99\n"),
			  5);
	ck_assert_str_eq(by_addr("2001:db8::aa"), "tv.lan");  /* the hosts line came later */
	ck_assert_str_eq(by_addr("fd00::aa"), "tv");
	ck_assert_str_eq(by_mac("02:00:00:00:00:0c"), "printer");
	ck_assert_str_eq(by_addr("192.168.1.12"), "printer");
	ck_assert_ptr_null(by_addr("2001:db8::ab"));
	ck_assert_ptr_null(by_addr("192.168.1.99"));
}
END_TEST

START_TEST(test_kea_csv)
{
	parse("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,"
	      "hostname,state,user_context\n"
	      "192.168.1.20,02:00:00:00:00:14,,3600,1795000000,1,0,0,laptop.lan.,0,\n"
	      "192.168.1.21,02:00:00:00:00:15,,3600,1795000000,1,0,0,,0,\n");
	ck_assert_str_eq(by_mac("02:00:00:00:00:14"), "laptop.lan");
	ck_assert_str_eq(by_addr("192.168.1.20"), "laptop.lan");
	ck_assert_ptr_null(by_addr("192.168.1.21"));
	/* A CSV line without a header says nothing. */
	device_names_clear(names);
	parse("192.168.1.20,02:00:00:00:00:14,,3600,1795000000,1,0,0,laptop,0,\n");
	ck_assert_ptr_null(by_addr("192.168.1.20"));
}
END_TEST

START_TEST(test_isc)
{
	parse("# The format of this file is documented in the dhcpd.leases(5) manual page.\n"
	      "lease 192.168.1.30 {\n"
	      "  starts 0 2026/12/06 21:36:16;\n"
	      "  hardware ethernet 02:00:00:00:00:1e;\n"
	      "  set vendor-class-identifier = \"dhcpcd-6.11.5:Linux, armv7l\";\n"
	      "  client-hostname \"phone\";\n"
	      "}\n"
	      "lease 192.168.1.30 {\n"
	      "  hardware ethernet 02:00:00:00:00:1e;\n"
	      "  client-hostname \"phone-renamed\";\n"
	      "}\n"
	      "lease 192.168.1.31 {\n"
	      "  hardware ethernet 02:00:00:00:00:1f;\n"
	      "}\n");
	ck_assert_str_eq(by_addr("192.168.1.30"), "phone-renamed");  /* the later block */
	ck_assert_str_eq(by_mac("02:00:00:00:00:1e"), "phone-renamed");
	ck_assert_ptr_null(by_mac("02:00:00:00:00:1f"));
}
END_TEST

/* Host names are what LAN hosts chose: nothing but a name's characters. */
START_TEST(test_hostile_names)
{
	char long_name[200], text[400];

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	snprintf(text, sizeof(text), "1795000000 02:00:00:00:00:01 192.168.1.1 %s *\n", long_name);
	ck_assert_uint_eq(parse(text), 0);
	device_names_clear(names);
	ck_assert_uint_eq(parse("1795000000 02:00:00:00:00:02 192.168.1.2 a\"b *\n"
				"1795000000 02:00:00:00:00:03 192.168.1.3 x\x1b[31m *\n"
				"lease 192.168.1.4 {\n client-hostname \"a\\\"b\";\n}\n"
				"1795000000 02:00:00:00:00:05 192.168.1.5 ok\n"),
			  2);
	ck_assert_str_eq(by_addr("192.168.1.5"), "ok");
	/* A line longer than any lease line, and bytes that are no text. */
	device_names_clear(names);
	static const char binary[] = "1795000000 02:00:00:00:00:06 192.168.1.6 a\0b *\n";
	ck_assert_uint_eq(device_names_parse(names, binary, sizeof(binary) - 1), 0);
}
END_TEST

START_TEST(test_bounded)
{
	char line[80];

	for (unsigned i = 0; i < DEVICE_NAMES_MAX + 10; i++) {
		snprintf(line, sizeof(line), "1 1 2001:db8::%x h%u\n", i + 1, i);
		device_names_parse(names, line, strlen(line));
	}
	device_names_finish(names);
	ck_assert_uint_eq(device_names_count(names), DEVICE_NAMES_MAX);
	ck_assert_str_eq(by_addr("2001:db8::1"), "h0");
	ck_assert_ptr_null(by_addr("2001:db8::2009"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("device_names");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dnsmasq);
	tcase_add_test(tc, test_odhcpd);
	tcase_add_test(tc, test_kea_csv);
	tcase_add_test(tc, test_isc);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_test(tc, test_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
