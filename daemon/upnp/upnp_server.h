/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UPnP IGD on the LAN: SSDP on UDP 1900 (239.255.255.250) and the
 * description and control documents over HTTP on each LAN IPv4 address.
 * Requests go to igd_control(); mappings go through the mapper. */
#ifndef PORTLEASED_UPNP_SERVER_H
#define PORTLEASED_UPNP_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "config/config.h"
#include "daemon/mapper.h"

struct upnp_server;

/* NULL and a message in err if a socket cannot be opened. Sends
 * ssdp:alive at once and then every 15 minutes. */
struct upnp_server *upnp_server_new(struct event_base *base, const struct config *cfg,
				    struct mapper *mapper, char *err, size_t errlen);
/* Sends ssdp:byebye, closes every connection. */
void upnp_server_free(struct upnp_server *s);

#endif
