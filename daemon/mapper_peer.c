/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/mapper_impl.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "priv/conntrack.h"

/* A refused PEER: counted, and logged as the client's refusals are. */
static struct map_result peer_refused(struct mapper *m, const struct peer_request *req,
				      enum map_status status, const char *why)
{
	char internal[ADDR_STRLEN], remote[ADDR_STRLEN];

	m->metrics.events[METRICS_REFUSED][LEASE_ORIGIN_PCP]++;
	if (mapper_refusal_logged(m, &req->client))
		log_info("refused: pcp peer %s %s:%u -> %s:%u: %s", policy_proto_name(req->proto),
			 addr_format(&req->internal_addr, internal), req->internal_port,
			 addr_format(&req->remote_addr, remote), req->remote_port, why);
	return (struct map_result){ .status = status, .rule = -1 };
}

/* The PEER's remote as a filter of its mapping: one address, one port. */
static struct remote_filter peer_remote(const struct peer_request *req)
{
	return (struct remote_filter){ .remote = { .net = req->remote_addr, .len = 128 },
				       .port = req->remote_port };
}

static int find_remote(const struct lease *l, const struct remote_filter *r)
{
	for (size_t i = 0; i < l->nfilters; i++)
		if (addr_equal(&l->filters[i].remote.net, &r->remote.net) &&
		    l->filters[i].remote.len == r->remote.len && l->filters[i].port == r->port)
			return (int)i;
	return -1;
}

/* What a PEER amounts to as a mapping of its internal endpoint. */
static struct map_request peer_as_map(const struct peer_request *req, uint32_t lifetime,
				      const struct remote_filter *remotes, size_t nremotes)
{
	return (struct map_request){
		.proto = req->proto, .client = req->client, .internal_addr = req->internal_addr,
		.internal_port = req->internal_port,
		.suggested_external_port = req->suggested_external_port, .lifetime = lifetime,
		.origin = LEASE_ORIGIN_PCP, .nonce = req->nonce, .replace_filters = true,
		.filters = remotes, .nfilters = nremotes, .peer = true,
	};
}

/* A remote taken out of a PEER mapping that keeps others. */
static struct map_result peer_remove_remote(struct mapper *m, struct lease *l,
					    const struct peer_request *req, int at)
{
	struct remote_filter remotes[FILTER_MAX], asked = l->filters[at];
	uint32_t remaining = mapper_remaining(m, l);
	struct map_request mr;
	struct map_result res;
	size_t n = 0;

	for (size_t i = 0; i < l->nfilters; i++)
		if ((int)i != at)
			remotes[n++] = l->filters[i];
	mr = peer_as_map(req, remaining, remotes, n);
	if (!mapper_refresh(m, l, &mr, remaining ? remaining : 1, mapper_decide_lease(m, l), &res)) {
		mapper_remove_lease(m, l, "deleted", "policy");
		return (struct map_result){ .status = MAP_OK, .rule = -1 };
	}
	if (res.status == MAP_OK)
		mapper_audit(&(struct audit_record){
			.event = "deleted", .origin = "pcp", .proto = l->proto, .client = l->client,
			.internal_addr = l->internal_addr, .device = mapper_device_of(m, l),
			.internal_port = l->internal_port,
			.has_external_port = addr_is_v4(&l->internal_addr),
			.external_port = l->external_port, .by = "client", .has_peer = true,
			.peer_addr = asked.remote.net, .peer_port = asked.port,
		});
	res.lifetime = 0;
	return res;
}

/* A PEER on an internal endpoint that has PEER mappings: renewed, another
 * remote added at the same external port (RFC 6887 §12: one external
 * endpoint per internal one), or a remote taken out. */
static struct map_result peer_change(struct mapper *m, struct lease *l,
				     const struct peer_request *req, uint32_t lifetime)
{
	struct remote_filter remotes[FILTER_MAX], asked = peer_remote(req);
	int at = find_remote(l, &asked);
	uint16_t external_port = l->external_port;
	struct map_request mr;
	struct map_result res;
	size_t n = 0;

	if (req->lifetime == 0) {
		if (at < 0)
			return (struct map_result){ .status = MAP_OK, .rule = -1 };
		if (l->nfilters > 1)
			return peer_remove_remote(m, l, req, at);
		mapper_remove_lease(m, l, "deleted", "client");
		mapper_schedule_expiry(m);
		return (struct map_result){ .status = MAP_OK, .external_port = external_port,
					    .rule = -1 };
	}
	/* The one asked about first, for the audit line. */
	remotes[n++] = asked;
	for (size_t i = 0; i < l->nfilters && n < FILTER_MAX; i++)
		if ((int)i != at)
			remotes[n++] = l->filters[i];
	mr = peer_as_map(req, lifetime, remotes, n);
	if (at >= 0) {
		mr.replace_filters = false;  /* a renewal */
	} else if (l->nfilters == FILTER_MAX) {
		res = (struct map_result){ .status = MAP_QUOTA_EXCEEDED, .rule = -1 };
		mapper_log_decision(m, &mr, &res, "refused",
			     "the internal endpoint has PEER mappings with 8 remotes already");
		return res;
	}
	if (!mapper_refresh(m, l, &mr, lifetime, mapper_decide_lease(m, l), &res)) {
		mapper_remove_lease(m, l, "deleted", "policy");
		res = (struct map_result){ .status = MAP_DENIED, .rule = -1 };
		mapper_log_decision(m, &mr, &res, "refused", NULL);
		return res;
	}
	mapper_log_decision(m, &mr, &res, at >= 0 ? "refreshed" : "granted", NULL);
	return res;
}

/* A flow the router tracks outside any mapping of ours: where its source
 * NAT put it, kept alive for the lifetime. -ENOENT if there is none. */
static int report_flow(struct mapper *m, const struct peer_request *req, uint32_t lifetime,
		       struct in6_addr *external_addr, struct map_result *res)
{
	struct ct_flow flow = {
		.proto = req->proto,
		.internal_addr = req->internal_addr, .internal_port = req->internal_port,
		.remote_addr = req->remote_addr, .remote_port = req->remote_port,
	};
	char internal[ADDR_STRLEN], remote[ADDR_STRLEN];
	uint16_t port;
	int rc;

	if (!m->conntrack)
		return -ENOENT;
	addr_format(&req->internal_addr, internal);
	addr_format(&req->remote_addr, remote);
	rc = conntrack_peer(m->conntrack, &flow, lifetime, external_addr, &port);
	if (rc == -ENOENT)
		return rc;
	if (rc < 0) {
		log_warnx("conntrack: cannot look up %s %s:%u -> %s:%u: %s",
			  policy_proto_name(req->proto), internal, req->internal_port, remote,
			  req->remote_port, strerror(-rc));
		*res = (struct map_result){ .status = MAP_BACKEND_FAILED, .rule = -1 };
		return 0;
	}
	log_info("peer: %s %s:%u -> %s:%u is external port %u, kept for %us",
		 policy_proto_name(req->proto), internal, req->internal_port, remote,
		 req->remote_port, port, lifetime);
	*res = (struct map_result){ .status = MAP_OK, .external_port = port, .lifetime = lifetime,
				    .rule = -1 };
	return 0;
}

struct map_result mapper_peer(struct mapper *m, const struct peer_request *req,
			      struct in6_addr *external_addr)
{
	struct port_range allowed[POLICY_MAX_RANGES];
	struct policy_query q = {
		.client = req->client,
		.third_party = !addr_equal(&req->client, &req->internal_addr),
		.proto = req->proto,
		.internal_port = req->internal_port,
	};
	uint32_t lifetime = req->lifetime ? config_clamp_lifetime(m->cfg, req->lifetime) : 0;
	bool v4 = addr_is_v4(&req->internal_addr);
	struct remote_filter remote = peer_remote(req);
	struct map_request mr;
	struct map_result res;
	const char *why;
	struct lease *l;

	if (!mapper_within_rate(m, &req->client))
		return peer_refused(m, req, MAP_RATE_LIMITED, map_status_name(MAP_RATE_LIMITED));
	if ((why = mapper_internal_refusal(m, &req->internal_addr)))
		return peer_refused(m, req, MAP_NOT_A_HOST, why);
	if (v4 && !m->has_external_address)
		return peer_refused(m, req, MAP_NO_EXTERNAL_ADDRESS, "no external address");
	*external_addr = v4 ? addr_from_v4(m->external_address) : req->internal_addr;

	l = lease_by_internal(m->leases, &req->internal_addr, req->proto, req->internal_port);
	if (l && l->batch_pending) {
		mapper_settle(m);
		l = lease_by_internal(m->leases, &req->internal_addr, req->proto,
				      req->internal_port);
	}
	if (l && l->peer) {
		if (!mapper_owns(l, &req->client, req->nonce))
			return peer_refused(m, req, MAP_NOT_OWNER, map_status_name(MAP_NOT_OWNER));
		return peer_change(m, l, req, lifetime);
	}
	if (lifetime == 0)  /* no PEER mapping to delete; a flow ends as it would have */
		return (struct map_result){ .status = MAP_OK, .rule = -1 };
	mapper_query_mac(m, &q, NULL);
	if (policy_allowed_external(&m->cfg->policy, &q, allowed, NULL, POLICY_MAX_RANGES) == 0)
		return peer_refused(m, req, MAP_DENIED, "no policy rule allows the port");
	if (report_flow(m, req, lifetime, external_addr, &res) == 0)
		return res;
	if (l)
		return peer_refused(m, req, MAP_NO_FLOW,
				    "no such flow, and the internal endpoint has a MAP mapping");
	mr = peer_as_map(req, lifetime, &remote, 1);
	res = v4 ? mapper_grant(m, &mr, lifetime, NULL) : mapper_grant_pinhole(m, &mr, lifetime);
	mapper_log_decision(m, &mr, &res, "granted", NULL);
	return res;
}
