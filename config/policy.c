/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config/policy.h"

#include <netinet/in.h>
#include <string.h>

static bool in_range(const struct port_range *r, uint16_t port)
{
	return port >= r->lo && port <= r->hi;
}

/* Whether the rule allows what it matches of q: an "ask" rule only once
 * the operator approved it. */
static bool rule_allows(const struct policy_rule *rule, const struct policy_query *q)
{
	return rule->allow || (rule->ask && q->approved);
}

/* Everything in a rule but its external port range. Deny rules match
 * third-party requests like any other; allow and ask rules only if they
 * say so. */
static bool rule_matches_endpoint(const struct policy_rule *rule, const struct policy_query *q)
{
	return (rule->proto == POLICY_PROTO_ANY || rule->proto == q->proto) &&
	       in_range(&rule->internal_ports, q->internal_port) &&
	       (rule->by_mac ? q->has_mac && memcmp(q->mac, rule->mac, sizeof(q->mac)) == 0 :
			       addr_in_prefix(&q->client, &rule->clients)) &&
	       (!q->third_party || !(rule->allow || rule->ask) || rule->third_party);
}

struct policy_decision policy_check(const struct policy *policy, const struct policy_query *q)
{
	for (size_t i = 0; i < policy->count; i++) {
		const struct policy_rule *rule = &policy->rules[i];

		if (rule_matches_endpoint(rule, q) &&
		    in_range(&rule->external_ports, q->external_port))
			return (struct policy_decision){ .allow = rule_allows(rule, q),
							 .ask = rule->ask && !q->approved,
							 .rule = (int)i };
	}
	return (struct policy_decision){ .allow = false, .rule = -1 };
}

bool policy_may_allow_ipv6(const struct policy *policy)
{
	for (size_t i = 0; i < policy->count; i++) {
		const struct addr_prefix *c = &policy->rules[i].clients;

		/* IPv4 prefixes live inside ::ffff:0:0/96; a host named by its
		 * link-layer address may have IPv6 addresses too. */
		if ((policy->rules[i].allow || policy->rules[i].ask) &&
		    (policy->rules[i].by_mac || c->len < 96 || !addr_is_v4(&c->net)))
			return true;
	}
	return false;
}

uint8_t policy_limit_class(struct policy *policy, const struct inbound_limit *limit)
{
	for (size_t i = 0; i < policy->limit_count; i++)
		if (memcmp(&policy->limits[i], limit, sizeof(*limit)) == 0)
			return (uint8_t)(i + 1);
	if (policy->limit_count == POLICY_MAX_LIMITS)
		return 0;
	policy->limits[policy->limit_count++] = *limit;
	return (uint8_t)policy->limit_count;
}

uint8_t policy_rule_limit_class(const struct policy *policy, int rule)
{
	return rule >= 0 && (size_t)rule < policy->count ? policy->rules[rule].limit_class : 0;
}

bool policy_uses_ask(const struct policy *policy)
{
	for (size_t i = 0; i < policy->count; i++)
		if (policy->rules[i].ask)
			return true;
	return false;
}

bool policy_uses_mac(const struct policy *policy)
{
	for (size_t i = 0; i < policy->count; i++)
		if (policy->rules[i].by_mac)
			return true;
	return false;
}

/*
 * Walk the rules in order keeping the ports no earlier rule has decided
 * ("open"). Each matching rule takes its share of the open ports: an allow
 * rule hands them to the output, a deny rule just removes them. This is
 * first-match-wins expressed over ranges, so a port is in the output exactly
 * when policy_check() would allow it.
 */
size_t policy_allowed_external(const struct policy *policy, const struct policy_query *q,
			       struct port_range *out, int *rules, size_t max)
{
	struct port_range open[POLICY_MAX_RANGES];
	size_t nopen = 1, nout = 0;

	open[0] = (struct port_range){ 1, 65535 };
	for (size_t i = 0; i < policy->count && nopen > 0; i++) {
		const struct policy_rule *rule = &policy->rules[i];
		struct port_range next[POLICY_MAX_RANGES];
		size_t nnext = 0;

		if (!rule_matches_endpoint(rule, q))
			continue;
		for (size_t j = 0; j < nopen; j++) {
			struct port_range o = open[j];
			uint16_t lo = o.lo > rule->external_ports.lo ? o.lo : rule->external_ports.lo;
			uint16_t hi = o.hi < rule->external_ports.hi ? o.hi : rule->external_ports.hi;

			if (lo > hi) {
				next[nnext++] = o;
				continue;
			}
			if (o.lo < lo)
				next[nnext++] = (struct port_range){ o.lo, (uint16_t)(lo - 1) };
			if (hi < o.hi)
				next[nnext++] = (struct port_range){ (uint16_t)(hi + 1), o.hi };
			if (rule_allows(rule, q) && nout < max) {
				if (rules)
					rules[nout] = (int)i;
				out[nout++] = (struct port_range){ lo, hi };
			}
		}
		for (size_t j = 0; j < nnext; j++)
			open[j] = next[j];
		nopen = nnext;
	}
	return nout;
}

const char *policy_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case POLICY_PROTO_ANY: return "any";
	default: return "?";
	}
}
