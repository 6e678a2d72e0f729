/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mappings chained to the mapping service upstream (mapper.h: struct
 * mapper_chain): each IPv4 mapping's twin there, asked for when the
 * mapping is granted, renewed at half its life, deleted with it. */
#include "daemon/mapper_impl.h"

#include <string.h>

#include "lib/log.h"

/* How often the chained mappings are looked at while an upstream is
 * found: twins to renew (at half their life, which may be seconds), and
 * mappings not chained yet (an upstream found later, a full queue). */
#define CHAIN_SWEEP_MS 1000
/* Twins asked for in one sweep, at most: the upstream's queue is bounded. */
#define CHAIN_ASKS_PER_SWEEP 64
/* A static mapping never expires here; its twin is asked for this long,
 * and renewed. */
#define CHAIN_STATIC_LIFETIME 3600
/* Failures said in the log at most, then counted in silence until the
 * next success. */
#define CHAIN_FAILURES_LOGGED 8

/* PEER's flows leave through the upstream's own NAT: nothing to map. */
static bool chainable(const struct lease *l)
{
	return addr_is_v4(&l->internal_addr) && !l->peer;
}

static bool ready(const struct mapper *m, struct in_addr *external, bool *has_external)
{
	*has_external = false;
	return m->has_chain && m->chain.ready(m->chain.arg, external, has_external);
}

static uint32_t ask_lifetime(const struct mapper *m, const struct lease *l)
{
	uint32_t left;

	if (l->origin == LEASE_ORIGIN_STATIC)
		return CHAIN_STATIC_LIFETIME;
	left = mapper_remaining(m, l);
	return left ? left : 1;
}

static bool ask(struct mapper *m, struct lease *l)
{
	if (!m->chain.map(m->chain.arg, l->proto, l->external_port,
			  l->upstream == LEASE_UPSTREAM_OK ? l->upstream_port : 0, ask_lifetime(m, l)))
		return false;
	if (l->upstream != LEASE_UPSTREAM_OK)
		l->upstream = LEASE_UPSTREAM_ASKED;
	return true;
}

/* Half of what the upstream granted is gone: renewed then, as RFC 6886
 * §3.3 has clients do (a client is told no more than its twin has left). */
static bool renewal_due(const struct lease *l, uint64_t now)
{
	return now + (uint64_t)l->upstream_lifetime * 500 >= l->upstream_expires_ms;
}

static void told_upstream(const struct lease *l, uint64_t now, uint16_t *port,
			  uint32_t *lifetime)
{
	uint32_t twin = l->upstream_expires_ms > now ?
				(uint32_t)((l->upstream_expires_ms - now) / 1000) : 0;

	*port = l->upstream_port;
	if (twin < *lifetime)
		*lifetime = twin;
}

void mapper_chain_result(struct mapper *m, uint8_t proto, struct map_result *res)
{
	struct lease *l = lease_by_external(m->leases, proto, res->external_port);
	uint64_t now = mapper_now_ms();
	struct in_addr upstream_address;
	bool has_upstream_address;

	res->has_told_address = mapper_external_address(m, &res->told_address);
	if (!l || !chainable(l) || !ready(m, &upstream_address, &has_upstream_address))
		return;
	if (l->upstream == LEASE_UPSTREAM_OK && l->upstream_expires_ms <= now)
		l->upstream = LEASE_UPSTREAM_NONE;  /* its twin ran out: asked anew */
	switch ((enum lease_upstream)l->upstream) {
	case LEASE_UPSTREAM_NONE:
		/* Not now (the upstream's queue is full): this router's mapping
		 * for the moment, and a twin at the next sweep. */
		if (!ask(m, l))
			return;
		break;
	case LEASE_UPSTREAM_ASKED:
		break;
	case LEASE_UPSTREAM_OK:
		if (renewal_due(l, now))
			(void)ask(m, l);
		told_upstream(l, now, &res->external_port, &res->lifetime);
		if (has_upstream_address)
			res->told_address = upstream_address;
		return;
	case LEASE_UPSTREAM_LOCAL:
		return;
	}
	res->chain_wait = true;
	m->chain_wait = true;
	m->chain_wait_proto = proto;
	m->chain_wait_port = l->external_port;
}

void mapper_chain_new(struct mapper *m, uint8_t proto, uint16_t port)
{
	struct lease *l = lease_by_external(m->leases, proto, port);
	struct in_addr upstream_address;
	bool has_upstream_address;

	if (l && chainable(l) && l->upstream == LEASE_UPSTREAM_NONE &&
	    ready(m, &upstream_address, &has_upstream_address))
		(void)ask(m, l);
}

bool mapper_take_chain_wait(struct mapper *m, uint8_t *proto, uint16_t *port)
{
	bool waits = m->chain_wait;

	*proto = m->chain_wait_proto;
	*port = m->chain_wait_port;
	m->chain_wait = false;
	return waits;
}

static void log_failure(struct mapper *m, const struct lease *l, const char *why,
			const char *outcome)
{
	if (m->chain_failures_logged >= CHAIN_FAILURES_LOGGED)
		return;
	if (++m->chain_failures_logged == CHAIN_FAILURES_LOGGED)
		log_warnx("upstream: %s %u: %s; %s (further failures are not logged until one "
			  "succeeds)", policy_proto_name(l->proto), l->external_port, why, outcome);
	else
		log_warnx("upstream: %s %u: %s; %s", policy_proto_name(l->proto), l->external_port,
			  why, outcome);
}

void mapper_chain_answered(struct mapper *m, const struct upstream_mapped *a)
{
	struct lease *l = lease_by_external(m->leases, a->proto, a->port);
	uint64_t now = mapper_now_ms();

	m->chain_no_answer = !a->ok && strcmp(a->why, "no answer") == 0;
	if (!l || !chainable(l)) {
		/* The mapping ended while its twin was asked for: the twin goes. */
		if (a->ok && m->has_chain)
			(void)m->chain.map(m->chain.arg, a->proto, a->port, a->external_port, 0);
		return;
	}
	if (a->ok) {
		if (l->upstream != LEASE_UPSTREAM_OK || l->upstream_port != a->external_port)
			log_info("upstream: %s %u is reached at the upstream's port %u (%u s)",
				 policy_proto_name(l->proto), l->external_port, a->external_port,
				 a->lifetime);
		l->upstream = LEASE_UPSTREAM_OK;
		l->upstream_port = a->external_port;
		l->upstream_lifetime = a->lifetime;
		l->upstream_expires_ms = now + (uint64_t)a->lifetime * 1000;
		m->chain_failures_logged = 0;
	} else if (a->again) {
		/* Not the upstream's word: asked anew once one is found. */
		if (l->upstream == LEASE_UPSTREAM_ASKED)
			l->upstream = LEASE_UPSTREAM_NONE;
	} else if (l->upstream == LEASE_UPSTREAM_OK && l->upstream_expires_ms > now) {
		/* A renewal: the twin holds until it runs out; asked again at
		 * the next sweep. */
		log_debug("upstream: renewing %s %u: %s", policy_proto_name(l->proto),
			  l->external_port, a->why);
	} else if (m->cfg->upstream_refuse_on_failure) {
		log_failure(m, l, a->why, "the mapping is refused (upstream.on_failure)");
		mapper_remove_lease(m, l, "deleted", "upstream");
	} else {
		l->upstream = LEASE_UPSTREAM_LOCAL;
		log_failure(m, l, a->why, "the mapping is this router's alone, reached from behind "
			    "the upstream NAT only");
	}
	mapper_chain_notify(m, a->proto, a->port);
}

void mapper_told(struct mapper *m, uint8_t proto, uint16_t port, struct mapper_told *out)
{
	struct lease *l = lease_by_external(m->leases, proto, port);
	uint64_t now = mapper_now_ms();
	struct in_addr upstream_address;
	bool has_upstream_address;

	*out = (struct mapper_told){ .no_answer = m->chain_no_answer };
	if (!l)
		return;
	out->granted = true;
	out->external_port = l->external_port;
	out->lifetime = mapper_remaining(m, l);
	(void)mapper_external_address(m, &out->address);
	if (l->upstream == LEASE_UPSTREAM_OK &&
	    ready(m, &upstream_address, &has_upstream_address)) {
		told_upstream(l, now, &out->external_port, &out->lifetime);
		if (has_upstream_address)
			out->address = upstream_address;
	}
}

void mapper_told_address_changed(struct mapper *m)
{
	if (m->changed)
		m->changed(m->changed_arg);
}

bool mapper_told_address(const struct mapper *m, struct in_addr *out)
{
	struct in_addr upstream_address;
	bool has_upstream_address;

	if (ready(m, &upstream_address, &has_upstream_address) && has_upstream_address) {
		*out = upstream_address;
		return true;
	}
	return mapper_external_address(m, out);
}

void mapper_chain_forget(struct mapper *m, const struct lease *l)
{
	if (m->has_chain && chainable(l) &&
	    (l->upstream == LEASE_UPSTREAM_ASKED || l->upstream == LEASE_UPSTREAM_OK))
		(void)m->chain.map(m->chain.arg, l->proto, l->external_port, l->upstream_port, 0);
}

/* false when no upstream is found: nothing to look at until one is. */
static bool sweep(struct mapper *m)
{
	uint64_t now = mapper_now_ms();
	struct in_addr upstream_address;
	bool has_upstream_address;
	unsigned asked = 0;

	if (!ready(m, &upstream_address, &has_upstream_address))
		return false;
	for (struct lease *l = lease_first(m->leases); l && asked < CHAIN_ASKS_PER_SWEEP;
	     l = lease_next(l)) {
		if (!chainable(l) || l->batch_pending)
			continue;
		if (l->upstream == LEASE_UPSTREAM_OK && l->upstream_expires_ms <= now)
			l->upstream = LEASE_UPSTREAM_NONE;
		if ((l->upstream == LEASE_UPSTREAM_NONE ||
		     (l->upstream == LEASE_UPSTREAM_OK && renewal_due(l, now))) && ask(m, l))
			asked++;
	}
	return true;
}

static void chain_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct mapper *m = arg;
	struct timeval every = { CHAIN_SWEEP_MS / 1000, 0 };

	(void)fd;
	(void)what;
	if (sweep(m))
		evtimer_add(m->chain_timer, &every);
}

void mapper_chain_changed(struct mapper *m, bool lost)
{
	struct timeval now = { 0, 0 };

	if (!m->has_chain)
		return;
	/* What the last upstream would not map, this one is asked for; what
	 * it lost, too. */
	for (struct lease *l = lease_first(m->leases); l; l = lease_next(l))
		if (l->upstream == LEASE_UPSTREAM_LOCAL || (lost && l->upstream == LEASE_UPSTREAM_OK))
			l->upstream = LEASE_UPSTREAM_NONE;
	evtimer_add(m->chain_timer, &now);
}

void mapper_set_chain(struct mapper *m, const struct mapper_chain *chain)
{
	m->has_chain = chain != NULL;
	if (chain)
		m->chain = *chain;
	else
		evtimer_del(m->chain_timer);
	mapper_chain_changed(m, false);
}

void mapper_chain_notify(struct mapper *m, uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < sizeof(m->chained) / sizeof(m->chained[0]); i++)
		if (m->chained[i].fn)
			m->chained[i].fn(m->chained[i].arg, proto, port);
}

bool mapper_add_chained_observer(struct mapper *m, mapper_chained_fn chained, void *arg)
{
	for (size_t i = 0; i < sizeof(m->chained) / sizeof(m->chained[0]); i++)
		if (!m->chained[i].fn) {
			m->chained[i].fn = chained;
			m->chained[i].arg = arg;
			return true;
		}
	return false;
}

void mapper_remove_chained_observer(struct mapper *m, mapper_chained_fn chained, void *arg)
{
	for (size_t i = 0; i < sizeof(m->chained) / sizeof(m->chained[0]); i++)
		if (m->chained[i].fn == chained && m->chained[i].arg == arg)
			m->chained[i].fn = NULL;
}

void mapper_chain_withdraw(struct mapper *m, uint8_t proto, uint16_t port)
{
	struct lease *l = lease_by_external(m->leases, proto, port);

	if (!l)
		return;
	mapper_remove_lease(m, l, "deleted", "upstream");
	mapper_schedule_expiry(m);
}

void mapper_chain_release(struct mapper *m)
{
	for (const struct lease *l = lease_first(m->leases); l; l = lease_next(l))
		mapper_chain_forget(m, l);
}

bool mapper_chain_init(struct mapper *m, struct event_base *base)
{
	m->chain_timer = evtimer_new(base, chain_timer_fired, m);
	return m->chain_timer != NULL;
}

void mapper_chain_free(struct mapper *m)
{
	if (m->chain_timer)
		event_free(m->chain_timer);
}
