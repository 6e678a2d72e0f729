#include "daemon/upnp/upnp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "lib/datagram.h"
#include "daemon/upnp/gena_server.h"
#include "daemon/upnp/http.h"
#include "lib/ifaddr.h"
#include "daemon/upnp/igd.h"
#include "daemon/upnp/igd_desc.h"
#include "lib/log.h"
#include "daemon/upnp/soap.h"
#include "daemon/upnp/ssdp.h"
#include "lib/text.h"
#include "daemon/stream.h"

#define ADDRESSES_PER_INTERFACE 8
#define LINKS_MAX (CONFIG_MAX_LAN_INTERFACES * ADDRESSES_PER_INTERFACE)

/* HTTP: a slow or hostile host (with however many addresses) may hold a
 * few connections, never all. */
#define CONNECTIONS_MAX 64
#define CONNECTIONS_PER_HOST 8
#define REQUEST_SECONDS 5  /* a whole request must arrive in this time */

/* SSDP */
#define PENDING_REPLIES_MAX 32  /* searches waiting out their MX delay */
#define PENDING_REPLIES_PER_HOST 4
/* An answer's bytes within this multiple of its search's, so that a search
 * with a forged source draws little toward that address (ssdp:all: the
 * root device and what else fits; a real search of ~100 bytes fits two). */
#define ANSWER_BYTES_PER_SEARCH_BYTE 8
#define READS_PER_EVENT 64
#define MAX_AGE 1800
#define NOTIFY_INTERVAL 900     /* half of max-age, as UDA 1.1 advises */
#define NOTIFY_START_ROUNDS 3   /* at start, 1 s apart: UDP gets lost */
#define MULTICAST_TTL 2         /* UDA 1.1 §1.1.2 */

/* IGD:2 and, beside it, IGD:1 (upnp.igd_version "both"). */
#define IGDS_MAX 2
#define IGD1_PREFIX "/igd1"

struct upnp_server;

/* One LAN address (IPv4, or global IPv6): where its hosts find the
 * descriptions. */
struct link {
	struct upnp_server *server;
	int family;
	struct if_address local;
	char addr_text[INET6_ADDRSTRLEN];
	char location[IGDS_MAX][96];  /* each IGD's root description here */
	struct evconnlistener *http;
};

struct connection {
	struct stream stream;  /* first: the list holds these */
	struct upnp_server *server;
	struct link *link;
	struct in6_addr peer;
	/* A head trickled in byte by byte must not be rescanned each time:
	 * how far the end of the head was looked for, and the head once
	 * parsed. */
	size_t scanned;
	bool have_head;
	struct http_request req;
};

struct pending_reply {
	bool used;
	struct upnp_server *server;
	struct event *timer;
	struct sockaddr_storage to;
	socklen_t tolen;
	struct link *link;
	struct host_id host;  /* the searcher's */
	char st[SSDP_ST_MAX + 1];
	size_t budget;  /* bytes the answers may take */
};

struct upnp_server {
	const struct config *cfg;
	struct event_base *base;
	struct igd igd;
	struct igd_identity ids[IGDS_MAX];  /* the newest first */
	size_t nids;
	struct gena_server *gena;
	char server_header[128];
	uint32_t boot_id;
	int ssdp_fd, ssdp6_fd;
	struct event *ssdp_ev, *ssdp6_ev, *notify_timer;
	unsigned notify_rounds;
	struct link links[LINKS_MAX];
	size_t nlinks;
	struct pending_reply pending[PENDING_REPLIES_MAX];
	struct stream_list connections;
};

/* HTTP */

static void connection_free(struct connection *c)
{
	stream_close(&c->stream);
	free(c);
}

static void connection_done(struct stream *st)
{
	connection_free((struct connection *)st);
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
	status = igd_control(&c->server->igd, svc, &ctx, &call, out);
	log_debug("upnp: %s from %s: HTTP %d", call.action, addr_format(&c->peer, peer), status);
	return status;
}

/* Every control request is answered: 200, or a fault or HTTP error. */
static int counted_control(struct connection *c, const struct http_request *req,
			   const struct upnp_service *svc, const char *body, size_t len,
			   struct evbuffer *out)
{
	int status = control(c, req, svc, body, len, out);

	metrics_count_request(mapper_metrics(c->server->igd.mapper), METRICS_UPNP, true, status == 200);
	return status;
}

static void serve(struct connection *c, const struct http_request *req, const char *body,
		  size_t len)
{
	struct upnp_server *s = c->server;
	struct evbuffer *out = evbuffer_new();
	const struct upnp_service *svc;
	bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
	char peer[ADDR_STRLEN], headers[128] = "";
	int status = 200;

	if (!out) {
		send_response(c, 503, NULL, NULL, false);
		return;
	}
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
		status = counted_control(c, req, svc, body, len, out);
	} else if ((req->method == HTTP_SUBSCRIBE || req->method == HTTP_UNSUBSCRIBE) &&
		   (svc = service_of_events(s, req->path))) {
		status = gena_server_request(s->gena, svc, &c->peer, req, headers, sizeof(headers));
	} else if (req->method == HTTP_OTHER) {
		status = 405;
		snprintf(headers, sizeof(headers), "Allow: GET, HEAD, POST, SUBSCRIBE, UNSUBSCRIBE\r\n");
	} else {
		status = 404;
	}
	send_response(c, status, headers, evbuffer_get_length(out) ? out : NULL,
		      req->method == HTTP_HEAD);
	evbuffer_free(out);
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
	data = (const char *)evbuffer_pullup(in, (ev_ssize_t)(c->req.head_len + c->req.content_length));
	serve(c, &c->req, data + c->req.head_len, c->req.content_length);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct connection *c = arg;
	char peer[ADDR_STRLEN];

	(void)fd;
	(void)what;
	log_debug("upnp: closing a connection from %s: no whole request in %d s",
		  addr_format(&c->peer, peer), REQUEST_SECONDS);
	connection_free(c);
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

/* SSDP */

/* The link a search came in on. Over IPv6 a host searches from its
 * link-local address, which is on every link of its interface: the first
 * global address there answers. */
static struct link *link_of(struct upnp_server *s, unsigned ifindex, const struct in6_addr *source)
{
	bool link_local = IN6_IS_ADDR_LINKLOCAL(source);

	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];

		if (l->local.ifindex != ifindex)
			continue;
		if (link_local ? l->family == AF_INET6 : ifaddr_on_link(&l->local, source))
			return &s->links[i];
	}
	return NULL;
}

/* What IGD k says of itself on link l. */
static struct ssdp_announcement announcement(const struct upnp_server *s, const struct link *l,
					     size_t k)
{
	return (struct ssdp_announcement){ .location = l->location[k], .server = s->server_header,
					   .ipv6 = l->family == AF_INET6,
					   .max_age = MAX_AGE, .boot_id = s->boot_id,
					   .config_id = 1 };
}

/* Out of the link's interface; over IPv4 also from its address, so the
 * host sees the answer come from the address it will fetch the description
 * from. (Over IPv6 the kernel picks a source of the destination's scope:
 * link-local for a host that searched from one.) */
static void send_from(const struct upnp_server *s, const struct link *l, const void *to,
		      socklen_t tolen, const char *msg, size_t len)
{
	char control[CMSG_SPACE(sizeof(struct in6_pktinfo))] = { 0 };
	struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };
	struct msghdr mh = { .msg_name = (void *)(uintptr_t)to, .msg_namelen = tolen,
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = control, .msg_controllen = sizeof(control) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);  /* then shrunk to what it holds */
	int fd = s->ssdp_fd;

	if (l->family == AF_INET) {
		struct in_pktinfo pi = { .ipi_ifindex = (int)l->local.ifindex,
					 .ipi_spec_dst = addr_to_v4(&l->local.addr) };

		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_ifindex = l->local.ifindex };

		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		fd = s->ssdp6_fd;
	}
	if (sendmsg(fd, &mh, MSG_DONTWAIT) < 0 && errno != EAGAIN)
		log_debug("ssdp: sendmsg on %s: %s", l->local.ifname, strerror(errno));
}

/* Sends IGD k's answers of targets that are root devices (roots) or the
 * others, within p's budget; false once the budget is spent. */
static bool send_answers(struct upnp_server *s, struct pending_reply *p, size_t k,
			 const struct ssdp_target *targets, size_t n, bool roots, size_t *sent)
{
	struct ssdp_announcement a = announcement(s, p->link, k);
	char msg[SSDP_MESSAGE_MAX];

	for (size_t i = 0; i < n; i++) {
		size_t len;

		if ((strcmp(targets[i].st, "upnp:rootdevice") == 0) != roots)
			continue;
		len = ssdp_format_response(msg, sizeof(msg), &targets[i], &a);
		if (*sent + len > p->budget)
			return false;
		if (len)
			send_from(s, p->link, &p->to, p->tolen, msg, len);
		*sent += len;
	}
	return true;
}

static void reply_fired(evutil_socket_t fd, short what, void *arg)
{
	struct pending_reply *p = arg;
	struct upnp_server *s = p->server;
	struct ssdp_target targets[IGDS_MAX][SSDP_TARGETS_MAX];
	size_t n[IGDS_MAX], sent = 0;
	bool room = true;

	(void)fd;
	(void)what;
	for (size_t k = 0; k < s->nids; k++)
		n[k] = ssdp_targets(&s->ids[k], p->st, s->nids > 1, targets[k]);
	/* Each IGD's root device first, then the rest: within the budget, an
	 * ssdp:all finds every IGD. */
	for (size_t k = 0; k < s->nids && room; k++)
		room = send_answers(s, p, k, targets[k], n[k], true, &sent);
	for (size_t k = 0; k < s->nids && room; k++)
		room = send_answers(s, p, k, targets[k], n[k], false, &sent);
	log_debug("ssdp: %zu bytes of answers to a search for %s (at most %zu)", sent, p->st,
		  p->budget);
	p->used = false;
}

static bool same_endpoint(const struct sockaddr_storage *a, const void *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = b;

	if (a->ss_family != ((const struct sockaddr *)b)->sa_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* UDA 1.1 §1.3.3: answer after a random delay within MX, so that many
 * devices do not all answer at once. */
static void schedule_reply(struct upnp_server *s, struct link *l, const struct msghdr *search_msg,
			   const struct in6_addr *from, const struct ssdp_search *search,
			   size_t search_len)
{
	struct pending_reply *p = NULL;
	struct host_id host = mapper_host_of(s->igd.mapper, from);
	size_t of_host = 0;
	uint32_t r = 0;
	struct timeval delay = { 0, 0 };
	char text[ADDR_STRLEN];

	/* One answer at a time per source (address and port) and target: a
	 * search repeated within MX (clients send two or three) draws it once;
	 * another program of the same host, on its own port, still gets its
	 * own. */
	for (size_t i = 0; i < PENDING_REPLIES_MAX; i++) {
		if (s->pending[i].used && same_endpoint(&s->pending[i].to, search_msg->msg_name) &&
		    strcmp(s->pending[i].st, search->st) == 0) {
			log_debug("ssdp: search from %s dropped: an answer to it is pending",
				  addr_format(from, text));
			return;
		}
		of_host += s->pending[i].used && host_id_equal(&s->pending[i].host, &host);
	}
	/* A host searching from many addresses or ports waits its turn. */
	if (of_host >= PENDING_REPLIES_PER_HOST) {
		log_debug("ssdp: search from %s dropped: its host has %zu replies pending",
			  addr_format(from, text), of_host);
		return;
	}
	for (size_t i = 0; i < PENDING_REPLIES_MAX && !p; i++)
		if (!s->pending[i].used)
			p = &s->pending[i];
	if (!p) {
		log_debug("ssdp: search from %s dropped: %d replies already pending",
			  addr_format(from, text), PENDING_REPLIES_MAX);
		return;
	}
	if (search->has_mx && search->mx > 0) {
		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r = (uint32_t)rand();
		uint32_t ms = r % (search->mx * 1000);

		delay.tv_sec = ms / 1000;
		delay.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	p->used = true;
	memcpy(&p->to, search_msg->msg_name, search_msg->msg_namelen);
	p->tolen = search_msg->msg_namelen;
	p->link = l;
	p->host = host;
	memcpy(p->st, search->st, sizeof(p->st));
	p->budget = search_len * ANSWER_BYTES_PER_SEARCH_BYTE;
	evtimer_add(p->timer, &delay);
}

static bool answered_here(const struct upnp_server *s, const char *st,
			  struct ssdp_target targets[SSDP_TARGETS_MAX]);

static void on_ssdp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct upnp_server *s = arg;

	(void)what;
	for (int i = 0; i < READS_PER_EVENT; i++) {
		char buf[1500];
		char control[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct sockaddr_storage from;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = control, .msg_controllen = sizeof(control) };
		struct ssdp_target targets[SSDP_TARGETS_MAX];
		struct ssdp_search search;
		unsigned ifindex = 0;
		struct in6_addr source;
		struct link *l;
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

		if (n < 0)
			return;
		if (!datagram_origin(&mh, &source, &ifindex) || (mh.msg_flags & MSG_TRUNC))
			continue;
		if (!(l = link_of(s, ifindex, &source)))
			continue;  /* not from a LAN host: no answer */
		if (ssdp_parse_search(buf, (size_t)n, &search) < 0)
			continue;
		if (!answered_here(s, search.st, targets))
			continue;
		schedule_reply(s, l, &mh, &source, &search, (size_t)n);
	}
}

/* Whether an IGD here answers st. */
static bool answered_here(const struct upnp_server *s, const char *st,
			  struct ssdp_target targets[SSDP_TARGETS_MAX])
{
	for (size_t k = 0; k < s->nids; k++)
		if (ssdp_targets(&s->ids[k], st, s->nids > 1, targets))
			return true;
	return false;
}

/* Every NOTIFY of IGD igd, on every link. */
static void notify_igd(struct upnp_server *s, size_t igd, bool alive)
{
	struct ssdp_target targets[SSDP_TARGETS_MAX];
	size_t n = ssdp_targets(&s->ids[igd], "ssdp:all", false, targets);
	struct sockaddr_in group = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct sockaddr_in6 group6 = { .sin6_family = AF_INET6, .sin6_port = htons(SSDP_PORT) };
	char msg[SSDP_MESSAGE_MAX];

	inet_pton(AF_INET, SSDP_GROUP_V4, &group.sin_addr);
	inet_pton(AF_INET6, SSDP_GROUP_V6_LINK, &group6.sin6_addr);
	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];
		struct ssdp_announcement a = announcement(s, l, igd);

		group6.sin6_scope_id = l->local.ifindex;
		for (size_t k = 0; k < n; k++) {
			size_t len = ssdp_format_notify(msg, sizeof(msg), &targets[k], &a, alive);

			if (!len)
				continue;
			if (l->family == AF_INET)
				send_from(s, l, &group, sizeof(group), msg, len);
			else
				send_from(s, l, &group6, sizeof(group6), msg, len);
		}
	}
}

static void notify_all(struct upnp_server *s, bool alive)
{
	for (size_t k = 0; k < s->nids; k++)
		notify_igd(s, k, alive);
}

static void notify_fired(evutil_socket_t fd, short what, void *arg)
{
	struct upnp_server *s = arg;
	struct timeval next = { s->notify_rounds + 1 < NOTIFY_START_ROUNDS ? 1 : NOTIFY_INTERVAL, 0 };

	(void)fd;
	(void)what;
	notify_all(s, true);
	s->notify_rounds++;
	evtimer_add(s->notify_timer, &next);
}

static bool has_links(const struct upnp_server *s, int family)
{
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].family == family)
			return true;
	return false;
}

/* The SSDP groups of one family, joined once on each interface that has a
 * link of that family. */
static int join_groups(struct upnp_server *s, int fd, int family, char *err, size_t errlen)
{
	static const char *const groups6[] = { SSDP_GROUP_V6_LINK, SSDP_GROUP_V6_SITE };
	unsigned joined[LINKS_MAX];
	size_t njoined = 0;

	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];
		bool done = false;
		int rc = 0;

		for (size_t k = 0; k < njoined; k++)
			done |= joined[k] == l->local.ifindex;
		if (done || l->family != family)
			continue;
		if (family == AF_INET) {
			struct ip_mreqn mreq = { .imr_ifindex = (int)l->local.ifindex };

			inet_pton(AF_INET, SSDP_GROUP_V4, &mreq.imr_multiaddr);
			rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq));
		} else {
			for (size_t g = 0; g < 2 && rc == 0; g++) {
				struct ipv6_mreq mreq = { .ipv6mr_interface = l->local.ifindex };

				inet_pton(AF_INET6, groups6[g], &mreq.ipv6mr_multiaddr);
				rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof(mreq));
			}
		}
		if (rc < 0) {
			snprintf(err, errlen, "SSDP: cannot join the %s groups on %s: %s",
				 family == AF_INET ? "IPv4" : "IPv6", l->local.ifname, strerror(errno));
			return -1;
		}
		joined[njoined++] = l->local.ifindex;
	}
	return 0;
}

static int open_ssdp(struct upnp_server *s, int family, char *err, size_t errlen)
{
	int one = 1, zero = 0, hops = MULTICAST_TTL;
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_port = htons(SSDP_PORT),
				     .sin6_addr = IN6ADDR_ANY_INIT };
	bool v6 = family == AF_INET6;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct event *ev;

	*(v6 ? &s->ssdp6_fd : &s->ssdp_fd) = fd;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
			  setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
			  bind(fd, (struct sockaddr *)&any6, sizeof(any6)) < 0
		: setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
			  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
			  setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof(hops)) < 0 ||
			  bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0)) {
		snprintf(err, errlen, "SSDP: cannot open UDP port %d (%s): %s", SSDP_PORT,
			 v6 ? "IPv6" : "IPv4", strerror(errno));
		return -1;
	}
	if (join_groups(s, fd, family, err, errlen) < 0)
		return -1;
	ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_ssdp_readable, s);
	*(v6 ? &s->ssdp6_ev : &s->ssdp_ev) = ev;
	if (!ev || event_add(ev, NULL) < 0) {
		snprintf(err, errlen, "SSDP: cannot watch the socket");
		return -1;
	}
	return 0;
}

/* IP_FREEBIND: an IPv6 address still in duplicate address detection at
 * start-up cannot be bound otherwise; the socket works once it is valid. */
static int open_http(struct upnp_server *s, struct link *l, char *err, size_t errlen)
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

/* Stable across restarts, so control points keep recognising the router,
 * and not the machine-id itself. */
static void uuid_seed(const struct config *cfg, uint8_t seed[16])
{
	char id[64] = "";
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	char text[160];
	FILE *f = fopen("/etc/machine-id", "re");

	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		fclose(f);
	}
	if (!id[0] && getrandom(id, 16, GRND_NONBLOCK) != 16)
		snprintf(id, sizeof(id), "%ld", (long)time(NULL));
	snprintf(text, sizeof(text), "portleased-igd:%s:%s", id, cfg->external_interface);
	for (const char *p = text; *p; p++) {
		h[0] = (h[0] ^ (uint8_t)*p) * 0x100000001b3ULL;
		h[1] = (h[1] ^ (uint8_t)*p) * 0x100000001b3ULL + h[0];
	}
	memcpy(seed, h, 16);
}

/* Link-local IPv6 addresses are left out: a URL with one needs a zone,
 * which HTTP clients do not take. */
static void add_links(struct upnp_server *s, const char *ifname, int family)
{
	struct if_address addrs[ADDRESSES_PER_INTERFACE];
	int n = ifaddr_list(ifname, family, addrs, ADDRESSES_PER_INTERFACE);

	for (int k = 0; k < n && k < ADDRESSES_PER_INTERFACE && s->nlinks < LINKS_MAX; k++) {
		struct link *l = &s->links[s->nlinks];
		struct in_addr v4 = addr_to_v4(&addrs[k].addr);

		if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&addrs[k].addr))
			continue;
		s->nlinks++;
		l->server = s;
		l->family = family;
		l->local = addrs[k];
		if (family == AF_INET)
			inet_ntop(AF_INET, &v4, l->addr_text, sizeof(l->addr_text));
		else
			inet_ntop(AF_INET6, &addrs[k].addr, l->addr_text, sizeof(l->addr_text));
		for (size_t id = 0; id < s->nids; id++)
			snprintf(l->location[id], sizeof(l->location[id]),
				 "http://%s%s%s:%u%s/rootDesc.xml", family == AF_INET6 ? "[" : "",
				 l->addr_text, family == AF_INET6 ? "]" : "", s->cfg->upnp_http_port,
				 s->ids[id].prefix);
	}
}

void upnp_server_free(struct upnp_server *s)
{
	if (!s)
		return;
	if (s->notify_rounds > 0)
		notify_all(s, false);
	if (s->gena) {
		mapper_set_observer(s->igd.mapper, NULL, NULL);
		gena_server_free(s->gena);
	}
	while (s->connections.head)
		connection_free((struct connection *)s->connections.head);
	for (size_t i = 0; i < PENDING_REPLIES_MAX; i++)
		if (s->pending[i].timer)
			event_free(s->pending[i].timer);
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].http)
			evconnlistener_free(s->links[i].http);
	if (s->notify_timer)
		event_free(s->notify_timer);
	if (s->ssdp_ev)
		event_free(s->ssdp_ev);
	if (s->ssdp6_ev)
		event_free(s->ssdp6_ev);
	if (s->ssdp_fd >= 0)
		close(s->ssdp_fd);
	if (s->ssdp6_fd >= 0)
		close(s->ssdp6_fd);
	free(s);
}

struct upnp_server *upnp_server_new(struct event_base *base, const struct config *cfg,
				    struct mapper *mapper, char *err, size_t errlen)
{
	struct upnp_server *s = calloc(1, sizeof(*s));
	struct utsname uts;
	uint8_t seed[16];

	if (!s) {
		snprintf(err, errlen, "UPnP: out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->base = base;
	s->ssdp_fd = -1;
	s->ssdp6_fd = -1;
	/* Control requests name their service's version: one endpoint serves
	 * both IGDs, each call in the version it asks for. */
	s->igd = (struct igd){ .cfg = cfg, .mapper = mapper,
			       .version = cfg->upnp_igd_version & CONFIG_IGD_2 ? 2 : 1 };
	uuid_seed(cfg, seed);
	if (cfg->upnp_igd_version & CONFIG_IGD_2)
		igd_identity_init(&s->ids[s->nids++], 2, seed);
	if (cfg->upnp_igd_version & CONFIG_IGD_1) {
		struct igd_identity *id = &s->ids[s->nids];

		/* Beside an IGD:2, devices of their own (UDNs are unique), as
		 * stable across restarts as its. */
		if (s->nids)
			seed[0] ^= 0x5a;
		igd_identity_init(id, 1, seed);
		if (s->nids) {
			snprintf(id->prefix, sizeof(id->prefix), "%s", IGD1_PREFIX);
			id->with_v2_services = true;
		}
		s->nids++;
	}
	s->boot_id = (uint32_t)time(NULL) & 0x7fffffff;
	if (uname(&uts) < 0)
		snprintf(uts.release, sizeof(uts.release), "unknown");
	snprintf(s->server_header, sizeof(s->server_header), "Linux/%.40s UPnP/1.1 portleased/%s",
		 uts.release, PORTLEASED_VERSION);

	for (size_t i = 0; i < cfg->lan_interface_count; i++) {
		add_links(s, cfg->lan_interfaces[i], AF_INET);
		add_links(s, cfg->lan_interfaces[i], AF_INET6);
	}
	if (s->nlinks == 0) {
		snprintf(err, errlen, "UPnP: no LAN interface has an IPv4 or a global IPv6 address");
		goto fail;
	}
	for (size_t i = 0; i < s->nlinks; i++)
		if (open_http(s, &s->links[i], err, errlen) < 0)
			goto fail;
	if ((has_links(s, AF_INET) && open_ssdp(s, AF_INET, err, errlen) < 0) ||
	    (has_links(s, AF_INET6) && open_ssdp(s, AF_INET6, err, errlen) < 0))
		goto fail;
	s->gena = gena_server_new(base, &s->igd);
	if (!s->gena) {
		snprintf(err, errlen, "UPnP: out of memory");
		goto fail;
	}
	mapper_set_observer(mapper, gena_server_changed, s->gena);
	for (size_t i = 0; i < PENDING_REPLIES_MAX; i++) {
		s->pending[i].server = s;
		s->pending[i].timer = evtimer_new(base, reply_fired, &s->pending[i]);
		if (!s->pending[i].timer) {
			snprintf(err, errlen, "UPnP: out of memory");
			goto fail;
		}
	}
	s->notify_timer = evtimer_new(base, notify_fired, s);
	if (!s->notify_timer) {
		snprintf(err, errlen, "UPnP: out of memory");
		goto fail;
	}
	/* A restart: stale cache entries go first, then the fresh ones. */
	notify_all(s, false);
	notify_fired(-1, 0, s);
	for (size_t i = 0; i < s->nlinks; i++)
		for (size_t k = 0; k < s->nids; k++)
			log_info("UPnP IGD:%u on %s: %s", s->ids[k].version,
				 s->links[i].local.ifname, s->links[i].location[k]);
	return s;
fail:
	upnp_server_free(s);
	return NULL;
}
