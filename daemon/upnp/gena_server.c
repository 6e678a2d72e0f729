/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/gena_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon/upnp/gena.h"
#include "lib/log.h"

#define SUBSCRIPTIONS_MAX 32
#define SUBSCRIPTIONS_PER_HOST 8
#define DELIVERY_SECONDS 5   /* a subscriber has this long to take a NOTIFY */
#define SID_MAX (5 + UPNP_UUID_STRLEN)
#define SERVICES_MAX 4

struct gena_server;

struct subscription {
	bool used;
	struct gena_server *server;
	const struct upnp_service *svc;
	char sid[SID_MAX];
	struct in6_addr subscriber;
	struct host_id host;      /* the host subscriber belongs to */
	struct gena_callback callback;
	time_t expires;           /* monotonic seconds */
	uint32_t seq;
	struct bufferevent *delivery;  /* the NOTIFY in flight, if any */
	struct event *delivery_timer;
	bool again;               /* something changed while it was in flight */
};

struct gena_server {
	struct event_base *base;
	const struct igd *igd;
	struct event *changed_timer;
	/* What the subscribers of each service were last told; kept only
	 * while it has any. */
	struct igd_state sent[SERVICES_MAX];
	struct subscription subs[SUBSCRIPTIONS_MAX];
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static size_t service_slot(const struct upnp_service *svc)
{
	for (size_t k = 0; k < igd_service_count() && k < SERVICES_MAX; k++)
		if (igd_service(k) == svc)
			return k;
	return 0;
}

static bool has_subscribers(const struct gena_server *g, const struct upnp_service *svc)
{
	for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++)
		if (g->subs[i].used && g->subs[i].svc == svc)
			return true;
	return false;
}

static void end_delivery(struct subscription *s)
{
	if (s->delivery)
		bufferevent_free(s->delivery);
	s->delivery = NULL;
	evtimer_del(s->delivery_timer);
}

static void drop(struct subscription *s, const char *why)
{
	char who[ADDR_STRLEN];

	log_info("upnp: %s subscription %s of %s: %s", s->svc->name, s->sid,
		 addr_format(&s->subscriber, who), why);
	end_delivery(s);
	s->used = false;
}

static void deliver(struct subscription *s, const struct igd_state *state);

static void delivery_done(struct subscription *s)
{
	end_delivery(s);
	if (s->again) {
		struct igd_state state;

		s->again = false;
		igd_evented_state(s->server->igd, s->svc, &state);
		deliver(s, &state);
	}
}

static void on_delivery_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	/* The subscriber's answer does not matter beyond its arrival. */
	if (evbuffer_search(in, "\r\n\r\n", 4, NULL).pos >= 0 || evbuffer_get_length(in) > 4096)
		delivery_done(arg);
}

static void on_delivery_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		delivery_done(arg);
}

static void on_delivery_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	delivery_done(arg);
}

/* One NOTIFY in flight per subscription; changes meanwhile are sent after
 * it, as the state then is. */
static void deliver(struct subscription *s, const struct igd_state *state)
{
	const struct timeval limit = { DELIVERY_SECONDS, 0 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(s->callback.port),
				  .sin_addr = s->callback.addr };
	struct gena_property props[IGD_EVENTED_MAX];
	struct evbuffer *body, *out;
	char host[INET_ADDRSTRLEN];

	if (s->delivery) {
		s->again = true;
		return;
	}
	if (state->n == 0)
		return;
	for (size_t i = 0; i < state->n; i++)
		props[i] = (struct gena_property){ state->vars[i].name, state->vars[i].value };
	s->delivery = bufferevent_socket_new(s->server->base, -1, BEV_OPT_CLOSE_ON_FREE);
	body = evbuffer_new();
	if (!s->delivery || !body) {
		if (body)
			evbuffer_free(body);
		end_delivery(s);
		return;
	}
	gena_propertyset(body, props, state->n);
	inet_ntop(AF_INET, &s->callback.addr, host, sizeof(host));
	out = bufferevent_get_output(s->delivery);
	evbuffer_add_printf(out,
			    "NOTIFY %s HTTP/1.1\r\n"
			    "HOST: %s:%u\r\n"
			    "CONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n"
			    "NT: upnp:event\r\n"
			    "NTS: upnp:propchange\r\n"
			    "SID: %s\r\n"
			    "SEQ: %u\r\n"
			    "CONTENT-LENGTH: %zu\r\n"
			    "CONNECTION: close\r\n"
			    "\r\n",
			    s->callback.path, host, s->callback.port, s->sid, s->seq,
			    evbuffer_get_length(body));
	evbuffer_add_buffer(out, body);
	evbuffer_free(body);
	/* UDA 1.1 §4.3.2: SEQ counts from 0 and wraps to 1. */
	s->seq = s->seq == UINT32_MAX ? 1 : s->seq + 1;
	bufferevent_setcb(s->delivery, on_delivery_read, NULL, on_delivery_event, s);
	bufferevent_enable(s->delivery, EV_READ | EV_WRITE);
	evtimer_add(s->delivery_timer, &limit);
	if (bufferevent_socket_connect(s->delivery, (struct sockaddr *)&to, sizeof(to)) < 0)
		end_delivery(s);
}

static void expire(struct gena_server *g)
{
	time_t now = now_s();

	for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++)
		if (g->subs[i].used && g->subs[i].expires <= now)
			drop(&g->subs[i], "expired");
}

static struct subscription *find(struct gena_server *g, const struct upnp_service *svc,
				 const char *sid)
{
	for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++)
		if (g->subs[i].used && g->subs[i].svc == svc && strcmp(g->subs[i].sid, sid) == 0)
			return &g->subs[i];
	return NULL;
}

static void new_sid(char sid[SID_MAX])
{
	uint8_t u[16];

	if (getrandom(u, sizeof(u), GRND_NONBLOCK) != sizeof(u))
		for (size_t i = 0; i < sizeof(u); i++)
			u[i] = (uint8_t)rand();
	memcpy(sid, "uuid:", 5);
	upnp_uuid_format(sid + 5, u);
}

static int subscribe(struct gena_server *g, const struct upnp_service *svc,
		     const struct in6_addr *peer, const struct http_request *req, char *headers,
		     size_t cap)
{
	unsigned timeout = gena_parse_timeout(req->timeout[0] ? req->timeout : NULL);
	struct subscription *s = NULL;
	struct gena_callback cb;
	struct in6_addr target;
	struct igd_state state;
	struct host_id host = mapper_host_of(g->igd->mapper, peer);
	size_t mine = 0;
	bool first;
	char who[ADDR_STRLEN], where[ADDR_STRLEN];

	if (req->sid[0]) {
		/* a renewal names the subscription and nothing else */
		if (req->callback[0] || req->nt[0])
			return 400;
		if (!(s = find(g, svc, req->sid)))
			return 412;
		s->expires = now_s() + timeout;
		snprintf(headers, cap, "SID: %s\r\nTIMEOUT: Second-%u\r\n", s->sid, timeout);
		return 200;
	}
	if (strcmp(req->nt, "upnp:event") != 0 || !gena_parse_callback(req->callback, &cb))
		return 412;
	target = addr_from_v4(cb.addr);
	/* CallStranger (CVE-2020-12695): events go to the subscriber itself,
	 * never to a host it names, inside or outside the LAN. */
	if (!addr_equal(&target, peer)) {
		if (mapper_log_admit(g->igd->mapper, peer))
			log_info("upnp: refused a subscription from %s with events to %s",
				 addr_format(peer, who), addr_format(&target, where));
		return 412;
	}
	for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++) {
		if (!g->subs[i].used) {
			if (!s)
				s = &g->subs[i];
		} else if (host_id_equal(&g->subs[i].host, &host)) {
			mine++;
		}
	}
	if (!s || mine >= SUBSCRIPTIONS_PER_HOST) {
		if (mapper_log_admit(g->igd->mapper, peer))
			log_info("upnp: refused a subscription from %s: %s", addr_format(peer, who),
				 s ? "it holds the most one host may" : "no subscription left");
		return 503;
	}
	first = !has_subscribers(g, svc);
	s->used = true;
	s->svc = svc;
	s->subscriber = *peer;
	s->host = host;
	s->callback = cb;
	s->expires = now_s() + timeout;
	s->seq = 0;
	s->again = false;
	new_sid(s->sid);
	snprintf(headers, cap, "SID: %s\r\nTIMEOUT: Second-%u\r\n", s->sid, timeout);
	log_info("upnp: %s subscription %s for %s, %u s", svc->name, s->sid,
		 addr_format(peer, who), timeout);
	/* The initial event carries every evented variable (UDA 1.1 §4.2.1). */
	igd_evented_state(g->igd, svc, &state);
	if (first)
		g->sent[service_slot(svc)] = state;
	deliver(s, &state);
	return 200;
}

int gena_server_request(struct gena_server *g, const struct upnp_service *svc,
			const struct in6_addr *peer, const struct http_request *req,
			char *headers, size_t cap)
{
	struct subscription *s;

	headers[0] = '\0';
	expire(g);
	if (req->method == HTTP_SUBSCRIBE)
		return subscribe(g, svc, peer, req, headers, cap);
	if (!req->sid[0])
		return 412;
	if (req->callback[0] || req->nt[0])
		return 400;
	if (!(s = find(g, svc, req->sid)))
		return 412;
	drop(s, "unsubscribed");
	return 200;
}

/* After a burst of changes (a DeletePortMappingRange, a wave of
 * expiries): one event with the variables that differ from the last. */
static void changed_fired(evutil_socket_t fd, short what, void *arg)
{
	struct gena_server *g = arg;

	(void)fd;
	(void)what;
	expire(g);
	for (size_t k = 0; k < igd_service_count() && k < SERVICES_MAX; k++) {
		const struct upnp_service *svc = igd_service(k);
		struct igd_state now, diff = { 0 };

		if (!has_subscribers(g, svc))
			continue;  /* nobody to tell: no state to read */
		igd_evented_state(g->igd, svc, &now);
		for (size_t i = 0; i < now.n; i++) {
			bool same = i < g->sent[k].n &&
				    strcmp(now.vars[i].value, g->sent[k].vars[i].value) == 0;

			if (!same)
				diff.vars[diff.n++] = now.vars[i];
		}
		g->sent[k] = now;
		if (diff.n == 0)
			continue;
		for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++)
			if (g->subs[i].used && g->subs[i].svc == svc)
				deliver(&g->subs[i], &diff);
	}
}

void gena_server_changed(void *arg)
{
	struct gena_server *g = arg;
	const struct timeval soon = { 0, 100000 };

	if (!evtimer_pending(g->changed_timer, NULL))
		evtimer_add(g->changed_timer, &soon);
}

struct gena_server *gena_server_new(struct event_base *base, const struct igd *igd)
{
	struct gena_server *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->base = base;
	g->igd = igd;
	g->changed_timer = evtimer_new(base, changed_fired, g);
	if (!g->changed_timer) {
		gena_server_free(g);
		return NULL;
	}
	for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++) {
		g->subs[i].server = g;
		g->subs[i].delivery_timer = evtimer_new(base, on_delivery_timeout, &g->subs[i]);
		if (!g->subs[i].delivery_timer) {
			gena_server_free(g);
			return NULL;
		}
	}
	return g;
}

void gena_server_free(struct gena_server *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < SUBSCRIPTIONS_MAX; i++) {
		if (g->subs[i].delivery)
			bufferevent_free(g->subs[i].delivery);
		if (g->subs[i].delivery_timer)
			event_free(g->subs[i].delivery_timer);
	}
	if (g->changed_timer)
		event_free(g->changed_timer);
	free(g);
}
