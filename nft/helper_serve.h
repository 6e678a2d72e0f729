/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the privileged helper does with one datagram of the other half's:
 * checked (priv_request_check), authorized against its own reading of the
 * config and of the router's addresses (priv_authorize), then done through
 * nft.h and conntrack.h. nft/helper.c reads and sends; this is the rest,
 * so that a unit test can drive it with the fake backend. */
#ifndef PORTLEASED_HELPER_SERVE_H
#define PORTLEASED_HELPER_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "priv/own_addr.h"
#include "priv/priv.h"

struct helper {
	const char *config_path;    /* read again on PRIV_RELOAD */
	struct config cfg;
	struct nft *nft;
	struct conntrack *conntrack;  /* NULL: PEER of a tracked flow unsupported */
	struct own_addresses own;   /* read before each check that needs it */
	struct forwards *forwards;  /* NULL: other tables' forwards are not read */
};

/* What one datagram of the other half's holds: a request or a batch, told
 * apart by their common first field. */
union helper_request {
	struct priv_request one;
	struct priv_batch batch;
};

/* The reply to send (len bytes at reply, valid until the next call), and
 * whether to stop after it (PRIV_CLOSE). */
struct helper_answer {
	const void *reply;
	size_t len;
	bool stop;
};

/* The answer to len bytes at req (a datagram as received: len may be
 * anything). */
struct helper_answer helper_answer(struct helper *h, const union helper_request *req, size_t len);

#endif
