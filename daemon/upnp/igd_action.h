/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What igd.c's and igd_pinhole.c's action handlers share: the request at
 * hand, the answers, the argument parsers and the UPnP error codes. Only
 * for those two files. */
#ifndef PORTLEASED_IGD_ACTION_H
#define PORTLEASED_IGD_ACTION_H

#include <stdbool.h>

#include "daemon/upnp/igd.h"

/* UPnP error codes (UPnP Device Architecture; WANIPConnection:2 §2.4;
 * WANIPv6FirewallControl:1 §2.4) */
enum {
	UPNP_INVALID_ACTION = 401,
	UPNP_INVALID_ARGS = 402,
	UPNP_ACTION_FAILED = 501,
	UPNP_NOT_AUTHORIZED = 606,
	UPNP_PINHOLE_SPACE_EXHAUSTED = 701,
	UPNP_NO_SUCH_PINHOLE = 704,
	UPNP_PROTOCOL_NOT_SUPPORTED = 705,
	UPNP_INTERNAL_PORT_WILDCARD = 706,
	UPNP_PROTOCOL_WILDCARD = 707,
	UPNP_NO_TRAFFIC_RECEIVED = 709,
	UPNP_ARRAY_INDEX_INVALID = 713,
	UPNP_NO_SUCH_ENTRY = 714,
	UPNP_WILDCARD_EXTERNAL_PORT = 716,
	UPNP_CONFLICT = 718,
	UPNP_NO_PORT_MAPS_AVAILABLE = 728,
	UPNP_CONFLICT_WITH_OTHER_MECHANISMS = 729,
	UPNP_PORT_MAPPING_NOT_FOUND = 730,
	UPNP_INCONSISTENT_PARAMETERS = 733,
};

/* What the dispatcher needs to audit a refused call: its fault, and
 * whether the mapper already audited it. */
struct action_outcome {
	int fault;     /* the UPnP error answered; 0: none */
	bool audited;  /* the mapper decided, and logged and counted it */
};

struct action_ctx {
	const struct igd *igd;
	const struct igd_context *ctx;
	const struct soap_call *call;
	unsigned service_version;  /* the version the call addressed */
	struct evbuffer *out;
	struct action_outcome *outcome;
};

struct action_handler {
	const char *action;
	int (*run)(const struct action_ctx *a);  /* returns the HTTP status */
};

/* WANIPv6FirewallControl's handlers (igd_pinhole.c). */
extern const struct action_handler igd_pinhole_handlers[];
extern const size_t igd_pinhole_handler_count;

/* An evented variable of WANIPv6FirewallControl; false if name is not one. */
bool igd_pinhole_state(const struct igd *igd, const char *name, char value[IGD_VALUE_MAX]);

/* A UPnPError fault; returns 500. */
int igd_fault(const struct action_ctx *a, int code);
/* mapper_map and mapper_unmap, noted as audited by the mapper. */
struct map_result igd_map(const struct action_ctx *a, const struct map_request *req);
enum map_status igd_unmap(const struct action_ctx *a, const struct unmap_request *req);
/* The action's response with these out arguments; returns 200. */
int igd_reply(const struct action_ctx *a, const struct soap_out *args, size_t nargs);

/* "1", "true", "yes" or "0", "false", "no" */
bool igd_parse_bool(const char *s, bool *b);

/* A mapping may be made for a host on the asking host's own link, never
 * for the router itself or for the network or broadcast address. */
bool igd_acceptable_internal_client(const struct igd_context *ctx, const struct in6_addr *addr);

#endif
