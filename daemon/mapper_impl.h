/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mapper's insides, shared by its four files: mapper.c (requests,
 * batching, expiry), mapper_restore.c (static mappings, the lease file,
 * reloads), mapper_peer.c (PCP PEER), mapper_chain.c (twins upstream,
 * behind another NAT). Nothing else includes it. */
#ifndef PORTLEASED_MAPPER_IMPL_H
#define PORTLEASED_MAPPER_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/approvals.h"
#include "daemon/audit.h"
#include "daemon/mapper.h"
#include "daemon/ratelimit.h"
#include "priv/nft.h"

/* Expiring thousands of leases at once must not hold up requests: do this
 * many per timer callback, then let the loop run. Each costs a helper round
 * trip that asks the kernel which of its elements are left (about 140 us
 * here): 32 keep another client's wait near 5 ms. */
#define EXPIRE_BATCH 32
/* Idle mappings (a rule's idle_timeout): how often they are looked at, and
 * how many the kernel is asked about in one sweep (a round trip each). */
#define IDLE_SWEEP_MIN_MS 1000
#define IDLE_SWEEP_MAX_MS 60000
#define IDLE_CHECKS_PER_SWEEP 256
/* Leases of one batch (mapper_batch_begin) whose add or refresh may still
 * fail; more, and the batch is settled first. */
#define BATCH_PENDING_MAX 128

/* A new lease whose add is queued, or a lease whose refresh is. */
struct pending {
	struct lease *lease;  /* flagged batch_pending: nothing removes it unsettled */
	size_t verb;          /* its add's or renewal's place among the batch's verbs */
	unsigned tag;         /* the request that made or refreshed it */
	int rc;               /* what the kernel said, once it did */
	bool refresh;
	uint64_t old_expires_ms;  /* a refresh: the expiry it had before */
};

_Static_assert(CONFIG_DESCRIPTION_MAX == LEASE_DESCRIPTION_MAX,
	       "a static mapping's description must fit its lease's");

struct mapper {
	const struct config *cfg;
	/* The policy's inbound limits as the kernel's chains last had them
	 * (mapper_policy_changed). */
	struct inbound_limit limits_made[POLICY_MAX_LIMITS];
	size_t nlimits_made;
	struct nft *nft;
	struct conntrack *conntrack;
	mapper_router_serves_fn router_serves;
	void *router_serves_arg;
	mapper_host_fn host_of;
	void *host_of_arg;
	mapper_name_fn name_of;
	mapper_upstream_fn upstream_of;
	void *upstream_arg;
	mapper_decided_fn decided;
	void *decided_arg;
	/* Chaining to the upstream (mapper_chain.c). */
	struct mapper_chain chain;
	bool has_chain;
	struct event *chain_timer;
	/* Who answers waiting clients: the NAT-PMP/PCP and UPnP servers. */
	struct {
		mapper_chained_fn fn;
		void *arg;
	} chained[2];
	bool chain_wait;  /* mapper_take_chain_wait */
	uint8_t chain_wait_proto;
	uint16_t chain_wait_port;
	unsigned chain_failures_logged;
	bool chain_no_answer;  /* the last failure: the upstream did not answer */
	uint32_t last_pending_id;  /* mapper_take_pending */
	void *name_of_arg;
	struct mapper_conflict_source conflicts;
	const struct own_addresses *own;
	struct lease_table *leases;
	struct event *expiry_timer;
	struct event *idle_timer;  /* armed while a rule has an idle_timeout */
	bool policy_names_macs;    /* policy_uses_mac(), as of mapper_policy_changed */
	bool policy_asks;          /* policy_uses_ask(), likewise */
	uint64_t start_ms;      /* the epoch's start (carried on from a clean stop) */
	uint64_t created_ms;    /* this process's start, near enough */
	bool has_external_address;
	struct in_addr external_address;
	void (*changed)(void *arg);
	void *changed_arg;
	/* Runs whenever what the lease file holds changes (refreshes too). */
	void (*dirty)(void *arg);
	void *dirty_arg;
	uint32_t pinhole_changes;
	/* A client's refusals past the first per interval are counted, and
	 * the count logged when the interval ends. */
	struct audit_limiter refusals;
	struct event *refusal_timer;
	struct rate_limiter requests;
	/* Requests "ask" rules refused, waiting for the operator, and what
	 * the operator decided. */
	struct approvals approvals;
	struct metrics_counters metrics;
	size_t by_origin[LEASE_ORIGINS];
	size_t pinholes;
	/* Between mapper_batch_begin and mapper_batch_end: */
	bool batching;
	size_t verbs;  /* adds, deletes and renewals queued since the last settle */
	unsigned tag;
	struct pending pending[BATCH_PENDING_MAX];
	size_t npending;
	unsigned withdrawn[BATCH_PENDING_MAX];  /* tags of requests whose grant failed */
	size_t nwithdrawn;
};

/* Helpers of mapper.c the other two use (their comments are there). */
void mapper_nft_warn(struct mapper *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mapper_audit(const struct audit_record *r);
int mapper_backend_add(struct mapper *m, const struct nft_mapping *nm);
struct map_result mapper_grant(struct mapper *m, const struct map_request *req, uint32_t lifetime,
			const struct policy_decision *exact);
struct map_result mapper_grant_pinhole(struct mapper *m, const struct map_request *req,
			uint32_t lifetime);
enum map_status mapper_install(struct mapper *m, struct lease *fields, uint64_t timeout_ms);
void mapper_log_decision(struct mapper *m, const struct map_request *req,
			const struct map_result *res, const char *event, const char *why);
/* mapper_chain.c: a granted IPv4 mapping's answer as the upstream makes
 * it (and its twin asked for); a lease that ends takes its twin along;
 * the timer for renewals. */
void mapper_chain_result(struct mapper *m, uint8_t proto, struct map_result *res);
/* A mapping no client waits on (a static one): its twin asked for now. */
void mapper_chain_new(struct mapper *m, uint8_t proto, uint16_t port);
void mapper_chain_forget(struct mapper *m, const struct lease *l);
bool mapper_chain_init(struct mapper *m, struct event_base *base);
void mapper_chain_free(struct mapper *m);
uint8_t lease_limit_class(const struct mapper *m, enum lease_origin origin, int rule, bool peer);
struct nft_mapping mapper_mapping_of(const struct lease *l, uint64_t timeout_ms,
			struct remote_range ranges[FILTER_MAX_RANGES]);
bool mapper_owns(const struct lease *l, const struct in6_addr *client, const uint8_t *nonce);
bool mapper_refresh(struct mapper *m, struct lease *l, const struct map_request *req,
			uint32_t lifetime, struct policy_decision d, struct map_result *res);
struct policy_query mapper_request_query(const struct mapper *m, const struct map_request *req,
					 uint16_t external_port);
struct policy_decision mapper_decide_lease(const struct mapper *m, const struct lease *l);
bool mapper_refusal_logged(struct mapper *m, const struct in6_addr *client);
void mapper_remove_lease(struct mapper *m, struct lease *l, const char *event, const char *by);
/* Tells the chained observers that the twin of (proto, port) is settled. */
void mapper_chain_notify(struct mapper *m, uint8_t proto, uint16_t port);
void mapper_schedule_expiry(struct mapper *m);
void mapper_settle(struct mapper *m);
bool mapper_within_rate(struct mapper *m, const struct in6_addr *client);

#endif
