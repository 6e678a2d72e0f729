/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/ratelimit.h"

#include <string.h>

#define TOKEN 1000u

void rate_limiter_init(struct rate_limiter *rl, uint32_t seed)
{
	memset(rl, 0, sizeof(*rl));
	rl->seed = seed;
}

static size_t set_of(const struct rate_limiter *rl, const struct host_id *host)
{
	return host_id_hash(host, rl->seed) % RATELIMIT_SETS;
}

/* The host's bucket, or the set's least recently used one made over to it
 * with a full bucket. */
static struct rate_bucket *bucket_of(struct rate_limiter *rl, const struct host_id *host,
				     uint64_t now_ms, uint32_t burst)
{
	struct rate_bucket *set = rl->sets[set_of(rl, host)], *victim = &set[0];

	for (size_t i = 0; i < RATELIMIT_WAYS; i++) {
		if (set[i].used && host_id_equal(&set[i].host, host))
			return &set[i];
		if (!set[i].used || (victim->used && set[i].updated_ms < victim->updated_ms))
			victim = &set[i];
	}
	*victim = (struct rate_bucket){ .host = *host, .updated_ms = now_ms,
					.millitokens = (uint64_t)burst * TOKEN, .used = true };
	return victim;
}

bool rate_limiter_take(struct rate_limiter *rl, const struct host_id *host, uint64_t now_ms,
		       uint32_t per_second, uint32_t burst)
{
	struct rate_bucket *b;
	uint64_t cap = (uint64_t)burst * TOKEN;

	if (per_second == 0)
		return true;
	b = bucket_of(rl, host, now_ms, burst);
	/* One token per 1000/per_second ms: elapsed ms times per_second is
	 * exactly the millitokens earned. A clock that went back earns none. */
	if (now_ms > b->updated_ms) {
		uint64_t elapsed = now_ms - b->updated_ms;

		b->millitokens = elapsed >= cap ? cap : b->millitokens + elapsed * per_second;
	}
	/* Also when a reload has made the bucket smaller. */
	if (b->millitokens > cap)
		b->millitokens = cap;
	b->updated_ms = now_ms;
	if (b->millitokens < TOKEN)
		return false;
	b->millitokens -= TOKEN;
	return true;
}
