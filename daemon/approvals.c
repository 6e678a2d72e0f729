/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/approvals.h"

#include <string.h>

#include "lib/addr.h"

void approvals_init(struct approvals *a)
{
	memset(a, 0, sizeof(*a));
	a->next_id = 1;
}

struct approval_key approvals_key(const struct host_id *host, const struct in6_addr *client,
				  const struct in6_addr *internal_addr, uint8_t proto,
				  uint16_t internal_port)
{
	struct approval_key k;

	/* Compared as bytes: no padding left unset. */
	memset(&k, 0, sizeof(k));
	k.host = *host;
	k.proto = proto;
	k.v6 = !addr_is_v4(internal_addr);
	k.internal_port = internal_port;
	if (!addr_equal(client, internal_addr))
		k.third_party = *internal_addr;
	return k;
}

static bool same_key(const struct approval_key *a, const struct approval_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

void approvals_expire(struct approvals *a, uint64_t now_ms)
{
	for (size_t i = 0; i < APPROVALS_PENDING_MAX; i++)
		if (a->pending[i].used && a->pending[i].expires_ms <= now_ms)
			a->pending[i].used = false;
	for (size_t i = 0; i < APPROVALS_MAX; i++)
		if (a->decided[i].used && a->decided[i].until_ms <= now_ms)
			a->decided[i].used = false;
}

/* The index of the decision about key still in force, or -1. */
static int decision_of(const struct approvals *a, const struct approval_key *key,
		       uint64_t now_ms)
{
	for (size_t i = 0; i < APPROVALS_MAX; i++) {
		const struct approval *d = &a->decided[i];

		if (d->used && d->until_ms > now_ms && same_key(&d->key, key))
			return (int)i;
	}
	return -1;
}

uint64_t approvals_until(const struct approvals *a, const struct approval_key *key, uint64_t now_ms)
{
	int i = decision_of(a, key, now_ms);

	return i >= 0 && !a->decided[i].rejected ? a->decided[i].until_ms : 0;
}

size_t approvals_pending_count(const struct approvals *a, uint64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < APPROVALS_PENDING_MAX; i++)
		n += a->pending[i].used && a->pending[i].expires_ms > now_ms;
	return n;
}

enum approvals_asked approvals_ask(struct approvals *a, const struct pending_request *p,
				   uint64_t now_ms, const struct pending_request **out)
{
	struct pending_request *free_slot = NULL;
	size_t of_host = 0;
	int d;

	*out = NULL;
	if (p->key.host.kind != HOST_MAC)
		return APPROVALS_UNKNOWN;
	approvals_expire(a, now_ms);
	if ((d = decision_of(a, &p->key, now_ms)) >= 0 && a->decided[d].rejected)
		return APPROVALS_REJECTED;
	for (size_t i = 0; i < APPROVALS_PENDING_MAX; i++) {
		struct pending_request *q = &a->pending[i];

		if (!q->used) {
			free_slot = free_slot ? free_slot : q;
			continue;
		}
		if (same_key(&q->key, &p->key)) {
			/* Its latest words: a client may retry with another port
			 * or description. */
			q->client = p->client;
			q->external_port = p->external_port;
			q->origin = p->origin;
			memcpy(q->description, p->description, sizeof(q->description));
			q->last_ms = now_ms;
			q->expires_ms = now_ms + APPROVALS_PENDING_TTL_MS;
			q->asked++;
			*out = q;
			return APPROVALS_AGAIN;
		}
		of_host += host_id_equal(&q->key.host, &p->key.host);
	}
	if (!free_slot || of_host >= APPROVALS_PENDING_PER_HOST)
		return APPROVALS_FULL;
	*free_slot = *p;
	free_slot->description[LEASE_DESCRIPTION_MAX] = '\0';
	free_slot->id = a->next_id++;
	if (a->next_id == 0)
		a->next_id = 1;
	free_slot->first_ms = free_slot->last_ms = now_ms;
	free_slot->expires_ms = now_ms + APPROVALS_PENDING_TTL_MS;
	free_slot->asked = 1;
	free_slot->used = true;
	*out = free_slot;
	return APPROVALS_NEW;
}

/* The pending request id becomes a decision lasting until until_ms. */
static int decide(struct approvals *a, uint32_t id, bool rejected, uint64_t until_ms,
		  uint64_t now_ms, struct pending_request *out)
{
	struct pending_request *p = NULL;
	struct approval *slot = NULL;
	int d;

	approvals_expire(a, now_ms);
	for (size_t i = 0; i < APPROVALS_PENDING_MAX && !p; i++)
		if (a->pending[i].used && a->pending[i].id == id)
			p = &a->pending[i];
	if (!p)
		return -1;
	/* A later decision about the same request replaces the earlier. */
	if ((d = decision_of(a, &p->key, now_ms)) >= 0)
		slot = &a->decided[d];
	for (size_t i = 0; i < APPROVALS_MAX && !slot; i++)
		if (!a->decided[i].used)
			slot = &a->decided[i];
	if (!slot)
		return -1;
	*slot = (struct approval){ .id = id, .key = p->key, .until_ms = until_ms,
				   .rejected = rejected, .used = true };
	*out = *p;
	p->used = false;
	return 0;
}

int approvals_approve(struct approvals *a, uint32_t id, uint32_t seconds, uint64_t now_ms,
		      struct pending_request *out)
{
	return decide(a, id, false, now_ms + (uint64_t)seconds * 1000, now_ms, out);
}

int approvals_reject(struct approvals *a, uint32_t id, uint64_t now_ms,
		     struct pending_request *out)
{
	return decide(a, id, true, now_ms + APPROVALS_REJECT_QUIET_MS, now_ms, out);
}
