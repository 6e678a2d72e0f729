/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Someone else's change to our nftables table: a `nft flush ruleset`, a
 * firewall service reloading, an operator's `nft delete table`. The
 * kernel's nf_tables notifications (NFNLGRP_NFTABLES) tell; ours, which
 * carry our own netlink port, are ignored. */
#ifndef PORTLEASED_NFT_WATCH_H
#define PORTLEASED_NFT_WATCH_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nft_watch;

/*
 * damaged(arg) runs, from the loop, when any netlink port but own_portid
 * deleted (or created) the inet table `table`, or deleted one of our chains,
 * sets or rules in it. With forward_chain "" the whole table is ours;
 * otherwise it is the firewall's, ours are the objects named "portleased_*",
 * and a rule deleted from the firewall's forward_chain (our jump may have
 * been one) counts too.
 */
struct nft_watch *nft_watch_new(struct event_base *base, const char *table,
				const char *forward_chain, uint32_t own_portid,
				void (*damaged)(void *arg), void *arg, char *err, size_t errlen);
/* others(arg) runs, from the loop, when any other netlink port changed
 * rules or sets anywhere (forwards_changed_by_notice): the ports other
 * tables forward may have changed. NULL: nobody asks. */
void nft_watch_on_others(struct nft_watch *w, void (*others)(void *arg));
void nft_watch_free(struct nft_watch *w);

/* Whether one datagram of notifications holds such a deletion (pure; the
 * bytes are bounds-checked as they are read). */
bool nft_watch_concerns(const void *buf, size_t len, const char *table, const char *forward_chain,
			uint32_t own_portid);

#endif
