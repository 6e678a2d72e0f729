/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Asks a STUN server, without blocking, how the NAT in front of us maps
 * us: from one socket, to the server and then to its other address; the
 * public address, and whether the mapped port changes with the peer (a
 * symmetric NAT, behind which no mapping can be reached from outside). */
#ifndef PORTLEASED_STUN_PROBE_H
#define PORTLEASED_STUN_PROBE_H

#include <stdbool.h>

#include "daemon/stun.h"

struct event_base;
struct stun_probe;

enum stun_nat {
	STUN_NAT_UNKNOWN,      /* the server has no other address, or did not answer there */
	STUN_NAT_INDEPENDENT,  /* the same public port for both peers */
	STUN_NAT_SYMMETRIC,    /* a public port per peer */
};

struct stun_probe_result {
	bool answered;
	struct stun_endpoint public_endpoint;  /* answered: as the server saw us */
	enum stun_nat nat;
};

typedef void (*stun_probe_fn)(void *arg, const struct stun_probe_result *r);

struct stun_probe *stun_probe_new(struct event_base *base, stun_probe_fn done, void *arg);
void stun_probe_free(struct stun_probe *p);
/* Asks server; done runs once, within about 8 s. false when no socket
 * could be opened. A probe running is stopped first. */
bool stun_probe_start(struct stun_probe *p, struct stun_endpoint server);
void stun_probe_stop(struct stun_probe *p);

static inline const char *stun_nat_name(enum stun_nat n)
{
	return n == STUN_NAT_SYMMETRIC ? "symmetric" :
	       n == STUN_NAT_INDEPENDENT ? "not symmetric" : "unknown";
}

#endif
