/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/mapper_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/leasefile.h"
#include "lib/log.h"
#include "priv/conntrack.h"

static void notify_observer(const struct mapper *m)
{
	if (m->changed)
		m->changed(m->changed_arg);
}

static void mark_dirty(const struct mapper *m)
{
	if (m->dirty)
		m->dirty(m->dirty_arg);
}

uint64_t mapper_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *map_status_name(enum map_status s)
{
	switch (s) {
	case MAP_OK: return "granted";
	case MAP_DENIED: return "denied by policy";
	case MAP_NO_EXTERNAL_ADDRESS: return "no external address";
	case MAP_NO_FREE_PORT: return "no free allowed external port";
	case MAP_TABLE_FULL: return "lease table full";
	case MAP_QUOTA_EXCEEDED: return "the client's host holds max_leases_per_client mappings";
	case MAP_RATE_LIMITED: return "the client asks faster than client_request_rate allows";
	case MAP_BACKEND_FAILED: return "nftables refused the change";
	case MAP_UNSUPPORTED: return "unsupported";
	case MAP_NOT_OWNER: return "the mapping belongs to another client or nonce";
	case MAP_PORT_UNAVAILABLE: return "the exact external port asked for is taken or denied";
	case MAP_NO_FLOW: return "no such outbound flow";
	case MAP_ROUTER_SERVES: return "the router itself serves that port from the WAN";
	case MAP_NOT_A_HOST: return "the internal address is the router's own or no host's";
	case MAP_FORWARDED_ELSEWHERE: return "another nftables rule forwards that port";
	case MAP_CONFLICT: return "another client's mapping holds that port or internal endpoint";
	}
	return "?";
}

/* The inbound limit a lease gets from the rule that allowed it: none for
 * the operator's static mappings and for PEER, whose inbound side is the
 * flow it keeps. */
uint8_t lease_limit_class(const struct mapper *m, enum lease_origin origin, int rule, bool peer)
{
	return origin == LEASE_ORIGIN_STATIC || peer ? 0 :
						       policy_rule_limit_class(&m->cfg->policy, rule);
}

static unsigned rule_line(const struct mapper *m, int rule)
{
	return rule >= 0 ? m->cfg->policy.rules[rule].line : 0;
}

/* The kernel's view of a lease; ranges receives its remote ranges. */
struct nft_mapping mapper_mapping_of(const struct lease *l, uint64_t timeout_ms,
				     struct remote_range ranges[FILTER_MAX_RANGES])
{
	return (struct nft_mapping){
		.proto = l->proto,
		.external_port = l->external_port,
		.internal_addr = l->internal_addr,
		.internal_port = l->internal_port,
		.remotes = ranges,
		.nremotes = filter_ranges(l->filters, l->nfilters, ranges),
		.timeout_ms = timeout_ms,
		.client = l->client,
		.operator_static = l->origin == LEASE_ORIGIN_STATIC,
		/* IPv6 translates nothing: its PEER is its pinhole's filter. */
		.peer = l->peer && addr_is_v4(&l->internal_addr),
		.limit_class = l->limit_class,
	};
}

/* The filters a request sets, kept in storage (FILTER_MAX of them) for
 * fields not yet in the table: covered ones dropped, since the kernel
 * refuses overlapping ranges. */
static void set_filters(struct lease *fields, const struct map_request *req,
			struct remote_filter *storage)
{
	size_t n = req->nfilters < FILTER_MAX ? req->nfilters : FILTER_MAX;

	if (n > 0)
		memcpy(storage, req->filters, n * sizeof(*storage));
	fields->filters = storage;
	fields->nfilters = (uint8_t)filter_drop_covered(storage, n);
}

void mapper_schedule_expiry(struct mapper *m)
{
	const struct lease *soonest = lease_soonest(m->leases);
	uint64_t now = mapper_now_ms(), delay;
	struct timeval tv;

	if (!soonest || soonest->expires_ms == LEASE_NEVER) {
		evtimer_del(m->expiry_timer);
		return;
	}
	delay = soonest->expires_ms > now ? soonest->expires_ms - now : 0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(m->expiry_timer, &tv);
}

#define EVENT_OBSERVERS_MAX 4

static struct {
	mapper_event_fn fn;
	void *arg;
} event_observers[EVENT_OBSERVERS_MAX];

int mapper_add_event_observer(mapper_event_fn fn, void *arg)
{
	for (size_t i = 0; i < EVENT_OBSERVERS_MAX; i++)
		if (!event_observers[i].fn) {
			event_observers[i].fn = fn;
			event_observers[i].arg = arg;
			return 0;
		}
	return -1;
}

void mapper_remove_event_observer(mapper_event_fn fn, void *arg)
{
	for (size_t i = 0; i < EVENT_OBSERVERS_MAX; i++)
		if (event_observers[i].fn == fn && event_observers[i].arg == arg)
			event_observers[i].fn = NULL;
}

static void tell_observers(const struct audit_record *r)
{
	for (size_t i = 0; i < EVENT_OBSERVERS_MAX; i++)
		if (event_observers[i].fn)
			event_observers[i].fn(event_observers[i].arg, r);
}

void mapper_audit(const struct audit_record *r)
{
	char line[AUDIT_LINE_MAX];

	audit_format(line, sizeof(line), r);
	log_notice("%s", line);
	tell_observers(r);
}

static void summarise_refusals(const struct audit_summary *summary, void *arg)
{
	char text[ADDR_STRLEN], host[HOST_ID_STRLEN];

	(void)arg;
	if (summary->host.kind == HOST_NONE)
		log_info("audit event=refused_summary client=others count=%u interval_s=%u",
			 summary->count, AUDIT_REFUSAL_INTERVAL_MS / 1000);
	else
		log_info("audit event=refused_summary client=%s host=%s count=%u interval_s=%u",
			 addr_format(&summary->client, text), host_id_format(&summary->host, host),
			 summary->count, AUDIT_REFUSAL_INTERVAL_MS / 1000);
}

/* For the end of the first interval with a count to report. Set from the
 * interval's own end, not a fixed period: a timer may fire a little early
 * by our clock, and a fixed re-arm would then postpone the summary by a
 * whole interval. */
static void arm_refusal_timer(struct mapper *m)
{
	uint64_t due, now = mapper_now_ms(), delay;
	struct timeval tv;

	if (!audit_limiter_next_due(&m->refusals, &due))
		return;
	delay = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(m->refusal_timer, &tv);
}

static void refusal_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct mapper *m = arg;

	(void)fd;
	(void)what;
	audit_limiter_flush(&m->refusals, mapper_now_ms(), summarise_refusals, NULL);
	arm_refusal_timer(m);
}

/* A change the kernel refused: logged, and counted for the metrics. */
void mapper_nft_warn(struct mapper *m, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->metrics.nftables_errors++;
	log_warnx("%s", msg);
}

/* The backend's add and delete; while batching they are only queued, and
 * counted, so that a refusal reported later finds its verb. */
int mapper_backend_add(struct mapper *m, const struct nft_mapping *nm)
{
	if (m->batching)
		m->verbs++;
	return nft_mapping_add(m->nft, nm);
}

static int backend_delete(struct mapper *m, const struct nft_mapping *nm)
{
	if (m->batching)
		m->verbs++;
	return nft_mapping_delete(m->nft, nm);
}

/* The lease out of the table, logged and counted: event "expired", or
 * "deleted" by "client", "operator", "policy" or "nftables". */
static void forget_lease(struct mapper *m, struct lease *l, const char *event, const char *by,
			 const char *reason)
{
	bool waited_upstream = l->upstream == LEASE_UPSTREAM_ASKED;
	uint8_t proto = l->proto;
	uint16_t port = l->external_port;

	mapper_audit(&(struct audit_record){
		.reason = reason,
		.event = event, .origin = lease_origin_name(l->origin), .proto = l->proto,
		.client = l->client, .internal_addr = l->internal_addr,
		.device = mapper_device_of(m, l),
		.internal_port = l->internal_port, .has_external_port = addr_is_v4(&l->internal_addr),
		.external_port = l->external_port, .rule_line = rule_line(m, l->rule), .by = by,
		.description = l->description,
		.has_peer = l->peer && l->nfilters > 0,
		.peer_addr = l->nfilters ? l->filters[0].remote.net : in6addr_any,
		.peer_port = l->nfilters ? l->filters[0].port : 0,
	});
	m->metrics.events[strcmp(event, "expired") == 0 ? METRICS_EXPIRED : METRICS_DELETED]
			 [l->origin]++;
	m->by_origin[l->origin]--;
	if (!addr_is_v4(&l->internal_addr)) {
		m->pinhole_changes++;
		m->pinholes--;
	}
	mapper_chain_forget(m, l);
	lease_delete(m->leases, l);
	/* A client waiting for its twin hears that the mapping is gone. */
	if (waited_upstream)
		mapper_chain_notify(m, proto, port);
	notify_observer(m);
	mark_dirty(m);
}

/* Its elements out of the kernel, and the lease out of the table. */
static void remove_lease(struct mapper *m, struct lease *l, const char *event, const char *by,
			 const char *reason)
{
	struct remote_range ranges[FILTER_MAX_RANGES];
	struct nft_mapping nm = mapper_mapping_of(l, 0, ranges);
	int rc = backend_delete(m, &nm);

	/* Even if the kernel refused, its own timeout removes the elements:
	 * the lease goes either way. */
	if (rc < 0)
		mapper_nft_warn(m, "nftables: cannot delete %s external port %u: %s",
			  policy_proto_name(l->proto), l->external_port, strerror(-rc));
	forget_lease(m, l, event, by, reason);
}

void mapper_remove_lease(struct mapper *m, struct lease *l, const char *event, const char *by)
{
	remove_lease(m, l, event, by, NULL);
}

static void on_told(void *arg, const struct nft_outcome *o)
{
	struct mapper *m = arg;

	for (size_t i = 0; i < m->npending; i++)
		if (m->pending[i].verb == o->verb) {
			struct lease *l = m->pending[i].lease;

			m->pending[i].rc = o->rc;
			/* The renewed elements took their counters with them. */
			if (o->renew && o->rc == 0) {
				l->packets_before += o->counted.packets;
				l->bytes_before += o->counted.bytes;
				l->limited_before += o->counted.limited;
			}
			return;
		}
	/* A delete: the elements' own timeout removes them. */
	if (o->rc < 0)
		mapper_nft_warn(m, "nftables: cannot delete a mapping's elements: %s", strerror(-o->rc));
}

/*
 * Applies what the batch queued. A new lease whose add the kernel refused
 * is withdrawn (deleted by "nftables"), a refresh it refused undone, and
 * the request's tag noted, for its server to answer it again (a refresh
 * then tries on its own). Then, still batching, queueing goes on.
 */
void mapper_settle(struct mapper *m)
{
	nft_batch_end(m->nft, on_told, m);
	for (size_t i = 0; i < m->npending; i++) {
		struct pending *p = &m->pending[i];
		struct lease *l = p->lease;

		l->batch_pending = false;
		if (p->rc == 0)
			continue;
		mapper_nft_warn(m, "nftables: cannot %s %s port %u: %s; %s",
			  p->refresh ? "refresh" : "add", policy_proto_name(l->proto),
			  l->external_port, strerror(-p->rc),
			  p->refresh ? "undone, and tried again on its own" : "the grant is withdrawn");
		if (m->nwithdrawn < BATCH_PENDING_MAX)
			m->withdrawn[m->nwithdrawn++] = p->tag;
		if (p->refresh) {
			lease_set_expiry(m->leases, l, p->old_expires_ms);
			mark_dirty(m);
			continue;
		}
		/* A refused add left nothing in the kernel (its transaction
		 * is atomic); what is there under its keys is another's. */
		forget_lease(m, l, "deleted", "nftables", NULL);
	}
	m->npending = 0;
	m->verbs = 0;
	if (m->batching)
		nft_batch_begin(m->nft);
}

void mapper_batch_begin(struct mapper *m)
{
	m->batching = true;
	m->verbs = 0;
	m->npending = 0;
	m->nwithdrawn = 0;
	m->tag = 0;
	nft_batch_begin(m->nft);
}

void mapper_batch_request(struct mapper *m, unsigned tag)
{
	m->tag = tag;
}

size_t mapper_batch_end(struct mapper *m, unsigned *withdrawn, size_t max)
{
	size_t n;

	m->batching = false;
	mapper_settle(m);
	n = m->nwithdrawn < max ? m->nwithdrawn : max;
	memcpy(withdrawn, m->withdrawn, n * sizeof(*withdrawn));
	m->nwithdrawn = 0;
	mapper_schedule_expiry(m);
	return n;
}

static void expiry_fired(evutil_socket_t fd, short what, void *arg)
{
	struct mapper *m = arg;
	uint64_t now = mapper_now_ms();
	struct lease *l;
	int done = 0;

	(void)fd;
	(void)what;
	while ((l = lease_soonest(m->leases)) && l->expires_ms <= now && done++ < EXPIRE_BATCH)
		mapper_remove_lease(m, l, "expired", NULL);
	mapper_schedule_expiry(m);
}

static void arm_idle_sweep(struct mapper *m)
{
	uint32_t shortest = 0;
	uint64_t every_ms;
	struct timeval tv;

	for (size_t i = 0; i < m->cfg->policy.count; i++) {
		uint32_t t = m->cfg->policy.rules[i].idle_timeout;

		if (t && (!shortest || t < shortest))
			shortest = t;
	}
	if (!shortest) {
		evtimer_del(m->idle_timer);
		return;
	}
	/* A tenth of the shortest timeout: a mapping goes at most 10% late. */
	every_ms = (uint64_t)shortest * 100;
	every_ms = every_ms < IDLE_SWEEP_MIN_MS ? IDLE_SWEEP_MIN_MS :
		   every_ms > IDLE_SWEEP_MAX_MS ? IDLE_SWEEP_MAX_MS : every_ms;
	tv.tv_sec = (time_t)(every_ms / 1000);
	tv.tv_usec = (suseconds_t)(every_ms % 1000) * 1000;
	evtimer_add(m->idle_timer, &tv);
}

/* How long l has gone without a new inbound connection, as the kernel's
 * seen sets tell (since it was made, if none came); -1 when they cannot
 * be read. */
static int64_t idle_ms_of(struct mapper *m, const struct lease *l, uint64_t now)
{
	struct remote_range ranges[FILTER_MAX_RANGES];
	struct nft_mapping nm = mapper_mapping_of(l, 0, ranges);
	struct nft_counters seen = { 0 };
	uint64_t age = now - l->created_ms;

	if (nft_mapping_last_used(m->nft, &nm, &seen) < 0)
		return -1;
	/* A connection older than the mapping was to an earlier one. */
	return (int64_t)(seen.used && seen.idle_ms < age ? seen.idle_ms : age);
}

/* Mappings whose rule has an idle_timeout: one that no new inbound
 * connection has used for that long goes, audited as expired reason=idle.
 * Only mappings older than their timeout cost a question to the kernel,
 * at most IDLE_CHECKS_PER_SWEEP of them a sweep. */
static void idle_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct mapper *m = arg;
	uint64_t now = mapper_now_ms();
	unsigned asked = 0;

	(void)fd;
	(void)what;
	for (struct lease *l = lease_first(m->leases), *next; l && asked < IDLE_CHECKS_PER_SWEEP;
	     l = next) {
		const struct policy *p = &m->cfg->policy;
		uint64_t timeout_ms;
		int64_t idle;

		next = lease_next(l);
		if (l->rule < 0 || (size_t)l->rule >= p->count || l->peer || l->batch_pending ||
		    l->origin == LEASE_ORIGIN_STATIC || !p->rules[l->rule].idle_timeout)
			continue;
		timeout_ms = (uint64_t)p->rules[l->rule].idle_timeout * 1000;
		if (now - l->created_ms < timeout_ms)
			continue;
		asked++;
		if ((idle = idle_ms_of(m, l, now)) < 0 || (uint64_t)idle < timeout_ms)
			continue;
		m->metrics.idle_expired++;
		remove_lease(m, l, "expired", NULL, "idle");
	}
	arm_idle_sweep(m);
}


bool mapper_policy_changed(struct mapper *m)
{
	const struct policy *p = &m->cfg->policy;
	bool limits_changed = p->limit_count != m->nlimits_made ||
			      memcmp(p->limits, m->limits_made,
				     p->limit_count * sizeof(p->limits[0])) != 0;

	m->policy_names_macs = policy_uses_mac(p);
	m->policy_asks = policy_uses_ask(p);
	arm_idle_sweep(m);
	m->nlimits_made = p->limit_count;
	memcpy(m->limits_made, p->limits, p->limit_count * sizeof(p->limits[0]));
	return limits_changed;
}

struct mapper *mapper_new(struct event_base *base, const struct config *cfg, struct nft *nft,
			  uint32_t hash_seed)
{
	struct mapper *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = cfg;
	m->nft = nft;
	m->start_ms = mapper_now_ms();
	m->created_ms = m->start_ms;
	m->leases = lease_table_new(cfg->max_leases, hash_seed);
	m->expiry_timer = evtimer_new(base, expiry_fired, m);
	m->refusal_timer = evtimer_new(base, refusal_timer_fired, m);
	m->idle_timer = evtimer_new(base, idle_sweep, m);
	audit_limiter_init(&m->refusals);
	rate_limiter_init(&m->requests, hash_seed);
	approvals_init(&m->approvals);
	if (!m->leases || !m->expiry_timer || !m->refusal_timer || !m->idle_timer ||
	    !mapper_chain_init(m, base)) {
		mapper_free(m);
		return NULL;
	}
	mapper_policy_changed(m);
	return m;
}

void mapper_free(struct mapper *m)
{
	if (!m)
		return;
	if (m->expiry_timer)
		event_free(m->expiry_timer);
	if (m->refusal_timer)
		event_free(m->refusal_timer);
	if (m->idle_timer)
		event_free(m->idle_timer);
	mapper_chain_free(m);
	lease_table_free(m->leases);
	free(m);
}

void mapper_set_external_address(struct mapper *m, const struct in_addr *addr)
{
	int rc;

	m->has_external_address = addr != NULL;
	if (addr)
		m->external_address = *addr;
	rc = nft_set_hairpin_address(m->nft, m->cfg->hairpin ? addr : NULL);
	if (rc < 0)
		mapper_nft_warn(m, "nftables: cannot set the hairpin address: %s", strerror(-rc));
	notify_observer(m);
}

void mapper_set_persistence(struct mapper *m, void (*dirty)(void *arg), void *arg)
{
	m->dirty = dirty;
	m->dirty_arg = arg;
}

int64_t mapper_wall_time(const struct mapper *m, uint64_t monotonic_ms)
{
	(void)m;
	return (int64_t)time(NULL) - ((int64_t)mapper_now_ms() - (int64_t)monotonic_ms) / 1000;
}

int64_t mapper_epoch_start(const struct mapper *m)
{
	return mapper_wall_time(m, m->start_ms);
}

void mapper_continue_epoch(struct mapper *m, int64_t epoch_start)
{
	int64_t age = (int64_t)time(NULL) - epoch_start;
	uint64_t now = mapper_now_ms();

	/* A clock set back, or an epoch older than the machine's uptime:
	 * start a new one rather than guess. */
	if (age >= 0 && (uint64_t)age * 1000 <= now)
		m->start_ms = now - (uint64_t)age * 1000;
}

void mapper_set_observer(struct mapper *m, void (*changed)(void *arg), void *arg)
{
	m->changed = changed;
	m->changed_arg = arg;
}

bool mapper_external_address(const struct mapper *m, struct in_addr *out)
{
	if (m->has_external_address)
		*out = m->external_address;
	return m->has_external_address;
}

uint32_t mapper_epoch(const struct mapper *m)
{
	return (uint32_t)((mapper_now_ms() - m->start_ms) / 1000);
}

uint32_t mapper_remaining(const struct mapper *m, const struct lease *l)
{
	uint64_t now = mapper_now_ms();

	(void)m;
	if (l->expires_ms == LEASE_NEVER)
		return 0;
	return l->expires_ms > now ? (uint32_t)((l->expires_ms - now + 999) / 1000) : 0;
}

uint32_t mapper_pinhole_changes(const struct mapper *m)
{
	return m->pinhole_changes;
}

int mapper_counters(struct mapper *m, const struct lease *l, struct nft_counters *out)
{
	struct remote_range ranges[FILTER_MAX_RANGES];
	struct nft_mapping nm = mapper_mapping_of(l, 0, ranges);
	int rc = nft_mapping_counters(m->nft, &nm, out);

	/* Only here, for the operator: a refresh needs the packets alone. */
	if (rc == 0)
		rc = nft_mapping_last_used(m->nft, &nm, out);
	if (rc == 0) {
		out->packets += l->packets_before;
		out->bytes += l->bytes_before;
		out->limited += l->limited_before;
		/* A connection older than the mapping was to an earlier one of
		 * this endpoint. */
		if (out->used && out->idle_ms > mapper_now_ms() - l->created_ms)
			out->used = false;
	}
	return rc;
}

const struct lease_table *mapper_leases(const struct mapper *m)
{
	return m->leases;
}

struct metrics_counters *mapper_metrics(struct mapper *m)
{
	return &m->metrics;
}

size_t mapper_port_mapping_count(const struct mapper *m)
{
	return lease_count(m->leases) - m->pinholes;
}

void mapper_status(const struct mapper *m, struct daemon_status *st)
{
	*st = (struct daemon_status){
		.version = PORTLEASED_VERSION,
		.pending = approvals_pending_count(&m->approvals, mapper_now_ms()),
		.uptime = (uint32_t)((mapper_now_ms() - m->created_ms) / 1000),
		.start_time = mapper_wall_time(m, m->created_ms),
		.epoch = mapper_epoch(m), .epoch_start_time = mapper_epoch_start(m),
		.has_external_address = m->has_external_address,
		.external_address = addr_from_v4(m->external_address),
		.leases = lease_count(m->leases), .capacity = lease_capacity(m->leases),
		.pinholes = m->pinholes, .counters = m->metrics,
	};
	memcpy(st->by_origin, m->by_origin, sizeof(st->by_origin));
	if (m->upstream_of)
		m->upstream_of(m->upstream_arg, &st->upstream);
}

void mapper_metrics_status(struct mapper *m, struct daemon_status *st)
{
	mapper_status(m, st);
	/* Only a policy with limits has anything to count: no kernel
	 * question otherwise. */
	if (m->cfg->policy.limit_count && nft_limited_total(m->nft, &st->inbound_limited) < 0)
		st->inbound_limited = 0;
}

/* Every map and PEER request costs its client a token, refreshes too:
 * each may cost the kernel a change. */
bool mapper_within_rate(struct mapper *m, const struct in6_addr *client)
{
	struct host_id host = mapper_host_of(m, client);

	if (rate_limiter_take(&m->requests, &host, mapper_now_ms(), m->cfg->client_requests_per_second,
			      m->cfg->client_request_burst))
		return true;
	m->metrics.rate_limited++;
	return false;
}


/* A refusal is logged unless its client was refused earlier in the
 * interval: a flooding client costs a line per interval, not per packet. */
bool mapper_refusal_logged(struct mapper *m, const struct in6_addr *client)
{
	struct audit_summary ended;
	struct host_id host = mapper_host_of(m, client);

	if (!audit_limiter_admit(&m->refusals, &host, client, mapper_now_ms(), &ended)) {
		if (!evtimer_pending(m->refusal_timer, NULL))
			arm_refusal_timer(m);
		return false;
	}
	if (ended.count)
		summarise_refusals(&ended, NULL);
	return true;
}

bool mapper_log_admit(struct mapper *m, const struct in6_addr *client)
{
	return mapper_refusal_logged(m, client);
}

/* A refusal by an "ask" rule: the request waits for the operator, and
 * is audited as pending (once, and when asked again after an hour's
 * silence, not at every retry). true when so handled. */
static bool left_pending(struct mapper *m, const struct map_request *req,
			 const struct map_result *res)
{
	const struct policy *p = &m->cfg->policy;
	struct pending_request asked;
	const struct pending_request *pending;
	struct host_id host;
	const char *why;

	if (res->status != MAP_DENIED || res->rule < 0 || (size_t)res->rule >= p->count ||
	    !p->rules[res->rule].ask)
		return false;
	host = mapper_host_of(m, &req->client);
	memset(&asked, 0, sizeof(asked));
	asked.key = approvals_key(&host, &req->client, &req->internal_addr, req->proto,
				  req->internal_port);
	asked.client = req->client;
	asked.internal_addr = req->internal_addr;
	asked.external_port = req->suggested_external_port;
	asked.origin = req->origin;
	if (req->description)
		snprintf(asked.description, sizeof(asked.description), "%s", req->description);
	switch (approvals_ask(&m->approvals, &asked, mapper_now_ms(), &pending)) {
	case APPROVALS_NEW:
		m->metrics.pending_requests++;
		m->metrics.events[METRICS_REFUSED][req->origin]++;
		mapper_audit(&(struct audit_record){
			.event = "pending", .origin = lease_origin_name(req->origin),
			.proto = req->proto, .client = req->client,
			.internal_addr = req->internal_addr,
			.device = mapper_device_at(m, &req->internal_addr),
			.internal_port = req->internal_port,
			.has_external_port = addr_is_v4(&req->internal_addr),
			.external_port = req->suggested_external_port,
			.rule_line = rule_line(m, res->rule), .approval_id = pending->id,
			.result = "waiting for the operator", .description = req->description,
		});
		m->last_pending_id = pending->id;
		return true;
	case APPROVALS_AGAIN:
		/* Clients retry: counted, not logged again. */
		m->metrics.events[METRICS_REFUSED][req->origin]++;
		m->last_pending_id = pending->id;
		return true;
	case APPROVALS_REJECTED:
		why = "rejected by the operator";
		break;
	case APPROVALS_UNKNOWN:
		why = "needs the operator's approval, and the router does not know the host's "
		      "link-layer address";
		break;
	default:
		why = "needs the operator's approval, and the host has too many requests pending";
		break;
	}
	mapper_log_decision(m, req, res, "refused", why);
	return true;
}

/* event: "granted", "refreshed" or "refused"; why: a refusal's reason
 * (NULL: the status's, or pending when an "ask" rule refused it). */
void mapper_log_decision(struct mapper *m, const struct map_request *req,
			 const struct map_result *res, const char *event, const char *why)
{
	bool ok = res->status == MAP_OK;

	if (!ok && !why && left_pending(m, req, res))
		return;
	m->metrics.events[!ok ? METRICS_REFUSED :
		strcmp(event, "granted") == 0 ? METRICS_GRANTED : METRICS_REFRESHED][req->origin]++;
	if (!ok && !mapper_refusal_logged(m, &req->client))
		return;
	if (!why && res->status == MAP_DENIED)
		why = res->rule < 0 ? "no policy rule allows it" : "denied by policy";
	if (!why)
		why = map_status_name(res->status);
	mapper_audit(&(struct audit_record){
		.event = ok ? event : "refused", .origin = lease_origin_name(req->origin),
		.proto = req->proto, .client = req->client, .internal_addr = req->internal_addr,
		.device = mapper_device_at(m, &req->internal_addr),
		.internal_port = req->internal_port,
		.has_external_port = ok && addr_is_v4(&req->internal_addr),
		.external_port = res->external_port, .lifetime = ok ? res->lifetime : 0,
		.rule_line = rule_line(m, res->rule), .result = ok ? "ok" : why,
		.description = req->description,
		.has_peer = req->peer && req->nfilters > 0,
		.peer_addr = req->nfilters ? req->filters[0].remote.net : in6addr_any,
		.peer_port = req->nfilters ? req->filters[0].port : 0,
	});
}

void mapper_refused(struct mapper *m, const struct map_request *req, enum map_status status,
		    const char *why)
{
	struct map_result res = { .status = status, .rule = -1 };

	mapper_log_decision(m, req, &res, "refused", why);
}

/* The client must be the one that made the mapping. A PCP mapping belongs
 * to its nonce (RFC 6887 §11.3): it is renewed, shortened or deleted only
 * by a request that presents it, so NAT-PMP and UPnP, which cannot, see it
 * as another's, and a host that spoofs its owner's IPv4 address gets
 * nothing. A NAT-PMP or UPnP mapping has no nonce: it matches on the client
 * alone, and a PCP request of that client takes it over. */
bool mapper_owns(const struct lease *l, const struct in6_addr *client, const uint8_t *nonce)
{
	if (!addr_equal(&l->client, client))
		return false;
	if (!l->has_nonce)
		return true;
	return nonce && memcmp(l->nonce, nonce, LEASE_NONCE_LEN) == 0;
}


/* A refresh that keeps its filters, queued in a batch: its counters come
 * back with the batch's outcome (on_told), a refusal undoes it (settle). */
static void queue_refresh(struct mapper *m, struct lease *l, const struct nft_mapping *renewed,
			  uint64_t expires_ms)
{
	if (m->npending == BATCH_PENDING_MAX)
		mapper_settle(m);
	m->pending[m->npending++] = (struct pending){ .lease = l, .verb = m->verbs, .tag = m->tag,
						      .refresh = true,
						      .old_expires_ms = l->expires_ms };
	m->verbs++;
	l->batch_pending = true;
	(void)nft_mapping_renew(m->nft, renewed);
	lease_set_expiry(m->leases, l, expires_ms);
}

void mapper_query_mac(const struct mapper *m, struct policy_query *q, const struct host_id *host)
{
	struct host_id looked_up;

	if (!m->policy_names_macs)
		return;
	if (!host || host->kind != HOST_MAC) {
		looked_up = mapper_host_of(m, &q->client);
		host = &looked_up;
	}
	if ((q->has_mac = host->kind == HOST_MAC))
		memcpy(q->mac, host->mac, sizeof(q->mac));
}

/* When the operator's approval of this request runs out (ms), 0 for none:
 * asked only when a rule says "ask". */
static uint64_t approved_until(const struct mapper *m, const struct host_id *host,
			       const struct in6_addr *client, const struct in6_addr *internal_addr,
			       uint8_t proto, uint16_t internal_port)
{
	struct approval_key key;

	if (!m->policy_asks || host->kind != HOST_MAC)
		return 0;
	key = approvals_key(host, client, internal_addr, proto, internal_port);
	return approvals_until(&m->approvals, &key, mapper_now_ms());
}

bool mapper_approved(const struct mapper *m, const struct in6_addr *client,
		     const struct in6_addr *internal_addr, uint8_t proto, uint16_t internal_port)
{
	struct host_id host = mapper_host_of(m, client);

	return approved_until(m, &host, client, internal_addr, proto, internal_port) != 0;
}

static uint64_t request_approved_until(const struct mapper *m, const struct map_request *req)
{
	struct host_id host = mapper_host_of(m, &req->client);

	return approved_until(m, &host, &req->client, &req->internal_addr, req->proto,
			      req->internal_port);
}

struct policy_query mapper_request_query(const struct mapper *m, const struct map_request *req,
					 uint16_t external_port)
{
	struct policy_query q = {
		.client = req->client, .third_party = !addr_equal(&req->client, &req->internal_addr),
		.proto = req->proto, .internal_port = req->internal_port,
		.external_port = external_port,
	};

	mapper_query_mac(m, &q, NULL);
	q.approved = request_approved_until(m, req) != 0;
	return q;
}

struct policy_decision mapper_decide_lease(const struct mapper *m, const struct lease *l)
{
	struct policy_query q = {
		.client = l->client, .third_party = !addr_equal(&l->client, &l->internal_addr),
		.proto = l->proto, .internal_port = l->internal_port,
		.external_port = l->external_port,
	};

	/* The host the lease was granted to: it still is, when its
	 * neighbour entry has gone stale and been dropped. */
	mapper_query_mac(m, &q, &l->host);
	q.approved = approved_until(m, &l->host, &l->client, &l->internal_addr, l->proto,
				    l->internal_port) != 0;
	return policy_check(&m->cfg->policy, &q);
}

/* A lease being renewed, d the policy's word on it (mapper_decide_lease):
 * keep its external port while the policy still allows it, take the
 * request's filters if it sets them. Returns false if the policy no longer
 * allows it. */
bool mapper_refresh(struct mapper *m, struct lease *l, const struct map_request *req,
		    uint32_t lifetime, struct policy_decision d, struct map_result *res)
{
	struct remote_range old_ranges[FILTER_MAX_RANGES], new_ranges[FILTER_MAX_RANGES];
	struct lease renewed = *l;
	struct remote_filter filters[FILTER_MAX];
	struct nft_mapping old, new;
	struct nft_counters counted;
	uint64_t expires_ms = mapper_now_ms() + (uint64_t)lifetime * 1000;
	int rc;

	if (!d.allow)
		return false;
	if (req->replace_filters)
		set_filters(&renewed, req, filters);
	renewed.limit_class = lease_limit_class(m, l->origin, d.rule, l->peer);
	new = mapper_mapping_of(&renewed, (uint64_t)lifetime * 1000, new_ranges);
	/* A renewal in a batch is the same elements again; a new limit class
	 * changes them. */
	if (m->batching && !req->replace_filters && renewed.limit_class == l->limit_class) {
		queue_refresh(m, l, &new, expires_ms);
	} else {
		old = mapper_mapping_of(l, 0, old_ranges);
		/* The replaced elements take their counters with them. */
		if (nft_mapping_counters(m->nft, &old, &counted) < 0)
			counted = (struct nft_counters){ 0 };
		rc = nft_mapping_replace(m->nft, &old, &new);
		if (rc < 0) {
			mapper_nft_warn(m, "nftables: cannot refresh %s external port %u: %s",
				  policy_proto_name(l->proto), l->external_port, strerror(-rc));
			*res = (struct map_result){ .status = MAP_BACKEND_FAILED, .rule = d.rule };
			return true;
		}
		l->packets_before += counted.packets;
		l->bytes_before += counted.bytes;
		l->limited_before += counted.limited;
		l->limit_class = renewed.limit_class;
		l->rule = d.rule;
		if (lease_set_filters(l, renewed.filters, renewed.nfilters) < 0)
			log_warnx("out of memory: %s external port %u keeps its old filters in the lease table",
				  policy_proto_name(l->proto), l->external_port);
		lease_set_expiry(m->leases, l, expires_ms);
	}
	mapper_schedule_expiry(m);
	mark_dirty(m);
	*res = (struct map_result){ .status = MAP_OK, .external_port = l->external_port,
				    .lifetime = lifetime, .rule = d.rule };
	return true;
}

/* Whether the client's host holds all the mappings one host may. */
static bool over_quota(const struct mapper *m, const struct in6_addr *client)
{
	struct host_id host = mapper_host_of(m, client);

	return lease_count_of_host(m->leases, &host) >= m->cfg->max_leases_per_client;
}

/* The new lease's fields, but for its external port and rule; its filters
 * kept in filters (FILTER_MAX). */
static struct lease new_lease(const struct mapper *m, const struct map_request *req,
			      uint32_t lifetime, struct remote_filter *filters)
{
	struct lease fields = { 0 };
	uint64_t now = mapper_now_ms();

	fields.proto = req->proto;
	fields.client = req->client;
	fields.host = mapper_host_of(m, &req->client);
	fields.internal_addr = req->internal_addr;
	fields.internal_port = req->internal_port;
	fields.created_ms = now;
	fields.expires_ms = now + (uint64_t)lifetime * 1000;
	fields.origin = req->origin;
	if (req->nonce) {
		fields.has_nonce = true;
		memcpy(fields.nonce, req->nonce, LEASE_NONCE_LEN);
	}
	fields.description = req->description;
	fields.peer = req->peer;
	set_filters(&fields, req, filters);
	return fields;
}

/* Tells the kernel, then records the lease. */
/* Tells the kernel (timeout_ms 0: no timeout), then records the lease:
 * MAP_OK, MAP_BACKEND_FAILED or MAP_TABLE_FULL. */
enum map_status mapper_install(struct mapper *m, struct lease *fields, uint64_t timeout_ms)
{
	struct remote_range ranges[FILTER_MAX_RANGES];
	struct nft_mapping nm;
	struct lease *l;
	size_t verb;
	int rc;

	fields->limit_class = lease_limit_class(m, fields->origin, fields->rule, fields->peer);
	nm = mapper_mapping_of(fields, timeout_ms, ranges);
	if (m->batching && m->npending == BATCH_PENDING_MAX)
		mapper_settle(m);
	verb = m->verbs;
	rc = mapper_backend_add(m, &nm);
	if (rc < 0) {
		mapper_nft_warn(m, "nftables: cannot add %s port %u: %s", policy_proto_name(fields->proto),
			  fields->external_port, strerror(-rc));
		return MAP_BACKEND_FAILED;
	}
	if (!(l = lease_insert(m->leases, fields))) {
		/* Cannot happen after the checks before, short of malloc
		 * failing: undo the kernel side so no rule outlives its lease. */
		backend_delete(m, &nm);
		return MAP_TABLE_FULL;
	}
	if (m->batching) {
		l->batch_pending = true;
		m->pending[m->npending++] = (struct pending){ .lease = l, .verb = verb,
							      .tag = m->tag };
	}
	m->by_origin[fields->origin]++;
	if (!addr_is_v4(&fields->internal_addr)) {
		m->pinhole_changes++;
		m->pinholes++;
	}
	mapper_schedule_expiry(m);
	notify_observer(m);
	mark_dirty(m);
	return MAP_OK;
}

static struct map_result install_granted(struct mapper *m, struct lease *fields,
					 uint32_t lifetime)
{
	return (struct map_result){ .status = mapper_install(m, fields, (uint64_t)lifetime * 1000),
				    .external_port = fields->external_port, .lifetime = lifetime,
				    .rule = fields->rule };
}

/* An IPv6 pinhole: no translation, so the external port is the internal
 * one, and the policy decides on that. */
struct map_result mapper_grant_pinhole(struct mapper *m, const struct map_request *req,
				       uint32_t lifetime)
{
	struct policy_query q = mapper_request_query(m, req, req->internal_port);
	struct policy_decision d = policy_check(&m->cfg->policy, &q);
	struct remote_filter filters[FILTER_MAX];
	struct lease fields;

	if (!d.allow)
		return (struct map_result){ .status = MAP_DENIED, .rule = d.rule };
	if (lease_count(m->leases) >= lease_capacity(m->leases))
		return (struct map_result){ .status = MAP_TABLE_FULL, .rule = -1 };
	if (over_quota(m, &req->client))
		return (struct map_result){ .status = MAP_QUOTA_EXCEEDED, .rule = -1 };
	fields = new_lease(m, req, lifetime, filters);
	fields.external_port = req->internal_port;
	fields.rule = d.rule;
	return install_granted(m, &fields, lifetime);
}

/* Whether the router takes that external port itself (ROUTER_PORT_SERVED
 * or ROUTER_PORT_FORWARDED), or 0. If the kernel cannot say, the grant
 * goes ahead (logged): refusing every request would not make the router
 * safer than its operator's firewall does. */
static int router_takes(struct mapper *m, uint8_t proto, uint16_t port)
{
	int rc;

	if (!m->router_serves)
		return 0;
	rc = m->router_serves(m->router_serves_arg, proto, port, &m->external_address);
	if (rc < 0)
		log_warnx("sock_diag: cannot tell whether the router serves %s port %u: %s",
			  policy_proto_name(proto), port, strerror(-rc));
	return rc > 0 ? rc : 0;
}

/* ranges (n of them, room for max; rules[i] allows ranges[i]) without
 * port; returns the new count. */
static size_t ranges_without(struct port_range *ranges, int *rules, size_t n, size_t max,
			     uint16_t port)
{
	for (size_t i = 0; i < n; i++) {
		struct port_range *r = &ranges[i];

		if (port < r->lo || port > r->hi)
			continue;
		if (r->lo == r->hi) {
			memmove(r, r + 1, (n - i - 1) * sizeof(*r));
			memmove(&rules[i], &rules[i + 1], (n - i - 1) * sizeof(*rules));
			return n - 1;
		}
		if (port == r->lo) {
			r->lo++;
		} else if (port == r->hi) {
			r->hi--;
		} else if (n < max) {
			memmove(r + 2, r + 1, (n - i - 1) * sizeof(*r));
			memmove(&rules[i + 2], &rules[i + 1], (n - i - 1) * sizeof(*rules));
			r[1] = (struct port_range){ .lo = (uint16_t)(port + 1), .hi = r->hi };
			rules[i + 1] = rules[i];
			r->hi = (uint16_t)(port - 1);
			return n + 1;
		} else {
			r->hi = (uint16_t)(port - 1);  /* no room to split: the rest goes */
		}
		return n;
	}
	return n;
}

/* How many of the router's own ports one request may step over before it
 * is refused: each costs a sock_diag round trip. */
#define ROUTER_PORT_TRIES 8

/* The rule among rules[n] whose range holds port. */
static int rule_of_port(const struct port_range *ranges, const int *rules, size_t n,
			uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (port >= ranges[i].lo && port <= ranges[i].hi)
			return rules[i];
	return -1;
}

/* exact: for a request of exact_port, the policy's word on its suggested
 * port if the caller has it already (NULL: asked here). Either way the
 * policy is asked once for the port granted: the exact one, or the ranges
 * a port is picked from, which carry their rules. */
struct map_result mapper_grant(struct mapper *m, const struct map_request *req, uint32_t lifetime,
			       const struct policy_decision *exact)
{
	struct port_range allowed[POLICY_MAX_RANGES];
	int rules[POLICY_MAX_RANGES];
	struct policy_query q = mapper_request_query(m, req, req->suggested_external_port);
	size_t nallowed = 0;
	struct policy_decision d = { .allow = false, .rule = -1 };
	int port;

	if (req->exact_port) {
		d = exact ? *exact : policy_check(&m->cfg->policy, &q);
		/* Refused: is it the port, or does the policy allow none? */
		if (!d.allow &&
		    policy_allowed_external(&m->cfg->policy, &q, allowed, NULL, 1) == 0)
			return (struct map_result){ .status = MAP_DENIED, .rule = d.rule };
	} else {
		nallowed = policy_allowed_external(&m->cfg->policy, &q, allowed, rules,
						   POLICY_MAX_RANGES);
		if (nallowed == 0)
			return (struct map_result){ .status = MAP_DENIED,
						    .rule = policy_check(&m->cfg->policy, &q).rule };
	}
	if (lease_count(m->leases) >= lease_capacity(m->leases))
		return (struct map_result){ .status = MAP_TABLE_FULL, .rule = -1 };
	if (over_quota(m, &req->client))
		return (struct map_result){ .status = MAP_QUOTA_EXCEEDED, .rule = -1 };
	if (req->exact_port) {
		if (!d.allow || !lease_external_free(m->leases, req->proto, req->suggested_external_port))
			return (struct map_result){ .status = MAP_PORT_UNAVAILABLE, .rule = d.rule };
		switch (router_takes(m, req->proto, req->suggested_external_port)) {
		case ROUTER_PORT_SERVED:
			return (struct map_result){ .status = MAP_ROUTER_SERVES, .rule = d.rule };
		case ROUTER_PORT_FORWARDED:
			return (struct map_result){ .status = MAP_FORWARDED_ELSEWHERE,
						    .rule = d.rule };
		default:
			break;
		}
		port = req->suggested_external_port;
	} else {
		for (int tries = 0;; tries++) {
			port = lease_pick_external(m->leases, req->proto,
						   req->suggested_external_port ?
							   req->suggested_external_port :
							   req->internal_port,
						   allowed, nallowed);
			if (port < 0 || !router_takes(m, req->proto, (uint16_t)port))
				break;
			if (tries + 1 == ROUTER_PORT_TRIES) {
				port = -1;
				break;
			}
			nallowed = ranges_without(allowed, rules, nallowed, POLICY_MAX_RANGES,
						  (uint16_t)port);
		}
		if (port >= 0)
			d.rule = rule_of_port(allowed, rules, nallowed, (uint16_t)port);
	}
	if (port < 0)
		return (struct map_result){ .status = MAP_NO_FREE_PORT, .rule = -1 };

	struct remote_filter filters[FILTER_MAX];
	struct lease fields = new_lease(m, req, lifetime, filters);
	fields.external_port = (uint16_t)port;
	fields.rule = d.rule;
	return install_granted(m, &fields, lifetime);
}

/* The lease of that endpoint or port, settled first if its change is still
 * queued. */
static struct lease *settled(struct mapper *m, struct lease *l, bool by_external,
			     const struct map_request *req, uint16_t port)
{
	if (!l || !l->batch_pending)
		return l;
	mapper_settle(m);
	return by_external ? lease_by_external(m->leases, req->proto, port) :
			     lease_by_internal(m->leases, &req->internal_addr, req->proto,
					       req->internal_port);
}

/* replace_own, d the policy's word on the port asked for: the policy
 * first (a refused request moves nothing), then what holds the port or the
 * endpoint: the asker's own (without a nonce) makes way, another's is a
 * conflict. */
static struct map_result make_way(struct mapper *m, const struct map_request *req,
				  struct policy_decision d)
{
	uint16_t port = req->suggested_external_port;
	struct lease *taken, *same;

	if (!d.allow)
		return (struct map_result){ .status = MAP_DENIED, .rule = d.rule };
	taken = settled(m, lease_by_external(m->leases, req->proto, port), true, req, port);
	same = settled(m, lease_by_internal(m->leases, &req->internal_addr, req->proto,
					    req->internal_port), false, req, port);
	if (taken && !mapper_owns(taken, &req->client, NULL))
		return (struct map_result){ .status = MAP_CONFLICT, .rule = d.rule,
					    .conflict_origin = taken->origin };
	if (same && !mapper_owns(same, &req->client, NULL))
		return (struct map_result){ .status = MAP_CONFLICT, .rule = d.rule,
					    .conflict_origin = same->origin };
	if (taken && taken != same)
		mapper_remove_lease(m, taken, "deleted", "client");
	if (same && same->external_port != port)
		mapper_remove_lease(m, same, "deleted", "client");
	mapper_schedule_expiry(m);
	return (struct map_result){ .status = MAP_OK, .rule = d.rule };
}

/*
 * The policy is asked once per request: about the exact port a request
 * names, before anything moves; or, for a renewal, about the lease; or,
 * for a new mapping whose port is picked, for the ranges it is picked
 * from (mapper_grant).
 */
static struct map_result map_here(struct mapper *m, const struct map_request *req)
{
	uint32_t lifetime = config_clamp_lifetime(m->cfg, req->lifetime);
	struct policy_query q = mapper_request_query(m, req, req->suggested_external_port);
	uint64_t until = q.approved ? request_approved_until(m, req) : 0, now = mapper_now_ms();
	struct policy_decision d = { .allow = false, .rule = -1 };
	bool decided = false;
	struct map_result res;
	const char *why;
	struct lease *l;

	/* What the operator approved lasts no longer than the approval. */
	if (until && lifetime && until - now < (uint64_t)lifetime * 1000)
		lifetime = (uint32_t)((until - now + 999) / 1000);

	if (!mapper_within_rate(m, &req->client)) {
		res = (struct map_result){ .status = MAP_RATE_LIMITED, .rule = -1 };
		mapper_log_decision(m, req, &res, "refused", NULL);
		return res;
	}
	if (req->internal_port == 0 || (req->proto != IPPROTO_TCP && req->proto != IPPROTO_UDP)) {
		res = (struct map_result){ .status = MAP_UNSUPPORTED, .rule = -1 };
		mapper_log_decision(m, req, &res, "refused", NULL);
		return res;
	}
	if ((why = mapper_internal_refusal(m, &req->internal_addr))) {
		res = (struct map_result){ .status = MAP_NOT_A_HOST, .rule = -1 };
		mapper_log_decision(m, req, &res, "refused", why);
		return res;
	}
	if (addr_is_v4(&req->internal_addr) && !m->has_external_address) {
		res = (struct map_result){ .status = MAP_NO_EXTERNAL_ADDRESS, .rule = -1 };
		mapper_log_decision(m, req, &res, "refused", NULL);
		return res;
	}

	if (req->replace_own || (req->exact_port && addr_is_v4(&req->internal_addr))) {
		d = policy_check(&m->cfg->policy, &q);
		decided = true;
	}
	if (req->replace_own) {
		res = make_way(m, req, d);
		if (res.status != MAP_OK) {
			mapper_log_decision(m, req, &res, "refused", NULL);
			return res;
		}
	}
	l = settled(m, lease_by_internal(m->leases, &req->internal_addr, req->proto,
					 req->internal_port), false, req, 0);
	if (l && !mapper_owns(l, &req->client, req->nonce)) {
		res = (struct map_result){ .status = MAP_NOT_OWNER, .rule = -1 };
		mapper_log_decision(m, req, &res, "refused", NULL);
		return res;
	}
	if (l && l->peer) {
		/* Its one external port is the PEER mappings'; a MAP would open
		 * it to every remote behind their backs. */
		res = (struct map_result){ .status = MAP_PORT_UNAVAILABLE, .rule = -1 };
		mapper_log_decision(m, req, &res, "refused",
			     "the internal endpoint has PEER mappings; delete them first");
		return res;
	}
	if (l) {
		/* A renewal keeps its port: what was asked of that port holds. */
		struct policy_decision renewal = decided &&
			l->external_port == req->suggested_external_port ? d :
			mapper_decide_lease(m, l);

		if (mapper_refresh(m, l, req, lifetime, renewal, &res)) {
			/* A NAT-PMP lease taken over by PCP gets the nonce from now on. */
			if (res.status == MAP_OK && req->nonce && !l->has_nonce) {
				l->has_nonce = true;
				memcpy(l->nonce, req->nonce, LEASE_NONCE_LEN);
			}
			/* Out of memory, it keeps its old one. */
			if (res.status == MAP_OK && req->description)
				(void)lease_set_description(l, req->description);
			mapper_log_decision(m, req, &res, "refreshed", NULL);
			return res;
		}
		mapper_remove_lease(m, l, "deleted", "policy");
	}
	res = addr_is_v4(&req->internal_addr) ?
		      mapper_grant(m, req, lifetime, decided ? &d : NULL) :
		      mapper_grant_pinhole(m, req, lifetime);
	mapper_log_decision(m, req, &res, "granted", NULL);
	return res;
}

struct map_result mapper_map(struct mapper *m, const struct map_request *req)
{
	struct map_result res;

	m->chain_wait = false;
	res = map_here(m, req);
	if (res.status == MAP_OK && addr_is_v4(&req->internal_addr))
		mapper_chain_result(m, req->proto, &res);
	return res;
}

enum map_status mapper_unmap(struct mapper *m, const struct unmap_request *req)
{
	struct lease *l = lease_by_internal(m->leases, &req->internal_addr, req->proto,
					    req->internal_port);

	if (l && l->batch_pending) {
		mapper_settle(m);
		l = lease_by_internal(m->leases, &req->internal_addr, req->proto,
				      req->internal_port);
	}
	if (!l || l->peer)  /* a MAP's delete; PEER mappings go by PEER */
		return MAP_OK;
	if (!mapper_owns(l, &req->client, req->nonce)) {
		struct map_request asked = { .proto = req->proto, .client = req->client,
					     .internal_addr = req->internal_addr,
					     .internal_port = req->internal_port,
					     .origin = req->origin };

		mapper_refused(m, &asked, MAP_NOT_OWNER, NULL);
		return MAP_NOT_OWNER;
	}
	mapper_remove_lease(m, l, "deleted", "client");
	mapper_schedule_expiry(m);
	return MAP_OK;
}

size_t mapper_unmap_all(struct mapper *m, const struct unmap_request *req)
{
	size_t removed = 0;

	if (m->npending)
		mapper_settle(m);
	/* Any host may ask this as often as it likes: it costs the asker's
	 * leases only. */
	for (struct lease *l = lease_first_of_client(m->leases, &req->client), *next; l; l = next) {
		next = lease_next_of_client(l);
		if ((req->proto == 0 || l->proto == req->proto) &&
		    addr_equal(&l->internal_addr, &req->internal_addr) &&
		    mapper_owns(l, &req->client, req->nonce)) {
			mapper_remove_lease(m, l, "deleted", "client");
			removed++;
		}
	}
	mapper_schedule_expiry(m);
	return removed;
}

void mapper_remove(struct mapper *m, struct lease *l)
{
	mapper_remove_lease(m, l, "deleted", "operator");
	mapper_schedule_expiry(m);
}

size_t mapper_flush(struct mapper *m, const struct in6_addr *client)
{
	size_t removed = 0;
	struct lease *l = client ? lease_first_of_client(m->leases, client) : lease_first(m->leases);

	for (struct lease *next; l; l = next) {
		next = client ? lease_next_of_client(l) : lease_next(l);
		if (l->origin != LEASE_ORIGIN_STATIC) {
			mapper_remove_lease(m, l, "deleted", "operator");
			removed++;
		}
	}
	mapper_schedule_expiry(m);
	return removed;
}

void mapper_set_conflict_source(struct mapper *m, const struct mapper_conflict_source *src)
{
	m->conflicts = *src;
}

static enum lease_conflict conflict_of(int takes)
{
	return takes == ROUTER_PORT_SERVED ? LEASE_CONFLICT_ROUTER_SERVES :
	       takes == ROUTER_PORT_FORWARDED ? LEASE_CONFLICT_FORWARDED : LEASE_CONFLICT_NONE;
}

int mapper_review_conflicts(struct mapper *m)
{
	int rc, in_conflict = 0;

	if (!m->conflicts.refresh || !m->conflicts.conflict)
		return 0;
	if ((rc = m->conflicts.refresh(m->conflicts.arg)) < 0)
		return rc;
	for (struct lease *l = lease_first(m->leases); l; l = lease_next(l)) {
		enum lease_conflict c = LEASE_CONFLICT_NONE;
		char internal[ADDR_STRLEN];

		/* IPv6 pinholes forward no external port. */
		if (addr_is_v4(&l->internal_addr))
			c = conflict_of(m->conflicts.conflict(m->conflicts.arg, l->proto,
							      l->external_port));
		in_conflict += c != LEASE_CONFLICT_NONE;
		if (c == l->conflict)
			continue;
		if (c != LEASE_CONFLICT_NONE) {
			log_warnx("mapping %s %u -> %s:%u (%s): %s; WAN packets for it may no longer "
				  "reach that host", policy_proto_name(l->proto), l->external_port,
				  addr_format(&l->internal_addr, internal), l->internal_port,
				  lease_origin_name(l->origin), lease_conflict_text(c));
			/* Not a decision, so no audit line; but an event to follow. */
			tell_observers(&(struct audit_record){
				.event = "conflict", .origin = lease_origin_name(l->origin),
				.proto = l->proto, .client = l->client,
				.internal_addr = l->internal_addr, .device = mapper_device_of(m, l),
				.internal_port = l->internal_port, .has_external_port = true,
				.external_port = l->external_port, .reason = lease_conflict_name(c),
				.description = l->description,
			});
		} else
			log_info("mapping %s %u -> %s:%u (%s): %s no longer", policy_proto_name(l->proto),
				 l->external_port, addr_format(&l->internal_addr, internal),
				 l->internal_port, lease_origin_name(l->origin),
				 l->conflict == LEASE_CONFLICT_ROUTER_SERVES ?
				 "the router serves this port" : "another rule forwards this port");
		l->conflict = (uint8_t)c;
	}
	return in_conflict;
}

int mapper_router_takes(struct mapper *m, uint8_t proto, uint16_t port)
{
	if (!m->router_serves || !m->has_external_address)
		return 0;
	return m->router_serves(m->router_serves_arg, proto, port, &m->external_address);
}

void mapper_set_host_lookup(struct mapper *m, mapper_host_fn host_of, void *arg)
{
	m->host_of = host_of;
	m->host_of_arg = arg;
}

struct host_id mapper_host_of(const struct mapper *m, const struct in6_addr *addr)
{
	if (IN6_IS_ADDR_UNSPECIFIED(addr))
		return (struct host_id){ .kind = HOST_NONE };
	if (m->host_of)
		return m->host_of(m->host_of_arg, addr);
	return host_id_unresolved(addr_is_v4(addr));
}

void mapper_set_name_lookup(struct mapper *m, mapper_name_fn name_of, void *arg)
{
	m->name_of = name_of;
	m->name_of_arg = arg;
}

void mapper_set_upstream_lookup(struct mapper *m, mapper_upstream_fn upstream_of, void *arg)
{
	m->upstream_of = upstream_of;
	m->upstream_arg = arg;
}

static struct lan_device device_of_host(const struct mapper *m, const struct host_id *host,
					const struct in6_addr *addr)
{
	struct lan_device d = { .has_mac = host->kind == HOST_MAC };

	if (d.has_mac)
		memcpy(d.mac, host->mac, sizeof(d.mac));
	if (m->name_of)
		d.name = m->name_of(m->name_of_arg, d.has_mac ? d.mac : NULL, addr);
	return d;
}

struct lan_device mapper_device_at(const struct mapper *m, const struct in6_addr *addr)
{
	struct host_id host = mapper_host_of(m, addr);

	return device_of_host(m, &host, addr);
}

struct lan_device mapper_device_held(const struct mapper *m, const struct lease *l)
{
	struct host_id none = { .kind = HOST_NONE };
	bool own = l->host.kind == HOST_MAC && addr_equal(&l->client, &l->internal_addr);

	return device_of_host(m, own ? &l->host : &none, &l->internal_addr);
}

struct lan_device mapper_device_of(const struct mapper *m, const struct lease *l)
{
	if (l->host.kind == HOST_MAC && addr_equal(&l->client, &l->internal_addr))
		return device_of_host(m, &l->host, &l->internal_addr);
	return mapper_device_at(m, &l->internal_addr);
}

void mapper_set_router_serves(struct mapper *m, mapper_router_serves_fn serves, void *arg)
{
	m->router_serves = serves;
	m->router_serves_arg = arg;
}

void mapper_set_own_addresses(struct mapper *m, const struct own_addresses *own)
{
	m->own = own;
}

const char *mapper_internal_refusal(const struct mapper *m, const struct in6_addr *a)
{
	static const struct own_addresses none;

	return own_addr_refusal(m->own ? m->own : &none, a);
}

void mapper_set_conntrack(struct mapper *m, struct conntrack *ct)
{
	m->conntrack = ct;
}

struct approvals *mapper_approvals(struct mapper *m)
{
	approvals_expire(&m->approvals, mapper_now_ms());
	return &m->approvals;
}

/* The operator's answer, audited with the request it answers. */
static void audit_answer(struct mapper *m, const struct pending_request *p, const char *event,
			 uint32_t seconds, uint32_t uid)
{
	mapper_audit(&(struct audit_record){
		.event = event, .origin = lease_origin_name(p->origin), .proto = p->key.proto,
		.client = p->client, .internal_addr = p->internal_addr,
		.device = mapper_device_at(m, &p->internal_addr),
		.internal_port = p->key.internal_port, .has_external_port = !p->key.v6,
		.external_port = p->external_port, .approval_id = p->id, .approved_for = seconds,
		.by = "operator", .has_uid = true, .uid = uid, .description = p->description,
	});
}

int mapper_approve(struct mapper *m, uint32_t id, uint32_t seconds, uint32_t uid)
{
	struct pending_request p;

	if (approvals_approve(&m->approvals, id, seconds, mapper_now_ms(), &p) < 0)
		return -1;
	m->metrics.approved++;
	audit_answer(m, &p, "approved", seconds, uid);
	if (m->decided)
		m->decided(m->decided_arg, id, true);
	return 0;
}

void mapper_set_decided_observer(struct mapper *m, mapper_decided_fn decided, void *arg)
{
	m->decided = decided;
	m->decided_arg = arg;
}

uint32_t mapper_take_pending(struct mapper *m)
{
	uint32_t id = m->last_pending_id;

	m->last_pending_id = 0;
	return id;
}

int mapper_reject(struct mapper *m, uint32_t id, uint32_t uid)
{
	struct pending_request p;

	if (approvals_reject(&m->approvals, id, mapper_now_ms(), &p) < 0)
		return -1;
	m->metrics.rejected++;
	audit_answer(m, &p, "rejected", 0, uid);
	if (m->decided)
		m->decided(m->decided_arg, id, false);
	return 0;
}
