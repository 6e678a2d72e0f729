/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/addr_watch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "lib/nl_listener.h"
#include "lib/nlmsg.h"

/* A burst of notices (an interface going down takes all its addresses)
 * is read in a few rounds, not all at once. */
#define READS_PER_EVENT 16

struct addr_watch {
	struct nl_listener listener;
	void (*changed)(void *arg);
	void *arg;
};

/* Whether the datagram holds an address notice. */
static bool concerns(const void *buf, size_t len)
{
	int left = (int)len;

	for (const struct nlmsghdr *h = buf; nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		if ((h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) &&
		    mnl_nlmsg_get_payload_len(h) >= sizeof(struct ifaddrmsg))
			return true;
	}
	return false;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct addr_watch *w = arg;
	bool changed = false;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0 && errno == ENOBUFS) {
			/* Notices were dropped: any address may have changed. */
			changed = true;
			continue;
		}
		if (len < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("rtnetlink: recv");
			break;
		}
		changed |= concerns(buf, (size_t)len);
	}
	if (changed)
		w->changed(w->arg);
}

struct addr_watch *addr_watch_new(struct event_base *base, void (*changed)(void *arg), void *arg,
				  char *err, size_t errlen)
{
	struct addr_watch *w = calloc(1, sizeof(*w));
	int v6 = RTNLGRP_IPV6_IFADDR;

	if (!w) {
		snprintf(err, errlen, "rtnetlink: out of memory");
		return NULL;
	}
	w->changed = changed;
	w->arg = arg;
	if (nl_listener_open(&w->listener, base, NETLINK_ROUTE, RTNLGRP_IPV4_IFADDR, on_readable,
			     w) < 0 ||
	    mnl_socket_setsockopt(w->listener.nl, NETLINK_ADD_MEMBERSHIP, &v6, sizeof(v6)) < 0) {
		int e = errno;

		nl_listener_close(&w->listener);
		snprintf(err, errlen, "rtnetlink: cannot watch addresses: %s", strerror(e));
		free(w);
		return NULL;
	}
	return w;
}

void addr_watch_free(struct addr_watch *w)
{
	if (!w)
		return;
	nl_listener_close(&w->listener);
	free(w);
}
