/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stand-in for nft/nft.c in unit tests only: records each verb and fails
 * on demand. The e2e suite runs the real backend against the kernel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv/conntrack.h"
#include "fake_nft.h"

struct fake_nft fake_nft;

struct nft *nft_open(const char *table, const char *forward_chain, const char *ifname,
		     uint32_t mark, const struct inbound_limit *limits, size_t nlimits, char *err,
		     size_t errlen)
{
	(void)table; (void)forward_chain; (void)ifname; (void)mark; (void)err; (void)errlen;
	nft_set_limits((struct nft *)&fake_nft, limits, nlimits);
	return (struct nft *)&fake_nft;
}

void nft_set_limits(struct nft *n, const struct inbound_limit *limits, size_t nlimits)
{
	(void)n;
	(void)limits;
	fake_nft.nlimits = nlimits;
}

int nft_limited_total(struct nft *n, uint64_t *dropped)
{
	(void)n;
	*dropped = fake_nft.limited;
	return 0;
}

void nft_close(struct nft *n, int remove_table)
{
	(void)n; (void)remove_table;
}

static int record(struct fake_mapping *slot, unsigned *count, const struct nft_mapping *f)
{
	if (fake_nft.fail_next) {
		int rc = fake_nft.fail_next;
		fake_nft.fail_next = 0;
		return rc;
	}
	slot->m = *f;
	if (f->nremotes > 0)
		memcpy(slot->remotes, f->remotes, f->nremotes * sizeof(*f->remotes));
	slot->m.remotes = slot->remotes;
	(*count)++;
	return 0;
}

/* A verb: while batching, counted, and a refusal or a renewal kept for
 * the end. */
static int queue(struct fake_mapping *slot, unsigned *count, const struct nft_mapping *f,
		 bool renew)
{
	size_t verb = fake_nft.batch_verbs;
	int rc = record(slot, count, f);

	if (!fake_nft.batching)
		return rc;
	fake_nft.batch_verbs++;
	if ((rc < 0 || renew) && fake_nft.ntold < sizeof(fake_nft.told) / sizeof(fake_nft.told[0]))
		fake_nft.told[fake_nft.ntold++] = (struct nft_outcome){
			.verb = verb, .rc = rc, .renew = renew,
			.counted = { .packets = fake_nft.packets, .bytes = fake_nft.packets * 100 },
		};
	return 0;
}

int nft_mapping_add(struct nft *n, const struct nft_mapping *f)
{
	(void)n;
	return queue(&fake_nft.last_add, &fake_nft.adds, f, false);
}

int nft_mapping_replace(struct nft *n, const struct nft_mapping *old, const struct nft_mapping *f)
{
	(void)n;
	fake_nft.last_replaced_nremotes = old->nremotes;
	return record(&fake_nft.last_refresh, &fake_nft.refreshes, f);
}

int nft_mapping_renew(struct nft *n, const struct nft_mapping *f)
{
	(void)n;
	fake_nft.last_replaced_nremotes = f->nremotes;
	return queue(&fake_nft.last_refresh, &fake_nft.refreshes, f, true);
}

int nft_mapping_delete(struct nft *n, const struct nft_mapping *f)
{
	(void)n;
	return queue(&fake_nft.last_delete, &fake_nft.deletes, f, false);
}

void nft_batch_begin(struct nft *n)
{
	(void)n;
	fake_nft.batching = true;
	fake_nft.batch_verbs = 0;
	fake_nft.ntold = 0;
}

void nft_batch_end(struct nft *n, void (*told)(void *arg, const struct nft_outcome *outcome),
		   void *arg)
{
	(void)n;
	fake_nft.batching = false;
	fake_nft.batch_ends++;
	for (size_t i = 0; i < fake_nft.ntold; i++)
		told(arg, &fake_nft.told[i]);
	fake_nft.ntold = 0;
}

int nft_mapping_counters(struct nft *n, const struct nft_mapping *f, struct nft_counters *out)
{
	(void)n;
	(void)f;
	*out = (struct nft_counters){ .packets = fake_nft.packets, .bytes = fake_nft.packets * 100,
				      .limited = f->limit_class ? fake_nft.limited : 0 };
	return fake_nft.packets_error;
}

int nft_mapping_last_used(struct nft *n, const struct nft_mapping *f, struct nft_counters *out)
{
	(void)n;
	(void)f;
	out->used = fake_nft.used;
	out->idle_ms = fake_nft.idle_ms;
	return 0;
}

/* PEER is exercised end to end against the kernel's conntrack; the mapper
 * suite only needs the symbol. */
int conntrack_peer(struct conntrack *ct, const struct ct_flow *flow, uint32_t lifetime,
		   struct in6_addr *external_addr, uint16_t *external_port)
{
	(void)ct; (void)flow; (void)lifetime; (void)external_addr; (void)external_port;
	return -ENOENT;
}

int nft_rebuild(struct nft *n)
{
	(void)n;
	fake_nft.rebuilds++;
	return 0;
}

int nft_set_hairpin_address(struct nft *n, const struct in_addr *addr)
{
	(void)n;
	fake_nft.hairpin = addr != NULL;
	return 0;
}

int nft_intact(struct nft *n)
{
	(void)n;
	return 1;
}

/* The helper's side of a batch: each verb recorded as an add or a delete. */
void nft_mappings_apply(struct nft *n, const struct nft_verb *verbs, size_t count, int *rc)
{
	for (size_t i = 0; i < count; i++)
		rc[i] = verbs[i].add ? nft_mapping_add(n, &verbs[i].m) :
				       nft_mapping_delete(n, &verbs[i].m);
}
