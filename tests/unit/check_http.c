/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/upnp/http.h"
#include "unit.h"

static int parse(const char *text, struct http_request *req)
{
	return http_parse_head(text, strlen(text), req);
}

START_TEST(test_soap_post)
{
	static const char text[] =
		"POST /ctl/IPConn HTTP/1.1\r\n"
		"Host: 192.168.77.1:5000\r\n"
		"Content-Length: 12\r\n"
		"Content-Type: text/xml; charset=\"utf-8\"\r\n"
		"SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping\"\r\n"
		"\r\n"
		"<body>......";
	struct http_request req;

	ck_assert_int_eq(parse(text, &req), 200);
	ck_assert_int_eq(req.method, HTTP_POST);
	ck_assert_str_eq(req.path, "/ctl/IPConn");
	ck_assert_str_eq(req.host, "192.168.77.1:5000");
	ck_assert(req.has_content_length);
	ck_assert_uint_eq(req.content_length, 12);
	ck_assert_str_eq(req.soapaction,
			 "urn:schemas-upnp-org:service:WANIPConnection:2#AddPortMapping");
	ck_assert_uint_eq(req.head_len, strlen(text) - 12);
}
END_TEST

START_TEST(test_gena_headers)
{
	struct http_request req;

	ck_assert_int_eq(parse("SUBSCRIBE /evt/IPConn HTTP/1.1\r\nHOST: 10.0.0.1\r\n"
			       "CALLBACK: <http://192.168.77.10:4000/>\r\nNT: upnp:event\r\n"
			       "TIMEOUT: Second-1800\r\n\r\n", &req), 200);
	ck_assert_int_eq(req.method, HTTP_SUBSCRIBE);
	ck_assert_str_eq(req.callback, "<http://192.168.77.10:4000/>");
	ck_assert_str_eq(req.nt, "upnp:event");
	ck_assert_str_eq(req.timeout, "Second-1800");
	ck_assert_int_eq(parse("UNSUBSCRIBE /evt/IPConn HTTP/1.1\r\nHost: h\r\nSID: uuid:x\r\n\r\n",
			       &req), 200);
	ck_assert_int_eq(req.method, HTTP_UNSUBSCRIBE);
	ck_assert_str_eq(req.sid, "uuid:x");
}
END_TEST

START_TEST(test_incomplete_until_blank_line)
{
	static const char text[] = "GET /rootDesc.xml HTTP/1.0\r\nHost: a\r\n\r\n";
	struct http_request req;

	for (size_t n = 0; n < sizeof(text) - 1; n++)
		ck_assert_int_eq(http_parse_head(text, n, &req), HTTP_INCOMPLETE);
	ck_assert_int_eq(http_parse_head(text, sizeof(text) - 1, &req), 200);
	ck_assert_int_eq(req.method, HTTP_GET);
}
END_TEST

START_TEST(test_refusals)
{
	static const struct {
		const char *text;
		int status;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", 400 },                       /* no Host */
		{ "GET / HTTP/1.0\r\n\r\n", 200 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET / FTP/1.0\r\n\r\n", 400 },
		{ "GET  / HTTP/1.0\r\n\r\n", 400 },
		{ "GET http://a/ HTTP/1.0\r\n\r\n", 400 },
		{ "G(T / HTTP/1.0\r\n\r\n", 400 },
		{ "BREW / HTTP/1.0\r\n\r\n", 200 },                      /* HTTP_OTHER: 405 later */
		{ "POST / HTTP/1.0\r\n\r\n", 411 },
		{ "POST / HTTP/1.0\r\nContent-Length: 16385\r\n\r\n", 413 },
		{ "POST / HTTP/1.0\r\nContent-Length: 99999999999999999999\r\n\r\n", 413 },
		{ "POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "POST / HTTP/1.0\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", 200 },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 501 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/1.0\r\n folded: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.0\r\nno colon\r\n\r\n", 400 },
		{ "GET / HTTP/1.0\r\n: empty name\r\n\r\n", 400 },
		{ "GET / HTTP/1.0\r\nA: b\nC: d\r\n\r\n", 400 },         /* bare LF */
		{ "GET / HTTP/1.0\r\nA: b\rC: d\r\n\r\n", 400 },         /* bare CR */
		{ "GET / HTTP/1.0\r\nA: \x7f\r\n\r\n", 400 },
		{ "\r\n\r\n", 400 },
	};
	struct http_request req;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(parse(cases[i].text, &req) == cases[i].status, "case %zu: %d not %d",
			      i, parse(cases[i].text, &req), cases[i].status);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "GET / HTTP/1.0\r\nA: b\0c\r\n\r\n";
	struct http_request req;

	ck_assert_int_eq(http_parse_head(text, sizeof(text) - 1, &req), 400);
}
END_TEST

START_TEST(test_size_limits)
{
	char *text = malloc(HTTP_HEAD_MAX * 2);
	struct http_request req;
	size_t n;

	/* A head that never ends is refused once it passes the limit. */
	n = (size_t)snprintf(text, HTTP_HEAD_MAX, "GET / HTTP/1.0\r\nX: ");
	memset(text + n, 'a', HTTP_HEAD_MAX * 2 - n);
	ck_assert_int_eq(http_parse_head(text, HTTP_HEAD_MAX - 1, &req), HTTP_INCOMPLETE);
	ck_assert_int_eq(http_parse_head(text, HTTP_HEAD_MAX, &req), 431);
	ck_assert_int_eq(http_parse_head(text, HTTP_HEAD_MAX * 2, &req), 431);

	/* Too many lines. */
	n = (size_t)snprintf(text, HTTP_HEAD_MAX, "GET / HTTP/1.0\r\n");
	for (int i = 0; i < HTTP_HEADER_LINES_MAX + 1; i++)
		n += (size_t)snprintf(text + n, HTTP_HEAD_MAX - n, "X-%d: y\r\n", i);
	n += (size_t)snprintf(text + n, HTTP_HEAD_MAX - n, "\r\n");
	ck_assert_int_eq(http_parse_head(text, n, &req), 431);

	/* A path over HTTP_PATH_MAX. */
	n = (size_t)snprintf(text, HTTP_HEAD_MAX, "GET /");
	memset(text + n, 'p', HTTP_PATH_MAX);
	n += HTTP_PATH_MAX;
	n += (size_t)snprintf(text + n, HTTP_HEAD_MAX - n, " HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(http_parse_head(text, n, &req), 414);

	/* A kept field over its buffer. */
	n = (size_t)snprintf(text, HTTP_HEAD_MAX, "GET / HTTP/1.0\r\nSOAPAction: ");
	memset(text + n, 's', HTTP_FIELD_MAX + 1);
	n += HTTP_FIELD_MAX + 1;
	n += (size_t)snprintf(text + n, HTTP_HEAD_MAX - n, "\r\n\r\n");
	ck_assert_int_eq(http_parse_head(text, n, &req), 431);
	free(text);
}
END_TEST

/* Random bytes around a valid head never read out of bounds (ASan build)
 * and always get a definite answer. */
START_TEST(test_mutations)
{
	static const char base[] = "POST /ctl/IPConn HTTP/1.1\r\nHost: 192.168.77.1:5000\r\n"
				   "Content-Length: 10\r\nSOAPAction: \"a#b\"\r\n\r\n";
	struct http_request req;

	srand(7);
	for (int i = 0; i < 20000; i++) {
		size_t n = sizeof(base) - 1;
		char *copy = malloc(n);
		int rc;

		memcpy(copy, base, n);
		for (int k = 0; k < 1 + rand() % 4; k++)
			copy[rand() % (int)n] = (char)(rand() & 0xff);
		n = (size_t)rand() % (n + 1);
		rc = http_parse_head(copy, n, &req);
		ck_assert(rc == HTTP_INCOMPLETE || (rc >= 200 && rc <= 505));
		if (rc == 200)
			ck_assert_uint_le(req.head_len, n);
		free(copy);
	}
}
END_TEST

START_TEST(test_host_check)
{
	ck_assert(http_host_is("192.168.77.1:5000", "192.168.77.1", 5000));
	ck_assert(http_host_is("192.168.77.1", "192.168.77.1", 5000));
	ck_assert(!http_host_is("192.168.77.1:80", "192.168.77.1", 5000));
	ck_assert(!http_host_is("192.168.77.1:5000x", "192.168.77.1", 5000));
	ck_assert(!http_host_is("192.168.77.2:5000", "192.168.77.1", 5000));
	ck_assert(!http_host_is("rebind.example:5000", "192.168.77.1", 5000));
	ck_assert(!http_host_is("", "192.168.77.1", 5000));
	ck_assert(http_host_is("[2001:db8:77::1]:5000", "2001:db8:77::1", 5000));
	ck_assert(http_host_is("[fe80::1%25eth0]:5000", "fe80::1", 5000));
	ck_assert(!http_host_is("[2001:db8:77::1:5000", "2001:db8:77::1", 5000));
	ck_assert(!http_host_is("[2001:db8:77::1]x", "2001:db8:77::1", 5000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("head");

	tcase_add_test(tc, test_soap_post);
	tcase_add_test(tc, test_gena_headers);
	tcase_add_test(tc, test_incomplete_until_blank_line);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_size_limits);
	tcase_add_test(tc, test_mutations);
	tcase_add_test(tc, test_host_check);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
