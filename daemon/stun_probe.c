/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/stun_probe.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* RFC 5389 §7.2.1 starts at 500 ms and doubles; three tries to each
 * address (3.5 s), so that both tests end within about 8 s. */
#define FIRST_WAIT_MS 500
#define TRIES 3

struct stun_probe {
	struct event_base *base;
	stun_probe_fn done;
	void *arg;
	int fd;
	struct event *readable, *timer;
	unsigned test;  /* 1: the server; 2: its other address */
	unsigned tries, wait_ms;
	struct stun_endpoint to;
	uint8_t id[STUN_TRANSACTION_LEN];
	struct stun_probe_result result;
};

static void close_probe(struct stun_probe *p)
{
	if (p->readable) {
		event_free(p->readable);
		p->readable = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	evtimer_del(p->timer);
}

static void finish(struct stun_probe *p)
{
	struct stun_probe_result r = p->result;

	close_probe(p);
	p->test = 0;
	if (p->done)
		p->done(p->arg, &r);
}

static void send_request(struct stun_probe *p)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(p->to.port),
				  .sin_addr = p->to.addr };
	struct timeval wait = { p->wait_ms / 1000, (p->wait_ms % 1000) * 1000 };
	uint8_t buf[STUN_HEADER_LEN];
	size_t len = stun_build_request(buf, sizeof(buf), p->id);

	(void)sendto(p->fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
	p->tries++;
	p->wait_ms *= 2;
	evtimer_add(p->timer, &wait);
}

static void begin_test(struct stun_probe *p, unsigned test, struct stun_endpoint to)
{
	p->test = test;
	p->to = to;
	p->tries = 0;
	p->wait_ms = FIRST_WAIT_MS;
	evutil_secure_rng_get_bytes(p->id, sizeof(p->id));
	send_request(p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct stun_probe *p = arg;

	(void)fd;
	(void)what;
	if (p->tries < TRIES)
		send_request(p);
	else
		finish(p);  /* test 1 unanswered, or test 2: nat stays unknown */
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct stun_probe *p = arg;
	uint8_t buf[STUN_MAX_PACKET];
	struct sockaddr_in from;
	socklen_t from_len;
	struct stun_answer a;
	ssize_t n;

	(void)what;
	for (unsigned i = 0; i < 16 && p->fd == fd; i++) {
		from_len = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		/* Only the address asked, with this transaction's ID. */
		if (from.sin_addr.s_addr != p->to.addr.s_addr || from.sin_port != htons(p->to.port) ||
		    stun_parse_answer(buf, (size_t)n, p->id, &a) < 0)
			continue;
		evtimer_del(p->timer);
		if (p->test == 1) {
			p->result.answered = true;
			p->result.public_endpoint = a.mapped;
			if (!a.has_other || (a.other.addr.s_addr == p->to.addr.s_addr &&
					     a.other.port == p->to.port)) {
				finish(p);
				return;
			}
			begin_test(p, 2, a.other);
			return;
		}
		p->result.nat = a.mapped.port == p->result.public_endpoint.port &&
						a.mapped.addr.s_addr == p->result.public_endpoint.addr.s_addr ?
					STUN_NAT_INDEPENDENT : STUN_NAT_SYMMETRIC;
		finish(p);
		return;
	}
}

bool stun_probe_start(struct stun_probe *p, struct stun_endpoint server)
{
	stun_probe_stop(p);
	p->result = (struct stun_probe_result){ 0 };
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return false;
	if (!(p->readable = event_new(p->base, p->fd, EV_READ | EV_PERSIST, on_readable, p)) ||
	    event_add(p->readable, NULL) < 0) {
		close_probe(p);
		return false;
	}
	begin_test(p, 1, server);
	return true;
}

void stun_probe_stop(struct stun_probe *p)
{
	close_probe(p);
	p->test = 0;
}

struct stun_probe *stun_probe_new(struct event_base *base, stun_probe_fn done, void *arg)
{
	struct stun_probe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->base = base;
	p->done = done;
	p->arg = arg;
	p->fd = -1;
	if (!(p->timer = evtimer_new(base, on_timer, p))) {
		free(p);
		return NULL;
	}
	return p;
}

void stun_probe_free(struct stun_probe *p)
{
	if (!p)
		return;
	close_probe(p);
	event_free(p->timer);
	free(p);
}
