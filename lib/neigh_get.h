/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One neighbour entry asked of the kernel (RTM_GETNEIGH): the link-layer
 * address of a LAN address, for the helper, which checks policy rules that
 * name hosts by link-layer address against its own reading of the
 * neighbour table rather than the daemon's word. */
#ifndef PORTLEASED_NEIGH_GET_H
#define PORTLEASED_NEIGH_GET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether one of the n interfaces has a usable entry for addr (IPv4 as
 * IPv4-mapped): reachable, stale, being probed, or permanent; *mac gets
 * its link-layer address. */
bool neigh_get_mac(const char (*ifnames)[IF_NAMESIZE], size_t n, const struct in6_addr *addr,
		   uint8_t mac[6]);

#endif
