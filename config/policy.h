/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The allowlist: an ordered list of allow/deny rules, first match wins, no
 * match denies. Pure functions of (policy, request): no I/O, no clock. */
#ifndef PORTLEASED_POLICY_H
#define PORTLEASED_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

#define POLICY_MAX_RULES 256
/* Rules carve the external port space into at most 2n+1 pieces. */
#define POLICY_MAX_RANGES (2 * POLICY_MAX_RULES + 1)

/* IANA protocol numbers; 0 in a rule means "tcp and udp". */
#define POLICY_PROTO_ANY 0

struct port_range {
	uint16_t lo, hi;  /* inclusive */
};

/* New inbound connections a mapping takes, enforced by the kernel: per
 * second from each remote address and in all (0: no such limit), and how
 * many may come at once beyond the rate (0: a second's worth of each). */
struct inbound_limit {
	uint32_t per_remote, total, burst;
};
/* The distinct limits of a policy: each a chain in the kernel. */
#define POLICY_MAX_LIMITS 8
#define INBOUND_LIMIT_MAX 1000000

struct policy_rule {
	bool allow;
	/* action "ask": allows only what the operator approved (approvals.h);
	 * anything else it matches is refused for now and left pending. */
	bool ask;
	/* The clients: a prefix, or (by_mac) every address of the host with
	 * this link-layer address, as the router's neighbour table knows it,
	 * so that the rule follows IPv6 privacy addresses and DHCP changes. */
	bool by_mac;
	uint8_t mac[6];
	struct addr_prefix clients;
	uint8_t proto;
	struct port_range internal_ports;
	struct port_range external_ports;
	/* An allow rule matches a request whose internal address is not the
	 * requesting host's own (PCP THIRD_PARTY) only if this is set. */
	bool third_party;
	/* A mapping this rule allowed that no new inbound connection has used
	 * for this long is removed (seconds; 0: never). */
	uint32_t idle_timeout;
	/* Its mappings' inbound limit: 1 + its index in policy.limits (0: none). */
	uint8_t limit_class;
	unsigned line;  /* where the rule stands in the config file, for logs */
};

struct policy {
	struct policy_rule rules[POLICY_MAX_RULES];
	size_t count;
	struct inbound_limit limits[POLICY_MAX_LIMITS];
	size_t limit_count;
};

struct policy_query {
	struct in6_addr client;
	bool has_mac;      /* the client's host's link-layer address is known */
	uint8_t mac[6];
	bool approved;     /* the operator approved this request: "ask" rules allow it */
	bool third_party;  /* the mapping is for another host than client */
	uint8_t proto;
	uint16_t internal_port;
	uint16_t external_port;
};

struct policy_decision {
	bool allow;
	bool ask;  /* refused for now: an "ask" rule decided, and it is not approved */
	int rule;  /* index of the deciding rule, -1 when no rule matched */
};

struct policy_decision policy_check(const struct policy *policy, const struct policy_query *q);

/* The external ports that policy_check() would allow for this query (its
 * external_port is ignored), as disjoint ranges in rule order. Returns how
 * many were written to out (at most max); rules, if not NULL, gets the
 * index of the rule that allows each, so that a port picked from them
 * needs no second check. */
size_t policy_allowed_external(const struct policy *policy, const struct policy_query *q,
			       struct port_range *out, int *rules, size_t max);

/* Whether some allow rule can match an IPv6 client, i.e. whether IPv6
 * pinholes can be granted at all. */
bool policy_may_allow_ipv6(const struct policy *policy);
/* Whether a rule names clients by link-layer address: only then need a
 * query carry one. */
bool policy_uses_mac(const struct policy *policy);
/* Whether a rule's action is "ask": only then are approvals looked up. */
bool policy_uses_ask(const struct policy *policy);

/* The class (1 + index into policy.limits) of limit, added if new: 0 if
 * POLICY_MAX_LIMITS distinct ones are there already. */
uint8_t policy_limit_class(struct policy *policy, const struct inbound_limit *limit);
/* The inbound limit class of the mappings rule allowed (-1: none): 0 for none. */
uint8_t policy_rule_limit_class(const struct policy *policy, int rule);

const char *policy_proto_name(uint8_t proto);

#endif
