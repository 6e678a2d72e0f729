/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UPnP control messages: a SOAP request body parsed with expat into an
 * action and its arguments, and the response or fault written back. Pure:
 * no sockets, no state. */
#ifndef PORTLEASED_SOAP_H
#define PORTLEASED_SOAP_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>

#define SOAP_ARGS_MAX 16
#define SOAP_NAME_MAX 63
#define SOAP_VALUE_MAX 255
#define SOAP_TYPE_MAX 127

struct soap_arg {
	char name[SOAP_NAME_MAX + 1];
	char value[SOAP_VALUE_MAX + 1];
};

struct soap_call {
	char service_type[SOAP_TYPE_MAX + 1];  /* the action element's namespace */
	char action[SOAP_NAME_MAX + 1];
	size_t nargs;
	struct soap_arg args[SOAP_ARGS_MAX];
};

enum soap_parse_status {
	SOAP_OK,
	SOAP_MALFORMED,     /* not a SOAP envelope with one action: HTTP 400 */
	SOAP_INVALID_ARGS,  /* too many, repeated or too long arguments: UPnP 402 */
};

/* Refuses a DOCTYPE (so no entity is ever expanded), nesting below the
 * arguments, and anything over the limits above. */
enum soap_parse_status soap_parse(const char *body, size_t len, struct soap_call *call);

/* The argument's value, or NULL if the call has none by that name. */
const char *soap_arg(const struct soap_call *call, const char *name);

/* Whether a SOAPAction header ("service-type#action") names the call. */
bool soap_action_matches(const struct soap_call *call, const char *header);

struct soap_out {
	const char *name;
	const char *value;  /* escaped on output */
};

void soap_response(struct evbuffer *out, const char *service_type, const char *action,
		   const struct soap_out *args, size_t nargs);
/* A response whose one argument is an XML document (NewPortListing): sent
 * as a CDATA section, which is how clients such as miniupnpc read it;
 * escaped after all if it holds "]]>". */
void soap_response_document(struct evbuffer *out, const char *service_type, const char *action,
			    const char *name, const char *document);
/* A UPnPError fault (sent with HTTP 500) with the standard description. */
void soap_fault(struct evbuffer *out, int upnp_error);
const char *soap_error_description(int upnp_error);

/* Text as XML character data: & < > " ' escaped. */
void xml_escape(struct evbuffer *out, const char *text);

#endif
