/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "priv/priv.h"

#include <errno.h>
#include <string.h>

#include "lib/addr.h"
#include "priv/own_addr.h"
#include "config/policy.h"

void priv_mapping_pack(struct priv_mapping *out, const struct nft_mapping *m)
{
	size_t n = m->nremotes < FILTER_MAX_RANGES ? m->nremotes : FILTER_MAX_RANGES;

	memset(out, 0, sizeof(*out));
	out->proto = m->proto;
	out->operator_static = m->operator_static;
	out->peer = m->peer;
	out->limit_class = m->limit_class;
	out->external_port = m->external_port;
	out->internal_port = m->internal_port;
	out->internal_addr = m->internal_addr;
	out->client = m->client;
	out->timeout_ms = m->timeout_ms;
	out->nremotes = (uint16_t)n;
	if (n)
		memcpy(out->remotes, m->remotes, n * sizeof(*m->remotes));
}

struct nft_mapping priv_mapping_unpack(const struct priv_mapping *w)
{
	return (struct nft_mapping){
		.proto = w->proto,
		.external_port = w->external_port,
		.internal_addr = w->internal_addr,
		.internal_port = w->internal_port,
		.remotes = w->remotes,
		.nremotes = w->nremotes,
		.timeout_ms = w->timeout_ms,
		.client = w->client,
		.operator_static = w->operator_static != 0,
		.peer = w->peer != 0,
		.limit_class = w->limit_class,
	};
}

/* 30 days, lifetime.max's own bound. */
#define MAX_TIMEOUT_MS (2592000ull * 1000)

static bool is_v4_host(const struct in6_addr *a)
{
	struct in_addr v4;
	uint32_t h;

	if (!addr_is_v4(a))
		return false;
	v4 = addr_to_v4(a);
	h = ntohl(v4.s_addr);
	/* not 0/8, loopback, multicast or above, nor the broadcast address */
	return (h >> 24) != 0 && (h >> 24) != 127 && h < 0xe0000000u;
}

static bool is_v6_host(const struct in6_addr *a)
{
	return !addr_is_v4(a) && !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_LOOPBACK(a) &&
	       !IN6_IS_ADDR_MULTICAST(a) && !IN6_IS_ADDR_LINKLOCAL(a);
}

static int check_mapping(const struct priv_mapping *m, const char **why)
{
	bool v4 = addr_is_v4(&m->internal_addr);

	if (m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP)
		return *why = "protocol is neither TCP nor UDP", -EINVAL;
	if (m->internal_port == 0 || (v4 && m->external_port == 0))
		return *why = "port 0", -EINVAL;
	if (v4 ? !is_v4_host(&m->internal_addr) : !is_v6_host(&m->internal_addr))
		return *why = "internal address is not a unicast host address", -EINVAL;
	if (m->timeout_ms > MAX_TIMEOUT_MS)
		return *why = "timeout beyond 30 days", -EINVAL;
	if (m->nremotes > FILTER_MAX_RANGES)
		return *why = "too many remote ranges", -EINVAL;
	for (size_t i = 0; i < m->nremotes; i++) {
		const struct remote_range *r = &m->remotes[i];

		if (addr_is_v4(&r->first) != v4 || addr_is_v4(&r->last) != v4)
			return *why = "remote range of the other address family", -EINVAL;
		if (memcmp(&r->first, &r->last, sizeof(r->first)) > 0 || r->port_first > r->port_last)
			return *why = "remote range ends before it starts", -EINVAL;
		if (m->peer && (!addr_equal(&r->first, &r->last) || r->port_first != r->port_last ||
				r->port_first == 0 || !is_v4_host(&r->first)))
			return *why = "a PEER's remote is not one host address and port", -EINVAL;
	}
	if (m->peer > 1 || (m->peer && (!v4 || m->nremotes == 0 || m->nremotes > FILTER_MAX ||
					m->operator_static)))
		return *why = "a PEER is an IPv4 client mapping with one to 8 remotes", -EINVAL;
	if (m->limit_class > POLICY_MAX_LIMITS ||
	    (m->limit_class && (m->peer || m->operator_static)))
		return *why = "an inbound limit class the policy cannot have", -EINVAL;
	return 0;
}

static int check_batch(const struct priv_batch *b, size_t len, const char **why)
{
	if (len < PRIV_BATCH_SIZE(1) || b->count == 0 || b->count > PRIV_BATCH_MAX ||
	    len != PRIV_BATCH_SIZE(b->count))
		return *why = "not one whole batch", -EINVAL;
	return 0;
}

int priv_batch_item_check(const struct priv_batch_item *item, const char **why)
{
	*why = "";
	if (item->op != PRIV_ADD && item->op != PRIV_DELETE && item->op != PRIV_RENEW)
		return *why = "a batch holds adds, deletes and renewals only", -EINVAL;
	return check_mapping(&item->mapping, why);
}

int priv_request_check(const void *buf, size_t len, const char **why)
{
	const struct priv_request *r = buf;

	*why = "";
	if (len >= sizeof(uint32_t) && r->op == PRIV_BATCH)
		return check_batch(buf, len, why);
	if (len != sizeof(*r))
		return *why = "not one whole request", -EINVAL;
	switch (r->op) {
	case PRIV_REPLACE:
		if (check_mapping(&r->old, why) < 0)
			return -EINVAL;
		if (r->old.proto != r->mapping.proto ||
		    r->old.external_port != r->mapping.external_port ||
		    !addr_equal(&r->old.internal_addr, &r->mapping.internal_addr) ||
		    r->old.internal_port != r->mapping.internal_port || r->old.peer != r->mapping.peer)
			return *why = "a refresh must keep the mapping's endpoints", -EINVAL;
		/* fall through */
	case PRIV_ADD:
	case PRIV_DELETE:
	case PRIV_COUNTERS:
	case PRIV_LAST_USED:
		return check_mapping(&r->mapping, why);
	case PRIV_PEER:
		if (r->flow.proto != IPPROTO_TCP && r->flow.proto != IPPROTO_UDP)
			return *why = "protocol is neither TCP nor UDP", -EINVAL;
		if (r->lifetime > MAX_TIMEOUT_MS / 1000)
			return *why = "lifetime beyond 30 days", -EINVAL;
		return 0;
	case PRIV_HAIRPIN:
		return r->has_hairpin > 1 ? (*why = "bad flag", -EINVAL) : 0;
	case PRIV_CLOSE:
		return r->remove > 1 ? (*why = "bad flag", -EINVAL) : 0;
	case PRIV_REBUILD:
	case PRIV_RELOAD:
	case PRIV_INTACT:
	case PRIV_FORWARDED:
	case PRIV_LIMITED:
		return 0;
	default:
		return *why = "unknown operation", -EINVAL;
	}
}

static priv_mac_fn mac_lookup;

void priv_set_mac_lookup(priv_mac_fn lookup)
{
	mac_lookup = lookup;
}

/* What the checks know of the asking host beyond its address. Approvals
 * are the operator's word to the daemon, over a control socket the helper
 * does not see: to the helper an "ask" rule allows what it matches, and the
 * daemon asks only for what the operator approved (docs/security.md). */
static void query_host(const struct config *cfg, struct policy_query *q)
{
	if (mac_lookup && policy_uses_mac(&cfg->policy))
		q->has_mac = mac_lookup(cfg, &q->client, q->mac);
	q->approved = true;
}

static bool declared_static(const struct config *cfg, const struct priv_mapping *m)
{
	for (size_t i = 0; i < cfg->static_count; i++) {
		const struct static_mapping *s = &cfg->statics[i];

		if (s->declared && s->proto == m->proto && s->internal_port == m->internal_port &&
		    addr_equal(&s->internal_addr, &m->internal_addr) &&
		    (!addr_is_v4(&m->internal_addr) || s->external_port == m->external_port))
			return true;
	}
	return false;
}

static int authorize_mapping(const struct config *cfg, const struct own_addresses *own,
			     const struct priv_mapping *m, const char **why)
{
	struct policy_decision d;
	struct policy_query q = {
		.client = m->operator_static ? m->internal_addr : m->client,
		.third_party = !m->operator_static && !addr_equal(&m->client, &m->internal_addr),
		.proto = m->proto,
		.internal_port = m->internal_port,
		/* A pinhole's external port is its internal one. */
		.external_port = addr_is_v4(&m->internal_addr) ? m->external_port :
								  m->internal_port,
	};

	/* Not even the operator's: the router's own services are not the
	 * WAN's by a mapping (a firewall rule says so openly). */
	if ((*why = own_addr_refusal(own, &m->internal_addr)))
		return -EPERM;
	*why = "";
	if (m->operator_static) {
		if (m->timeout_ms != 0)
			return *why = "a static mapping does not expire", -EPERM;
		/* Never expiring, it is the operator's word alone: the config's
		 * or the root-owned static file's, which the daemon cannot write. */
		if (declared_static(cfg, m))
			return 0;
		return *why = "a permanent mapping that neither the config nor the static file "
			      "names", -EPERM;
	} else if (m->timeout_ms == 0 || m->timeout_ms > (uint64_t)cfg->lifetime_max * 1000) {
		return *why = "lifetime outside 1 ms to lifetime.max", -EPERM;
	}
	query_host(cfg, &q);
	d = policy_check(&cfg->policy, &q);
	if (!d.allow)
		return *why = "the policy denies it", -EPERM;
	/* A PEER's inbound side is the flow it keeps, not a listener. */
	if (m->limit_class != (m->peer ? 0 : policy_rule_limit_class(&cfg->policy, d.rule)))
		return *why = "its inbound limit is not the one the policy sets", -EPERM;
	return 0;
}

bool priv_undeclared_static(const struct config *cfg, const struct priv_mapping *m)
{
	return m->operator_static && !declared_static(cfg, m);
}

int priv_authorize_item(const struct config *cfg, const struct own_addresses *own,
			const struct priv_batch_item *item, const char **why)
{
	*why = "";
	return item->op == PRIV_ADD || item->op == PRIV_RENEW ?
		       authorize_mapping(cfg, own, &item->mapping, why) : 0;
}

/* PEER keeps a flow alive: only a LAN host's, and only one the policy lets
 * map something from that port. */
static int authorize_peer(const struct config *cfg, const struct own_addresses *own,
			  const struct priv_request *r, const char **why)
{
	struct port_range allowed[POLICY_MAX_RANGES];
	struct policy_query q = {
		.client = r->flow.internal_addr,
		.proto = r->flow.proto,
		.internal_port = r->flow.internal_port,
	};

	if (r->lifetime > cfg->lifetime_max)
		return *why = "lifetime beyond lifetime.max", -EPERM;
	if ((*why = own_addr_refusal(own, &r->flow.internal_addr)))
		return -EPERM;
	if (!own_addr_on_lan(own, cfg->lan_interfaces, cfg->lan_interface_count,
			     &r->flow.internal_addr))
		return *why = "the flow's internal side is not on a LAN interface", -EPERM;
	query_host(cfg, &q);
	if (policy_allowed_external(&cfg->policy, &q, allowed, NULL, POLICY_MAX_RANGES) == 0)
		return *why = "the policy lets that host map nothing from that port", -EPERM;
	*why = "";
	return 0;
}

int priv_authorize(const struct config *cfg, const struct own_addresses *own,
		   const struct priv_request *r, const struct in_addr *external_addresses,
		   size_t n_external, const char **why)
{
	*why = "";
	switch (r->op) {
	case PRIV_ADD:
	case PRIV_REPLACE:
		return authorize_mapping(cfg, own, &r->mapping, why);
	case PRIV_PEER:
		return authorize_peer(cfg, own, r, why);
	case PRIV_HAIRPIN:
		if (!r->has_hairpin)
			return 0;
		for (size_t i = 0; i < n_external; i++)
			if (external_addresses[i].s_addr == r->hairpin.s_addr)
				return 0;
		return *why = "hairpin address is not the external address", -EPERM;
	default:
		return 0;
	}
}
