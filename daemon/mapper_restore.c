/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/mapper_impl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/leasefile.h"
#include "lib/log.h"

/* Whether filters can be a PEER mapping's remotes: one to FILTER_MAX,
 * each one address of internal's family and one port. */
static bool peer_filters_valid(const struct remote_filter *filters, size_t n,
			       const struct in6_addr *internal)
{
	if (n == 0 || n > FILTER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (filters[i].remote.len != 128 || filters[i].port == 0 ||
		    addr_is_v4(&filters[i].remote.net) != addr_is_v4(internal))
			return false;
	return true;
}

enum map_status mapper_restore(struct mapper *m, const struct leasefile_record *r)
{
	int64_t now = (int64_t)time(NULL);
	struct lease fields = { 0 };
	struct remote_filter filters[FILTER_MAX];
	size_t nfilters;
	uint64_t lifetime_ms;

	if (r->origin == LEASE_ORIGIN_STATIC) {
		struct static_mapping sm = { .proto = r->proto, .external_port = r->external_port,
					     .internal_addr = r->internal_addr,
					     .internal_port = r->internal_port };

		snprintf(sm.description, sizeof(sm.description), "%s", r->description);
		return mapper_add_static(m, &sm);
	}
	if (r->expires <= now)
		return MAP_NO_FLOW;  /* expired meanwhile: nothing to restore */
	if (r->peer && !peer_filters_valid(r->filters, r->nfilters, &r->internal_addr))
		return MAP_UNSUPPORTED;
	if (mapper_internal_refusal(m, &r->internal_addr))
		return MAP_NOT_A_HOST;
	if (!lease_external_free(m->leases, r->proto, r->external_port) && addr_is_v4(&r->internal_addr))
		return MAP_PORT_UNAVAILABLE;
	if (lease_count(m->leases) >= lease_capacity(m->leases))
		return MAP_TABLE_FULL;
	lifetime_ms = (uint64_t)(r->expires - now) * 1000;
	fields.proto = r->proto;
	fields.client = r->client;
	fields.host = mapper_host_of(m, &r->client);
	/* After a reboot the neighbour table is empty: the host that asked
	 * for itself is the one the file remembers, until it is heard from. */
	if (fields.host.kind != HOST_MAC && r->has_mac && addr_equal(&r->client, &r->internal_addr))
		fields.host = host_id_of_mac(r->mac);
	fields.internal_addr = r->internal_addr;
	fields.internal_port = r->internal_port;
	fields.external_port = r->external_port;
	fields.created_ms = mapper_now_ms() - (r->created < now ? (uint64_t)(now - r->created) * 1000 : 0);
	fields.expires_ms = mapper_now_ms() + lifetime_ms;
	fields.origin = r->origin;
	fields.has_nonce = r->has_nonce;
	memcpy(fields.nonce, r->nonce, sizeof(fields.nonce));
	fields.description = r->description;
	fields.peer = r->peer;
	nfilters = r->nfilters < FILTER_MAX ? r->nfilters : FILTER_MAX;
	memcpy(filters, r->filters, nfilters * sizeof(*filters));
	fields.filters = filters;
	fields.nfilters = (uint8_t)filter_drop_covered(filters, nfilters);
	fields.rule = mapper_decide_lease(m, &fields).rule;
	return mapper_install(m, &fields, lifetime_ms);
}

int mapper_reinstall(struct mapper *m, size_t *reinstalled)
{
	int rc = nft_rebuild(m->nft);

	*reinstalled = 0;
	if (rc < 0)
		return rc;
	for (const struct lease *l = lease_first(m->leases); l; l = lease_next(l)) {
		struct remote_range ranges[FILTER_MAX_RANGES];
		uint64_t now = mapper_now_ms();
		/* To the millisecond: the kernel's timeout ends with the lease. */
		uint64_t timeout_ms = l->expires_ms == LEASE_NEVER ? 0 :
				      l->expires_ms > now ? l->expires_ms - now : 1;
		struct nft_mapping nm = mapper_mapping_of(l, timeout_ms, ranges);

		/* One that fails is logged and left to expire from our table
		 * alone; the others must not wait for it. */
		if ((rc = mapper_backend_add(m, &nm)) < 0)
			mapper_nft_warn(m, "nftables: cannot restore %s port %u: %s",
				  policy_proto_name(l->proto), l->external_port, strerror(-rc));
		else
			(*reinstalled)++;
	}
	return 0;
}

size_t mapper_apply_policy(struct mapper *m)
{
	bool rebuild = mapper_policy_changed(m);
	size_t removed = 0, reinstalled;
	int rc;

	for (struct lease *l = lease_first(m->leases), *next; l; l = next) {
		uint32_t left = mapper_remaining(m, l), max = m->cfg->lifetime_max;
		struct map_request keep = { .proto = l->proto, .client = l->client,
					    .internal_addr = l->internal_addr,
					    .internal_port = l->internal_port };
		struct map_result res;
		struct policy_decision d;
		uint8_t limit_class;

		next = lease_next(l);
		if (l->origin == LEASE_ORIGIN_STATIC)
			continue;
		d = mapper_decide_lease(m, l);
		if (!d.allow) {
			mapper_remove_lease(m, l, "deleted", "policy");
			removed++;
			continue;
		}
		limit_class = lease_limit_class(m, l->origin, d.rule, l->peer);
		if (rebuild) {
			/* Made anew below, with its new limit and lifetime. */
			l->rule = d.rule;
			l->limit_class = limit_class;
			if (left > max)
				lease_set_expiry(m->leases, l, mapper_now_ms() + (uint64_t)max * 1000);
		} else if (left > max || limit_class != l->limit_class) {
			/* The kernel's timeout goes down with it; or its
			 * connections go through another limit. */
			mapper_refresh(m, l, &keep, left > max ? max : left ? left : 1, d, &res);
		}
	}
	/* The limits' chains are made from the policy: the kernel's table is
	 * made anew around them, and every mapping put back. */
	if (rebuild) {
		if ((rc = mapper_reinstall(m, &reinstalled)) < 0)
			mapper_nft_warn(m, "nftables: cannot remake the table for the new inbound "
					"limits: %s", strerror(-rc));
		else
			log_info("inbound limits changed: nftables table made anew, %zu mappings "
				 "put back", reinstalled);
	}
	mapper_schedule_expiry(m);
	return removed;
}

static bool same_static(const struct lease *l, const struct static_mapping *sm)
{
	return l->origin == LEASE_ORIGIN_STATIC && l->proto == sm->proto &&
	       l->external_port == sm->external_port && l->internal_port == sm->internal_port &&
	       addr_equal(&l->internal_addr, &sm->internal_addr) &&
	       strcmp(l->description, sm->description) == 0;
}

/* The operator's word is final: a client's mapping in the way goes, and the
 * audit log says so. */
enum map_status mapper_add_static(struct mapper *m, const struct static_mapping *sm)
{
	struct lease *by_ext = NULL, *by_int, fields = { 0 };
	enum map_status st;

	if (mapper_internal_refusal(m, &sm->internal_addr))
		return MAP_NOT_A_HOST;
	if (addr_is_v4(&sm->internal_addr))
		by_ext = lease_by_external(m->leases, sm->proto, sm->external_port);
	by_int = lease_by_internal(m->leases, &sm->internal_addr, sm->proto, sm->internal_port);
	if ((by_ext && same_static(by_ext, sm)) || (by_int && same_static(by_int, sm))) {
		(by_ext ? by_ext : by_int)->declared |= sm->declared;
		return MAP_OK;
	}
	if ((by_ext && by_ext->origin == LEASE_ORIGIN_STATIC) ||
	    (by_int && by_int->origin == LEASE_ORIGIN_STATIC))
		return MAP_PORT_UNAVAILABLE;
	if (by_ext)
		mapper_remove_lease(m, by_ext, "deleted", "operator");
	if (by_int && by_int != by_ext)
		mapper_remove_lease(m, by_int, "deleted", "operator");
	if (lease_count(m->leases) >= lease_capacity(m->leases))
		return MAP_TABLE_FULL;
	fields.proto = sm->proto;
	fields.internal_addr = sm->internal_addr;
	fields.internal_port = sm->internal_port;
	fields.external_port = sm->external_port;
	fields.created_ms = mapper_now_ms();
	fields.expires_ms = LEASE_NEVER;
	fields.origin = LEASE_ORIGIN_STATIC;
	fields.rule = -1;
	fields.declared = sm->declared;
	fields.description = sm->description;
	if ((st = mapper_install(m, &fields, 0)) != MAP_OK)
		return st;
	if (addr_is_v4(&sm->internal_addr))
		mapper_chain_new(m, sm->proto, sm->external_port);
	m->metrics.events[METRICS_GRANTED][LEASE_ORIGIN_STATIC]++;
	mapper_audit(&(struct audit_record){
		.event = "granted", .origin = "static", .proto = sm->proto,
		.internal_addr = sm->internal_addr, .device = mapper_device_at(m, &sm->internal_addr),
		.internal_port = sm->internal_port,
		.has_external_port = addr_is_v4(&sm->internal_addr),
		.external_port = sm->external_port, .result = "ok", .by = "operator",
		.description = sm->description,
	});
	return MAP_OK;
}

void mapper_sync_static(struct mapper *m, const struct config *cfg)
{
	/* Declared ones the file no longer declares go; then each declared
	 * one is added, which keeps those already there. */
	for (struct lease *l = lease_first(m->leases), *next; l; l = next) {
		bool kept = false;

		next = lease_next(l);
		if (l->origin != LEASE_ORIGIN_STATIC || !l->declared)
			continue;
		for (size_t i = 0; i < cfg->static_count && !kept; i++)
			kept = same_static(l, &cfg->statics[i]);
		if (!kept)
			mapper_remove_lease(m, l, "deleted", "operator");
	}
	for (size_t i = 0; i < cfg->static_count; i++) {
		enum map_status st = mapper_add_static(m, &cfg->statics[i]);

		if (st != MAP_OK)
			log_warnx("static mapping %s %u -> port %u: %s",
				  policy_proto_name(cfg->statics[i].proto), cfg->statics[i].external_port,
				  cfg->statics[i].internal_port, map_status_name(st));
	}
	mapper_schedule_expiry(m);
}
