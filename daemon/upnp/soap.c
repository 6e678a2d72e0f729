/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/soap.h"

#include <expat.h>
#include <string.h>

#define ENVELOPE_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define NS_SEP ' '
/* Envelope, Body, action, argument; a Header may nest a little deeper. */
#define DEPTH_MAX 6

enum { DEPTH_ENVELOPE = 1, DEPTH_BODY_OR_HEADER, DEPTH_ACTION, DEPTH_ARGUMENT };

struct parse_state {
	XML_Parser parser;
	struct soap_call *call;
	enum soap_parse_status status;
	unsigned depth;
	bool in_body, seen_body, seen_action, in_argument;
	size_t value_len;
};

static void fail(struct parse_state *st, enum soap_parse_status status)
{
	if (st->status == SOAP_OK)
		st->status = status;
	XML_StopParser(st->parser, XML_FALSE);
}

/* "namespace local" or "local": the namespace part (may be empty) and the
 * local name. */
static const char *local_name(const char *name, size_t *ns_len)
{
	const char *sep = strrchr(name, NS_SEP);

	*ns_len = sep ? (size_t)(sep - name) : 0;
	return sep ? sep + 1 : name;
}

static bool is_envelope_element(const char *name, const char *local)
{
	size_t ns_len;
	const char *l = local_name(name, &ns_len);

	return ns_len == sizeof(ENVELOPE_NS) - 1 && memcmp(name, ENVELOPE_NS, ns_len) == 0 &&
	       strcmp(l, local) == 0;
}

static bool copy_bounded(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return true;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct parse_state *st = data;
	struct soap_call *call = st->call;
	size_t ns_len;
	const char *local = local_name(name, &ns_len);

	(void)attrs;
	if (++st->depth > DEPTH_MAX) {
		fail(st, SOAP_MALFORMED);
		return;
	}
	switch (st->depth) {
	case DEPTH_ENVELOPE:
		if (!is_envelope_element(name, "Envelope"))
			fail(st, SOAP_MALFORMED);
		return;
	case DEPTH_BODY_OR_HEADER:
		st->in_body = is_envelope_element(name, "Body");
		if (st->in_body && st->seen_body)
			fail(st, SOAP_MALFORMED);
		st->seen_body |= st->in_body;
		if (!st->in_body && !is_envelope_element(name, "Header"))
			fail(st, SOAP_MALFORMED);
		return;
	case DEPTH_ACTION:
		if (!st->in_body)
			return;
		if (st->seen_action || ns_len == 0 ||
		    !copy_bounded(call->service_type, sizeof(call->service_type), name, ns_len) ||
		    !copy_bounded(call->action, sizeof(call->action), local, strlen(local))) {
			fail(st, SOAP_MALFORMED);
			return;
		}
		st->seen_action = true;
		return;
	case DEPTH_ARGUMENT:
		if (!st->in_body)
			return;
		if (soap_arg(call, local)) {
			fail(st, SOAP_INVALID_ARGS);
			return;
		}
		if (call->nargs == SOAP_ARGS_MAX ||
		    !copy_bounded(call->args[call->nargs].name, sizeof(call->args[0].name), local,
				  strlen(local))) {
			fail(st, SOAP_INVALID_ARGS);
			return;
		}
		call->args[call->nargs].value[0] = '\0';
		call->nargs++;
		st->in_argument = true;
		st->value_len = 0;
		return;
	default:
		/* Arguments are plain strings: nothing nests inside one. */
		if (st->in_body)
			fail(st, SOAP_MALFORMED);
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Clients pretty-print their XML: " 8080 " is 8080. */
static void trim(char *value)
{
	size_t len = strlen(value), start = 0;

	while (start < len && is_space(value[start]))
		start++;
	while (len > start && is_space(value[len - 1]))
		len--;
	memmove(value, value + start, len - start);
	value[len - start] = '\0';
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct parse_state *st = data;

	(void)name;
	if (st->depth == DEPTH_ARGUMENT && st->in_argument) {
		st->in_argument = false;
		trim(st->call->args[st->call->nargs - 1].value);
	}
	if (st->depth == DEPTH_BODY_OR_HEADER)
		st->in_body = false;
	st->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len)
{
	struct parse_state *st = data;
	struct soap_arg *arg;

	if (!st->in_argument || st->depth != DEPTH_ARGUMENT || len <= 0)
		return;
	arg = &st->call->args[st->call->nargs - 1];
	if (st->value_len + (size_t)len > SOAP_VALUE_MAX) {
		fail(st, SOAP_INVALID_ARGS);
		return;
	}
	memcpy(arg->value + st->value_len, text, (size_t)len);
	st->value_len += (size_t)len;
	arg->value[st->value_len] = '\0';
}

/* No DTD, hence no entity declarations to expand (billion laughs) and no
 * external entities to fetch. */
static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	fail(data, SOAP_MALFORMED);
}

enum soap_parse_status soap_parse(const char *body, size_t len, struct soap_call *call)
{
	struct parse_state st = { .call = call };
	enum XML_Status rc;

	memset(call, 0, sizeof(*call));
	if (len > (size_t)INT32_MAX)
		return SOAP_MALFORMED;
	st.parser = XML_ParserCreateNS(NULL, NS_SEP);
	if (!st.parser)
		return SOAP_MALFORMED;
	XML_SetUserData(st.parser, &st);
	XML_SetElementHandler(st.parser, on_start, on_end);
	XML_SetCharacterDataHandler(st.parser, on_text);
	XML_SetStartDoctypeDeclHandler(st.parser, on_doctype);
	rc = XML_Parse(st.parser, body, (int)len, XML_TRUE);
	XML_ParserFree(st.parser);
	if (st.status != SOAP_OK)
		return st.status;
	if (rc != XML_STATUS_OK || !st.seen_action)
		return SOAP_MALFORMED;
	return SOAP_OK;
}

const char *soap_arg(const struct soap_call *call, const char *name)
{
	for (size_t i = 0; i < call->nargs; i++)
		if (strcmp(call->args[i].name, name) == 0)
			return call->args[i].value;
	return NULL;
}

bool soap_action_matches(const struct soap_call *call, const char *header)
{
	const char *hash = strrchr(header, '#');
	size_t type_len;

	if (!hash)
		return false;
	type_len = (size_t)(hash - header);
	return type_len == strlen(call->service_type) &&
	       memcmp(header, call->service_type, type_len) == 0 &&
	       strcmp(hash + 1, call->action) == 0;
}

void xml_escape(struct evbuffer *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '&': evbuffer_add(out, "&amp;", 5); break;
		case '<': evbuffer_add(out, "&lt;", 4); break;
		case '>': evbuffer_add(out, "&gt;", 4); break;
		case '"': evbuffer_add(out, "&quot;", 6); break;
		case '\'': evbuffer_add(out, "&apos;", 6); break;
		default: evbuffer_add(out, p, 1);
		}
	}
}

#define ENVELOPE_OPEN                                                                     \
	"<?xml version=\"1.0\"?>\r\n"                                                     \
	"<s:Envelope xmlns:s=\"" ENVELOPE_NS "\" "                                        \
	"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
#define ENVELOPE_CLOSE "</s:Body></s:Envelope>\r\n"

void soap_response(struct evbuffer *out, const char *service_type, const char *action,
		   const struct soap_out *args, size_t nargs)
{
	evbuffer_add_printf(out, ENVELOPE_OPEN "<u:%sResponse xmlns:u=\"", action);
	xml_escape(out, service_type);
	evbuffer_add(out, "\">", 2);
	for (size_t i = 0; i < nargs; i++) {
		evbuffer_add_printf(out, "<%s>", args[i].name);
		xml_escape(out, args[i].value);
		evbuffer_add_printf(out, "</%s>", args[i].name);
	}
	evbuffer_add_printf(out, "</u:%sResponse>" ENVELOPE_CLOSE, action);
}

void soap_response_document(struct evbuffer *out, const char *service_type, const char *action,
			    const char *name, const char *document)
{
	struct soap_out arg = { name, document };

	if (strstr(document, "]]>")) {
		soap_response(out, service_type, action, &arg, 1);
		return;
	}
	evbuffer_add_printf(out, ENVELOPE_OPEN "<u:%sResponse xmlns:u=\"", action);
	xml_escape(out, service_type);
	evbuffer_add_printf(out, "\"><%s><![CDATA[%s]]></%s></u:%sResponse>" ENVELOPE_CLOSE, name,
			    document, name, action);
}

const char *soap_error_description(int upnp_error)
{
	switch (upnp_error) {
	case 401: return "Invalid Action";
	case 402: return "Invalid Args";
	case 501: return "Action Failed";
	case 606: return "Action not authorized";
	case 701: return "PinholeSpaceExhausted";
	case 702: return "FirewallDisabled";
	case 703: return "InboundPinholeNotAllowed";
	case 704: return "NoSuchEntry";
	case 705: return "ProtocolNotSupported";
	case 706: return "InternalPortWildcardingNotAllowed";
	case 707: return "ProtocolWildcardingNotAllowed";
	case 709: return "NoTrafficReceived";
	case 713: return "SpecifiedArrayIndexInvalid";
	case 714: return "NoSuchEntryInArray";
	case 715: return "WildCardNotPermittedInSrcIP";
	case 716: return "WildCardNotPermittedInExtPort";
	case 718: return "ConflictInMappingEntry";
	case 724: return "SamePortValuesRequired";
	case 725: return "OnlyPermanentLeasesSupported";
	case 726: return "RemoteHostOnlySupportsWildcard";
	case 727: return "ExternalPortOnlySupportsWildcard";
	case 728: return "NoPortMapsAvailable";
	case 729: return "ConflictWithOtherMechanisms";
	case 730: return "PortMappingNotFound";
	case 732: return "WildCardNotPermittedInIntPort";
	case 733: return "InconsistentParameters";
	}
	return "Action Failed";
}

void soap_fault(struct evbuffer *out, int upnp_error)
{
	evbuffer_add_printf(out,
			    ENVELOPE_OPEN
			    "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError"
			    "</faultstring><detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
			    "<errorCode>%d</errorCode><errorDescription>%s</errorDescription>"
			    "</UPnPError></detail></s:Fault>" ENVELOPE_CLOSE,
			    upnp_error, soap_error_description(upnp_error));
}
