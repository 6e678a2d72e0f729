/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/upnp/upnp_server_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/text.h"

void upnp_http_connection_free(struct connection *c)
{
	struct upnp_server *s = c->server;

	if (c->ready) {
		struct connection **p = &s->ready;

		while (*p != c)
			p = &(*p)->next_ready;
		*p = c->next_ready;
		if (s->ready_tail == &c->next_ready)
			s->ready_tail = p;
	}
	stream_close(&c->stream);
	free(c);
}

static void connection_done(struct stream *st)
{
	upnp_http_connection_free((struct connection *)st);
}

static void send_response(struct connection *c, int status, const char *extra_headers,
			  struct evbuffer *body, bool head_only)
{
	struct evbuffer *out = bufferevent_get_output(c->stream.bev);

	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: text/xml; charset=\"utf-8\"\r\n"
			    "Content-Length: %zu\r\n"
			    "Connection: close\r\n"
			    "Server: %s\r\n"
			    "%s"
			    "\r\n",
			    status, http_status_text(status), body ? evbuffer_get_length(body) : 0,
			    c->server->server_header, extra_headers ? extra_headers : "");
	if (body && !head_only)
		evbuffer_add_buffer(out, body);
	/* Nothing more is read; the connection closes once this is sent. */
	bufferevent_disable(c->stream.bev, EV_READ);
}

static const struct upnp_service *service_at(const struct upnp_server *s, const char *path,
					     bool control)
{
	for (size_t i = 0; i < igd_service_count(); i++) {
		const struct upnp_service *svc = igd_service(i);

		if (igd_service_version(svc, s->igd.version) == 0)
			continue;
		if (strcmp(path, control ? svc->control_path : svc->scpd_path) == 0)
			return svc;
	}
	return NULL;
}

static const struct upnp_service *service_of_events(const struct upnp_server *s,
						    const char *path)
{
	for (size_t i = 0; i < igd_service_count(); i++)
		if (igd_service_version(igd_service(i), s->igd.version) &&
		    strcmp(path, igd_service(i)->event_path) == 0)
			return igd_service(i);
	return NULL;
}

static int control(struct connection *c, const struct http_request *req,
		   const struct upnp_service *svc, const char *body, size_t len,
		   struct evbuffer *out)
{
	struct igd_context ctx = { .client = c->peer, .local = c->link->local.addr,
				   .lan = c->link->local.net };
	struct soap_call call;
	char peer[ADDR_STRLEN];
	int status;

	switch (soap_parse(body, len, &call)) {
	case SOAP_OK:
		break;
	case SOAP_INVALID_ARGS:
		if (mapper_log_admit(c->server->igd.mapper, &c->peer))
			log_info("upnp: refused a SOAP request from %s: an argument longer than %d "
				 "bytes (402)", addr_format(&c->peer, peer), SOAP_VALUE_MAX);
		soap_fault(out, 402);
		return 500;
	case SOAP_MALFORMED:
		if (mapper_log_admit(c->server->igd.mapper, &c->peer))
			log_info("upnp: malformed SOAP request from %s", addr_format(&c->peer, peer));
		return 400;
	}
	if (req->soapaction[0] && !soap_action_matches(&call, req->soapaction)) {
		soap_fault(out, 401);
		return 500;
	}
	/* A wait another request left is not this one's. */
	(void)mapper_take_chain_wait(c->server->igd.mapper, &c->wait.proto, &c->wait.port);
	status = igd_control(&c->server->igd, svc, &ctx, &call, out);
	c->waits = status == 200 && igd_take_chain_wait(&c->server->igd, &call, &c->wait);
	log_debug("upnp: %s from %s: HTTP %d", call.action, addr_format(&c->peer, peer), status);
	return status;
}

/* A request's answer, made before it is sent. */
struct answer {
	int status;
	bool control;  /* a control request: counted in the metrics */
	char headers[128];
	struct evbuffer *body;
};

/* The answer to c's request, whose whole body is in. */
static void make_answer(struct connection *c, struct answer *a)
{
	struct upnp_server *s = c->server;
	const struct http_request *req = &c->req;
	struct evbuffer *in = bufferevent_get_input(c->stream.bev);
	const char *body = (const char *)evbuffer_pullup(in, (ev_ssize_t)(req->head_len +
									 req->content_length)) +
			   req->head_len;
	size_t len = req->content_length;
	struct evbuffer *out = a->body;
	const struct upnp_service *svc;
	bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
	char peer[ADDR_STRLEN], *headers = a->headers;
	int status = 200;

	c->waits = false;

	a->control = false;
	headers[0] = '\0';
	/* A DNS name in Host is a page from elsewhere driving the browser of a
	 * LAN host (DNS rebinding): only our own address is served. */
	if (req->has_host && !http_host_is(req->host, c->link->addr_text, s->cfg->upnp_http_port)) {
		char host[TEXT_ESCAPED_MAX(HTTP_HOST_MAX)];

		text_escape(host, sizeof(host), req->host, true);
		if (mapper_log_admit(s->igd.mapper, &c->peer))
			log_info("upnp: refused a request from %s for Host \"%s\"",
				 addr_format(&c->peer, peer), host);
		status = 403;
	} else if (get && strcmp(req->path, "/rootDesc.xml") == 0) {
		igd_root_description(out, &s->ids[0]);
	} else if (get && s->nids > 1 && strcmp(req->path, IGD1_PREFIX "/rootDesc.xml") == 0) {
		igd_root_description(out, &s->ids[1]);
	} else if (get && (svc = service_at(s, req->path, false))) {
		igd_scpd(out, svc, igd_service_version(svc, s->igd.version));
	} else if (get && s->nids > 1 &&
		   strncmp(req->path, IGD1_PREFIX "/", sizeof(IGD1_PREFIX)) == 0 &&
		   (svc = service_at(s, req->path + sizeof(IGD1_PREFIX) - 1, false)) &&
		   igd_offered_version(svc, &s->ids[1])) {
		igd_scpd(out, svc, igd_offered_version(svc, &s->ids[1]));
	} else if (req->method == HTTP_POST && (svc = service_at(s, req->path, true))) {
		status = control(c, req, svc, body, len, out);
		a->control = true;
	} else if ((req->method == HTTP_SUBSCRIBE || req->method == HTTP_UNSUBSCRIBE) &&
		   (svc = service_of_events(s, req->path))) {
		status = gena_server_request(s->gena, svc, &c->peer, req, headers,
					     sizeof(a->headers));
	} else if (req->method == HTTP_OTHER) {
		status = 405;
		snprintf(headers, sizeof(a->headers),
			 "Allow: GET, HEAD, POST, SUBSCRIBE, UNSUBSCRIBE\r\n");
	} else {
		status = 404;
	}
	a->status = status;
}

/* Behind another NAT, a mapping's answer waits until its twin upstream is
 * settled (8 s at most, the upstream's own bound; the deadline is a
 * guard). */
#define CHAIN_WAIT_SECONDS 12

static void park(struct connection *c)
{
	struct timeval wait = { CHAIN_WAIT_SECONDS, 0 };

	c->parked = true;
	evtimer_add(c->stream.deadline, &wait);
}

/* The parked connection's answer, as things stand. */
static void answer_parked(struct connection *c)
{
	struct evbuffer *body = evbuffer_new();
	struct timeval to_read = { REQUEST_SECONDS, 0 };
	int status = 503;

	c->parked = false;
	if (body) {
		status = igd_chained_answer(&c->server->igd, &c->wait, body);
		metrics_count_request(mapper_metrics(c->server->igd.mapper), METRICS_UPNP, true,
				      status == 200);
	}
	send_response(c, status, NULL, body, false);
	if (body)
		evbuffer_free(body);
	/* A peer that does not read its answer is not kept for it. */
	evtimer_add(c->stream.deadline, &to_read);
}

/* The twin of (proto, port) is settled: whoever waits for it is answered. */
void upnp_http_chained(void *arg, uint8_t proto, uint16_t port)
{
	struct upnp_server *s = arg;

	for (struct stream *st = s->connections.head; st; st = st->next) {
		struct connection *c = (struct connection *)st;

		if (c->parked && c->wait.proto == proto && c->wait.port == port)
			answer_parked(c);
	}
}

/*
 * A burst: every connection whose whole request came in during this turn
 * of the loop is answered with the mapper batching, so that the kernel
 * gets their changes in one transaction, as a burst of NAT-PMP and PCP
 * datagrams does; the answers go out once it has. A request whose grant
 * the kernel refused after all is answered again, on its own.
 */
void upnp_http_burst(evutil_socket_t fd, short what, void *arg)
{
	struct upnp_server *s = arg;
	struct mapper *m = s->igd.mapper;
	struct connection *batch[CONNECTIONS_MAX];
	struct answer answers[CONNECTIONS_MAX];
	unsigned withdrawn[CONNECTIONS_MAX];
	size_t n = 0, nwithdrawn;

	(void)fd;
	(void)what;
	mapper_batch_begin(m);
	while (s->ready && n < CONNECTIONS_MAX) {
		struct connection *c = s->ready;

		if (!(s->ready = c->next_ready))
			s->ready_tail = &s->ready;
		c->ready = false;
		if (!(answers[n].body = evbuffer_new())) {
			send_response(c, 503, NULL, NULL, false);
			continue;
		}
		batch[n] = c;
		mapper_batch_request(m, (unsigned)n);
		make_answer(c, &answers[n]);
		n++;
	}
	nwithdrawn = mapper_batch_end(m, withdrawn, CONNECTIONS_MAX);
	for (size_t i = 0; i < nwithdrawn; i++) {
		struct answer *a = &answers[withdrawn[i]];

		evbuffer_drain(a->body, evbuffer_get_length(a->body));
		make_answer(batch[withdrawn[i]], a);
	}
	for (size_t i = 0; i < n; i++) {
		struct answer *a = &answers[i];

		if (batch[i]->waits && a->status == 200) {
			park(batch[i]);
			evbuffer_free(a->body);
			continue;
		}
		/* Every control request is answered: 200, or a fault or an
		 * HTTP error. */
		if (a->control)
			metrics_count_request(mapper_metrics(m), METRICS_UPNP, true,
					      a->status == 200);
		send_response(batch[i], a->status, a->headers,
			      evbuffer_get_length(a->body) ? a->body : NULL,
			      batch[i]->req.method == HTTP_HEAD);
		evbuffer_free(a->body);
	}
	/* More than a burst's worth waiting: the rest in the next turn. */
	if (s->ready)
		event_active(s->burst, EV_TIMEOUT, 0);
}

/* The whole request is in: nothing more is read, and it waits for the
 * burst. */
static void queue_for_burst(struct connection *c)
{
	struct upnp_server *s = c->server;

	bufferevent_disable(c->stream.bev, EV_READ);
	c->ready = true;
	c->next_ready = NULL;
	*s->ready_tail = c;
	s->ready_tail = &c->next_ready;
	event_active(s->burst, EV_TIMEOUT, 0);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct connection *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	const char *data;

	if (!c->have_head) {
		struct evbuffer_ptr from;
		size_t scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
		int rc;

		evbuffer_ptr_set(in, &from, c->scanned > 3 ? c->scanned - 3 : 0, EVBUFFER_PTR_SET);
		if (evbuffer_search(in, "\r\n\r\n", 4, &from).pos < 0) {
			c->scanned = len;
			if (len >= HTTP_HEAD_MAX)
				send_response(c, 431, NULL, NULL, false);
			return;
		}
		data = (const char *)evbuffer_pullup(in, (ev_ssize_t)scan);
		rc = http_parse_head(data, scan, &c->req);
		if (rc != 200) {
			send_response(c, rc == HTTP_INCOMPLETE ? 431 : rc, NULL, NULL, false);
			return;
		}
		c->have_head = true;
	}
	if (len < c->req.head_len + c->req.content_length)
		return;  /* the body is still on its way */
	queue_for_burst(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct connection *c = arg;
	char peer[ADDR_STRLEN];

	(void)fd;
	(void)what;
	if (c->parked) {  /* the upstream never settled it: what holds now */
		answer_parked(c);
		return;
	}
	log_debug("upnp: closing a connection from %s: no whole request in %d s",
		  addr_format(&c->peer, peer), REQUEST_SECONDS);
	upnp_http_connection_free(c);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct link *link = arg;
	struct upnp_server *s = link->server;
	struct connection *c;
	struct in6_addr peer;
	struct host_id host;
	char text[ADDR_STRLEN], host_text[HOST_ID_STRLEN];

	(void)listener;
	if (link->family == AF_INET && socklen == (int)sizeof(struct sockaddr_in)) {
		peer = addr_from_v4(((struct sockaddr_in *)sa)->sin_addr);
	} else if (link->family == AF_INET6 && socklen == (int)sizeof(struct sockaddr_in6)) {
		peer = ((struct sockaddr_in6 *)sa)->sin6_addr;
	} else {
		close(fd);
		return;
	}
	/* Hosts of this link only: the WAN side can route to a LAN address. */
	if (!ifaddr_on_link(&link->local, &peer)) {
		log_info("upnp: refused an HTTP connection from %s, not on %s",
			 addr_format(&peer, text), link->local.ifname);
		close(fd);
		return;
	}
	host = mapper_host_of(s->igd.mapper, &peer);
	if (s->connections.count >= CONNECTIONS_MAX ||
	    stream_list_count_of(&s->connections, &host) >= CONNECTIONS_PER_HOST) {
		log_debug("upnp: refused an HTTP connection from %s (host %s): %zu open",
			  addr_format(&peer, text), host_id_format(&host, host_text),
			  s->connections.count);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->server = s;
	c->link = link;
	c->peer = peer;
	c->stream.host = host;
	/* Reading stops at the largest request there can be. */
	if (stream_open(&c->stream, &s->connections, s->base, fd, on_read, connection_done,
			on_deadline, c, REQUEST_SECONDS, HTTP_HEAD_MAX + HTTP_BODY_MAX) < 0)
		free(c);
}

/* IP_FREEBIND: an IPv6 address still in duplicate address detection at
 * start-up cannot be bound otherwise; the socket works once it is valid. */
int upnp_http_open(struct upnp_server *s, struct link *l, char *err, size_t errlen)
{
	uint16_t port = htons((uint16_t)s->cfg->upnp_http_port);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = port,
				   .sin_addr = addr_to_v4(&l->local.addr) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = port,
				     .sin6_addr = l->local.addr };
	bool v6 = l->family == AF_INET6;
	int one = 1, fd = socket(l->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
	    (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    (v6 ? bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) :
		  bind(fd, (struct sockaddr *)&sin, sizeof(sin))) < 0 ||
	    !(l->http = evconnlistener_new(s->base, on_accept, l,
					   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
					   CONNECTIONS_MAX, fd))) {
		snprintf(err, errlen, "UPnP: cannot listen on %s%s%s:%u: %s", v6 ? "[" : "",
			 l->addr_text, v6 ? "]" : "", s->cfg->upnp_http_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}
