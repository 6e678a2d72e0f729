/* SPDX-License-Identifier: GPL-2.0-or-later */
/* WANIPv6FirewallControl:1: IPv6 pinholes over UPnP. A pinhole is a lease
 * of the mapper like any other IPv6 mapping (the same policy, quotas and
 * nftables sets as PCP's), named to the client by the lease's pinhole id. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/upnp/igd_action.h"
#include "daemon/lease.h"
#include "config/policy.h"
#include "lib/parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A_ARG_TYPE_LeaseTime's allowed range (WANIPv6FirewallControl:1 §2.2.7) */
#define LEASE_TIME_MIN 1
#define LEASE_TIME_MAX 86400
#define PROTOCOL_WILDCARD 65535

/* A global IPv6 address; IPv4-mapped, unspecified and multicast are not. */
static bool parse_v6(const char *s, struct in6_addr *addr)
{
	if (!s || inet_pton(AF_INET6, s, addr) != 1)
		return false;
	return !addr_is_v4(addr) && !IN6_IS_ADDR_UNSPECIFIED(addr) && !IN6_IS_ADDR_MULTICAST(addr);
}

/* An IANA protocol number; the names are accepted too, since some clients
 * (upnpc -G) pass what their user typed. Returns 0 or a UPnP error. */
static int parse_protocol(const char *s, uint8_t *proto)
{
	unsigned long v;

	uint8_t named;

	if (parse_proto(s, &named))
		v = named;
	else if (!parse_uint(s, 65535, &v))
		return UPNP_INVALID_ARGS;
	if (v == PROTOCOL_WILDCARD)
		return UPNP_PROTOCOL_WILDCARD;
	if (v != IPPROTO_TCP && v != IPPROTO_UDP)
		return UPNP_PROTOCOL_NOT_SUPPORTED;
	*proto = (uint8_t)v;
	return 0;
}

static bool parse_lease_time(const char *s, uint32_t *seconds)
{
	unsigned long v;

	if (!parse_uint(s, LEASE_TIME_MAX, &v) || v < LEASE_TIME_MIN)
		return false;
	*seconds = (uint32_t)v;
	return true;
}

/* The arguments AddPinhole and GetOutboundPinholeTimeout share. An empty
 * RemoteHost and a RemotePort of 0 are wildcards; together they are the
 * pinhole's remote filter. Returns 0 or a UPnP error. */
struct pinhole_args {
	struct remote_filter filter;
	size_t nfilters;
	struct in6_addr internal_addr;
	uint16_t internal_port;
	uint8_t proto;
};

static int parse_pinhole_args(const struct action_ctx *a, struct pinhole_args *p)
{
	const struct soap_call *c = a->call;
	const char *remote = soap_arg(c, "RemoteHost");
	uint16_t remote_port;
	int code;

	memset(p, 0, sizeof(*p));
	if (!parse_port_or_zero(soap_arg(c, "RemotePort"), &remote_port) ||
	    !parse_port_or_zero(soap_arg(c, "InternalPort"), &p->internal_port) ||
	    !parse_v6(soap_arg(c, "InternalClient"), &p->internal_addr))
		return UPNP_INVALID_ARGS;
	if (remote && *remote) {
		if (!parse_v6(remote, &p->filter.remote.net))
			return UPNP_INVALID_ARGS;
		p->filter.remote.len = 128;
	} else {
		p->filter.remote.len = 0;  /* ::/0 */
	}
	p->filter.port = remote_port;
	p->nfilters = p->filter.remote.len || remote_port ? 1 : 0;
	if ((code = parse_protocol(soap_arg(c, "Protocol"), &p->proto)))
		return code;
	if (p->internal_port == 0)
		return UPNP_INTERNAL_PORT_WILDCARD;
	return 0;
}

static int map_status_to_upnp(enum map_status s)
{
	switch (s) {
	case MAP_OK: return 0;
	case MAP_DENIED:
	case MAP_NOT_A_HOST:
	case MAP_NOT_OWNER: return UPNP_NOT_AUTHORIZED;
	case MAP_TABLE_FULL:
	case MAP_QUOTA_EXCEEDED:
	case MAP_RATE_LIMITED:
	case MAP_NO_FREE_PORT: return UPNP_PINHOLE_SPACE_EXHAUSTED;
	case MAP_PORT_UNAVAILABLE:
	case MAP_ROUTER_SERVES:
	case MAP_FORWARDED_ELSEWHERE:
	case MAP_CONFLICT:
	case MAP_NO_EXTERNAL_ADDRESS:
	case MAP_BACKEND_FAILED:
	case MAP_UNSUPPORTED:
	case MAP_NO_FLOW: return UPNP_ACTION_FAILED;
	}
	return UPNP_ACTION_FAILED;
}

/* The pinhole UniqueID names, if the asker made it. Returns 0 or a UPnP
 * error: 704 for none, 606 for someone else's. */
static int find_own_pinhole(const struct action_ctx *a, const struct lease **found)
{
	unsigned long id;
	const struct lease *l;

	if (!parse_uint(soap_arg(a->call, "UniqueID"), 65535, &id))
		return UPNP_INVALID_ARGS;
	l = id ? lease_by_pinhole_id(mapper_leases(a->igd->mapper), (uint16_t)id) : NULL;
	if (!l)
		return UPNP_NO_SUCH_PINHOLE;
	if (!addr_equal(&l->client, &a->ctx->client))
		return UPNP_NOT_AUTHORIZED;
	*found = l;
	return 0;
}

static int reply_unique_id(const struct action_ctx *a, const struct lease *l)
{
	char id[8];
	struct soap_out out[] = { { "UniqueID", id } };

	snprintf(id, sizeof(id), "%u", l->pinhole_id);
	return igd_reply(a, out, N(out));
}

static int get_firewall_status(const struct action_ctx *a)
{
	struct soap_out out[] = {
		{ "FirewallEnabled", "1" },
		{ "InboundPinholeAllowed",
		  policy_may_allow_ipv6(&a->igd->cfg->policy) ? "1" : "0" },
	};

	return igd_reply(a, out, N(out));
}

/* How long the router keeps an idle outbound flow of that protocol open:
 * the kernel's conntrack timeout for an established flow. */
static int get_outbound_timeout(const struct action_ctx *a)
{
	struct pinhole_args p;
	char value[12];
	struct soap_out out[] = { { "OutboundPinholeTimeout", value } };
	unsigned long seconds = 0;
	const char *path = NULL;
	FILE *f;
	int code = parse_pinhole_args(a, &p);

	/* An outbound pinhole may name any port of the internal host. */
	if (code && code != UPNP_INTERNAL_PORT_WILDCARD)
		return igd_fault(a, code);
	path = p.proto == IPPROTO_TCP ?
		       "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established" :
		       "/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream";
	f = fopen(path, "re");
	if (!f)
		return igd_fault(a, UPNP_ACTION_FAILED);
	if (fscanf(f, "%lu", &seconds) != 1)
		seconds = 0;
	fclose(f);
	if (seconds == 0)
		return igd_fault(a, UPNP_ACTION_FAILED);
	snprintf(value, sizeof(value), "%lu", seconds > 0xffffffffUL ? 0xffffffffUL : seconds);
	return igd_reply(a, out, N(out));
}

/*
 * One pinhole per internal endpoint: asking again for the same endpoint
 * renews it, takes the new remote filter and answers the same UniqueID, as
 * a PCP MAP for it would.
 */
static int add_pinhole(const struct action_ctx *a)
{
	struct pinhole_args p;
	struct map_request req = { .client = a->ctx->client, .origin = LEASE_ORIGIN_UPNP,
				   .replace_filters = true };
	struct map_result res;
	const struct lease *l;
	int code = parse_pinhole_args(a, &p);

	if (code)
		return igd_fault(a, code);
	if (!parse_lease_time(soap_arg(a->call, "LeaseTime"), &req.lifetime))
		return igd_fault(a, UPNP_INVALID_ARGS);
	if (!igd_acceptable_internal_client(a->ctx, &p.internal_addr))
		return igd_fault(a, UPNP_NOT_AUTHORIZED);
	req.proto = p.proto;
	req.internal_addr = p.internal_addr;
	req.internal_port = p.internal_port;
	req.filters = &p.filter;
	req.nfilters = p.nfilters;
	res = igd_map(a, &req);
	if ((code = map_status_to_upnp(res.status)))
		return igd_fault(a, code);
	l = lease_by_internal(mapper_leases(a->igd->mapper), &p.internal_addr, p.proto,
			      p.internal_port);
	if (!l)
		return igd_fault(a, UPNP_ACTION_FAILED);
	return reply_unique_id(a, l);
}

static int update_pinhole(const struct action_ctx *a)
{
	const struct lease *l;
	struct map_request req = { .client = a->ctx->client, .origin = LEASE_ORIGIN_UPNP };
	int code = find_own_pinhole(a, &l);

	if (code)
		return igd_fault(a, code);
	if (!parse_lease_time(soap_arg(a->call, "NewLeaseTime"), &req.lifetime))
		return igd_fault(a, UPNP_INVALID_ARGS);
	req.proto = l->proto;
	req.internal_addr = l->internal_addr;
	req.internal_port = l->internal_port;
	if ((code = map_status_to_upnp(igd_map(a, &req).status)))
		return igd_fault(a, code);
	return igd_reply(a, NULL, 0);
}

static int delete_pinhole(const struct action_ctx *a)
{
	const struct lease *l;
	int code = find_own_pinhole(a, &l);
	struct unmap_request u;

	if (code)
		return igd_fault(a, code);
	u = (struct unmap_request){ .client = a->ctx->client, .internal_addr = l->internal_addr,
				    .proto = l->proto, .internal_port = l->internal_port,
				    .origin = LEASE_ORIGIN_UPNP };
	if (igd_unmap(a, &u) != MAP_OK)
		return igd_fault(a, UPNP_NOT_AUTHORIZED);
	return igd_reply(a, NULL, 0);
}

/* Packets the kernel let through the pinhole, or -1 with the fault sent. */
static int64_t pinhole_packets(const struct action_ctx *a)
{
	const struct lease *l;
	struct nft_counters counted;
	int code = find_own_pinhole(a, &l);

	if (code) {
		igd_fault(a, code);
		return -1;
	}
	if (mapper_counters(a->igd->mapper, l, &counted) < 0) {
		igd_fault(a, UPNP_ACTION_FAILED);
		return -1;
	}
	return counted.packets > INT64_MAX ? INT64_MAX : (int64_t)counted.packets;
}

static int get_pinhole_packets(const struct action_ctx *a)
{
	int64_t packets = pinhole_packets(a);
	char value[12];
	struct soap_out out[] = { { "PinholePackets", value } };

	if (packets < 0)
		return 500;
	/* a ui4 that saturates rather than wraps: "many", not "few" */
	snprintf(value, sizeof(value), "%llu",
		 (unsigned long long)(packets > 0xffffffffLL ? 0xffffffffLL : packets));
	return igd_reply(a, out, N(out));
}

static int check_pinhole_working(const struct action_ctx *a)
{
	int64_t packets = pinhole_packets(a);
	struct soap_out out[] = { { "IsWorking", "1" } };

	if (packets < 0)
		return 500;
	if (packets == 0)
		return igd_fault(a, UPNP_NO_TRAFFIC_RECEIVED);
	return igd_reply(a, out, N(out));
}

const struct action_handler igd_pinhole_handlers[] = {
	{ "GetFirewallStatus", get_firewall_status },
	{ "GetOutboundPinholeTimeout", get_outbound_timeout },
	{ "AddPinhole", add_pinhole },
	{ "UpdatePinhole", update_pinhole },
	{ "DeletePinhole", delete_pinhole },
	{ "GetPinholePackets", get_pinhole_packets },
	{ "CheckPinholeWorking", check_pinhole_working },
};
const size_t igd_pinhole_handler_count = N(igd_pinhole_handlers);

bool igd_pinhole_state(const struct igd *igd, const char *name, char value[IGD_VALUE_MAX])
{
	if (strcmp(name, "FirewallEnabled") == 0)
		snprintf(value, IGD_VALUE_MAX, "1");
	else if (strcmp(name, "InboundPinholeAllowed") == 0)
		snprintf(value, IGD_VALUE_MAX, "%d", policy_may_allow_ipv6(&igd->cfg->policy));
	else if (strcmp(name, "SystemUpdateID") == 0)
		snprintf(value, IGD_VALUE_MAX, "%u", mapper_pinhole_changes(igd->mapper));
	else
		return false;
	return true;
}
