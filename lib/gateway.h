/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IPv4 default gateway of an interface, from the kernel's routing
 * table as /proc/net/route prints it. Pure: the caller reads the file. */
#ifndef PORTLEASED_GATEWAY_H
#define PORTLEASED_GATEWAY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* The gateway of the lowest-metric default route (destination and mask 0,
 * up, through a gateway) on ifname in the len bytes of text; false if
 * there is none. Lines it cannot read are skipped. */
bool gateway_of(const char *text, size_t len, const char *ifname, struct in_addr *gw);

#endif
