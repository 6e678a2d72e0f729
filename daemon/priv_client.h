/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unprivileged half's end of privilege separation (priv/priv.h): the
 * nft.h and conntrack.h calls, each one request to portleased-nft. */
#ifndef PORTLEASED_PRIV_CLIENT_H
#define PORTLEASED_PRIV_CLIENT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

struct nft;
struct conntrack;

/*
 * Starts portleased-nft (beside this program) on config_path and waits for
 * it to make our nftables objects. Returns its handle, and in *ct one for
 * conntrack (NULL, with why in ct_err, if conntrack cannot be used); NULL
 * and why in err if it failed.
 */
struct nft *priv_start(const char *config_path, bool foreground, bool verbose,
		       struct conntrack **ct, char *ct_err, size_t ct_errlen, char *err, size_t errlen);

/* Ends the loop if the helper goes away between requests. */
int priv_watch(struct nft *n, struct event_base *base);

/* The helper reads the config file again (before we apply it). */
int priv_reload(struct nft *n);

struct forwarded_ports;
/* The ports other tables' rules forward from the WAN, as the helper reads
 * them (priv/forwards.h): 0, or a negative errno if it cannot. */
int priv_forwarded_ports(struct nft *n, struct forwarded_ports *out);

#endif
