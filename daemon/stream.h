/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One accepted stream connection of a server (UPnP HTTP, the control
 * socket): its bufferevent, a deadline for the whole exchange, and its place
 * in the server's list, so the server can count and close them. Embedded
 * first in each server's own connection struct. */
#ifndef PORTLEASED_STREAM_H
#define PORTLEASED_STREAM_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>

#include "daemon/host.h"

struct stream_list;

struct stream {
	struct bufferevent *bev;
	struct event *deadline;
	struct stream *prev, *next;
	struct stream_list *list;
	bufferevent_data_cb on_read;
	void (*done)(struct stream *s);
	event_callback_fn on_deadline;
	void *arg;
	/* Whose connection, for the shares per host: the caller's to set
	 * (stream_open leaves it); HOST_NONE when no share applies. */
	struct host_id host;
};

struct stream_list {
	struct stream *head;
	size_t count;
};

/*
 * Sets s up on fd and puts it first in list. on_read(bev, arg) reads the
 * request; once it disables reading, the answer it wrote is sent and then
 * done(s) runs, as it does when the peer goes or errs. After seconds,
 * on_deadline(-1, 0, arg) runs if given, else done(s). Reading stops at
 * read_max buffered bytes. Returns 0, or -1 with fd closed and nothing left
 * to free.
 */
int stream_open(struct stream *s, struct stream_list *list, struct event_base *base,
		evutil_socket_t fd, bufferevent_data_cb on_read, void (*done)(struct stream *s),
		event_callback_fn on_deadline, void *arg, int seconds, size_t read_max);
/* How many of list's connections are host's. */
size_t stream_list_count_of(const struct stream_list *list, const struct host_id *host);

/* Closes the socket, frees what stream_open made, unlinks s (s itself is
 * the caller's). */
void stream_close(struct stream *s);

#endif
