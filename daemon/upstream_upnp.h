/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * An upstream gateway that maps ports over UPnP IGD only: found by SSDP on
 * the WAN link (its answer taken only from the server asked for), its
 * description read, then asked over SOAP, each call a short HTTP
 * connection, a few at a time, bounded in time. Never blocks the loop.
 * The engine under upstream.c when PCP and NAT-PMP go unanswered.
 */
#ifndef PORTLEASED_UPSTREAM_UPNP_H
#define PORTLEASED_UPSTREAM_UPNP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct upstream_upnp;

struct upstream_upnp_handlers {
	/* The search's end: an IGD and our external address there (NULL:
	 * it did not say), or why none. */
	void (*found)(void *arg, bool ok, const struct in_addr *external, const char *why);
	/* A mapping's answer (not a delete's): its external port and lifetime
	 * there, or why not. */
	void (*mapped)(void *arg, uint8_t proto, uint16_t port, bool ok, uint16_t external_port,
		       uint32_t lifetime, const char *why);
	/* A probe's answer: our external address there, or NULL (no answer). */
	void (*probed)(void *arg, const struct in_addr *external);
	void *arg;
};

struct upstream_upnp *upstream_upnp_new(struct event_base *base,
					const struct upstream_upnp_handlers *h);
void upstream_upnp_free(struct upstream_upnp *uu);
/* Looks for the IGD at server, by SSDP out of interface ifindex. false when
 * no socket could be opened (nothing will be told). */
bool upstream_upnp_search(struct upstream_upnp *uu, struct in_addr server, unsigned ifindex);
/* Ends the search and every call; each mapping in flight is told why. */
void upstream_upnp_stop(struct upstream_upnp *uu, const char *why);
/* Maps our port (the IGD's internal port) for lifetime seconds, at the
 * IGD's external port upstream_port if we hold one there, else the same
 * port preferred; lifetime 0 deletes the mapping at upstream_port (or
 * port). A request about a port in flight runs after it, and only the
 * later one is told. false when no IGD is found or too many wait. */
bool upstream_upnp_map(struct upstream_upnp *uu, uint8_t proto, uint16_t port,
		       uint16_t upstream_port, uint32_t lifetime);
/* Asks the IGD for our external address (answered through probed). */
void upstream_upnp_probe(struct upstream_upnp *uu);

#endif
