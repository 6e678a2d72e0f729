/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A UPnP control point's messages (daemon/upnp/control_point.c): what an
 * upstream IGD answers is read with bounds, and only its own host is
 * ever named as a place to go. */
#include "unit.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "daemon/upnp/control_point.h"

static const char *addr_text(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int url(const char *text, struct cp_url *out)
{
	return cp_parse_url(text, strlen(text), out);
}

START_TEST(test_urls)
{
	struct cp_url u;
	char a[INET_ADDRSTRLEN];

	ck_assert_int_eq(url("http://100.64.0.1:5000/rootDesc.xml", &u), 0);
	ck_assert_str_eq(addr_text(u.addr, a), "100.64.0.1");
	ck_assert_int_eq(u.port, 5000);
	ck_assert_str_eq(u.path, "/rootDesc.xml");
	ck_assert_int_eq(url("HTTP://10.0.0.1", &u), 0);
	ck_assert_int_eq(u.port, 80);
	ck_assert_str_eq(u.path, "/");
	ck_assert_int_eq(url("https://10.0.0.1/", &u), -1);
	ck_assert_int_eq(url("http://router.lan:5000/", &u), -1);  /* a name: never */
	ck_assert_int_eq(url("http://[fe80::1]:5000/", &u), -1);
	ck_assert_int_eq(url("http://10.0.0.1:0/", &u), -1);
	ck_assert_int_eq(url("http://10.0.0.1:65536/", &u), -1);
	ck_assert_int_eq(url("http://10.0.0.1:/", &u), -1);
	ck_assert_int_eq(url("http://10.0.0.1x/", &u), -1);
	ck_assert_int_eq(url("http://10.0.0.1/a b", &u), -1);
	ck_assert_int_eq(url("http://10.0.0.1/a\r\nX: y", &u), -1);  /* no header smuggled */
	ck_assert_int_eq(url("http://1.2.3.4.5/", &u), -1);
	{
		char long_path[CP_PATH_MAX + 32] = "http://10.0.0.1/";

		memset(long_path + 16, 'a', CP_PATH_MAX);
		long_path[16 + CP_PATH_MAX] = '\0';
		ck_assert_int_eq(url(long_path, &u), -1);
	}
}
END_TEST

static int search_answer(const char *text, struct cp_search_answer *out)
{
	return cp_parse_search_answer(text, strlen(text), out);
}

START_TEST(test_search_answers)
{
	struct cp_search_answer s;
	char buf[512];

	ck_assert_int_eq(search_answer("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
				       "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
				       "location: http://100.64.0.1:5000/rootDesc.xml\r\n"
				       "USN: uuid:x::urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n\r\n",
				       &s), 0);
	ck_assert(s.igd2);
	ck_assert_int_eq(s.location.port, 5000);
	ck_assert_int_eq(search_answer("HTTP/1.1 200 OK\nST: urn:schemas-upnp-org:device:"
				       "InternetGatewayDevice:1\nLOCATION: http://100.64.0.1:5000/igd1/rootDesc.xml\n\n",
				       &s), 0);
	ck_assert(!s.igd2);
	ck_assert_str_eq(s.location.path, "/igd1/rootDesc.xml");
	/* not an IGD, not a 200, no location, two locations, a name */
	ck_assert_int_eq(search_answer("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n"
				       "LOCATION: http://100.64.0.1/\r\n\r\n", &s), -1);
	ck_assert_int_eq(search_answer("HTTP/1.1 404 Not Found\r\nST: " CP_ST_IGD1 "\r\n"
				       "LOCATION: http://100.64.0.1/\r\n\r\n", &s), -1);
	ck_assert_int_eq(search_answer("HTTP/1.1 200 OK\r\nST: " CP_ST_IGD1 "\r\n\r\n", &s), -1);
	ck_assert_int_eq(search_answer("HTTP/1.1 200 OK\r\nST: " CP_ST_IGD1 "\r\nLOCATION: "
				       "http://100.64.0.1/\r\nLOCATION: http://100.64.0.9/\r\n\r\n", &s), -1);
	ck_assert_int_eq(search_answer("HTTP/1.1 200 OK\r\nST: " CP_ST_IGD1 "\r\nLOCATION: "
				       "http://evil.example/\r\n\r\n", &s), -1);
	ck_assert_int_eq(search_answer("M-SEARCH * HTTP/1.1\r\n\r\n", &s), -1);
	ck_assert_uint_gt(cp_build_search(buf, sizeof(buf), CP_ST_IGD2, 1), 0);
	ck_assert_ptr_nonnull(strstr(buf, "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: " CP_ST_IGD2 "\r\n\r\n"));
	ck_assert_uint_eq(cp_build_search(buf, 20, CP_ST_IGD2, 1), 0);
}
END_TEST

/* An IGD:2 description as routers write it: the WAN connection service
 * two devices down, beside others. */
static const char igd2_desc[] =
	"<?xml version=\"1.0\"?>\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
	"<specVersion><major>1</major><minor>1</minor></specVersion><device>"
	"<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>"
	"<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1"
	"</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList><deviceList><device>"
	"<deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType><deviceList><device>"
	"<deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType><serviceList>"
	"<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
	"<controlURL>/ctl/IPConn1</controlURL></service>"
	"<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>"
	"<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId>\n"
	"<controlURL>\n  /ctl/IPConn\n</controlURL><eventSubURL>/evt/IPConn</eventSubURL></service>"
	"</serviceList></device></deviceList></device></deviceList></device></root>";

static int find(const char *xml, const char *from_url, struct cp_service *out)
{
	struct cp_url from;

	ck_assert_int_eq(url(from_url, &from), 0);
	return cp_find_service(xml, strlen(xml), &from, out);
}

START_TEST(test_descriptions)
{
	struct cp_service s;
	char a[INET_ADDRSTRLEN], xml[2048];

	ck_assert_int_eq(find(igd2_desc, "http://100.64.0.1:5000/rootDesc.xml", &s), 0);
	ck_assert_str_eq(s.type, "urn:schemas-upnp-org:service:WANIPConnection:2");
	ck_assert(s.v2);
	ck_assert_str_eq(addr_text(s.control.addr, a), "100.64.0.1");
	ck_assert_int_eq(s.control.port, 5000);
	ck_assert_str_eq(s.control.path, "/ctl/IPConn");
	/* PPP only, a relative URL, a URLBase on the same host */
	ck_assert_int_eq(find("<root><URLBase>http://100.64.0.1:49000/</URLBase><device><serviceList>"
			      "<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1"
			      "</serviceType><controlURL>upnp/control/WANPPPConn1</controlURL></service>"
			      "</serviceList></device></root>", "http://100.64.0.1:49000/igd.xml", &s), 0);
	ck_assert(!s.v2);
	ck_assert_str_eq(s.control.path, "/upnp/control/WANPPPConn1");
	ck_assert_int_eq(find("<root><device><serviceList><service><serviceType>urn:schemas-upnp-org:"
			      "service:WANIPConnection:1</serviceType><controlURL>ctl</controlURL>"
			      "</service></serviceList></device></root>", "http://100.64.0.1/d/desc.xml", &s), 0);
	ck_assert_str_eq(s.control.path, "/d/ctl");
	/* a control URL or a URLBase elsewhere: never followed */
	ck_assert_int_eq(find("<root><device><serviceList><service><serviceType>urn:schemas-upnp-org:"
			      "service:WANIPConnection:1</serviceType><controlURL>http://203.0.113.9/ctl"
			      "</controlURL></service></serviceList></device></root>", "http://100.64.0.1/", &s), -1);
	ck_assert_int_eq(find("<root><URLBase>http://203.0.113.9/</URLBase><device><serviceList><service>"
			      "<serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
			      "<controlURL>/ctl</controlURL></service></serviceList></device></root>",
			      "http://100.64.0.1/", &s), -1);
	/* no WAN connection service; malformed; a DOCTYPE (entities) */
	ck_assert_int_eq(find("<root><device><serviceList><service><serviceType>urn:schemas-upnp-org:"
			      "service:Layer3Forwarding:1</serviceType><controlURL>/x</controlURL></service>"
			      "</serviceList></device></root>", "http://100.64.0.1/", &s), -1);
	ck_assert_int_eq(find("<root><device>", "http://100.64.0.1/", &s), -1);
	ck_assert_int_eq(find("<?xml version=\"1.0\"?><!DOCTYPE root [<!ENTITY a \"/ctl\">]><root><device>"
			      "<serviceList><service><serviceType>urn:schemas-upnp-org:service:"
			      "WANIPConnection:1</serviceType><controlURL>&a;</controlURL></service>"
			      "</serviceList></device></root>", "http://100.64.0.1/", &s), -1);
	/* too deep */
	strcpy(xml, "<root>");
	for (int i = 0; i < 20; i++)
		strcat(xml, "<device>");
	strcat(xml, "</root>");
	ck_assert_int_eq(find(xml, "http://100.64.0.1/", &s), -1);
	/* a control URL too long is not taken */
	snprintf(xml, sizeof(xml), "<root><device><serviceList><service><serviceType>urn:schemas-"
		 "upnp-org:service:WANIPConnection:1</serviceType><controlURL>/%0400d</controlURL>"
		 "</service></serviceList></device></root>", 0);
	ck_assert_int_eq(find(xml, "http://100.64.0.1/", &s), -1);
}
END_TEST

static int response(const char *text, bool eof, struct cp_http_response *out, char *copy)
{
	size_t len = strlen(text);

	memcpy(copy, text, len + 1);
	return cp_parse_http_response(copy, len, eof, out);
}

START_TEST(test_http_responses)
{
	struct cp_http_response r;
	static char buf[CP_RESPONSE_MAX + CP_HEAD_MAX];

	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, &r, buf),
			 CP_HTTP_COMPLETE);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(r.body_len, 5);
	ck_assert(memcmp(r.body, "hello", 5) == 0);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, &r, buf),
			 CP_HTTP_INCOMPLETE);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true, &r, buf), -1);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Le", false, &r, buf), CP_HTTP_INCOMPLETE);
	/* to the end of the connection */
	ck_assert_int_eq(response("HTTP/1.0 500 Internal Server Error\r\n\r\n<x/>", false, &r, buf),
			 CP_HTTP_INCOMPLETE);
	ck_assert_int_eq(response("HTTP/1.0 500 Internal Server Error\r\n\r\n<x/>", true, &r, buf),
			 CP_HTTP_COMPLETE);
	ck_assert_int_eq(r.status, 500);
	ck_assert_uint_eq(r.body_len, 4);
	/* chunked, decoded in place */
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n", false, &r, buf),
			 CP_HTTP_COMPLETE);
	ck_assert_uint_eq(r.body_len, 13);
	ck_assert(memcmp(r.body, "abc0123456789", 13) == 0);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
				  false, &r, buf), CP_HTTP_INCOMPLETE);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
				  false, &r, buf), -1);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "FFFFFFFF\r\n", false, &r, buf), -1);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", true, &r, buf),
			 -1);
	/* bounds and form */
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Length: 9999999\r\n\r\n", false, &r, buf),
			 -1);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
				  false, &r, buf), -1);
	ck_assert_int_eq(response("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, &r, buf), -1);
	ck_assert_int_eq(response("ICY 200 OK\r\n\r\n", true, &r, buf), -1);
	memset(buf, 'a', CP_HEAD_MAX + 10);
	ck_assert_int_eq(cp_parse_http_response(buf, CP_HEAD_MAX + 10, false, &r), -1);
	strcpy(buf, "HTTP/1.1 200 OK\r\n\r\n");
	memset(buf + 19, 'a', CP_RESPONSE_MAX + 1);
	ck_assert_int_eq(cp_parse_http_response(buf, 19 + CP_RESPONSE_MAX + 1, false, &r), -1);
}
END_TEST

START_TEST(test_calls)
{
	char buf[4096];
	struct cp_url control;
	struct cp_arg args[] = { { "NewRemoteHost", "" }, { "NewExternalPort", "7000" },
				 { "NewPortMappingDescription", "a<b&\"c\"" } };
	size_t n;
	const char *body;

	ck_assert_int_eq(url("http://100.64.0.1:5000/ctl/IPConn", &control), 0);
	n = cp_build_call(buf, sizeof(buf), &control, "urn:schemas-upnp-org:service:WANIPConnection:2",
			  "AddAnyPortMapping", args, 3);
	ck_assert_uint_gt(n, 0);
	ck_assert(strncmp(buf, "POST /ctl/IPConn HTTP/1.1\r\nHost: 100.64.0.1:5000\r\n", 50) == 0);
	ck_assert_ptr_nonnull(strstr(buf, "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2"
				     "#AddAnyPortMapping\"\r\n"));
	ck_assert_ptr_nonnull(body = strstr(buf, "\r\n\r\n"));
	body += 4;
	{
		char expect[64];

		snprintf(expect, sizeof(expect), "Content-Length: %zu\r\n", strlen(body));
		ck_assert_ptr_nonnull(strstr(buf, expect));
	}
	ck_assert_ptr_nonnull(strstr(body, "<NewRemoteHost></NewRemoteHost><NewExternalPort>7000"
				      "</NewExternalPort>"));
	ck_assert_ptr_nonnull(strstr(body, "a&lt;b&amp;&quot;c&quot;"));
	ck_assert_uint_eq(cp_build_call(buf, 100, &control, "x", "y", args, 3), 0);
}
END_TEST

static int result_of(const char *http, struct cp_answer *a)
{
	static char buf[4096];
	struct cp_http_response r;

	ck_assert_int_eq(response(http, true, &r, buf), CP_HTTP_COMPLETE);
	return cp_call_result(&r, a);
}

START_TEST(test_answers)
{
	struct cp_answer a;
	char xml[4096];
	size_t n;

	ck_assert_int_eq(result_of("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\"?>"
				   "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
				   "<u:GetExternalIPAddressResponse xmlns:u=\"urn:schemas-upnp-org:service:"
				   "WANIPConnection:1\"><NewExternalIPAddress>203.0.113.1</NewExternalIPAddress>"
				   "</u:GetExternalIPAddressResponse></s:Body></s:Envelope>", &a), 0);
	ck_assert_str_eq(cp_answer_value(&a, "NewExternalIPAddress"), "203.0.113.1");
	ck_assert_ptr_null(cp_answer_value(&a, "NewReservedPort"));
	ck_assert_int_eq(result_of("HTTP/1.1 500 Internal Server Error\r\n\r\n<s:Envelope xmlns:s="
				   "\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>"
				   "s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError "
				   "xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>718</errorCode>"
				   "<errorDescription>ConflictInMappingEntry</errorDescription></UPnPError>"
				   "</detail></s:Fault></s:Body></s:Envelope>", &a), 718);
	ck_assert_str_eq(cp_answer_value(&a, "errorDescription"), "ConflictInMappingEntry");
	/* a fault without a code, a code that is no number, another status */
	ck_assert_int_eq(result_of("HTTP/1.1 500 x\r\n\r\n<Fault><faultcode>x</faultcode></Fault>", &a), -1);
	ck_assert_int_eq(result_of("HTTP/1.1 500 x\r\n\r\n<e><errorCode>7a</errorCode></e>", &a), -1);
	ck_assert_int_eq(result_of("HTTP/1.1 401 x\r\n\r\n<e/>", &a), -1);
	/* DOCTYPE, too many values, a value too long */
	ck_assert_int_eq(result_of("HTTP/1.1 200 OK\r\n\r\n<!DOCTYPE e [<!ENTITY x \"y\">]><e><v>&x;</v></e>",
				   &a), -1);
	n = (size_t)snprintf(xml, sizeof(xml), "HTTP/1.1 200 OK\r\n\r\n<e>");
	for (int i = 0; i < CP_VALUES_MAX + 1; i++)
		n += (size_t)snprintf(xml + n, sizeof(xml) - n, "<v%d>1</v%d>", i, i);
	snprintf(xml + n, sizeof(xml) - n, "</e>");
	ck_assert_int_eq(result_of(xml, &a), -1);
	n = (size_t)snprintf(xml, sizeof(xml), "HTTP/1.1 200 OK\r\n\r\n<e><v>");
	memset(xml + n, 'x', CP_VALUE_MAX + 1);
	snprintf(xml + n + CP_VALUE_MAX + 1, sizeof(xml) - n - CP_VALUE_MAX - 1, "</v></e>");
	ck_assert_int_eq(result_of(xml, &a), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control_point");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_urls);
	tcase_add_test(tc, test_search_answers);
	tcase_add_test(tc, test_descriptions);
	tcase_add_test(tc, test_http_responses);
	tcase_add_test(tc, test_calls);
	tcase_add_test(tc, test_answers);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
