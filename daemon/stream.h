/* One accepted stream connection of a server (UPnP HTTP, the control
 * socket): its bufferevent, a deadline for the whole exchange, and its place
 * in the server's list, so the server can count and close them. Embedded
 * first in each server's own connection struct. */
#ifndef PORTLEASED_STREAM_H
#define PORTLEASED_STREAM_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>

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

/* Closes the socket, frees what stream_open made, unlinks s (s itself is
 * the caller's). */
void stream_close(struct stream *s);

#endif
