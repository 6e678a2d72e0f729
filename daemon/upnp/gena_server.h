/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GENA eventing for the IGD's services: subscriptions from LAN hosts and
 * the NOTIFY messages delivered to them, without ever waiting on a
 * subscriber. */
#ifndef PORTLEASED_GENA_SERVER_H
#define PORTLEASED_GENA_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "daemon/upnp/http.h"
#include "daemon/upnp/igd.h"

struct gena_server;

struct gena_server *gena_server_new(struct event_base *base, const struct igd *igd);
void gena_server_free(struct gena_server *g);

/*
 * A SUBSCRIBE (new or renewal) or UNSUBSCRIBE on svc's event URL from peer.
 * Returns the HTTP status; headers receives the response's extra headers
 * (SID and TIMEOUT). A new subscription's CALLBACK must be the subscriber's
 * own address.
 */
int gena_server_request(struct gena_server *g, const struct upnp_service *svc,
			const struct in6_addr *peer, const struct http_request *req,
			char *headers, size_t cap);

/* The IGD's state may have changed: subscribers hear of what did, once the
 * current burst of changes is over. Fits mapper_set_observer(). */
void gena_server_changed(void *g);

#endif
