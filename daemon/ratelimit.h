/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-host request rate: a token bucket per LAN host (host.h: whichever
 * of its addresses it asks from), so that one host flooding map requests
 * is refused while the others are served. Pure: the
 * caller supplies the clock. Memory is fixed: RATELIMIT_CLIENTS buckets in
 * sets of RATELIMIT_WAYS; a new host takes its set's least recently used
 * bucket, and a bucket idle long enough to have refilled is the same as a
 * fresh one, so eviction costs a host nothing it could have used. */
#ifndef PORTLEASED_RATELIMIT_H
#define PORTLEASED_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/host.h"

#define RATELIMIT_WAYS 4
#define RATELIMIT_SETS 256
#define RATELIMIT_CLIENTS (RATELIMIT_WAYS * RATELIMIT_SETS)

struct rate_bucket {
	struct host_id host;
	uint64_t updated_ms;
	uint64_t millitokens;  /* a request costs 1000 */
	bool used;
};

struct rate_limiter {
	uint32_t seed;
	struct rate_bucket sets[RATELIMIT_SETS][RATELIMIT_WAYS];
};

/* seed: hashes hosts to sets, so that hosts cannot choose link-layer
 * addresses that all evict one another. */
void rate_limiter_init(struct rate_limiter *rl, uint32_t seed);

/* One request from host at now_ms, against per_second tokens a second
 * and a bucket of burst (both from the config, so a reload applies at
 * once). True: serve it. per_second 0: no limit. */
bool rate_limiter_take(struct rate_limiter *rl, const struct host_id *host, uint64_t now_ms,
		       uint32_t per_second, uint32_t burst);

#endif
