/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The mapping service beyond our external interface, when the router is
 * itself behind a NAT (an ISP box, carrier-grade NAT): which one answers
 * at the default gateway (or the configured server), over PCP, NAT-PMP
 * or UPnP IGD, and the external address it maps us to. Asked on the WAN side, without
 * blocking: a dead upstream costs timers, never a wait.
 */
#ifndef PORTLEASED_UPSTREAM_H
#define PORTLEASED_UPSTREAM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/stun_probe.h"

struct event_base;
struct upstream;

enum upstream_state {
	UPSTREAM_OFF,        /* upstream.mode "off" */
	UPSTREAM_SEARCHING,  /* asking */
	UPSTREAM_FOUND,
	UPSTREAM_NONE,       /* nothing answered, or nobody to ask: asked again later */
};

/* STUN, when no mapping service answers and upstream.stun names a server. */
enum upstream_stun_state {
	UPSTREAM_STUN_NONE,      /* not asked */
	UPSTREAM_STUN_ASKING,
	UPSTREAM_STUN_ANSWERED,
	UPSTREAM_STUN_SILENT,    /* no answer */
};

enum upstream_protocol {
	UPSTREAM_PCP,
	UPSTREAM_NATPMP,
	UPSTREAM_UPNP,       /* an IGD, over SSDP and SOAP */
};

struct upstream_status {
	enum upstream_state state;
	enum upstream_protocol protocol;  /* FOUND */
	bool has_server;                  /* the address asked */
	struct in_addr server;
	bool server_is_gateway;           /* the default gateway, not upstream.server */
	bool server_from_dhcp;            /* named by the WAN's DHCP server (option 158) */
	bool has_external;                /* FOUND: the address it maps us to */
	struct in_addr external;
	bool has_epoch;                   /* FOUND over PCP or NAT-PMP (UPnP has none) */
	uint32_t epoch;                   /* its epoch, seconds, when last heard */
	const char *why;                  /* NONE: why, for people */
	enum upstream_stun_state stun;
	struct stun_endpoint stun_server;
	struct in_addr stun_public;       /* ANSWERED: our public address */
	enum stun_nat stun_nat;           /* ANSWERED */
};

/* What the upstream answered to a mapping of our external port (its
 * internal port), or that it did not. */
struct upstream_mapped {
	uint8_t proto;
	uint16_t port;
	bool ok;
	uint16_t external_port;  /* ok: where the internet reaches it */
	uint32_t lifetime;       /* ok: seconds */
	const char *why;         /* not ok: its result's name, or "no answer" */
	bool again;              /* not ok: not the upstream's word (it is being looked
				    for again): to be asked anew, not given up */
};
typedef void (*upstream_mapped_fn)(void *arg, const struct upstream_mapped *m);

struct upstream *upstream_new(struct event_base *base, const struct config *cfg);
void upstream_free(struct upstream *u);
/* Asks again from the start: at start, after a reload, when the router's
 * addresses or routes may have changed. external: our external address
 * (NULL: none), which says whether the internet can reach us without. */
void upstream_search(struct upstream *u, const struct in_addr *external);
void upstream_status(const struct upstream *u, struct upstream_status *st);
/* Asks the upstream found for a mapping of our external port for lifetime
 * seconds, or (0) to delete it: at upstream_port there if we hold one (0:
 * none yet), else the same port preferred; the answer, or its absence
 * after about 8 s, goes to the handler (not for a delete). A request about
 * a port in flight replaces it. false when no upstream is found, or too
 * many requests are in flight. */
bool upstream_map(struct upstream *u, uint8_t proto, uint16_t port, uint16_t upstream_port,
		  uint32_t lifetime);
void upstream_set_mapped_handler(struct upstream *u, upstream_mapped_fn mapped, void *arg);
/* changed(arg, false) runs when an upstream is found; changed(arg, true)
 * when it lost its mappings (its epoch went back) or maps us to another
 * address: every twin is to be asked for again. */
void upstream_set_changed_handler(struct upstream *u, void (*changed)(void *arg, bool lost),
				  void *arg);

/* Names for status, metrics and logs (here, so that pure modules need
 * nothing of the I/O). */
static inline const char *upstream_protocol_name(enum upstream_protocol p)
{
	return p == UPSTREAM_PCP ? "pcp" : p == UPSTREAM_NATPMP ? "natpmp" : "upnp";
}

/* Where the server asked came from, for people. */
static inline const char *upstream_server_source(const struct upstream_status *st)
{
	return st->server_is_gateway ? "the default gateway" :
	       st->server_from_dhcp ? "DHCP option 158" : "upstream.server";
}

static inline const char *upstream_state_name(enum upstream_state s)
{
	static const char *const names[] = { [UPSTREAM_OFF] = "off",
					     [UPSTREAM_SEARCHING] = "searching",
					     [UPSTREAM_FOUND] = "found", [UPSTREAM_NONE] = "none" };

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

#endif
