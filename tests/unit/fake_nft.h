#ifndef PORTLEASED_FAKE_NFT_H
#define PORTLEASED_FAKE_NFT_H

#include "nft.h"

struct fake_nft {
	unsigned adds, refreshes, deletes;
	struct nft_forward last_add, last_refresh, last_delete;
	int fail_next;  /* a negative errno for the next verb, then success again */
};

extern struct fake_nft fake_nft;

#endif
