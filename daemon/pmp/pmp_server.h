/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UDP 5351 on the LAN addresses: the sockets for NAT-PMP and PCP, which
 * share the port and tell themselves apart by the version octet (RFC 6887
 * §9). Requests go to natpmp_answer() or pcp_answer(). */
#ifndef PORTLEASED_PMP_SERVER_H
#define PORTLEASED_PMP_SERVER_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/mapper.h"

struct pmp_server;

/* Binds one socket per IPv4 and IPv6 address of each LAN interface (NAT-PMP
 * is served on IPv4 only). NULL and a message in err if an address cannot
 * be bound or there is none. */
struct pmp_server *pmp_server_new(struct event_base *base, const struct config *cfg,
					struct mapper *mapper, char *err, size_t errlen);
void pmp_server_free(struct pmp_server *s);

/* Starts (or restarts) the announcements on every LAN link: a PCP ANNOUNCE
 * to 224.0.0.1:5350 and [ff02::1]:5350 and, with an external address known,
 * the NAT-PMP external address to 224.0.0.1:5350; ten times over about two
 * minutes. */
void pmp_server_announce(struct pmp_server *s);

#endif
