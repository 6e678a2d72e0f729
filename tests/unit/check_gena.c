/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/upnp/gena.h"
#include "unit.h"

START_TEST(test_callback)
{
	struct gena_callback cb;

	ck_assert(gena_parse_callback("<http://192.168.1.10:4000/upnp/event>", &cb));
	ck_assert_uint_eq(cb.addr.s_addr, inet_addr("192.168.1.10"));
	ck_assert_uint_eq(cb.port, 4000);
	ck_assert_str_eq(cb.path, "/upnp/event");
	ck_assert(gena_parse_callback("<http://192.168.1.10>", &cb));
	ck_assert_uint_eq(cb.port, 80);
	ck_assert_str_eq(cb.path, "/");
	/* several URLs: the first */
	ck_assert(gena_parse_callback("<http://192.168.1.10:5/a><http://10.0.0.1/b>", &cb));
	ck_assert_str_eq(cb.path, "/a");
}
END_TEST

START_TEST(test_callback_refused)
{
	static const char *const cases[] = {
		"http://192.168.1.10:4000/",          /* no angle brackets */
		"<https://192.168.1.10/>",            /* not http */
		"<http://evil.example/>",             /* a name */
		"<http://[2001:db8::1]/>",
		"<http://192.168.1.10:0/>",
		"<http://192.168.1.10:65536/>",
		"<http://192.168.1.10:/>",
		"<http://192.168.1.10:80x/>",
		"<http://192.168.1.10/a b>",
		"<http://192.168.1.10/",              /* unterminated */
		"<http://:80/>",
		"",
	};
	struct gena_callback cb;
	char *long_path = malloc(GENA_PATH_MAX + 32);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(!gena_parse_callback(cases[i], &cb), "case %zu", i);
	strcpy(long_path, "<http://192.168.1.10/");
	memset(long_path + strlen(long_path), 'p', GENA_PATH_MAX);
	strcpy(long_path + strlen("<http://192.168.1.10/") + GENA_PATH_MAX, ">");
	ck_assert(!gena_parse_callback(long_path, &cb));
	free(long_path);
}
END_TEST

START_TEST(test_timeout)
{
	ck_assert_uint_eq(gena_parse_timeout("Second-300"), 300);
	ck_assert_uint_eq(gena_parse_timeout("second-300"), 300);
	ck_assert_uint_eq(gena_parse_timeout("Second-5"), GENA_TIMEOUT_MIN);
	ck_assert_uint_eq(gena_parse_timeout("Second-99999999999999999999"), GENA_TIMEOUT_DEFAULT);
	ck_assert_uint_eq(gena_parse_timeout("Second-infinite"), GENA_TIMEOUT_DEFAULT);
	ck_assert_uint_eq(gena_parse_timeout("infinite"), GENA_TIMEOUT_DEFAULT);
	ck_assert_uint_eq(gena_parse_timeout("Second-30x"), GENA_TIMEOUT_DEFAULT);
	ck_assert_uint_eq(gena_parse_timeout(NULL), GENA_TIMEOUT_DEFAULT);
}
END_TEST

START_TEST(test_propertyset)
{
	struct gena_property p[] = { { "PortMappingNumberOfEntries", "3" },
				     { "ExternalIPAddress", "<&>" } };
	struct evbuffer *b = evbuffer_new();
	char *text;

	gena_propertyset(b, p, 2);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">"
					   "<e:property><PortMappingNumberOfEntries>3"
					   "</PortMappingNumberOfEntries></e:property>"));
	ck_assert_ptr_nonnull(strstr(text, "<ExternalIPAddress>&lt;&amp;&gt;</ExternalIPAddress>"));
	free(text);
	evbuffer_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gena");
	TCase *tc = tcase_create("gena");

	tcase_add_test(tc, test_callback);
	tcase_add_test(tc, test_callback_refused);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_propertyset);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
