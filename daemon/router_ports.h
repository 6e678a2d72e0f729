/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether the router itself serves a port from the WAN: a listening TCP
 * socket, or a bound, unconnected UDP one, on a wildcard address or the
 * external one (IPv4, or IPv6 that also takes IPv4). Such a port is never
 * forwarded to a LAN host: WireGuard's or SSH's packets would go there.
 * Asked of the kernel through NETLINK_SOCK_DIAG at grant time, filtered by
 * port in the kernel, so the cost does not grow with the router's sockets. */
#ifndef PORTLEASED_ROUTER_PORTS_H
#define PORTLEASED_ROUTER_PORTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct router_ports;

/* NULL with why in err if the kernel has no sock_diag for us. */
struct router_ports *router_ports_open(char *err, size_t errlen);
void router_ports_close(struct router_ports *rp);

/* 1 if the router serves proto/port (host order) from the WAN reaching
 * external (on ifindex external_ifindex), 0 if not, a negative errno if the
 * kernel could not say. */
int router_ports_serves(struct router_ports *rp, uint8_t proto, uint16_t port,
			const struct in_addr *external, unsigned external_ifindex);

/* Calls served(arg, proto, port) for every TCP and UDP port the router
 * serves from the WAN reaching external (a port may come more than once):
 * one unfiltered dump of listening TCP and unconnected UDP sockets, for a
 * periodic review of the mappings granted before a service started. 0, or
 * a negative errno. */
int router_ports_each(struct router_ports *rp, const struct in_addr *external,
		      unsigned external_ifindex,
		      void (*served)(void *arg, uint8_t proto, uint16_t port), void *arg);

/* The pure part, for the tests: whether one socket the kernel reported
 * (family, bound address, bound device, IPv6-only) takes WAN traffic to
 * external. */
bool router_ports_socket_takes(int family, const void *bound_addr, unsigned bound_ifindex,
			       bool v6only, const struct in_addr *external,
			       unsigned external_ifindex);

#endif
