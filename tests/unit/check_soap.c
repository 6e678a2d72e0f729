/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/upnp/soap.h"
#include "unit.h"

#define ENV_OPEN "<?xml version=\"1.0\"?>\r\n<s:Envelope " \
	"xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" " \
	"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
#define ENV_CLOSE "</s:Body></s:Envelope>\r\n"
#define WANIP2 "urn:schemas-upnp-org:service:WANIPConnection:2"

static enum soap_parse_status parse(const char *text, struct soap_call *call)
{
	return soap_parse(text, strlen(text), call);
}

/* As miniupnpc sends it. */
START_TEST(test_add_port_mapping)
{
	static const char body[] = ENV_OPEN
		"<u:AddPortMapping xmlns:u=\"" WANIP2 "\">"
		"<NewRemoteHost></NewRemoteHost><NewExternalPort>8080</NewExternalPort>"
		"<NewProtocol>TCP</NewProtocol><NewInternalPort>80</NewInternalPort>"
		"<NewInternalClient>192.168.77.10</NewInternalClient><NewEnabled>1</NewEnabled>"
		"<NewPortMappingDescription>web &amp; &lt;more&gt;</NewPortMappingDescription>"
		"<NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping>" ENV_CLOSE;
	struct soap_call call;

	ck_assert_int_eq(parse(body, &call), SOAP_OK);
	ck_assert_str_eq(call.service_type, WANIP2);
	ck_assert_str_eq(call.action, "AddPortMapping");
	ck_assert_uint_eq(call.nargs, 8);
	ck_assert_str_eq(soap_arg(&call, "NewRemoteHost"), "");
	ck_assert_str_eq(soap_arg(&call, "NewExternalPort"), "8080");
	ck_assert_str_eq(soap_arg(&call, "NewPortMappingDescription"), "web & <more>");
	ck_assert_ptr_null(soap_arg(&call, "NewNothing"));
	ck_assert(soap_action_matches(&call, WANIP2 "#AddPortMapping"));
	ck_assert(!soap_action_matches(&call, WANIP2 "#DeletePortMapping"));
	ck_assert(!soap_action_matches(&call, "urn:schemas-upnp-org:service:WANIPConnection:1"
					      "#AddPortMapping"));
	ck_assert(!soap_action_matches(&call, "AddPortMapping"));
}
END_TEST

/* As pretty-printing clients send it: the whitespace around a value is
 * not part of it. */
START_TEST(test_values_trimmed)
{
	static const char body[] = ENV_OPEN
		"<u:AddPortMapping xmlns:u=\"" WANIP2 "\">\n"
		"  <NewRemoteHost>\n  </NewRemoteHost>\n"
		"  <NewExternalPort> 8080\t</NewExternalPort>\n"
		"  <NewProtocol>\r\n    TCP\r\n  </NewProtocol>\n"
		"  <NewPortMappingDescription> two  words </NewPortMappingDescription>\n"
		"</u:AddPortMapping>" ENV_CLOSE;
	struct soap_call call;

	ck_assert_int_eq(parse(body, &call), SOAP_OK);
	ck_assert_str_eq(soap_arg(&call, "NewRemoteHost"), "");
	ck_assert_str_eq(soap_arg(&call, "NewExternalPort"), "8080");
	ck_assert_str_eq(soap_arg(&call, "NewProtocol"), "TCP");
	ck_assert_str_eq(soap_arg(&call, "NewPortMappingDescription"), "two  words");
}
END_TEST

START_TEST(test_header_ignored_and_no_args)
{
	struct soap_call call;

	ck_assert_int_eq(parse("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
			       "<s:Header><a><b><c/></b></a></s:Header><s:Body>"
			       "<u:GetExternalIPAddress xmlns:u=\"" WANIP2 "\"/></s:Body></s:Envelope>",
			       &call), SOAP_OK);
	ck_assert_str_eq(call.action, "GetExternalIPAddress");
	ck_assert_uint_eq(call.nargs, 0);
}
END_TEST

START_TEST(test_hostile)
{
	static const struct {
		const char *text;
		enum soap_parse_status status;
	} cases[] = {
		/* entity expansion ("billion laughs") and external entities */
		{ "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\">"
		  "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>" ENV_OPEN
		  "<u:X xmlns:u=\"" WANIP2 "\"><A>&b;</A></u:X>" ENV_CLOSE, SOAP_MALFORMED },
		{ "<!DOCTYPE l SYSTEM \"file:///etc/passwd\">" ENV_OPEN
		  "<u:X xmlns:u=\"" WANIP2 "\"/>" ENV_CLOSE, SOAP_MALFORMED },
		/* an undefined entity */
		{ ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"><A>&x;</A></u:X>" ENV_CLOSE, SOAP_MALFORMED },
		/* structure */
		{ "", SOAP_MALFORMED },
		{ "not xml", SOAP_MALFORMED },
		{ ENV_OPEN ENV_CLOSE, SOAP_MALFORMED },                       /* no action */
		{ ENV_OPEN "<X/>" ENV_CLOSE, SOAP_MALFORMED },                /* no namespace */
		{ ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"/><u:Y xmlns:u=\"" WANIP2 "\"/>" ENV_CLOSE,
		  SOAP_MALFORMED },                                           /* two actions */
		{ "<s:Envelope xmlns:s=\"urn:wrong\"><s:Body><u:X xmlns:u=\"" WANIP2 "\"/>"
		  "</s:Body></s:Envelope>", SOAP_MALFORMED },                 /* wrong namespace */
		{ "<Envelope><Body><u:X xmlns:u=\"" WANIP2 "\"/></Body></Envelope>", SOAP_MALFORMED },
		{ ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"><A><B>1</B></A></u:X>" ENV_CLOSE,
		  SOAP_MALFORMED },                                           /* nested argument */
		{ ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"><A>1</A>" ENV_CLOSE, SOAP_MALFORMED },
		{ ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"><A>1</A><A>2</A></u:X>" ENV_CLOSE,
		  SOAP_INVALID_ARGS },                                        /* repeated */
		{ ENV_OPEN "</s:Body><s:Body><u:X xmlns:u=\"" WANIP2 "\"/>" ENV_CLOSE,
		  SOAP_MALFORMED },                                           /* two bodies */
	};
	struct soap_call call;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(parse(cases[i].text, &call) == cases[i].status, "case %zu", i);
}
END_TEST

START_TEST(test_limits)
{
	char *text = malloc(65536);
	struct soap_call call;
	size_t n;

	/* 10,000 levels of nesting: refused at the first level past the limit. */
	n = (size_t)snprintf(text, 65536, ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\">");
	for (int i = 0; i < 10000; i++)
		n += (size_t)snprintf(text + n, 65536 - n, "<a>");
	ck_assert_int_eq(soap_parse(text, n, &call), SOAP_MALFORMED);

	/* A value one byte over the limit, then one at it. */
	n = (size_t)snprintf(text, 65536, ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"><A>");
	memset(text + n, 'v', SOAP_VALUE_MAX + 1);
	n += SOAP_VALUE_MAX + 1;
	n += (size_t)snprintf(text + n, 65536 - n, "</A></u:X>" ENV_CLOSE);
	ck_assert_int_eq(soap_parse(text, n, &call), SOAP_INVALID_ARGS);
	n = (size_t)snprintf(text, 65536, ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\"><A>");
	memset(text + n, 'v', SOAP_VALUE_MAX);
	n += SOAP_VALUE_MAX;
	n += (size_t)snprintf(text + n, 65536 - n, "</A></u:X>" ENV_CLOSE);
	ck_assert_int_eq(soap_parse(text, n, &call), SOAP_OK);
	ck_assert_uint_eq(strlen(soap_arg(&call, "A")), SOAP_VALUE_MAX);

	/* More arguments than SOAP_ARGS_MAX. */
	n = (size_t)snprintf(text, 65536, ENV_OPEN "<u:X xmlns:u=\"" WANIP2 "\">");
	for (int i = 0; i <= SOAP_ARGS_MAX; i++)
		n += (size_t)snprintf(text + n, 65536 - n, "<A%d>1</A%d>", i, i);
	n += (size_t)snprintf(text + n, 65536 - n, "</u:X>" ENV_CLOSE);
	ck_assert_int_eq(soap_parse(text, n, &call), SOAP_INVALID_ARGS);

	/* An action name over the limit. */
	n = (size_t)snprintf(text, 65536, ENV_OPEN "<u:");
	memset(text + n, 'x', SOAP_NAME_MAX + 1);
	n += SOAP_NAME_MAX + 1;
	n += (size_t)snprintf(text + n, 65536 - n, " xmlns:u=\"" WANIP2 "\"/>" ENV_CLOSE);
	ck_assert_int_eq(soap_parse(text, n, &call), SOAP_MALFORMED);
	free(text);
}
END_TEST

/* Random corruption of a valid request: always a definite answer, never an
 * out-of-bounds access (the ASan build runs this too). */
START_TEST(test_mutations)
{
	static const char body[] = ENV_OPEN "<u:DeletePortMapping xmlns:u=\"" WANIP2 "\">"
		"<NewRemoteHost></NewRemoteHost><NewExternalPort>8080</NewExternalPort>"
		"<NewProtocol>TCP</NewProtocol></u:DeletePortMapping>" ENV_CLOSE;
	struct soap_call call;

	srand(11);
	for (int i = 0; i < 5000; i++) {
		char copy[sizeof(body)];
		size_t n = sizeof(body) - 1;
		enum soap_parse_status rc;

		memcpy(copy, body, sizeof(body));
		for (int k = 0; k < 1 + rand() % 3; k++)
			copy[rand() % (int)n] = (char)(rand() & 0xff);
		rc = soap_parse(copy, (size_t)rand() % (n + 1), &call);
		ck_assert(rc == SOAP_OK || rc == SOAP_MALFORMED || rc == SOAP_INVALID_ARGS);
		if (rc == SOAP_OK)
			for (size_t a = 0; a < call.nargs; a++)
				ck_assert_uint_le(strlen(call.args[a].value), SOAP_VALUE_MAX);
	}
}
END_TEST


START_TEST(test_response_round_trip)
{
	struct evbuffer *b = evbuffer_new();
	struct soap_out out[] = { { "NewExternalIPAddress", "203.0.113.1" },
				  { "NewPortMappingDescription", "a<b>&\"c'" } };
	struct soap_call call;
	char *text;

	soap_response(b, WANIP2, "GetExternalIPAddress", out, 2);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<u:GetExternalIPAddressResponse xmlns:u=\"" WANIP2 "\">"));
	/* It is a SOAP envelope our own parser reads back, values intact. */
	ck_assert_int_eq(parse(text, &call), SOAP_OK);
	ck_assert_str_eq(call.action, "GetExternalIPAddressResponse");
	ck_assert_str_eq(soap_arg(&call, "NewExternalIPAddress"), "203.0.113.1");
	ck_assert_str_eq(soap_arg(&call, "NewPortMappingDescription"), "a<b>&\"c'");
	free(text);

	/* A document as a value: CDATA, unless that would end early. */
	soap_response_document(b, WANIP2, "GetListOfPortMappings", "NewPortListing",
			       "<a>x &amp; y</a>");
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<NewPortListing><![CDATA[<a>x &amp; y</a>]]>"
					   "</NewPortListing>"));
	ck_assert_int_eq(parse(text, &call), SOAP_OK);
	ck_assert_str_eq(soap_arg(&call, "NewPortListing"), "<a>x &amp; y</a>");
	free(text);
	soap_response_document(b, WANIP2, "GetListOfPortMappings", "NewPortListing", "<b>]]></b>");
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<NewPortListing>&lt;b&gt;]]&gt;&lt;/b&gt;</NewPortListing>"));
	free(text);

	soap_fault(b, 718);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<errorCode>718</errorCode>"));
	ck_assert_ptr_nonnull(strstr(text, "<errorDescription>ConflictInMappingEntry<"));
	free(text);
	evbuffer_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("soap");
	TCase *tc = tcase_create("soap");

	tcase_add_test(tc, test_add_port_mapping);
	tcase_add_test(tc, test_values_trimmed);
	tcase_add_test(tc, test_header_ignored_and_no_args);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_mutations);
	tcase_add_test(tc, test_response_round_trip);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
