#include "nl_listener.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <sys/socket.h>

int nl_listener_open(struct nl_listener *l, struct event_base *base, int bus, unsigned group,
		     event_callback_fn on_readable, void *arg)
{
	int member = (int)group;

	l->readable = NULL;
	l->nl = mnl_socket_open2(bus, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!l->nl || mnl_socket_bind(l->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(l->nl, NETLINK_ADD_MEMBERSHIP, &member, sizeof(member)) < 0)
		goto fail;
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
