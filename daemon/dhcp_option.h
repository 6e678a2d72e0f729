/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PCP server the WAN's DHCP server names (RFC 7291: DHCPv4 option
 * 158, DHCPv6 option 86), as ISC dhclient writes it in its lease file once
 * asked for it: `option pcp-server 4:64:40:0:1;` or `option
 * dhcp6.pcp-server ::ffff:100.64.0.1;`. Pure. */
#ifndef PORTLEASED_DHCP_OPTION_H
#define PORTLEASED_DHCP_OPTION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_OPTION_PCP_SERVER 158
#define DHCP_LEASES_MAX (64 * 1024)  /* a lease file beyond this is not read */

/* The first address of the first server an OPTION_V4_PCP_SERVER payload
 * lists (each server: a length, a multiple of 4, and its addresses). */
bool dhcp_pcp_server_decode(const uint8_t *payload, size_t len, struct in_addr *out);

/* The server the last `option pcp-server` or `option dhcp6.pcp-server`
 * statement of a dhclient lease file names (the newest lease is last; over
 * DHCPv6, the first IPv4-mapped address, since the upstream is asked over
 * IPv4); false when there is none or it is malformed. */
bool dhcp_pcp_server_from_leases(const char *text, size_t len, struct in_addr *out);

#endif
