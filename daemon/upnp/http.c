/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/http.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define METHOD_MAX 16

/* RFC 9110 §5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_field_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

static enum http_method method_of(const char *m, size_t n)
{
	static const struct {
		const char *name;
		enum http_method method;
	} known[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
		{ "SUBSCRIBE", HTTP_SUBSCRIBE }, { "UNSUBSCRIBE", HTTP_UNSUBSCRIBE },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == n && memcmp(known[i].name, m, n) == 0)
			return known[i].method;
	return HTTP_OTHER;
}

/* "METHOD SP origin-form SP HTTP/1.x" */
static int parse_request_line(const char *line, size_t n, struct http_request *req,
			      bool *http11)
{
	const char *sp1 = memchr(line, ' ', n), *sp2, *version;
	size_t mlen, plen, vlen;

	if (!sp1)
		return 400;
	mlen = (size_t)(sp1 - line);
	if (mlen == 0 || mlen > METHOD_MAX)
		return 400;
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return 400;
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!sp2)
		return 400;
	plen = (size_t)(sp2 - sp1 - 1);
	if (plen == 0 || sp1[1] != '/')
		return 400;
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)sp1[1 + i] <= 0x20 || (unsigned char)sp1[1 + i] >= 0x7f)
			return 400;
	if (plen > HTTP_PATH_MAX)
		return 414;
	version = sp2 + 1;
	vlen = n - (size_t)(version - line);
	if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.')
		return 400;
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return 505;
	req->method = method_of(line, mlen);
	memcpy(req->path, sp1 + 1, plen);
	req->path[plen] = '\0';
	*http11 = version[7] == '1';
	return 200;
}

static bool copy_field(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return true;
}

static int parse_content_length(const char *v, size_t n, struct http_request *req)
{
	size_t value = 0;

	if (n == 0 || n > 9)
		return n == 0 ? 400 : 413;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		value = value * 10 + (size_t)(v[i] - '0');
	}
	if (req->has_content_length && req->content_length != value)
		return 400;
	if (value > HTTP_BODY_MAX)
		return 413;
	req->has_content_length = true;
	req->content_length = value;
	return 0;
}

static int parse_header_line(const char *line, size_t n, struct http_request *req)
{
	const char *colon = memchr(line, ':', n), *v, *end = line + n;
	size_t namelen;
	char *field = NULL;
	size_t cap = 0;

	if (!colon || colon == line)
		return 400;
	namelen = (size_t)(colon - line);
	for (size_t i = 0; i < namelen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return 400;
	v = colon + 1;
	for (const char *p = v; p < end; p++)
		if (!is_field_char((unsigned char)*p))
			return 400;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;

#define IS(name) (namelen == sizeof(name) - 1 && strncasecmp(line, name, namelen) == 0)
	if (IS("Content-Length"))
		return parse_content_length(v, (size_t)(end - v), req);
	if (IS("Transfer-Encoding"))
		return 501;
	if (IS("Host")) {
		if (req->has_host)
			return 400;
		req->has_host = true;
		field = req->host;
		cap = sizeof(req->host);
	} else if (IS("SOAPAction")) {
		if (end - v >= 2 && *v == '"' && end[-1] == '"') {
			v++;
			end--;
		}
		field = req->soapaction;
		cap = sizeof(req->soapaction);
	} else if (IS("CALLBACK")) {
		field = req->callback;
		cap = sizeof(req->callback);
	} else if (IS("NT")) {
		field = req->nt;
		cap = sizeof(req->nt);
	} else if (IS("SID")) {
		field = req->sid;
		cap = sizeof(req->sid);
	} else if (IS("TIMEOUT")) {
		field = req->timeout;
		cap = sizeof(req->timeout);
	}
#undef IS
	if (field && !copy_field(field, cap, v, (size_t)(end - v)))
		return 431;
	return 0;
}

/* The end of the head (just past CRLFCRLF), or NULL. */
static const char *head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

int http_parse_head(const char *buf, size_t len, struct http_request *req)
{
	size_t scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *end = head_end(buf, scan), *line = buf, *eol;
	unsigned lines = 0;
	bool http11 = false;
	int rc;

	if (!end)
		return len >= HTTP_HEAD_MAX ? 431 : HTTP_INCOMPLETE;
	memset(req, 0, sizeof(*req));
	req->head_len = (size_t)(end - buf);
	/* end - 2 is the empty line's CRLF: every line before it ends in CRLF. */
	for (; line < end - 2; line = eol + 2) {
		eol = line;
		while (!(eol[0] == '\r' && eol[1] == '\n')) {
			if (*eol == '\r' || *eol == '\n' || *eol == '\0')
				return 400;
			eol++;
		}
		if (lines == 0) {
			rc = parse_request_line(line, (size_t)(eol - line), req, &http11);
			if (rc != 200)
				return rc;
		} else {
			if (lines > HTTP_HEADER_LINES_MAX)
				return 431;
			rc = parse_header_line(line, (size_t)(eol - line), req);
			if (rc)
				return rc;
		}
		lines++;
	}
	if (lines == 0)
		return 400;
	/* RFC 9112 §3.2: an HTTP/1.1 request without Host is malformed. */
	if (http11 && !req->has_host)
		return 400;
	if (req->method == HTTP_POST && !req->has_content_length)
		return 411;
	return 200;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

static bool same_ip_literal(const char *a, size_t alen, const char *b)
{
	unsigned char x[16], y[16];
	char text[INET6_ADDRSTRLEN];
	int family = memchr(a, ':', alen) ? AF_INET6 : AF_INET;

	if (alen >= sizeof(text))
		return false;
	memcpy(text, a, alen);
	text[alen] = '\0';
	/* A link-local literal may carry a zone: compare the address alone. */
	if (family == AF_INET6 && strchr(text, '%'))
		*strchr(text, '%') = '\0';
	return inet_pton(family, text, x) == 1 && inet_pton(family, b, y) == 1 &&
	       memcmp(x, y, family == AF_INET6 ? 16 : 4) == 0;
}

bool http_host_is(const char *host, const char *addr, unsigned port)
{
	const char *name = host, *name_end, *colon;
	unsigned long p;
	char *stop;

	if (*host == '[') {
		name = host + 1;
		name_end = strchr(name, ']');
		if (!name_end)
			return false;
		colon = name_end[1] == ':' ? name_end + 1 : NULL;
		if (!colon && name_end[1] != '\0')
			return false;
	} else {
		colon = strchr(host, ':');
		name_end = colon ? colon : host + strlen(host);
	}
	if (!same_ip_literal(name, (size_t)(name_end - name), addr))
		return false;
	if (!colon)
		return true;
	if (colon[1] < '0' || colon[1] > '9')
		return false;
	p = strtoul(colon + 1, &stop, 10);
	return *stop == '\0' && p == port;
}
