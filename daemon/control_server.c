/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/control_server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/approvals.h"
#include "daemon/audit.h"
#include "daemon/control.h"
#include "lib/log.h"
#include "config/static_file.h"
#include "daemon/stream.h"

/* An operator's tool is quick; a stuck one must not hold the socket. */
#define CONNECTIONS_MAX 8
#define REQUEST_SECONDS 2
/* monitor holds its connection: at most this many, so that others can
 * still ask; one that does not read what it is sent loses events past
 * MONITOR_BACKLOG bytes (and is told how many) rather than grow. */
#define MONITORS_MAX 4
#define MONITOR_BACKLOG (64 * 1024)

struct control_server {
	const struct config *cfg;
	struct event_base *base;
	struct mapper *mapper;
	struct evconnlistener *listener;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stream_list connections;
	control_reload_fn reload;
	void *reload_arg;
};

struct connection {
	struct stream stream;  /* first: the list holds these */
	struct control_server *server;
	uid_t uid;             /* the operator's, from the socket: for the audit */
	bool monitoring;       /* monitor: events are written to it until it closes */
	bool json;
	uint64_t dropped;      /* events it was too slow to be sent */
};

static void connection_free(struct connection *c)
{
	stream_close(&c->stream);
	free(c);
}

static void connection_done(struct stream *st)
{
	connection_free((struct connection *)st);
}

/* The static mappings as the operator described them: the config's, and
 * the static file's as it is now (portleasectl add may have written it
 * since the config was read). */
struct statics {
	const struct config *cfg;
	struct static_mapping *file;  /* NULL: none read */
	size_t nfile;
};

static void statics_read(struct statics *v, const struct config *cfg)
{
	char err[CONFIG_ERROR_MAX];

	*v = (struct statics){ .cfg = cfg };
	if (!cfg->static_file[0] || !(v->file = malloc(CONFIG_MAX_STATIC * sizeof(*v->file))))
		return;
	if (static_file_read(cfg->static_file, v->file, CONFIG_MAX_STATIC, &v->nfile, err,
			     sizeof(err)) < 0)
		v->nfile = 0;
}

static const struct static_mapping *find_static(const struct static_mapping *list, size_t n,
						const struct lease *l)
{
	for (size_t i = 0; i < n; i++) {
		const struct static_mapping *sm = &list[i];

		if (sm->proto == l->proto && sm->internal_port == l->internal_port &&
		    sm->external_port == l->external_port &&
		    addr_equal(&sm->internal_addr, &l->internal_addr))
			return sm;
	}
	return NULL;
}

/* A static mapping's entry: its inventory. */
static const struct static_mapping *static_of(const struct statics *v, const struct lease *l)
{
	const struct static_mapping *sm = find_static(v->file, v->nfile, l);

	return sm ? sm : find_static(v->cfg->statics, v->cfg->static_count, l);
}

/* A mapping as list and review show it, its counters asked of the kernel. */
static struct control_lease row_of(struct control_server *s, const struct statics *v,
				   const struct lease *l)
{
	const struct static_mapping *sm = l->origin == LEASE_ORIGIN_STATIC ? static_of(v, l) : NULL;
	struct nft_counters counted;
	struct control_lease r = {
		.proto = l->proto, .pinhole = !addr_is_v4(&l->internal_addr),
		.external_port = l->external_port, .internal_addr = l->internal_addr,
		.internal_port = l->internal_port, .client = l->client,
		.device = mapper_device_of(s->mapper, l),
		.origin = lease_origin_name(l->origin), .description = l->description,
		.created = mapper_wall_time(s->mapper, l->created_ms),
		.expires = mapper_wall_time(s->mapper, l->expires_ms),
		.remaining = mapper_remaining(s->mapper, l), .nfilters = l->nfilters,
		.filters = l->filters, .peer = l->peer,
		.pinhole_id = l->pinhole_id, .permanent = l->origin == LEASE_ORIGIN_STATIC,
		.conflict = (enum lease_conflict)l->conflict,
		.owner = sm ? sm->owner : NULL, .purpose = sm ? sm->purpose : NULL,
		.review_by = sm ? sm->review_by : 0,
		.limit = l->limit_class && l->limit_class <= s->cfg->policy.limit_count ?
				 &s->cfg->policy.limits[l->limit_class - 1] : NULL,
		.upstream = l->upstream, .upstream_port = l->upstream_port,
	};

	if (mapper_counters(s->mapper, l, &counted) == 0) {
		r.has_counters = true;
		r.packets = counted.packets;
		r.bytes = counted.bytes;
		r.limited = counted.limited;
		r.used = counted.used;
		r.idle = (uint32_t)(counted.idle_ms / 1000);
		r.last_used = (int64_t)time(NULL) - r.idle;
	}
	return r;
}

static void list(struct control_server *s, const struct control_request *req, struct evbuffer *out)
{
	const struct lease_table *t = mapper_leases(s->mapper);
	struct statics v;
	struct control_lease *rows;
	size_t n = 0;

	/* What the operator sees is current: a service the router started a
	 * moment ago is flagged. */
	mapper_review_conflicts(s->mapper);
	rows = calloc(lease_count(t) + 1, sizeof(*rows));

	if (!rows) {
		evbuffer_add_printf(out, "error: out of memory\n");
		return;
	}
	statics_read(&v, s->cfg);
	for (const struct lease *l = lease_first(t); l; l = lease_next(l))
		rows[n++] = row_of(s, &v, l);
	evbuffer_add_printf(out, "ok\n");
	control_format_list(out, rows, n, req->json);
	free(rows);
	free(v.file);
}

static void pending(struct control_server *s, const struct control_request *req,
		    struct evbuffer *out)
{
	const struct approvals *a = mapper_approvals(s->mapper);
	struct control_pending rows[APPROVALS_PENDING_MAX];
	uint64_t now = mapper_now_ms();
	size_t n = 0;

	for (size_t i = 0; i < APPROVALS_PENDING_MAX; i++) {
		const struct pending_request *p = &a->pending[i];

		if (!p->used)
			continue;
		rows[n++] = (struct control_pending){
			.id = p->id, .proto = p->key.proto, .pinhole = p->key.v6,
			.external_port = p->external_port, .client = p->client,
			.internal_addr = p->internal_addr, .internal_port = p->key.internal_port,
			.device = mapper_device_at(s->mapper, &p->internal_addr),
			.origin = lease_origin_name(p->origin), .description = p->description,
			.first = mapper_wall_time(s->mapper, p->first_ms),
			.last = mapper_wall_time(s->mapper, p->last_ms),
			.expires_in = (uint32_t)((p->expires_ms - now) / 1000), .asked = p->asked,
		};
	}
	/* In the order they came. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && rows[j].id < rows[j - 1].id; j--) {
			struct control_pending t = rows[j];

			rows[j] = rows[j - 1];
			rows[j - 1] = t;
		}
	evbuffer_add_printf(out, "ok\n");
	control_format_pending(out, rows, n, req->json);
}

static void answer(struct connection *c, const struct control_request *req, struct evbuffer *out)
{
	struct control_server *s = c->server;
	bool approve = req->command == CONTROL_APPROVE;
	int rc = approve ? mapper_approve(s->mapper, req->id, req->lifetime, (uint32_t)c->uid) :
			   mapper_reject(s->mapper, req->id, (uint32_t)c->uid);

	if (rc < 0) {
		evbuffer_add_printf(out, "error: no pending request %u\n", req->id);
		return;
	}
	if (approve)
		evbuffer_add_printf(out, "ok\nrequest %u approved for %u s: the device's next "
				    "identical request succeeds\n", req->id, req->lifetime);
	else
		evbuffer_add_printf(out, "ok\nrequest %u rejected: refused for an hour\n", req->id);
}

/* What needs the operator's look; a mapping may have several reasons. */
static void review(struct control_server *s, const struct control_request *req,
		   struct evbuffer *out)
{
	const struct lease_table *t = mapper_leases(s->mapper);
	int64_t now = (int64_t)time(NULL);
	struct control_finding *found;
	struct statics v;
	size_t n = 0;

	found = calloc(3 * lease_count(t) + 1, sizeof(*found));
	if (!found) {
		evbuffer_add_printf(out, "error: out of memory\n");
		return;
	}
	statics_read(&v, s->cfg);
	for (const struct lease *l = lease_first(t); l; l = lease_next(l)) {
		struct control_lease r = row_of(s, &v, l);
		struct control_finding f = { .lease = r, .now = now };

		if (r.review_by && r.review_by <= now) {
			f.kind = CONTROL_REVIEW_DUE;
			found[n++] = f;
		}
		if (r.has_counters && !r.used && now - r.created >= (int64_t)req->lifetime) {
			f.kind = CONTROL_NEVER_USED;
			found[n++] = f;
		} else if (r.has_counters && r.used && r.idle >= req->lifetime) {
			f.kind = CONTROL_IDLE;
			found[n++] = f;
		}
		if (mapper_host_of(s->mapper, &l->internal_addr).kind != HOST_MAC) {
			f.kind = CONTROL_DEVICE_GONE;
			found[n++] = f;
		}
	}
	evbuffer_add_printf(out, "ok\n");
	control_format_review(out, found, n, req->json);
	free(found);
	free(v.file);
}

static void status(struct control_server *s, const struct control_request *req,
		   struct evbuffer *out)
{
	struct daemon_status st;

	mapper_status(s->mapper, &st);
	evbuffer_add_printf(out, "ok\n");
	control_format_status(out, &st, req->json);
}

static void metrics(struct control_server *s, struct evbuffer *out)
{
	struct daemon_status st;

	mapper_metrics_status(s->mapper, &st);
	evbuffer_add_printf(out, "ok\n");
	metrics_format(out, &st);
}

static void delete(struct control_server *s, const struct control_request *req,
		   struct evbuffer *out)
{
	const struct lease_table *t = mapper_leases(s->mapper);
	struct lease *l = req->has_addr ? lease_by_internal(t, &req->addr, req->proto, req->port) :
					  lease_by_external(t, req->proto, req->port);

	if (!l) {
		evbuffer_add_printf(out, "error: no such mapping\n");
		return;
	}
	mapper_remove(s->mapper, l);
	evbuffer_add_printf(out, "ok\n");
}

static void flush(struct control_server *s, const struct control_request *req,
		  struct evbuffer *out)
{
	size_t n = mapper_flush(s->mapper, req->has_addr ? &req->addr : NULL);

	evbuffer_add_printf(out, "ok\n%zu mapping%s removed\n", n, n == 1 ? "" : "s");
}

static void explain(struct control_server *s, const struct control_request *req,
		    struct evbuffer *out)
{
	const struct lease_table *t = mapper_leases(s->mapper);
	uint16_t external = req->external_port ? req->external_port : req->port;
	struct policy_query q = { .client = req->addr, .proto = req->proto,
				  .internal_port = req->port, .external_port = external };
	struct host_id host = mapper_host_of(s->mapper, &req->addr);
	/* a pinhole's external port is its own internal endpoint's */
	int takes = addr_is_v4(&req->addr) ? mapper_router_takes(s->mapper, req->proto, external) : 0;
	enum lease_conflict taken_by = takes == ROUTER_PORT_SERVED ? LEASE_CONFLICT_ROUTER_SERVES :
				       takes == ROUTER_PORT_FORWARDED ? LEASE_CONFLICT_FORWARDED :
				       LEASE_CONFLICT_NONE;
	struct control_explanation e;

	mapper_query_mac(s->mapper, &q, &host);
	q.approved = mapper_approved(s->mapper, &req->addr, &req->addr, req->proto, req->port);
	e = (struct control_explanation){
		.decision = policy_check(&s->cfg->policy, &q), .internal_port = req->port,
		.external_port = external, .proto = req->proto, .client = req->addr,
		/* a pinhole's external port is its own internal endpoint's */
		.external_port_free = !addr_is_v4(&req->addr) ||
				      lease_external_free(t, req->proto, external),
		.host = host, .client_leases = lease_count_of_host(t, &host),
		.device_name = mapper_device_at(s->mapper, &req->addr).name,
		.taken_by = taken_by,
		.client_quota = s->cfg->max_leases_per_client,
		.leases = lease_count(t), .capacity = lease_capacity(t),
		.has_lifetime = req->has_lifetime, .lifetime_asked = req->lifetime,
		.lifetime_granted = config_clamp_lifetime(s->cfg, req->lifetime),
	};

	if (e.decision.rule >= 0) {
		uint8_t limit_class = policy_rule_limit_class(&s->cfg->policy, e.decision.rule);

		e.rule = &s->cfg->policy.rules[e.decision.rule];
		if (limit_class)
			e.limit = &s->cfg->policy.limits[limit_class - 1];
	}
	evbuffer_add_printf(out, "ok\n");
	control_format_explanation(out, &e, req->json);
}

/* The mapping req names, as the static file holds it: only the operator's
 * own portleasectl, which wrote it there first, can have it added. */
static const struct static_mapping *in_static_file(const struct static_mapping *file, size_t n,
						   const struct control_request *req)
{
	const struct static_mapping asked = { .proto = req->proto,
					      .external_port = req->external_port,
					      .internal_addr = req->addr, .internal_port = req->port };

	for (size_t i = 0; i < n; i++)
		if (static_mappings_same(&file[i], &asked))
			return &file[i];
	return NULL;
}

static void add(struct control_server *s, const struct control_request *req,
		struct evbuffer *out)
{
	const char *path = s->cfg->static_file, *why;
	struct static_mapping *file = NULL;
	const struct static_mapping *sm;
	char err[CONFIG_ERROR_MAX], addr[ADDR_STRLEN];
	size_t n = 0;
	enum map_status st;

	if ((why = mapper_internal_refusal(s->mapper, &req->addr))) {
		evbuffer_add_printf(out, "error: the internal address is %s\n", why);
		return;
	}
	if (!addr_is_v4(&req->addr) && req->external_port != req->port) {
		evbuffer_add_printf(out, "error: an IPv6 mapping is a pinhole: its external port "
				    "is its internal port\n");
		return;
	}
	if (!path[0]) {
		evbuffer_add_printf(out, "error: static_file is \"\": static mappings come from "
				    "the config's static_mappings alone\n");
		return;
	}
	if (!(file = malloc(CONFIG_MAX_STATIC * sizeof(*file)))) {
		evbuffer_add_printf(out, "error: out of memory\n");
		return;
	}
	if (static_file_read(path, file, CONFIG_MAX_STATIC, &n, err, sizeof(err)) < 0) {
		evbuffer_add_printf(out, "error: %s\n", err);
	} else if (!(sm = in_static_file(file, n, req))) {
		evbuffer_add_printf(out, "error: %s %u -> %s:%u is not in %s, the static file "
				    "portleased reads (portleasectl add writes it there first; -f "
				    "names the file)\n", policy_proto_name(req->proto),
				    req->external_port, addr_format(&req->addr, addr), req->port, path);
	} else if ((st = mapper_add_static(s->mapper, sm)) == MAP_PORT_UNAVAILABLE) {
		evbuffer_add_printf(out, "error: another static mapping holds that port or "
				    "internal endpoint\n");
	} else if (st != MAP_OK) {
		evbuffer_add_printf(out, "error: %s\n", map_status_name(st));
	} else {
		evbuffer_add_printf(out, "ok\n");
	}
	free(file);
}

void control_server_set_reload(struct control_server *s, control_reload_fn reload, void *arg)
{
	s->reload = reload;
	s->reload_arg = arg;
}

/* Answered once the new configuration is applied, or refused: what
 * systemctl reload waits for (the unit's ExecReload). */
static void reload(struct control_server *s, struct evbuffer *out)
{
	char msg[CONFIG_ERROR_MAX + 64];

	if (!s->reload)
		evbuffer_add_printf(out, "error: this portleased cannot reload\n");
	else if (s->reload(s->reload_arg, msg, sizeof(msg)) < 0)
		evbuffer_add_printf(out, "error: %s\n", msg);
	else
		evbuffer_add_printf(out, "ok\n%s\n", msg);
}

static size_t monitors(const struct control_server *s)
{
	size_t n = 0;

	for (const struct stream *st = s->connections.head; st; st = st->next)
		n += ((const struct connection *)st)->monitoring;
	return n;
}

/* Whether the connection stays open to follow the events. */
static bool start_monitor(struct connection *c, const struct control_request *req,
			  struct evbuffer *out)
{
	if (monitors(c->server) >= MONITORS_MAX) {
		evbuffer_add_printf(out, "error: %d monitors already follow the events\n",
				    MONITORS_MAX);
		return false;
	}
	evbuffer_add_printf(out, "ok\n");
	c->monitoring = true;
	c->json = req->json;
	evtimer_del(c->stream.deadline);
	log_debug("control: a monitor follows the events (%zu)", monitors(c->server));
	return true;
}

static void on_event(void *arg, const struct audit_record *r)
{
	struct control_server *s = arg;
	int64_t now = (int64_t)time(NULL);

	for (struct stream *st = s->connections.head; st; st = st->next) {
		struct connection *c = (struct connection *)st;
		struct evbuffer *out;

		if (!c->monitoring)
			continue;
		out = bufferevent_get_output(c->stream.bev);
		if (evbuffer_get_length(out) > MONITOR_BACKLOG) {
			c->dropped++;
			continue;
		}
		if (c->dropped) {
			if (c->json)
				evbuffer_add_printf(out, "{\"event\":\"dropped\",\"count\":%llu}\n",
						    (unsigned long long)c->dropped);
			else
				evbuffer_add_printf(out, "dropped %llu events: the monitor did not read "
						    "them fast enough\n", (unsigned long long)c->dropped);
			c->dropped = 0;
		}
		control_format_event(out, r, now, c->json);
	}
}

static void serve(struct connection *c, const char *line)
{
	struct control_server *s = c->server;
	struct evbuffer *out = bufferevent_get_output(c->stream.bev);
	struct control_request req;
	char err[CONTROL_ERROR_MAX];

	if (control_parse(line, &req, err) < 0) {
		evbuffer_add_printf(out, "error: %s\n", err);
	} else if (req.command == CONTROL_MONITOR) {
		if (start_monitor(c, &req, out))
			return;
	} else {
		switch (req.command) {
		case CONTROL_LIST: list(s, &req, out); break;
		case CONTROL_STATUS: status(s, &req, out); break;
		case CONTROL_METRICS: metrics(s, out); break;
		case CONTROL_DELETE: delete(s, &req, out); break;
		case CONTROL_FLUSH: flush(s, &req, out); break;
		case CONTROL_EXPLAIN: explain(s, &req, out); break;
		case CONTROL_ADD: add(s, &req, out); break;
		case CONTROL_RELOAD: reload(s, out); break;
		case CONTROL_REVIEW: review(s, &req, out); break;
		case CONTROL_PENDING: pending(s, &req, out); break;
		case CONTROL_APPROVE:
		case CONTROL_REJECT: answer(c, &req, out); break;
		case CONTROL_MONITOR: break;
		}
	}
	/* One request per connection: closed once the answer is out. */
	bufferevent_disable(c->stream.bev, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct connection *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	/* A monitor reads on only to see the client go. */
	if (c->monitoring) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);

	if (!line) {
		if (evbuffer_get_length(in) >= CONTROL_REQUEST_MAX) {
			evbuffer_add_printf(bufferevent_get_output(bev), "error: request too long\n");
			bufferevent_disable(bev, EV_READ);
		}
		return;
	}
	if (len >= CONTROL_REQUEST_MAX || strlen(line) != len)
		evbuffer_add_printf(bufferevent_get_output(bev), "error: malformed request\n");
	else
		serve(c, line);
	free(line);
	if (!c->monitoring)
		bufferevent_disable(bev, EV_READ);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct control_server *s = arg;
	struct connection *c;

	(void)listener;
	(void)sa;
	(void)socklen;
	if (s->connections.count >= CONNECTIONS_MAX || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->server = s;
	{
		struct ucred cred;
		socklen_t len = sizeof(cred);

		/* The kernel's word, not the client's: (uid_t)-1 if it has none. */
		c->uid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.uid :
										   (uid_t)-1;
	}
	if (stream_open(&c->stream, &s->connections, s->base, fd, on_read, connection_done, NULL, c,
			REQUEST_SECONDS, CONTROL_REQUEST_MAX) < 0)
		free(c);
}

/* The socket's directory (/run/portleased) when no service manager made
 * it; one level only, as /run itself exists. */
static void make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		log_warn("control socket: mkdir %s", dir);
}

/* Only root, or the configured group, may connect: the socket file's mode
 * decides, set before anyone can connect (bind under a umask of 0177). */
struct control_server *control_server_new(struct event_base *base, const struct config *cfg,
					  struct mapper *mapper, char *err, size_t errlen)
{
	struct control_server *s = calloc(1, sizeof(*s));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct group *grp = NULL;
	mode_t old_umask;
	int fd = -1;

	if (!s) {
		snprintf(err, errlen, "control socket: out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->base = base;
	s->mapper = mapper;
	if (cfg->control_group[0] && !(grp = getgrnam(cfg->control_group))) {
		snprintf(err, errlen, "control socket: no group '%s'", cfg->control_group);
		goto fail;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", cfg->control_socket);
	make_parent(sun.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail_errno;
	/* A socket file left by a killed daemon; a live one would have
	 * answered, and the second daemon would already have failed on the
	 * nftables table or the UDP ports. */
	unlink(sun.sun_path);
	old_umask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		umask(old_umask);
		goto fail_errno;
	}
	umask(old_umask);
	snprintf(s->path, sizeof(s->path), "%s", sun.sun_path);
	if (grp && (chown(s->path, 0, grp->gr_gid) < 0 || chmod(s->path, 0660) < 0))
		goto fail_errno;
	if (mapper_add_event_observer(on_event, s) < 0) {
		snprintf(err, errlen, "control socket: no room to follow the events");
		goto fail;
	}
	s->listener = evconnlistener_new(base, on_accept, s,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, fd);
	if (!s->listener)
		goto fail_errno;
	log_info("control socket %s (%s)", s->path,
		 grp ? "root and group members" : "root only");
	return s;
fail_errno:
	snprintf(err, errlen, "control socket %s: %s", cfg->control_socket, strerror(errno));
	if (fd >= 0 && !s->listener)
		close(fd);
fail:
	control_server_free(s);
	return NULL;
}

void control_server_free(struct control_server *s)
{
	if (!s)
		return;
	mapper_remove_event_observer(on_event, s);
	while (s->connections.head)
		connection_free((struct connection *)s->connections.head);
	if (s->listener)
		evconnlistener_free(s->listener);
	if (s->path[0])
		unlink(s->path);
	free(s);
}
