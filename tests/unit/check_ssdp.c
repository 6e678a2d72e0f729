/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/upnp/ssdp.h"
#include "unit.h"

static struct igd_identity id;

static void setup(void)
{
	uint8_t seed[16] = { 0xde, 0xad, 0xbe, 0xef };

	igd_identity_init(&id, 2, seed);
}

static int parse(const char *text, struct ssdp_search *s)
{
	return ssdp_parse_search(text, strlen(text), s);
}

/* As miniupnpc sends it. */
START_TEST(test_search)
{
	struct ssdp_search s;

	ck_assert_int_eq(parse("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
			       "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
			       "MAN: \"ssdp:discover\"\r\nMX: 2\r\n\r\n", &s), 0);
	ck_assert_str_eq(s.st, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	ck_assert(s.has_mx);
	ck_assert_uint_eq(s.mx, 2);
	/* bare LF, lower-case names, a large MX capped */
	ck_assert_int_eq(parse("M-SEARCH * HTTP/1.1\nst: ssdp:all\nman: \"ssdp:discover\"\n"
			       "mx: 120\n\n", &s), 0);
	ck_assert_uint_eq(s.mx, SSDP_MX_MAX);
	ck_assert_int_eq(parse("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMAN: \"ssdp:discover\"\r\n",
			       &s), 0);
	ck_assert(!s.has_mx);
}
END_TEST

START_TEST(test_ignored)
{
	static const char *const cases[] = {
		"NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n",                       /* no MAN */
		"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n",              /* no ST */
		"M-SEARCH * HTTP/1.1\r\nMAN: ssdp:discover\r\nST: ssdp:all\r\n\r\n",  /* unquoted */
		"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nMX: -1\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\nMX: 1000\r\n\r\n",
		"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: \r\n\r\n",
		"M-SEARCH / HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: ssdp:all\r\n\r\n",
		"",
	};
	struct ssdp_search s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(parse(cases[i], &s) == -1, "case %zu", i);
}
END_TEST

START_TEST(test_long_st_and_mutations)
{
	static const char base[] = "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n"
				   "ST: urn:schemas-upnp-org:service:WANIPConnection:2\r\nMX: 1\r\n\r\n";
	char text[600];
	struct ssdp_search s;

	snprintf(text, sizeof(text), "M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\nST: %0*d\r\n\r\n",
		 SSDP_ST_MAX + 1, 0);
	ck_assert_int_eq(parse(text, &s), -1);
	srand(3);
	for (int i = 0; i < 20000; i++) {
		size_t n = sizeof(base) - 1;

		memcpy(text, base, n);
		for (int k = 0; k < 1 + rand() % 4; k++)
			text[rand() % (int)n] = (char)(rand() & 0xff);
		n = (size_t)rand() % (n + 1);
		if (ssdp_parse_search(text, n, &s) == 0) {
			ck_assert_uint_le(strlen(s.st), SSDP_ST_MAX);
			ck_assert_uint_le(s.mx, SSDP_MX_MAX);
		}
	}
}
END_TEST

static bool has(const struct ssdp_target *t, size_t n, const char *st, const char *usn_end)
{
	for (size_t i = 0; i < n; i++) {
		size_t ul = strlen(t[i].usn), el = strlen(usn_end);

		if (strcmp(t[i].st, st) == 0 && ul >= el && strcmp(t[i].usn + ul - el, usn_end) == 0)
			return true;
	}
	return false;
}

START_TEST(test_targets)
{
	struct ssdp_target t[SSDP_TARGETS_MAX];
	char uuid_st[64];
	size_t n;

	n = ssdp_targets(&id, "ssdp:all", false, t);
	ck_assert_uint_eq(n, 1 + 2 * IGD_DEVICES + igd_service_count());
	ck_assert(has(t, n, "upnp:rootdevice", "::upnp:rootdevice"));
	ck_assert(has(t, n, "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
		      "::urn:schemas-upnp-org:device:InternetGatewayDevice:2"));
	ck_assert(has(t, n, "urn:schemas-upnp-org:service:WANIPConnection:2",
		      "::urn:schemas-upnp-org:service:WANIPConnection:2"));
	ck_assert(has(t, n, "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
		      "::urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"));

	/* An older version is answered in its own terms. */
	n = ssdp_targets(&id, "urn:schemas-upnp-org:device:InternetGatewayDevice:1", false, t);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(t[0].st, "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	ck_assert(has(t, n, "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
		      "::urn:schemas-upnp-org:device:InternetGatewayDevice:1"));
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANIPConnection:1", false, t), 1);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:device:InternetGatewayDevice:3", false,
				       t), 0);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANPPPConnection:1", false, t),
			  0);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:device:MediaServer:1", false, t), 0);
	snprintf(uuid_st, sizeof(uuid_st), "uuid:%s", id.uuid[1]);
	ck_assert_uint_eq(ssdp_targets(&id, uuid_st, false, t), 1);
	ck_assert_str_eq(t[0].usn, uuid_st);

	/* Beside an IGD:1 (exact), the IGD:2 answers only its own versions:
	 * an IGD:1 client is sent to the IGD:1's description. */
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
				       true, t), 0);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANIPConnection:1", true,
				       t), 0);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANIPConnection:2", true,
				       t), 1);
	/* WANCommonInterfaceConfig is version 1 in both: both answer */
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
				       true, t), 1);
	ck_assert_uint_eq(ssdp_targets(&id, "upnp:rootdevice", true, t), 1);

	/* IGD:1 has no version 2 anything. */
	id.version = 1;
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
				       true, t), 1);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANIPConnection:2", false, t), 0);
	ck_assert_uint_eq(ssdp_targets(&id, "urn:schemas-upnp-org:service:WANIPConnection:1", false, t), 1);
}
END_TEST

START_TEST(test_messages)
{
	struct ssdp_target t[SSDP_TARGETS_MAX];
	struct ssdp_announcement a = {
		.location = "http://192.168.77.1:5000/rootDesc.xml",
		.server = "Linux/6.1 UPnP/1.1 portleased/0.1.0", .max_age = 1800,
		.boot_id = 7, .config_id = 1,
	};
	char buf[SSDP_MESSAGE_MAX];
	size_t n;

	ck_assert_uint_eq(ssdp_targets(&id, "upnp:rootdevice", false, t), 1);
	n = ssdp_format_response(buf, sizeof(buf), &t[0], &a);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 200 OK\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nLOCATION: http://192.168.77.1:5000/rootDesc.xml\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nST: upnp:rootdevice\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nBOOTID.UPNP.ORG: 7\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nCACHE-CONTROL: max-age=1800\r\n"));
	ck_assert_str_eq(buf + n - 4, "\r\n\r\n");

	n = ssdp_format_notify(buf, sizeof(buf), &t[0], &a, true);
	ck_assert_ptr_nonnull(strstr(buf, "NOTIFY * HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nNTS: ssdp:alive\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nNT: upnp:rootdevice\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nHOST: 239.255.255.250:1900\r\n"));
	n = ssdp_format_notify(buf, sizeof(buf), &t[0], &a, false);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nNTS: ssdp:byebye\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nHOST: 239.255.255.250:1900\r\n"));
	a.ipv6 = true;
	n = ssdp_format_notify(buf, sizeof(buf), &t[0], &a, true);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nHOST: [FF02::C]:1900\r\n"));
	n = ssdp_format_notify(buf, sizeof(buf), &t[0], &a, false);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nHOST: [FF02::C]:1900\r\n"));
	a.ipv6 = false;
	ck_assert_ptr_null(strstr(buf, "LOCATION"));
	/* too small a buffer: nothing, not a truncated message */
	ck_assert_uint_eq(ssdp_format_response(buf, 64, &t[0], &a), 0);
	(void)n;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ssdp");
	TCase *tc = tcase_create("ssdp");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_search);
	tcase_add_test(tc, test_ignored);
	tcase_add_test(tc, test_long_st_and_mutations);
	tcase_add_test(tc, test_targets);
	tcase_add_test(tc, test_messages);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
