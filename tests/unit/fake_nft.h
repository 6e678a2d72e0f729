/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTLEASED_FAKE_NFT_H
#define PORTLEASED_FAKE_NFT_H

#include "priv/nft.h"

/* A recorded mapping, with its remote ranges copied. */
struct fake_mapping {
	struct nft_mapping m;
	struct remote_range remotes[FILTER_MAX_RANGES];
};

struct fake_nft {
	unsigned adds, refreshes, deletes, rebuilds;
	bool hairpin;  /* the external address was given for hairpinning */
	struct fake_mapping last_add, last_refresh, last_delete;
	size_t last_replaced_nremotes;  /* of the old mapping a refresh replaced */
	/* What nft_mapping_counters answers for any mapping: these packets
	 * (and 100 bytes each), or packets_error if that is set. */
	uint64_t packets;
	bool used;         /* and a connection came */
	uint64_t idle_ms;  /* this long ago */
	int packets_error;
	/* What a limited mapping's limit turned away, and in all. */
	uint64_t limited;
	size_t nlimits;  /* the limit classes it was given */
	int fail_next;  /* a negative errno for the next verb, then success again */
	/* nft_batch_begin to nft_batch_end: verbs are recorded at once and
	 * counted; a failing one returns 0 and is reported at the end, as is
	 * each renewal (with packets counted, as nft_mapping_counters). */
	bool batching;
	size_t batch_verbs, batch_ends;
	struct nft_outcome told[64];
	size_t ntold;
};

extern struct fake_nft fake_nft;

#endif
