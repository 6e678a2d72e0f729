/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The other side of UPnP: what a control point (a client of an IGD) sends
 * and reads, for an upstream gateway that maps ports over UPnP only.
 * SSDP search responses, the device description's WAN connection
 * service, SOAP calls and their answers, HTTP responses. Everything read
 * comes from a device on the WAN link: parsed with fixed bounds, no
 * DOCTYPE (no entity is ever expanded), URLs only to an IPv4 literal.
 * Pure: no sockets. */
#ifndef PORTLEASED_CONTROL_POINT_H
#define PORTLEASED_CONTROL_POINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CP_PATH_MAX 255
#define CP_TYPE_MAX 127
#define CP_RESPONSE_MAX (64 * 1024)  /* a description is a few KB, a SOAP answer less */
#define CP_HEAD_MAX 8192
#define CP_VALUES_MAX 16
#define CP_NAME_MAX 63
#define CP_VALUE_MAX 255

/* The search targets asked for, best first: an IGD:2 offers AddAnyPortMapping. */
#define CP_ST_IGD2 "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
#define CP_ST_IGD1 "urn:schemas-upnp-org:device:InternetGatewayDevice:1"

/* An http:// URL to an IPv4 literal: where a description or a control
 * endpoint is. */
struct cp_url {
	struct in_addr addr;
	uint16_t port;
	char path[CP_PATH_MAX + 1];  /* starts with '/' */
};

/* 0 and *out for "http://a.b.c.d[:port][/path]"; -1 for anything else (a
 * host name, IPv6, another scheme, a path too long or with spaces or
 * control characters). */
int cp_parse_url(const char *text, size_t len, struct cp_url *out);

/* A search response from an IGD. */
struct cp_search_answer {
	bool igd2;             /* its ST names InternetGatewayDevice:2 */
	struct cp_url location;
};

/* 0 for an "HTTP/1.x 200" response whose ST names an InternetGatewayDevice
 * and whose LOCATION is a URL cp_parse_url takes; -1 otherwise. */
int cp_parse_search_answer(const char *buf, size_t len, struct cp_search_answer *out);

/* The M-SEARCH text for st, asking for answers within mx seconds. */
size_t cp_build_search(char *buf, size_t cap, const char *st, unsigned mx);

/* The WAN connection service a description offers, best first:
 * WANIPConnection:2, WANIPConnection:1, WANPPPConnection:1. */
struct cp_service {
	char type[CP_TYPE_MAX + 1];
	struct cp_url control;  /* resolved against the description's URL */
	bool v2;                /* WANIPConnection:2: AddAnyPortMapping */
};

/* 0 and *out when the description (fetched from `from`) offers a WAN
 * connection service whose control URL is on from's host; -1 otherwise
 * (no such service, malformed XML, a DOCTYPE, too deep, a control URL
 * elsewhere). */
int cp_find_service(const char *xml, size_t len, const struct cp_url *from,
		    struct cp_service *out);

/* An HTTP response, whole. */
struct cp_http_response {
	int status;
	const char *body;  /* into the buffer given (or the decoded copy: see below) */
	size_t body_len;
};

#define CP_HTTP_INCOMPLETE 0
#define CP_HTTP_COMPLETE 1
/* Judges buf[0, len): CP_HTTP_INCOMPLETE (more is needed; eof: the peer
 * closed, so a body without a length ends here), CP_HTTP_COMPLETE with
 * *out, or -1 (malformed, over CP_HEAD_MAX or CP_RESPONSE_MAX, a transfer
 * coding other than chunked). A chunked body is decoded in place, so buf
 * is written. */
int cp_parse_http_response(char *buf, size_t len, bool eof, struct cp_http_response *out);

/* A SOAP call's request: the HTTP POST with its envelope. args are
 * name/value pairs (values escaped here). 0 when it does not fit. */
struct cp_arg {
	const char *name;
	const char *value;
};
size_t cp_build_call(char *buf, size_t cap, const struct cp_url *control, const char *service_type,
		     const char *action, const struct cp_arg *args, size_t nargs);

/* A SOAP answer: its leaf elements by local name (the output arguments,
 * or a fault's errorCode and errorDescription). */
struct cp_answer {
	size_t nvalues;
	struct {
		char name[CP_NAME_MAX + 1];
		char value[CP_VALUE_MAX + 1];
	} values[CP_VALUES_MAX];
};

/* 0 for a well-formed XML document of at most a few levels and
 * CP_VALUES_MAX leaves; -1 otherwise (a DOCTYPE too). */
int cp_parse_answer(const char *body, size_t len, struct cp_answer *out);
/* The value of the leaf named name, or NULL. */
const char *cp_answer_value(const struct cp_answer *a, const char *name);

/* What a call's HTTP response says: 0 (HTTP 200), the UPnP error code of
 * a fault (HTTP 500 with a UPnPError), or -1 (anything else). */
int cp_call_result(const struct cp_http_response *r, struct cp_answer *out);

#endif
