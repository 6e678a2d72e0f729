/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/igd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/upnp/igd_action.h"
#include "daemon/lease.h"
#include "lib/log.h"
#include "config/policy.h"
#include "lib/parse.h"
#include "lib/text.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* GetListOfPortMappings answers with at most this many entries. */
#define PORT_LISTING_MAX 1000

int igd_fault(const struct action_ctx *a, int code)
{
	if (a->outcome)
		a->outcome->fault = code;
	soap_fault(a->out, code);
	return 500;
}

struct map_result igd_map(const struct action_ctx *a, const struct map_request *req)
{
	if (a->outcome)
		a->outcome->audited = true;
	return mapper_map(a->igd->mapper, req);
}

enum map_status igd_unmap(const struct action_ctx *a, const struct unmap_request *req)
{
	if (a->outcome)
		a->outcome->audited = true;
	return mapper_unmap(a->igd->mapper, req);
}

int igd_reply(const struct action_ctx *a, const struct soap_out *args, size_t nargs)
{
	soap_response(a->out, a->call->service_type, a->call->action, args, nargs);
	return 200;
}

/* As the service description's allowedValueList spells them: clients
 * compare the strings (upnpc's own listing among them). */
static const char *upnp_proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "TCP" : "UDP";
}

bool igd_parse_bool(const char *s, bool *b)
{
	if (!s)
		return false;
	if (strcmp(s, "1") == 0 || strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0)
		*b = true;
	else if (strcmp(s, "0") == 0 || strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0)
		*b = false;
	else
		return false;
	return true;
}

static bool parse_v4(const char *s, struct in6_addr *addr)
{
	struct in_addr v4;

	if (!s || inet_pton(AF_INET, s, &v4) != 1)
		return false;
	*addr = addr_from_v4(v4);
	return true;
}

/* NewRemoteHost: one IPv4 address, which becomes the lease's remote
 * filter; anything else (empty, and what clients send for "any": a widely
 * used library sends "undefined", others "*") is every remote host, as the
 * incumbent takes it. Never stricter than no filter, so never unsafe. */
static void parse_remote_host(const char *s, struct remote_filter *filter, size_t *nfilters)
{
	*nfilters = 0;
	memset(filter, 0, sizeof(*filter));
	if (!s || !*s)
		return;
	if (!parse_v4(s, &filter->remote.net)) {
		log_debug("upnp: NewRemoteHost \"%.32s\" is no IPv4 address: every remote host", s);
		return;
	}
	filter->remote.len = 128;
	*nfilters = 1;
}

static bool is_port_mapping(const struct lease *l)
{
	return addr_is_v4(&l->internal_addr);
}

static const char *remote_host_of(const struct lease *l, char buf[ADDR_STRLEN])
{
	if (l->nfilters != 1 || l->filters[0].remote.len != 128)
		return "";
	return addr_format(&l->filters[0].remote.net, buf);
}

bool igd_acceptable_internal_client(const struct igd_context *ctx, const struct in6_addr *addr)
{
	struct in6_addr broadcast = addr_prefix_last(&ctx->lan);

	if (!addr_in_prefix(addr, &ctx->lan) || addr_equal(addr, &ctx->local))
		return false;
	return ctx->lan.len >= 127 || (!addr_equal(addr, &ctx->lan.net) && !addr_equal(addr, &broadcast));
}

static int map_status_to_upnp(enum map_status s)
{
	switch (s) {
	case MAP_OK: return 0;
	case MAP_DENIED:
	case MAP_NOT_A_HOST: return UPNP_NOT_AUTHORIZED;
	case MAP_NOT_OWNER:
	case MAP_PORT_UNAVAILABLE:
	case MAP_ROUTER_SERVES:
	case MAP_FORWARDED_ELSEWHERE:
	case MAP_CONFLICT: return UPNP_CONFLICT;
	case MAP_NO_FREE_PORT:
	case MAP_TABLE_FULL:
	case MAP_QUOTA_EXCEEDED:
	case MAP_RATE_LIMITED: return UPNP_NO_PORT_MAPS_AVAILABLE;
	case MAP_NO_EXTERNAL_ADDRESS:
	case MAP_BACKEND_FAILED:
	case MAP_UNSUPPORTED:
	case MAP_NO_FLOW: return UPNP_ACTION_FAILED;
	}
	return UPNP_ACTION_FAILED;
}

static enum map_status unmap_lease(const struct action_ctx *a, const struct lease *l)
{
	struct unmap_request u = {
		.client = a->ctx->client, .internal_addr = l->internal_addr,
		.proto = l->proto, .internal_port = l->internal_port, .origin = LEASE_ORIGIN_UPNP,
	};

	return igd_unmap(a, &u);
}

/* Another host's mapping is in the way: WANIPConnection:2 tells a
 * NAT-PMP or PCP one (729) from a UPnP one (718). */
static int conflict_with(const struct action_ctx *a, enum lease_origin other)
{
	return a->service_version >= 2 && other != LEASE_ORIGIN_UPNP ?
		       UPNP_CONFLICT_WITH_OTHER_MECHANISMS : UPNP_CONFLICT;
}

/* AddPortMapping (exact external port) and AddAnyPortMapping. */
static int add_mapping(const struct action_ctx *a, bool any_port)
{
	const struct soap_call *c = a->call;
	struct remote_filter filter;
	struct map_request req = {
		.client = a->ctx->client, .origin = LEASE_ORIGIN_UPNP, .replace_filters = true,
		.filters = &filter,
		.description = soap_arg(c, "NewPortMappingDescription"),
	};
	unsigned long lease_duration;
	struct map_result res;
	uint16_t external_port;
	bool enabled;
	int code;

	parse_remote_host(soap_arg(c, "NewRemoteHost"), &filter, &req.nfilters);
	if (!parse_port_or_zero(soap_arg(c, "NewExternalPort"), &external_port) ||
	    !parse_proto(soap_arg(c, "NewProtocol"), &req.proto) ||
	    !parse_port_or_zero(soap_arg(c, "NewInternalPort"), &req.internal_port) ||
	    req.internal_port == 0 ||
	    !parse_v4(soap_arg(c, "NewInternalClient"), &req.internal_addr) ||
	    !igd_parse_bool(soap_arg(c, "NewEnabled"), &enabled) ||
	    !parse_uint(soap_arg(c, "NewLeaseDuration"), 0xffffffffUL, &lease_duration))
		return igd_fault(a, UPNP_INVALID_ARGS);
	/* A disabled entry would have to be listed yet carry nothing: not kept. */
	if (!enabled)
		return igd_fault(a, UPNP_INVALID_ARGS);
	if (external_port == 0 && !any_port)
		return igd_fault(a, UPNP_WILDCARD_EXTERNAL_PORT);
	if (!igd_acceptable_internal_client(a->ctx, &req.internal_addr))
		return igd_fault(a, UPNP_NOT_AUTHORIZED);
	/* IGD:2: a lease of 0 is not "forever" here but the longest allowed. */
	req.lifetime = lease_duration == 0 ? a->igd->cfg->lifetime_max : (uint32_t)lease_duration;
	req.suggested_external_port = external_port;
	/* AddPortMapping overwrites the asker's own entry on that external
	 * port, and moves the internal endpoint's mapping to the port asked
	 * for; someone else's is a conflict (the mapper decides all of it). */
	req.exact_port = !any_port;
	req.replace_own = !any_port;
	res = igd_map(a, &req);
	if (res.status == MAP_CONFLICT)
		return igd_fault(a, conflict_with(a, res.conflict_origin));
	code = map_status_to_upnp(res.status);
	if (code)
		return igd_fault(a, code);
	if (any_port) {
		char port[8];
		struct soap_out out[] = { { "NewReservedPort", port } };

		snprintf(port, sizeof(port), "%u", res.external_port);
		return igd_reply(a, out, N(out));
	}
	return igd_reply(a, NULL, 0);
}

/* The mapping named by NewExternalPort and NewProtocol (and NewRemoteHost,
 * which must be the one it was made with). */
static int find_mapping(const struct action_ctx *a, struct lease **found)
{
	const struct soap_call *c = a->call;
	struct remote_filter filter;
	size_t nfilters;
	uint16_t port;
	uint8_t proto;
	struct lease *l;
	char want[ADDR_STRLEN] = "", have[ADDR_STRLEN];

	parse_remote_host(soap_arg(c, "NewRemoteHost"), &filter, &nfilters);
	if (!parse_port_or_zero(soap_arg(c, "NewExternalPort"), &port) ||
	    !parse_proto(soap_arg(c, "NewProtocol"), &proto))
		return UPNP_INVALID_ARGS;
	l = lease_by_external(mapper_leases(a->igd->mapper), proto, port);
	if (nfilters)
		addr_format(&filter.remote.net, want);
	if (!l || strcmp(remote_host_of(l, have), want) != 0)
		return UPNP_NO_SUCH_ENTRY;
	*found = l;
	return 0;
}

static uint32_t remaining(const struct action_ctx *a, const struct lease *l)
{
	return mapper_remaining(a->igd->mapper, l);
}

/* A mapping's entry: GetGenericPortMappingEntry answers all of it,
 * GetSpecificPortMappingEntry, which named the key, the rest. */
static int reply_entry(const struct action_ctx *a, const struct lease *l, bool with_key)
{
	char remote[ADDR_STRLEN], eport[8], iport[8], client[ADDR_STRLEN], duration[12];
	const size_t key_fields = 3;
	struct soap_out out[] = {
		{ "NewRemoteHost", remote_host_of(l, remote) },
		{ "NewExternalPort", eport },
		{ "NewProtocol", upnp_proto_name(l->proto) },
		{ "NewInternalPort", iport },
		{ "NewInternalClient", addr_format(&l->internal_addr, client) },
		{ "NewEnabled", "1" },
		{ "NewPortMappingDescription", l->description },
		{ "NewLeaseDuration", duration },
	};

	snprintf(eport, sizeof(eport), "%u", l->external_port);
	snprintf(iport, sizeof(iport), "%u", l->internal_port);
	snprintf(duration, sizeof(duration), "%u", remaining(a, l));
	return with_key ? igd_reply(a, out, N(out)) :
			  igd_reply(a, out + key_fields, N(out) - key_fields);
}

static int get_specific_entry(const struct action_ctx *a)
{
	struct lease *l;
	int code = find_mapping(a, &l);

	if (code)
		return igd_fault(a, code);
	return reply_entry(a, l, false);
}

static int get_generic_entry(const struct action_ctx *a)
{
	unsigned long index, i = 0;
	const struct lease *l;

	if (!parse_uint(soap_arg(a->call, "NewPortMappingIndex"), 65535, &index))
		return igd_fault(a, UPNP_INVALID_ARGS);
	for (l = lease_first(mapper_leases(a->igd->mapper)); l; l = lease_next(l))
		if (is_port_mapping(l) && i++ == index)
			break;
	if (!l)
		return igd_fault(a, UPNP_ARRAY_INDEX_INVALID);
	return reply_entry(a, l, true);
}

static int delete_mapping(const struct action_ctx *a)
{
	struct lease *l;
	int code = find_mapping(a, &l);

	if (code)
		return igd_fault(a, code);
	if (unmap_lease(a, l) != MAP_OK)
		return igd_fault(a, UPNP_NOT_AUTHORIZED);
	return igd_reply(a, NULL, 0);
}

/* The range arguments of DeletePortMappingRange and GetListOfPortMappings. */
static int parse_range(const struct action_ctx *a, uint16_t *first, uint16_t *last,
		       uint8_t *proto)
{
	bool manage;

	if (!parse_port_or_zero(soap_arg(a->call, "NewStartPort"), first) ||
	    !parse_port_or_zero(soap_arg(a->call, "NewEndPort"), last) ||
	    !parse_proto(soap_arg(a->call, "NewProtocol"), proto) ||
	    !igd_parse_bool(soap_arg(a->call, "NewManage"), &manage))
		return UPNP_INVALID_ARGS;
	if (*first > *last)
		return UPNP_INCONSISTENT_PARAMETERS;
	return 0;
}

static bool in_range(const struct lease *l, uint8_t proto, uint16_t first, uint16_t last)
{
	return is_port_mapping(l) && l->proto == proto && l->external_port >= first &&
	       l->external_port <= last;
}

/* Deletes the asker's own mappings in the range; NewManage grants nothing
 * more, since no host here may manage another's. One pass over the asker's
 * leases, not over the ports or the table. */
static int delete_range(const struct action_ctx *a)
{
	uint16_t first, last;
	uint8_t proto;
	size_t deleted = 0;
	int code = parse_range(a, &first, &last, &proto);

	if (code)
		return igd_fault(a, code);
	for (struct lease *l = lease_first_of_client(mapper_leases(a->igd->mapper), &a->ctx->client),
			  *next; l; l = next) {
		next = lease_next_of_client(l);
		if (in_range(l, proto, first, last) && unmap_lease(a, l) == MAP_OK)
			deleted++;
	}
	if (deleted == 0)
		return igd_fault(a, UPNP_PORT_MAPPING_NOT_FOUND);
	return igd_reply(a, NULL, 0);
}

static int by_external_port(const void *x, const void *y)
{
	const struct lease *const *a = x, *const *b = y;

	return (int)(*a)->external_port - (int)(*b)->external_port;
}

static int list_mappings(const struct action_ctx *a)
{
	const struct lease_table *leases = mapper_leases(a->igd->mapper);
	const struct lease **found;
	struct evbuffer *listing;
	unsigned long wanted;
	size_t n = 0;
	uint16_t first, last;
	uint8_t proto;
	int code = parse_range(a, &first, &last, &proto);

	if (code)
		return igd_fault(a, code);
	if (!parse_uint(soap_arg(a->call, "NewNumberOfPorts"), 65535, &wanted))
		return igd_fault(a, UPNP_INVALID_ARGS);
	if (wanted == 0 || wanted > PORT_LISTING_MAX)
		wanted = PORT_LISTING_MAX;
	found = calloc(lease_count(leases) + 1, sizeof(*found));
	listing = evbuffer_new();
	if (!found || !listing) {
		free(found);
		if (listing)
			evbuffer_free(listing);
		return igd_fault(a, UPNP_ACTION_FAILED);
	}
	for (const struct lease *l = lease_first(leases); l; l = lease_next(l))
		if (in_range(l, proto, first, last))
			found[n++] = l;
	if (n == 0) {
		free(found);
		evbuffer_free(listing);
		return igd_fault(a, UPNP_PORT_MAPPING_NOT_FOUND);
	}
	qsort(found, n, sizeof(*found), by_external_port);
	if (n > wanted)
		n = wanted;
	evbuffer_add_printf(listing,
			    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><p:PortMappingList "
			    "xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\" "
			    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
			    "xsi:schemaLocation=\"urn:schemas-upnp-org:gw:WANIPConnection "
			    "http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd\">");
	for (size_t i = 0; i < n; i++) {
		const struct lease *l = found[i];
		char remote[ADDR_STRLEN], client[ADDR_STRLEN];

		evbuffer_add_printf(listing,
				    "<p:PortMappingEntry><p:NewRemoteHost>%s</p:NewRemoteHost>"
				    "<p:NewExternalPort>%u</p:NewExternalPort>"
				    "<p:NewProtocol>%s</p:NewProtocol>"
				    "<p:NewInternalPort>%u</p:NewInternalPort>"
				    "<p:NewInternalClient>%s</p:NewInternalClient>"
				    "<p:NewEnabled>1</p:NewEnabled><p:NewDescription>",
				    remote_host_of(l, remote), l->external_port,
				    upnp_proto_name(l->proto), l->internal_port,
				    addr_format(&l->internal_addr, client));
		xml_escape(listing, l->description);
		evbuffer_add_printf(listing,
				    "</p:NewDescription><p:NewLeaseTime>%u</p:NewLeaseTime>"
				    "</p:PortMappingEntry>",
				    remaining(a, l));
	}
	evbuffer_add_printf(listing, "</p:PortMappingList>");
	evbuffer_add(listing, "", 1);
	soap_response_document(a->out, a->call->service_type, a->call->action, "NewPortListing",
			       (const char *)evbuffer_pullup(listing, -1));
	evbuffer_free(listing);
	free(found);
	return 200;
}

static int get_external_address(const struct action_ctx *a)
{
	struct in_addr ext;
	char text[INET_ADDRSTRLEN] = "";
	struct soap_out out[] = { { "NewExternalIPAddress", text } };

	/* No address yet: an empty string, as IGD:2 asks. Behind another
	 * NAT, the upstream's: what the internet reaches. */
	if (mapper_told_address(a->igd->mapper, &ext))
		inet_ntop(AF_INET, &ext, text, sizeof(text));
	return igd_reply(a, out, N(out));
}

static int get_status(const struct action_ctx *a)
{
	struct in_addr ext;
	char uptime[12];
	struct soap_out out[] = {
		{ "NewConnectionStatus",
		  mapper_external_address(a->igd->mapper, &ext) ? "Connected" : "Disconnected" },
		{ "NewLastConnectionError", "ERROR_NONE" },
		{ "NewUptime", uptime },
	};

	snprintf(uptime, sizeof(uptime), "%u", mapper_epoch(a->igd->mapper));
	return igd_reply(a, out, N(out));
}

static int get_connection_type(const struct action_ctx *a)
{
	struct soap_out out[] = {
		{ "NewConnectionType", "IP_Routed" },
		{ "NewPossibleConnectionTypes", "IP_Routed" },
	};

	return igd_reply(a, out, N(out));
}

static int get_nat_rsip(const struct action_ctx *a)
{
	struct soap_out out[] = { { "NewRSIPAvailable", "0" }, { "NewNATEnabled", "1" } };

	return igd_reply(a, out, N(out));
}

/* /sys/class/net/IF/<name>: a number, or 0 when the kernel does not say. */
static unsigned long long read_sysfs_number(const char *ifname, const char *name)
{
	char path[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", ifname, name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static bool link_is_up(const char *ifname)
{
	char path[128], state[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(state, sizeof(state), f))
		state[0] = '\0';
	fclose(f);
	/* veth pairs and some drivers say "unknown" while carrying traffic */
	return strncmp(state, "up", 2) == 0 || strncmp(state, "unknown", 7) == 0;
}

static int get_link_properties(const struct action_ctx *a)
{
	const char *ifname = a->igd->cfg->external_interface;
	/* speed is in Mbit/s; a ui4 in bit/s tops out near 4.29 Gbit/s */
	unsigned long long bits = read_sysfs_number(ifname, "speed") * 1000000ULL;
	char rate[12];
	struct soap_out out[] = {
		{ "NewWANAccessType", "Ethernet" },
		{ "NewLayer1UpstreamMaxBitRate", rate },
		{ "NewLayer1DownstreamMaxBitRate", rate },
		{ "NewPhysicalLinkStatus", link_is_up(ifname) ? "Up" : "Down" },
	};

	snprintf(rate, sizeof(rate), "%llu", bits > 0xffffffffULL ? 0xffffffffULL : bits);
	return igd_reply(a, out, N(out));
}

/* The counters are ui4: they wrap, as the service description says. */
static int get_counter(const struct action_ctx *a, const char *stat, const char *arg)
{
	char value[12];
	struct soap_out out[] = { { arg, value } };
	unsigned long long v = read_sysfs_number(a->igd->cfg->external_interface, stat);

	snprintf(value, sizeof(value), "%u", (unsigned)(v & 0xffffffffULL));
	return igd_reply(a, out, N(out));
}

static int add_port_mapping(const struct action_ctx *a)
{
	return add_mapping(a, false);
}

static int add_any_port_mapping(const struct action_ctx *a)
{
	return add_mapping(a, true);
}

static int get_bytes_sent(const struct action_ctx *a)
{
	return get_counter(a, "statistics/tx_bytes", "NewTotalBytesSent");
}

static int get_bytes_received(const struct action_ctx *a)
{
	return get_counter(a, "statistics/rx_bytes", "NewTotalBytesReceived");
}

static int get_packets_sent(const struct action_ctx *a)
{
	return get_counter(a, "statistics/tx_packets", "NewTotalPacketsSent");
}

static int get_packets_received(const struct action_ctx *a)
{
	return get_counter(a, "statistics/rx_packets", "NewTotalPacketsReceived");
}

static const struct action_handler handlers[] = {
	{ "AddPortMapping", add_port_mapping },
	{ "AddAnyPortMapping", add_any_port_mapping },
	{ "DeletePortMapping", delete_mapping },
	{ "DeletePortMappingRange", delete_range },
	{ "GetSpecificPortMappingEntry", get_specific_entry },
	{ "GetGenericPortMappingEntry", get_generic_entry },
	{ "GetListOfPortMappings", list_mappings },
	{ "GetExternalIPAddress", get_external_address },
	{ "GetStatusInfo", get_status },
	{ "GetConnectionTypeInfo", get_connection_type },
	{ "GetNATRSIPStatus", get_nat_rsip },
	{ "GetCommonLinkProperties", get_link_properties },
	{ "GetTotalBytesSent", get_bytes_sent },
	{ "GetTotalBytesReceived", get_bytes_received },
	{ "GetTotalPacketsSent", get_packets_sent },
	{ "GetTotalPacketsReceived", get_packets_received },
};

/* The action names are unique across services, and igd_control has
 * already checked that this one belongs to the service asked. */
static int run_action(const struct action_ctx *a)
{
	const char *name = a->call->action;

	for (size_t i = 0; i < N(handlers); i++)
		if (strcmp(handlers[i].action, name) == 0)
			return handlers[i].run(a);
	for (size_t i = 0; i < igd_pinhole_handler_count; i++)
		if (strcmp(igd_pinhole_handlers[i].action, name) == 0)
			return igd_pinhole_handlers[i].run(a);
	return igd_fault(a, UPNP_INVALID_ACTION);
}

/* The actions that add, change or remove a mapping or pinhole. */
static bool changes_mappings(const char *action)
{
	static const char *const names[] = {
		"AddPortMapping", "AddAnyPortMapping", "DeletePortMapping",
		"DeletePortMappingRange", "AddPinhole", "UpdatePinhole", "DeletePinhole",
	};

	for (size_t i = 0; i < N(names); i++)
		if (strcmp(action, names[i]) == 0)
			return true;
	return false;
}

/* A refused change the mapper did not see: audited and counted as its own
 * refusals are, with what the call said of itself. */
static void audit_refusal(const struct action_ctx *a)
{
	const struct soap_call *c = a->call;
	const char *proto = soap_arg(c, "NewProtocol"), *client = soap_arg(c, "NewInternalClient");
	const char *port = soap_arg(c, "NewInternalPort");
	struct map_request req = { .client = a->ctx->client, .internal_addr = a->ctx->client,
				   .origin = LEASE_ORIGIN_UPNP,
				   .description = soap_arg(c, "NewPortMappingDescription") };
	char why[96];
	unsigned long number;

	if (!proto && !(proto = soap_arg(c, "Protocol")))
		proto = "";
	if (!parse_proto(proto, &req.proto) && parse_uint(proto, 255, &number))
		req.proto = (uint8_t)number;
	if (!port)
		port = soap_arg(c, "InternalPort");
	(void)parse_port_or_zero(port, &req.internal_port);
	if (!client)
		client = soap_arg(c, "InternalClient");
	if (client && !parse_v4(client, &req.internal_addr) &&
	    inet_pton(AF_INET6, client, &req.internal_addr) != 1)
		req.internal_addr = a->ctx->client;
	snprintf(why, sizeof(why), "%s: UPnP error %d %s", c->action, a->outcome->fault,
		 soap_error_description(a->outcome->fault));
	mapper_refused(a->igd->mapper, &req, MAP_DENIED, why);
}

/* Any other refused call (an unknown action, bad arguments), logged with
 * its reason as the mapper's refusals are: a line per host per interval.
 * Not the faults that are answers (the end of an enumeration, 713 and 714;
 * an empty listing, 730; a pinhole without traffic yet, 709). */
static void log_refusal(const struct action_ctx *a, const struct upnp_service *s)
{
	char peer[ADDR_STRLEN], action[TEXT_ESCAPED_MAX(32)];
	int fault = a->outcome->fault;

	if (fault == UPNP_ARRAY_INDEX_INVALID || fault == UPNP_NO_SUCH_ENTRY ||
	    fault == UPNP_PORT_MAPPING_NOT_FOUND || fault == UPNP_NO_TRAFFIC_RECEIVED ||
	    !mapper_log_admit(a->igd->mapper, &a->ctx->client))
		return;
	text_escape(action, sizeof(action), a->call->action, false);
	log_info("upnp: refused %s of %s from %s: UPnP error %d %s", action, s->name,
		 addr_format(&a->ctx->client, peer), fault, soap_error_description(fault));
}

int igd_control(const struct igd *igd, const struct upnp_service *s,
		const struct igd_context *ctx, const struct soap_call *call, struct evbuffer *out)
{
	struct action_outcome outcome = { 0 };
	struct action_ctx a = { .igd = igd, .ctx = ctx, .call = call, .out = out,
				.outcome = &outcome };
	unsigned asked = 0;
	const struct upnp_action *action;
	bool complete = true;  /* every in argument is there */
	int status;

	/* The action must be one of this service, in the version asked for. */
	if (!igd_type_matches(call->service_type, "service", s->name,
			      igd_service_version(s, igd->version), &asked) ||
	    !(action = igd_find_action(s, asked, call->action))) {
		status = igd_fault(&a, UPNP_INVALID_ACTION);
	} else {
		a.service_version = asked;
		for (size_t i = 0; i < action->nargs && complete; i++)
			complete = action->args[i].dir != ARG_IN ||
				   soap_arg(call, action->args[i].name);
		status = complete ? run_action(&a) : igd_fault(&a, UPNP_INVALID_ARGS);
	}
	if (outcome.fault && !outcome.audited && changes_mappings(call->action))
		audit_refusal(&a);
	else if (outcome.fault && !outcome.audited)
		log_refusal(&a, s);
	return status;
}

bool igd_take_chain_wait(const struct igd *igd, const struct soap_call *call,
			 struct igd_chain_wait *w)
{
	bool any = strcmp(call->action, "AddAnyPortMapping") == 0;

	if (!mapper_take_chain_wait(igd->mapper, &w->proto, &w->port))
		return false;
	if (!any && strcmp(call->action, "AddPortMapping") != 0)
		return false;
	w->any_port = any;
	snprintf(w->service_type, sizeof(w->service_type), "%s", call->service_type);
	snprintf(w->action, sizeof(w->action), "%s", call->action);
	return true;
}

int igd_chained_answer(const struct igd *igd, const struct igd_chain_wait *w,
		       struct evbuffer *out)
{
	struct mapper_told told;
	char port[8];
	struct soap_out reserved[] = { { "NewReservedPort", port } };

	mapper_told(igd->mapper, w->proto, w->port, &told);
	if (!told.granted) {
		soap_fault(out, UPNP_ACTION_FAILED);
		return 500;
	}
	if (told.external_port != w->port) {
		mapper_chain_withdraw(igd->mapper, w->proto, w->port);
		soap_fault(out, w->any_port ? UPNP_NO_PORT_MAPS_AVAILABLE : UPNP_CONFLICT);
		return 500;
	}
	snprintf(port, sizeof(port), "%u", w->port);
	soap_response(out, w->service_type, w->action, reserved, w->any_port ? 1 : 0);
	return 200;
}

unsigned igd_mapping_count(const struct igd *igd)
{
	return (unsigned)mapper_port_mapping_count(igd->mapper);
}

void igd_evented_state(const struct igd *igd, const struct upnp_service *s,
		       struct igd_state *out)
{
	struct in_addr ext;
	bool connected = mapper_told_address(igd->mapper, &ext);

	out->n = 0;
	for (size_t i = 0; i < s->nvariables && out->n < IGD_EVENTED_MAX; i++) {
		const char *name = s->variables[i].name;
		char *value = out->vars[out->n].value;

		if (!s->variables[i].events)
			continue;
		out->vars[out->n].name = name;
		if (strcmp(name, "ExternalIPAddress") == 0) {
			value[0] = '\0';
			if (connected)
				inet_ntop(AF_INET, &ext, value, IGD_VALUE_MAX);
		} else if (strcmp(name, "ConnectionStatus") == 0) {
			snprintf(value, IGD_VALUE_MAX, "%s", connected ? "Connected" : "Disconnected");
		} else if (strcmp(name, "PortMappingNumberOfEntries") == 0) {
			snprintf(value, IGD_VALUE_MAX, "%u", igd_mapping_count(igd));
		} else if (strcmp(name, "PossibleConnectionTypes") == 0) {
			snprintf(value, IGD_VALUE_MAX, "IP_Routed");
		} else if (strcmp(name, "PhysicalLinkStatus") == 0) {
			snprintf(value, IGD_VALUE_MAX, "%s",
				 link_is_up(igd->cfg->external_interface) ? "Up" : "Down");
		} else if (!igd_pinhole_state(igd, name, value)) {
			continue;  /* not evented by us: left out rather than made up */
		}
		out->n++;
	}
}
