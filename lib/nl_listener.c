/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/nl_listener.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <sys/socket.h>

#define NL_LISTENER_RCVBUF (4 << 20)

int nl_listener_open(struct nl_listener *l, struct event_base *base, int bus, unsigned group,
		     event_callback_fn on_readable, void *arg)
{
	int member = (int)group, size = NL_LISTENER_RCVBUF;

	l->readable = NULL;
	l->nl = mnl_socket_open2(bus, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!l->nl || mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(l->nl, NETLINK_ADD_MEMBERSHIP, &member, sizeof(member)) < 0)
		goto fail;
	/* Room for a burst of notices (each mapping change is a few): past
	 * rmem_max where we may (at start we still hold CAP_NET_ADMIN). */
	if (setsockopt(mnl_socket_get_fd(l->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(l->nl), SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	l->readable = event_new(base, mnl_socket_get_fd(l->nl), EV_READ | EV_PERSIST, on_readable,
				arg);
	if (!l->readable || event_add(l->readable, NULL) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	{
		int e = errno;

		nl_listener_close(l);
		errno = e;
	}
	return -1;
}

void nl_listener_close(struct nl_listener *l)
{
	if (l->readable)
		event_free(l->readable);
	if (l->nl)
		mnl_socket_close(l->nl);
	l->readable = NULL;
	l->nl = NULL;
}
