/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/control_point.h"

#include <arpa/inet.h>
#include <expat.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An SSDP answer is a few hundred bytes; anything larger is not one. */
#define SEARCH_ANSWER_MAX 2048
/* root, device, deviceList, device, deviceList, device, serviceList,
 * service, controlURL: 9; a little more for vendors' extras. */
#define DESC_DEPTH_MAX 16
/* Envelope, Body, response or Fault, detail, UPnPError, errorCode. */
#define ANSWER_DEPTH_MAX 8
/* A control URL or URLBase, absolute: a path and the scheme and host. */
#define DESC_TEXT_MAX (CP_PATH_MAX + 1 + 32)

static bool url_char_ok(char c)
{
	return c > 0x20 && c < 0x7f;
}

int cp_parse_url(const char *text, size_t len, struct cp_url *out)
{
	static const char scheme[] = "http://";
	char host[INET_ADDRSTRLEN];
	size_t i = sizeof(scheme) - 1, h = 0, p = 0;
	unsigned long port = 80;

	memset(out, 0, sizeof(*out));
	if (len < i || strncasecmp(text, scheme, i) != 0)
		return -1;
	while (i < len && text[i] != ':' && text[i] != '/') {
		if (h + 1 >= sizeof(host) || !((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
			return -1;
		host[h++] = text[i++];
	}
	host[h] = '\0';
	if (inet_pton(AF_INET, host, &out->addr) != 1)
		return -1;
	if (i < len && text[i] == ':') {
		size_t digits = 0;

		port = 0;
		for (i++; i < len && text[i] >= '0' && text[i] <= '9' && digits < 5; i++, digits++)
			port = port * 10 + (unsigned long)(text[i] - '0');
		if (!digits || port == 0 || port > 65535)
			return -1;
	}
	if (i < len && text[i] != '/')
		return -1;
	out->port = (uint16_t)port;
	for (; i < len; i++) {
		if (p >= CP_PATH_MAX || !url_char_ok(text[i]))
			return -1;
		out->path[p++] = text[i];
	}
	if (!p)
		out->path[p++] = '/';
	out->path[p] = '\0';
	return 0;
}

/* The next line of buf[*pos, len) without its CR LF (or LF); false at the end. */
static bool next_line(const char *buf, size_t len, size_t *pos, const char **line, size_t *line_len)
{
	size_t start = *pos, end;

	if (start >= len)
		return false;
	for (end = start; end < len && buf[end] != '\n'; end++)
		;
	*line = buf + start;
	*line_len = end - start;
	if (*line_len && buf[end - 1] == '\r' && end < len)
		(*line_len)--;
	*pos = end < len ? end + 1 : len;
	return true;
}

/* Whether line is "name: value", name matched in any case; the value trimmed. */
static bool header_value(const char *line, size_t line_len, const char *name, const char **value,
			 size_t *value_len)
{
	size_t n = strlen(name), i;

	if (line_len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	for (i = n + 1; i < line_len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	*value = line + i;
	*value_len = line_len - i;
	while (*value_len && ((*value)[*value_len - 1] == ' ' || (*value)[*value_len - 1] == '\t'))
		(*value_len)--;
	return true;
}

static bool status_line_ok(const char *line, size_t line_len, int *status)
{
	if (line_len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
	    line[11] > '9' || (line_len > 12 && line[12] != ' '))
		return false;
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	return true;
}

int cp_parse_search_answer(const char *buf, size_t len, struct cp_search_answer *out)
{
	const char *line, *value;
	size_t pos = 0, line_len, value_len;
	bool has_location = false, has_st = false;
	int status;

	memset(out, 0, sizeof(*out));
	if (len > SEARCH_ANSWER_MAX || !next_line(buf, len, &pos, &line, &line_len) ||
	    !status_line_ok(line, line_len, &status) || status != 200)
		return -1;
	while (next_line(buf, len, &pos, &line, &line_len) && line_len) {
		if (header_value(line, line_len, "LOCATION", &value, &value_len)) {
			if (has_location || cp_parse_url(value, value_len, &out->location) < 0)
				return -1;
			has_location = true;
		} else if (header_value(line, line_len, "ST", &value, &value_len)) {
			if (value_len == sizeof(CP_ST_IGD2) - 1 && memcmp(value, CP_ST_IGD2, value_len) == 0)
				out->igd2 = true;
			else if (value_len != sizeof(CP_ST_IGD1) - 1 ||
				 memcmp(value, CP_ST_IGD1, value_len) != 0)
				return -1;
			has_st = true;
		}
	}
	return has_location && has_st ? 0 : -1;
}

size_t cp_build_search(char *buf, size_t cap, const char *st, unsigned mx)
{
	int n = snprintf(buf, cap,
			 "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
			 "MAN: \"ssdp:discover\"\r\nMX: %u\r\nST: %s\r\n\r\n", mx, st);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* --- the description --- */

/* What both parsers' states begin with: one stop and one DOCTYPE refusal
 * serve them. */
struct xml_walk {
	XML_Parser parser;
	bool failed;
};

static void walk_fail(struct xml_walk *w)
{
	w->failed = true;
	XML_StopParser(w->parser, XML_FALSE);
}

/* No DOCTYPE, so that no entity is ever declared, let alone expanded. */
static void XMLCALL refuse_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
				   const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	walk_fail(data);
}

/* A parser for walker (whose state starts with struct xml_walk), or NULL. */
static XML_Parser walk_parser(struct xml_walk *w, bool namespaces)
{
	XML_Parser p = namespaces ? XML_ParserCreateNS(NULL, ' ') : XML_ParserCreate(NULL);

	if (p) {
		w->parser = p;
		XML_SetUserData(p, w);
		XML_SetStartDoctypeDeclHandler(p, refuse_doctype);
	}
	return p;
}

enum desc_field { FIELD_NONE, FIELD_SERVICE_TYPE, FIELD_CONTROL_URL, FIELD_URL_BASE };

struct desc_state {
	struct xml_walk walk;  /* first */
	unsigned depth;
	bool in_service;
	enum desc_field field;
	char text[DESC_TEXT_MAX];  /* the field being read */
	size_t text_len;
	bool text_too_long;
	char service_type[CP_TYPE_MAX + 1];
	char control_url[DESC_TEXT_MAX];
	char url_base[DESC_TEXT_MAX];
	int best_rank;  /* 0: none yet; else 3 - index in wanted */
	char best_type[CP_TYPE_MAX + 1];
	char best_control[DESC_TEXT_MAX];
};

static const char *const wanted_services[] = {
	"urn:schemas-upnp-org:service:WANIPConnection:2",
	"urn:schemas-upnp-org:service:WANIPConnection:1",
	"urn:schemas-upnp-org:service:WANPPPConnection:1",
};

/* "prefix:local" or "local": the local name. */
static const char *unprefixed(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon ? colon + 1 : name;
}

static void XMLCALL desc_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct desc_state *st = data;
	const char *local = unprefixed(name);

	(void)attrs;
	if (++st->depth > DESC_DEPTH_MAX) {
		walk_fail(&st->walk);
		return;
	}
	st->field = FIELD_NONE;
	st->text_len = 0;
	st->text_too_long = false;
	if (strcmp(local, "service") == 0) {
		st->in_service = true;
		st->service_type[0] = st->control_url[0] = '\0';
	} else if (st->in_service && strcmp(local, "serviceType") == 0) {
		st->field = FIELD_SERVICE_TYPE;
	} else if (st->in_service && strcmp(local, "controlURL") == 0) {
		st->field = FIELD_CONTROL_URL;
	} else if (st->depth == 2 && strcmp(local, "URLBase") == 0) {
		st->field = FIELD_URL_BASE;
	}
}

static void XMLCALL desc_text(void *data, const XML_Char *s, int len)
{
	struct desc_state *st = data;

	if (st->field == FIELD_NONE || len <= 0)
		return;
	if (st->text_len + (size_t)len >= sizeof(st->text)) {
		st->text_too_long = true;
		return;
	}
	memcpy(st->text + st->text_len, s, (size_t)len);
	st->text_len += (size_t)len;
}

/* The text read, trimmed of the white space around it. */
static void take_text(struct desc_state *st, char *dst, size_t cap)
{
	const char *s = st->text;
	size_t n = st->text_len;

	while (n && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (st->text_too_long || n >= cap) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void XMLCALL desc_end(void *data, const XML_Char *name)
{
	struct desc_state *st = data;

	st->depth--;
	switch (st->field) {
	case FIELD_SERVICE_TYPE:
		take_text(st, st->service_type, sizeof(st->service_type));
		break;
	case FIELD_CONTROL_URL:
		take_text(st, st->control_url, sizeof(st->control_url));
		break;
	case FIELD_URL_BASE:
		take_text(st, st->url_base, sizeof(st->url_base));
		break;
	case FIELD_NONE:
		break;
	}
	st->field = FIELD_NONE;
	if (st->in_service && strcmp(unprefixed(name), "service") == 0) {
		st->in_service = false;
		for (size_t i = 0; i < sizeof(wanted_services) / sizeof(wanted_services[0]); i++) {
			int rank = 3 - (int)i;

			if (strcmp(st->service_type, wanted_services[i]) == 0 && st->control_url[0] &&
			    rank > st->best_rank) {
				st->best_rank = rank;
				strcpy(st->best_type, st->service_type);
				strcpy(st->best_control, st->control_url);
			}
		}
	}
}

/* ref (a control URL) against base: absolute, from the root, or beside
 * base's path. */
static int resolve(const char *ref, const struct cp_url *base, struct cp_url *out)
{
	size_t dir_len, ref_len = strlen(ref);
	const char *slash;

	if (strncasecmp(ref, "http://", 7) == 0)
		return cp_parse_url(ref, ref_len, out);
	*out = *base;
	if (ref[0] == '/') {
		dir_len = 0;
	} else {
		slash = strrchr(base->path, '/');
		dir_len = slash ? (size_t)(slash - base->path) + 1 : 0;
	}
	if (dir_len + ref_len > CP_PATH_MAX || !ref_len)
		return -1;
	for (size_t i = 0; i < ref_len; i++)
		if (!url_char_ok(ref[i]))
			return -1;
	memcpy(out->path + dir_len, ref, ref_len);
	out->path[dir_len + ref_len] = '\0';
	if (out->path[0] != '/')
		return -1;
	return 0;
}

int cp_find_service(const char *xml, size_t len, const struct cp_url *from, struct cp_service *out)
{
	struct desc_state st = { 0 };
	struct cp_url base = *from;
	XML_Parser p;
	enum XML_Status status;

	memset(out, 0, sizeof(*out));
	if (len > CP_RESPONSE_MAX || !(p = walk_parser(&st.walk, false)))
		return -1;
	XML_SetElementHandler(p, desc_start, desc_end);
	XML_SetCharacterDataHandler(p, desc_text);
	status = XML_Parse(p, xml, (int)len, XML_TRUE);
	XML_ParserFree(p);
	if (status != XML_STATUS_OK || st.walk.failed || !st.best_rank)
		return -1;
	if (st.url_base[0] && (cp_parse_url(st.url_base, strlen(st.url_base), &base) < 0 ||
			       base.addr.s_addr != from->addr.s_addr))
		return -1;
	if (resolve(st.best_control, &base, &out->control) < 0 ||
	    out->control.addr.s_addr != from->addr.s_addr)
		return -1;
	strcpy(out->type, st.best_type);
	out->v2 = st.best_rank == 3;
	return 0;
}

/* --- HTTP responses --- */

/* The end of a chunked body starting at buf[start, len): 1 with the
 * decoded length when it is all there (decode: written in place), 0 when
 * more is needed, -1 when malformed. */
static int dechunk(char *buf, size_t start, size_t len, bool decode, size_t *decoded)
{
	size_t pos = start, out = start;

	for (;;) {
		size_t size = 0, digits = 0;

		while (pos < len && buf[pos] != '\r' && buf[pos] != ';') {
			char c = buf[pos++];
			int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

			if (v < 0 || ++digits > 6)
				return -1;
			size = size * 16 + (size_t)v;
		}
		while (pos < len && buf[pos] != '\r')  /* a chunk extension: skipped */
			pos++;
		if (pos + 1 >= len)
			return 0;
		if (!digits || buf[pos + 1] != '\n')
			return -1;
		pos += 2;
		if (size == 0)
			break;
		if (out - start + size > CP_RESPONSE_MAX)
			return -1;
		if (pos + size + 2 > len)
			return 0;
		if (buf[pos + size] != '\r' || buf[pos + size + 1] != '\n')
			return -1;
		if (decode)
			memmove(buf + out, buf + pos, size);
		out += size;
		pos += size + 2;
	}
	*decoded = out - start;
	return 1;
}

int cp_parse_http_response(char *buf, size_t len, bool eof, struct cp_http_response *out)
{
	const char *line, *value;
	size_t pos = 0, line_len, value_len, head_len = 0, content_length = 0, decoded;
	bool has_length = false, chunked = false;
	int r;

	memset(out, 0, sizeof(*out));
	for (size_t i = 3; i < len && i < CP_HEAD_MAX; i++)
		if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0) {
			head_len = i + 1;
			break;
		}
	if (!head_len)
		return len >= CP_HEAD_MAX || eof ? -1 : CP_HTTP_INCOMPLETE;
	if (!next_line(buf, head_len, &pos, &line, &line_len) ||
	    !status_line_ok(line, line_len, &out->status))
		return -1;
	while (next_line(buf, head_len, &pos, &line, &line_len) && line_len) {
		if (header_value(line, line_len, "Content-Length", &value, &value_len)) {
			content_length = 0;
			if (has_length || !value_len || value_len > 6)
				return -1;
			for (size_t i = 0; i < value_len; i++) {
				if (value[i] < '0' || value[i] > '9')
					return -1;
				content_length = content_length * 10 + (size_t)(value[i] - '0');
			}
			if (content_length > CP_RESPONSE_MAX)
				return -1;
			has_length = true;
		} else if (header_value(line, line_len, "Transfer-Encoding", &value, &value_len)) {
			if (value_len != 7 || strncasecmp(value, "chunked", 7) != 0)
				return -1;
			chunked = true;
		}
	}
	out->body = buf + head_len;
	if (chunked) {
		if ((r = dechunk(buf, head_len, len, false, &decoded)) <= 0)
			return r < 0 || eof ? -1 : CP_HTTP_INCOMPLETE;
		(void)dechunk(buf, head_len, len, true, &decoded);
		out->body_len = decoded;
		return CP_HTTP_COMPLETE;
	}
	if (has_length) {
		if (len - head_len < content_length)
			return eof ? -1 : CP_HTTP_INCOMPLETE;
		out->body_len = content_length;
		return CP_HTTP_COMPLETE;
	}
	if (len - head_len > CP_RESPONSE_MAX)
		return -1;
	if (!eof)
		return CP_HTTP_INCOMPLETE;
	out->body_len = len - head_len;
	return CP_HTTP_COMPLETE;
}

/* --- SOAP --- */

/* Appends text escaped as XML character data; false when it does not fit. */
static bool put_escaped(char *buf, size_t cap, size_t *n, const char *text)
{
	for (; *text; text++) {
		const char *rep = *text == '&' ? "&amp;" : *text == '<' ? "&lt;" :
				  *text == '>' ? "&gt;" : *text == '"' ? "&quot;" :
				  *text == '\'' ? "&apos;" : NULL;
		size_t rep_len = rep ? strlen(rep) : 1;

		if (*n + rep_len >= cap)
			return false;
		memcpy(buf + *n, rep ? rep : text, rep_len);
		*n += rep_len;
	}
	buf[*n] = '\0';
	return true;
}

static bool put(char *buf, size_t cap, size_t *n, const char *text)
{
	size_t len = strlen(text);

	if (*n + len >= cap)
		return false;
	memcpy(buf + *n, text, len + 1);
	*n += len;
	return true;
}

size_t cp_build_call(char *buf, size_t cap, const struct cp_url *control, const char *service_type,
		     const char *action, const struct cp_arg *args, size_t nargs)
{
	char body[2048], host[INET_ADDRSTRLEN];
	size_t n = 0;
	int head;

	if (!put(body, sizeof(body), &n, "<?xml version=\"1.0\"?>\r\n<s:Envelope "
		 "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		 "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:") ||
	    !put(body, sizeof(body), &n, action) || !put(body, sizeof(body), &n, " xmlns:u=\"") ||
	    !put_escaped(body, sizeof(body), &n, service_type) || !put(body, sizeof(body), &n, "\">"))
		return 0;
	for (size_t i = 0; i < nargs; i++)
		if (!put(body, sizeof(body), &n, "<") || !put(body, sizeof(body), &n, args[i].name) ||
		    !put(body, sizeof(body), &n, ">") ||
		    !put_escaped(body, sizeof(body), &n, args[i].value) ||
		    !put(body, sizeof(body), &n, "</") || !put(body, sizeof(body), &n, args[i].name) ||
		    !put(body, sizeof(body), &n, ">"))
			return 0;
	if (!put(body, sizeof(body), &n, "</u:") || !put(body, sizeof(body), &n, action) ||
	    !put(body, sizeof(body), &n, "></s:Body></s:Envelope>\r\n"))
		return 0;
	inet_ntop(AF_INET, &control->addr, host, sizeof(host));
	head = snprintf(buf, cap,
			"POST %s HTTP/1.1\r\nHost: %s:%u\r\n"
			"Content-Type: text/xml; charset=\"utf-8\"\r\n"
			"SOAPAction: \"%s#%s\"\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			control->path, host, control->port, service_type, action, n);
	if (head < 0 || (size_t)head + n >= cap)
		return 0;
	memcpy(buf + head, body, n + 1);
	return (size_t)head + n;
}

struct answer_state {
	struct xml_walk walk;  /* first */
	struct cp_answer *out;
	unsigned depth;
	bool leaf;  /* the element open now has no child yet */
	char text[CP_VALUE_MAX + 1];
	size_t text_len;
	bool text_too_long;
};

static void XMLCALL answer_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct answer_state *st = data;

	(void)name;
	(void)attrs;
	if (++st->depth > ANSWER_DEPTH_MAX) {
		walk_fail(&st->walk);
		return;
	}
	st->leaf = true;
	st->text_len = 0;
	st->text_too_long = false;
}

static void XMLCALL answer_text(void *data, const XML_Char *s, int len)
{
	struct answer_state *st = data;

	if (!st->leaf || len <= 0)
		return;
	if (st->text_len + (size_t)len > CP_VALUE_MAX) {
		st->text_too_long = true;
		return;
	}
	memcpy(st->text + st->text_len, s, (size_t)len);
	st->text_len += (size_t)len;
}

static void XMLCALL answer_end(void *data, const XML_Char *name)
{
	struct answer_state *st = data;
	struct cp_answer *out = st->out;
	const char *sep = strrchr(name, ' '), *local = sep ? sep + 1 : name;

	st->depth--;
	if (!st->leaf)
		return;
	st->leaf = false;
	if (st->text_too_long || strlen(local) > CP_NAME_MAX || out->nvalues >= CP_VALUES_MAX) {
		walk_fail(&st->walk);
		return;
	}
	strcpy(out->values[out->nvalues].name, local);
	memcpy(out->values[out->nvalues].value, st->text, st->text_len);
	out->values[out->nvalues].value[st->text_len] = '\0';
	out->nvalues++;
}

int cp_parse_answer(const char *body, size_t len, struct cp_answer *out)
{
	struct answer_state st = { .out = out };
	XML_Parser p;
	enum XML_Status status;

	memset(out, 0, sizeof(*out));
	if (len > CP_RESPONSE_MAX || !(p = walk_parser(&st.walk, true)))
		return -1;
	XML_SetElementHandler(p, answer_start, answer_end);
	XML_SetCharacterDataHandler(p, answer_text);
	status = XML_Parse(p, body, (int)len, XML_TRUE);
	XML_ParserFree(p);
	return status == XML_STATUS_OK && !st.walk.failed ? 0 : -1;
}

const char *cp_answer_value(const struct cp_answer *a, const char *name)
{
	for (size_t i = 0; i < a->nvalues; i++)
		if (strcmp(a->values[i].name, name) == 0)
			return a->values[i].value;
	return NULL;
}

int cp_call_result(const struct cp_http_response *r, struct cp_answer *out)
{
	const char *code;
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (r->status != 200 && r->status != 500)
		return -1;
	if (cp_parse_answer(r->body, r->body_len, out) < 0)
		return -1;
	if (r->status == 200)
		return 0;
	if (!(code = cp_answer_value(out, "errorCode")) || !*code || strlen(code) > 3)
		return -1;
	for (; *code; code++) {
		if (*code < '0' || *code > '9')
			return -1;
		n = n * 10 + (*code - '0');
	}
	return n > 0 ? n : -1;
}
