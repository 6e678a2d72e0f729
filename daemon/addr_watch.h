/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tells when the router's addresses change, from rtnetlink (IPv4 and
 * IPv6 address notices): the external address follows DHCP renewals and
 * renumbering without a reload, and what mappings may not forward to
 * (own_addr.h) follows every interface. */
#ifndef PORTLEASED_ADDR_WATCH_H
#define PORTLEASED_ADDR_WATCH_H

#include <event2/event.h>
#include <stddef.h>

struct addr_watch;

/* changed(arg) runs, from the loop, after one or more addresses of any
 * interface were added or removed (or when notices were lost and any may
 * have been). NULL and a message in err on failure. */
struct addr_watch *addr_watch_new(struct event_base *base, void (*changed)(void *arg), void *arg,
				  char *err, size_t errlen);
void addr_watch_free(struct addr_watch *w);

#endif
