/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "nft/helper_serve.h"

#include <errno.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/ifaddr.h"
#include "lib/log.h"
#include "priv/conntrack.h"
#include "priv/forwards.h"
#include "priv/nft.h"

#define MAX_EXTERNAL 8

/* Whether another table's rule already forwards m's external port from
 * the WAN: a client would be told it has the port while the traffic went
 * elsewhere. A ruleset that cannot be read refuses nothing (logged). */
static bool forwarded_elsewhere(struct helper *h, const struct priv_mapping *m)
{
	const struct forwarded_ports *f;

	if (!h->forwards || !addr_is_v4(&m->internal_addr) || m->operator_static)
		return false;
	f = forwards_current(h->forwards);
	return f && forwarded_has(f, m->proto, m->external_port);
}

/* The router's addresses as the kernel has them now: the other half's
 * word on them is not taken. */
static void read_own(struct helper *h)
{
	own_addr_counted(&h->own, ifaddr_list_all(h->own.addrs, OWN_ADDR_MAX));
}

static bool needs_own(uint32_t op)
{
	return op == PRIV_ADD || op == PRIV_REPLACE || op == PRIV_PEER;
}

/* What hairpin may point at: the configured address, or the external
 * interface's. */
static size_t external_addresses(const struct config *cfg, struct in_addr *out)
{
	struct if_address a[MAX_EXTERNAL];
	int n = ifaddr_list(cfg->external_interface, AF_INET, a, MAX_EXTERNAL);
	size_t count = 0;

	if (cfg->has_external_address)
		out[count++] = cfg->external_address;
	for (int i = 0; i < n && i < MAX_EXTERNAL && count < MAX_EXTERNAL; i++)
		out[count++] = addr_to_v4(&a[i].addr);
	return count;
}

static void reload(struct helper *h)
{
	static struct config next;  /* large (the policy) */
	char err[CONFIG_ERROR_MAX];

	if (config_load(h->config_path, &next, err, sizeof(err)) < 0) {
		log_warnx("reload failed, keeping the running policy: %s", err);
		return;
	}
	/* Only what the checks read; the table's shape is fixed at start, but
	 * for the limits' chains, which the daemon has rebuilt when they
	 * change. */
	h->cfg.policy = next.policy;
	nft_set_limits(h->nft, next.policy.limits, next.policy.limit_count);
	memcpy(h->cfg.statics, next.statics, sizeof(next.statics));
	h->cfg.static_count = next.static_count;
	h->cfg.lifetime_max = next.lifetime_max;
	h->cfg.has_external_address = next.has_external_address;
	h->cfg.external_address = next.external_address;
}

static int perform(struct helper *h, const struct priv_request *r, struct priv_reply *out)
{
	struct nft_mapping m = priv_mapping_unpack(&r->mapping), old;

	switch (r->op) {
	case PRIV_ADD:
		return nft_mapping_add(h->nft, &m);
	case PRIV_REPLACE:
		old = priv_mapping_unpack(&r->old);
		return nft_mapping_replace(h->nft, &old, &m);
	case PRIV_DELETE:
		return nft_mapping_delete(h->nft, &m);
	case PRIV_COUNTERS:
		return nft_mapping_counters(h->nft, &m, &out->counters);
	case PRIV_LAST_USED:
		return nft_mapping_last_used(h->nft, &m, &out->counters);
	case PRIV_REBUILD:
		return nft_rebuild(h->nft);
	case PRIV_HAIRPIN:
		return nft_set_hairpin_address(h->nft, r->has_hairpin ? &r->hairpin : NULL);
	case PRIV_PEER:
		if (!h->conntrack)
			return -EOPNOTSUPP;
		return conntrack_peer(h->conntrack, &r->flow, r->lifetime, &out->external_addr,
				      &out->external_port);
	case PRIV_RELOAD:
		reload(h);
		return 0;
	case PRIV_INTACT:
		return nft_intact(h->nft);
	case PRIV_LIMITED:
		return nft_limited_total(h->nft, &out->counters.limited);
	default:
		return -EINVAL;
	}
}

static const char *op_name(uint32_t op)
{
	static const char *const names[] = { "?", "add", "replace", "delete", "counters",
					     "last-used", "rebuild", "hairpin", "peer", "reload",
					     "close", "intact", "batch", "renew", "forwarded",
					     "limited" };

	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

/* Each item checked and authorized on its own; those that pass go to the
 * kernel together. A renewal is its elements' delete and their add again,
 * in the same transaction; their counters are read first, since they take
 * them along. */
static void perform_batch(struct helper *h, const struct priv_batch *b,
			  struct priv_batch_reply *out)
{
	static struct nft_verb verbs[2 * PRIV_BATCH_MAX];
	size_t item_of[2 * PRIV_BATCH_MAX], count = 0;
	int rc[2 * PRIV_BATCH_MAX];

	read_own(h);
	for (size_t i = 0; i < b->count; i++) {
		const struct priv_batch_item *item = &b->items[i];
		struct nft_mapping m;
		const char *why;

		out->counted[i] = (struct nft_counters){ 0 };
		if ((out->rc[i] = priv_batch_item_check(item, &why)) < 0) {
			log_warnx("refused a malformed %s in a batch: %s", op_name(item->op), why);
			continue;
		}
		if (item->op == PRIV_ADD && priv_undeclared_static(&h->cfg, &item->mapping))
			reload(h);
		if ((out->rc[i] = priv_authorize_item(&h->cfg, &h->own, item, &why)) < 0) {
			log_warnx("refused %s: %s", op_name(item->op), why);
			continue;
		}
		if (item->op == PRIV_ADD && forwarded_elsewhere(h, &item->mapping)) {
			out->rc[i] = -EADDRINUSE;
			log_warnx("refused add: another table forwards that port");
			continue;
		}
		m = priv_mapping_unpack(&item->mapping);
		if (item->op == PRIV_RENEW) {
			if (nft_mapping_counters(h->nft, &m, &out->counted[i]) < 0)
				out->counted[i] = (struct nft_counters){ 0 };
			verbs[count] = (struct nft_verb){ .add = false, .m = m };
			item_of[count++] = i;
		}
		verbs[count] = (struct nft_verb){ .add = item->op != PRIV_DELETE, .m = m };
		item_of[count++] = i;
	}
	nft_mappings_apply(h->nft, verbs, count, rc);
	/* An item fails with the first of its verbs that did. */
	for (size_t j = 0; j < count; j++)
		if (rc[j] < 0 && out->rc[item_of[j]] == 0)
			out->rc[item_of[j]] = rc[j];
}

struct helper_answer helper_answer(struct helper *h, const union helper_request *u, size_t len)
{
	static struct priv_reply reply;
	static struct priv_batch_reply batch_reply;
	static struct priv_forwarded_reply fr;
	const struct priv_request *r = &u->one;
	struct in_addr ext[MAX_EXTERNAL];
	size_t n_ext;
	const char *why;

	reply = (struct priv_reply){ .rc = 0 };
	if ((reply.rc = priv_request_check(u, len, &why)) < 0) {
		log_warnx("refused a malformed request (%zu bytes, op %s): %s", len,
			  len >= sizeof(uint32_t) ? op_name(r->op) : "?", why);
		return (struct helper_answer){ &reply, sizeof(reply), false };
	}
	switch (r->op) {
	case PRIV_BATCH:
		perform_batch(h, &u->batch, &batch_reply);
		return (struct helper_answer){ &batch_reply, sizeof(batch_reply), false };
	case PRIV_FORWARDED: {
		const struct forwarded_ports *f = h->forwards ? forwards_current(h->forwards) : NULL;

		fr.rc = f ? 0 : -EOPNOTSUPP;
		if (f)
			fr.ports = *f;
		else
			memset(&fr.ports, 0, sizeof(fr.ports));
		return (struct helper_answer){ &fr, sizeof(fr), false };
	}
	case PRIV_CLOSE:
		nft_close(h->nft, (int)r->remove);
		h->nft = NULL;
		return (struct helper_answer){ &reply, sizeof(reply), true };
	default:
		break;
	}
	n_ext = r->op == PRIV_HAIRPIN ? external_addresses(&h->cfg, ext) : 0;
	if (needs_own(r->op))
		read_own(h);
	if (r->op == PRIV_ADD && priv_undeclared_static(&h->cfg, &r->mapping))
		reload(h);
	if ((reply.rc = priv_authorize(&h->cfg, &h->own, r, ext, n_ext, &why)) == 0 &&
	    r->op == PRIV_ADD && forwarded_elsewhere(h, &r->mapping)) {
		why = "another table forwards that port";
		reply.rc = -EADDRINUSE;
	}
	if (reply.rc < 0)
		log_warnx("refused %s: %s", op_name(r->op), why);
	else
		reply.rc = perform(h, r, &reply);
	return (struct helper_answer){ &reply, sizeof(reply), false };
}
