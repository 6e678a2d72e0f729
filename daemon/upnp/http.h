/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP/1.1 request heads from LAN hosts, parsed with fixed bounds: the UPnP
 * description, control (SOAP) and eventing (GENA) requests. Pure: bytes in,
 * struct out, no I/O. Only the headers UPnP needs are kept; the rest are
 * checked for form and skipped. */
#ifndef PORTLEASED_HTTP_H
#define PORTLEASED_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_HEAD_MAX 8192      /* request line and headers, CRLFCRLF included */
#define HTTP_BODY_MAX 16384     /* a SOAP request is a few hundred bytes */
#define HTTP_HEADER_LINES_MAX 40
#define HTTP_PATH_MAX 128
#define HTTP_HOST_MAX 64
#define HTTP_FIELD_MAX 256

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_SUBSCRIBE,
	HTTP_UNSUBSCRIBE,
	HTTP_OTHER,  /* well formed, not served: 405 */
};

struct http_request {
	enum http_method method;
	char path[HTTP_PATH_MAX + 1];
	bool has_host;
	char host[HTTP_HOST_MAX + 1];
	bool has_content_length;
	size_t content_length;
	char soapaction[HTTP_FIELD_MAX + 1];  /* quotes removed */
	char callback[HTTP_FIELD_MAX + 1];    /* GENA */
	char nt[HTTP_FIELD_MAX + 1];
	char sid[HTTP_FIELD_MAX + 1];
	char timeout[HTTP_FIELD_MAX + 1];
	size_t head_len;                      /* bytes of the head, CRLFCRLF included */
};

/* More bytes are needed before the head can be judged. */
#define HTTP_INCOMPLETE 0

/*
 * Parses the head at the start of buf[0, len). Returns HTTP_INCOMPLETE,
 * 200 with *req filled, or the status to refuse it with: 400 (malformed),
 * 411 (a body without Content-Length), 413 (body over HTTP_BODY_MAX), 414
 * (path too long), 431 (head over HTTP_HEAD_MAX), 501 (a transfer coding),
 * 505 (not HTTP/1.x).
 */
int http_parse_head(const char *buf, size_t len, struct http_request *req);

const char *http_status_text(int status);

/* Whether host (a Host header) names addr, an IP literal in text form
 * ("192.168.1.1" or "fe80::1"; IPv6 bracketed in the header), on port.
 * A DNS name never does: that is how DNS rebinding is refused. */
bool http_host_is(const char *host, const char *addr, unsigned port);

#endif
