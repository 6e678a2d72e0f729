/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/stream.h"

#include <unistd.h>

static void readable(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;

	s->on_read(bev, s->arg);
}

/* The output is drained: done, if the answer is all there is. */
static void written(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;

	if (!(bufferevent_get_enabled(bev) & EV_READ))
		s->done(s);
}

static void closed_or_failed(struct bufferevent *bev, short what, void *arg)
{
	struct stream *s = arg;

	(void)bev;
	(void)what;
	s->done(s);
}

static void deadline_passed(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	if (s->on_deadline)
		s->on_deadline(fd, what, s->arg);
	else
		s->done(s);
}

int stream_open(struct stream *s, struct stream_list *list, struct event_base *base,
		evutil_socket_t fd, bufferevent_data_cb on_read, void (*done)(struct stream *s),
		event_callback_fn on_deadline, void *arg, int seconds, size_t read_max)
{
	const struct timeval deadline = { seconds, 0 };

	s->on_read = on_read;
	s->done = done;
	s->on_deadline = on_deadline;
	s->arg = arg;
	s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->deadline = evtimer_new(base, deadline_passed, s);
	if (!s->bev || !s->deadline) {
		if (s->bev)
			bufferevent_free(s->bev);
		else
			close(fd);
		if (s->deadline)
			event_free(s->deadline);
		return -1;
	}
	s->list = list;
	s->prev = NULL;
	s->next = list->head;
	if (s->next)
		s->next->prev = s;
	list->head = s;
	list->count++;
	bufferevent_setcb(s->bev, readable, written, closed_or_failed, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, read_max);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	evtimer_add(s->deadline, &deadline);
	return 0;
}

void stream_close(struct stream *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->list->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->list->count--;
	bufferevent_free(s->bev);
	event_free(s->deadline);
}

size_t stream_list_count_of(const struct stream_list *list, const struct host_id *host)
{
	size_t n = 0;

	for (const struct stream *st = list->head; st; st = st->next)
		n += host_id_equal(&st->host, host);
	return n;
}
