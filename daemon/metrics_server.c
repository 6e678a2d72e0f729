/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/metrics_server.h"

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

#include "daemon/upnp/http.h"
#include "lib/ifaddr.h"
#include "lib/log.h"
#include "daemon/metrics.h"
#include "daemon/stream.h"

/* A scraper asks every few seconds; nothing needs more. A LAN host (with
 * however many addresses) holds a quarter at most. */
#define CONNECTIONS_MAX 8
#define CONNECTIONS_PER_HOST 2
#define REQUEST_SECONDS 5
#define LAN_ADDRESSES_MAX 64

struct metrics_server {
	struct event_base *base;
	struct mapper *mapper;
	struct evconnlistener *listener;
	struct stream_list connections;
	bool loopback;
	char addr_text[ADDR_STRLEN];
	uint16_t port;
	struct if_address lan[LAN_ADDRESSES_MAX];  /* whose links may scrape */
	size_t nlan;
};

struct connection {
	struct stream stream;  /* first: the list holds these */
	struct metrics_server *server;
	size_t scanned;        /* bytes already searched for the end of the head */
};

static void connection_done(struct stream *st)
{
	stream_close(st);
	free(st);
}

static void respond(struct connection *c, int status, const char *extra_headers,
		    struct evbuffer *body, bool head_only)
{
	struct evbuffer *out = bufferevent_get_output(c->stream.bev);

	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\n"
			    "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			    "Content-Length: %zu\r\n"
			    "Connection: close\r\n"
			    "%s"
			    "\r\n",
			    status, http_status_text(status), body ? evbuffer_get_length(body) : 0,
			    extra_headers ? extra_headers : "");
	if (body && !head_only)
		evbuffer_add_buffer(out, body);
	bufferevent_disable(c->stream.bev, EV_READ);
}

static void serve(struct connection *c, const struct http_request *req)
{
	struct metrics_server *s = c->server;
	bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
	struct evbuffer *body;
	struct daemon_status st;

	/* A page elsewhere making a LAN browser ask us (DNS rebinding)
	 * names its own host: only our address is served. */
	if (req->has_host && !http_host_is(req->host, s->addr_text, s->port)) {
		respond(c, 403, NULL, NULL, false);
		return;
	}
	if (!get) {
		respond(c, 405, "Allow: GET, HEAD\r\n", NULL, false);
		return;
	}
	if (strcmp(req->path, "/metrics") != 0) {
		respond(c, 404, NULL, NULL, false);
		return;
	}
	if (!(body = evbuffer_new())) {
		respond(c, 503, NULL, NULL, false);
		return;
	}
	mapper_metrics_status(s->mapper, &st);
	metrics_format(body, &st);
	respond(c, 200, NULL, body, req->method == HTTP_HEAD);
	evbuffer_free(body);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct connection *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in), scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	struct http_request req;
	struct evbuffer_ptr from;
	int rc;

	/* Search only what has not been searched: a trickled head costs
	 * O(n), not O(n^2). */
	evbuffer_ptr_set(in, &from, c->scanned > 3 ? c->scanned - 3 : 0, EVBUFFER_PTR_SET);
	if (evbuffer_search(in, "\r\n\r\n", 4, &from).pos < 0) {
		c->scanned = len;
		if (len >= HTTP_HEAD_MAX)
			respond(c, 431, NULL, NULL, false);
		return;
	}
	rc = http_parse_head((const char *)evbuffer_pullup(in, (ev_ssize_t)scan), scan, &req);
	if (rc != 200)
		respond(c, rc == HTTP_INCOMPLETE ? 431 : rc, NULL, NULL, false);
	else
		serve(c, &req);
}

static bool may_scrape(const struct metrics_server *s, const struct in6_addr *peer)
{
	if (s->loopback)
		return true;  /* only the router itself reaches a loopback address */
	for (size_t i = 0; i < s->nlan; i++)
		if (ifaddr_on_link(&s->lan[i], peer))
			return true;
	return false;
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct metrics_server *s = arg;
	struct connection *c;
	struct in6_addr peer;
	struct host_id host = { .kind = HOST_NONE };
	char text[ADDR_STRLEN];

	(void)listener;
	if (sa->sa_family == AF_INET && socklen == (int)sizeof(struct sockaddr_in)) {
		peer = addr_from_v4(((struct sockaddr_in *)sa)->sin_addr);
	} else if (sa->sa_family == AF_INET6 && socklen == (int)sizeof(struct sockaddr_in6)) {
		peer = ((struct sockaddr_in6 *)sa)->sin6_addr;
	} else {
		close(fd);
		return;
	}
	/* The WAN side can route to a LAN address of the router. */
	if (!may_scrape(s, &peer)) {
		if (mapper_log_admit(s->mapper, &peer))
			log_info("metrics: refused a connection from %s, not on a LAN link",
				 addr_format(&peer, text));
		close(fd);
		return;
	}
	/* On a loopback address every peer is the router itself. */
	if (!s->loopback)
		host = mapper_host_of(s->mapper, &peer);
	if (s->connections.count >= CONNECTIONS_MAX ||
	    (!s->loopback && stream_list_count_of(&s->connections, &host) >= CONNECTIONS_PER_HOST) ||
	    !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->server = s;
	c->stream.host = host;
	if (stream_open(&c->stream, &s->connections, s->base, fd, on_read, connection_done, NULL, c,
			REQUEST_SECONDS, HTTP_HEAD_MAX) < 0)
		free(c);
}

static bool is_loopback(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a) || (addr_is_v4(a) && a->s6_addr[12] == 127);
}

static void read_lan_addresses(struct metrics_server *s, const struct config *cfg)
{
	static const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < cfg->lan_interface_count; i++)
		for (size_t f = 0; f < 2; f++) {
			int n = ifaddr_list(cfg->lan_interfaces[i], families[f], s->lan + s->nlan,
					    LAN_ADDRESSES_MAX - s->nlan);

			if (n > 0)
				s->nlan += (size_t)n < LAN_ADDRESSES_MAX - s->nlan ?
						   (size_t)n : LAN_ADDRESSES_MAX - s->nlan;
		}
}

static bool is_lan_address(const struct metrics_server *s, const struct in6_addr *a)
{
	for (size_t i = 0; i < s->nlan; i++)
		if (addr_equal(&s->lan[i].addr, a))
			return true;
	return false;
}

static int open_socket(const struct config *cfg)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(cfg->metrics_port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(cfg->metrics_port),
				     .sin6_addr = cfg->metrics_address };
	bool v4 = addr_is_v4(&cfg->metrics_address);
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	sin.sin_addr = addr_to_v4(&cfg->metrics_address);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (!v4 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, v4 ? (struct sockaddr *)&sin : (struct sockaddr *)&sin6,
		 v4 ? sizeof(sin) : sizeof(sin6)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct metrics_server *metrics_server_new(struct event_base *base, const struct config *cfg,
					  struct mapper *mapper, char *err, size_t errlen)
{
	struct metrics_server *s = calloc(1, sizeof(*s));
	int fd;

	if (!s) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	s->base = base;
	s->mapper = mapper;
	s->port = cfg->metrics_port;
	s->loopback = is_loopback(&cfg->metrics_address);
	addr_format(&cfg->metrics_address, s->addr_text);
	read_lan_addresses(s, cfg);
	if (!s->loopback && !is_lan_address(s, &cfg->metrics_address)) {
		snprintf(err, errlen, "metrics listen address %s is neither loopback nor an address "
			 "of a LAN interface; metrics are not served to the WAN", s->addr_text);
		free(s);
		return NULL;
	}
	fd = open_socket(cfg);
	if (fd < 0 || !(s->listener = evconnlistener_new(base, on_accept, s,
							   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
							   16, fd))) {
		snprintf(err, errlen, "metrics: cannot listen on %s port %u: %s", s->addr_text,
			 s->port, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(s);
		return NULL;
	}
	log_info("metrics on http://%s%s%s:%u/metrics", addr_is_v4(&cfg->metrics_address) ? "" : "[",
		 s->addr_text, addr_is_v4(&cfg->metrics_address) ? "" : "]", s->port);
	return s;
}

void metrics_server_free(struct metrics_server *s)
{
	if (!s)
		return;
	while (s->connections.head) {
		struct stream *st = s->connections.head;

		stream_close(st);
		free(st);
	}
	evconnlistener_free(s->listener);
	free(s);
}
