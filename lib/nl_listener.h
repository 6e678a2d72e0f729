/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A netlink socket that hears one multicast group (address notices,
 * nf_tables notices), read from the loop. */
#ifndef PORTLEASED_NL_LISTENER_H
#define PORTLEASED_NL_LISTENER_H

#include <event2/event.h>

struct mnl_socket;

struct nl_listener {
	struct mnl_socket *nl;
	struct event *readable;
};

/* Joins group on bus (NETLINK_ROUTE, NETLINK_NETFILTER) and calls
 * on_readable(fd, what, arg) when notices wait. 0, or -1 with errno set
 * and nothing left to close. */
int nl_listener_open(struct nl_listener *l, struct event_base *base, int bus, unsigned group,
		     event_callback_fn on_readable, void *arg);
void nl_listener_close(struct nl_listener *l);

#endif
