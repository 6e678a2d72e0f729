/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/priv_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "priv/conntrack.h"
#include "lib/log.h"
#include "priv/nft.h"
#include "priv/priv.h"

#define HELPER_NAME "portleased-nft"
/* A helper that does not answer in this long is treated as gone. */
#define REPLY_TIMEOUT_S 5

struct nft {
	int fd;
	pid_t pid;
	uint32_t portid;
	struct event *gone;
	struct priv_request request;  /* large: one, reused */
	/* Between nft_batch_begin and nft_batch_end: */
	bool batching;
	struct priv_batch queue;  /* not yet sent */
	size_t sent;              /* verbs of this batch sent before the queue */
	/* What became of the sent ones: refusals, and renewals' counters. */
	struct nft_outcome *told;
	size_t ntold, told_cap;
};

/* conntrack_* share the helper; the handle only says it can serve PEER. */
struct conntrack {
	struct nft *n;
};

static struct conntrack ct_handle;

/*
 * The helper is part of us: without it nothing is safe to promise a
 * client. Stop, as a crash would (the lease file and the kernel keep
 * what was granted), and let the service manager start both again.
 */
static void helper_lost(const char *what)
{
	log_warnx("the privileged helper %s is gone (%s); stopping", HELPER_NAME, what);
	_exit(1);
}

static void exchange(struct nft *n, const void *request, size_t request_len, void *reply,
		     size_t reply_len)
{
	ssize_t len;

	if (send(n->fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len)
		helper_lost(strerror(errno));
	do
		len = recv(n->fd, reply, reply_len, 0);
	while (len < 0 && errno == EINTR);
	if (len != (ssize_t)reply_len)
		helper_lost(len < 0 ? strerror(errno) : "no answer");
}

static void remember(struct nft *n, const struct nft_outcome *outcome)
{
	if (n->ntold == n->told_cap) {
		size_t cap = n->told_cap ? 2 * n->told_cap : PRIV_BATCH_MAX;
		struct nft_outcome *more = realloc(n->told, cap * sizeof(*more));

		if (!more) {
			/* Unreported, the mapper would keep a lease whose
			 * elements are not there: better stop, as on a lost
			 * helper. */
			log_warnx("out of memory for a batch's results; stopping");
			_exit(1);
		}
		n->told = more;
		n->told_cap = cap;
	}
	n->told[n->ntold++] = *outcome;
}

static void send_queue(struct nft *n)
{
	static struct priv_batch_reply reply;
	size_t count = n->queue.count;

	if (count == 0)
		return;
	n->queue.op = PRIV_BATCH;
	exchange(n, &n->queue, PRIV_BATCH_SIZE(count), &reply, sizeof(reply));
	for (size_t i = 0; i < count; i++) {
		bool renew = n->queue.items[i].op == PRIV_RENEW;

		if (reply.rc[i] < 0 || renew)
			remember(n, &(struct nft_outcome){ .verb = n->sent + i, .rc = reply.rc[i],
							   .renew = renew,
							   .counted = reply.counted[i] });
	}
	n->sent += count;
	n->queue.count = 0;
}

static int queue_verb(struct nft *n, uint32_t op, const struct nft_mapping *m)
{
	struct priv_batch_item *item = &n->queue.items[n->queue.count++];

	item->op = op;
	item->padding = 0;
	priv_mapping_pack(&item->mapping, m);
	if (n->queue.count == PRIV_BATCH_MAX)
		send_queue(n);
	return 0;
}

void nft_batch_begin(struct nft *n)
{
	n->batching = true;
	n->sent = 0;
	n->ntold = 0;
	n->queue.count = 0;
}

void nft_batch_end(struct nft *n, void (*told)(void *arg, const struct nft_outcome *outcome),
		   void *arg)
{
	send_queue(n);
	n->batching = false;
	for (size_t i = 0; i < n->ntold; i++)
		told(arg, &n->told[i]);
	n->ntold = 0;
}

static int call(struct nft *n, uint32_t op, struct priv_reply *reply)
{
	/* Whatever was queued goes first: the helper sees verbs in order. */
	send_queue(n);
	n->request.op = op;
	exchange(n, &n->request, sizeof(n->request), reply, sizeof(*reply));
	return reply->rc;
}

static int call_mapping(struct nft *n, uint32_t op, const struct nft_mapping *old,
			const struct nft_mapping *m, struct priv_reply *reply)
{
	memset(&n->request, 0, sizeof(n->request));
	if (old)
		priv_mapping_pack(&n->request.old, old);
	priv_mapping_pack(&n->request.mapping, m);
	return call(n, op, reply);
}

/* Where the build put it (make HELPER_DIR=...), or beside our own
 * executable: installed together, or both in the build tree. */
static int helper_path(char *out, size_t outlen)
{
#ifdef PORTLEASED_HELPER_DIR
	return snprintf(out, outlen, "%s/%s", PORTLEASED_HELPER_DIR, HELPER_NAME) < (int)outlen ?
		       0 : -1;
#else
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (len <= 0)
		return -1;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(out, outlen, "%s/%s", self, HELPER_NAME) < (int)outlen ? 0 : -1;
#endif
}

struct nft *priv_start(const char *config_path, bool foreground, bool verbose,
		       struct conntrack **ct, char *ct_err, size_t ct_errlen, char *err, size_t errlen)
{
	struct priv_hello hello;
	struct timeval timeout = { REPLY_TIMEOUT_S, 0 };
	char path[PATH_MAX], fdarg[16];
	int sv[2];
	struct nft *n;
	ssize_t len;

	*ct = NULL;
	if (helper_path(path, sizeof(path)) < 0) {
		snprintf(err, errlen, "cannot tell where %s is: the path is too long", HELPER_NAME);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "privilege separation: %s", strerror(errno));
		free(n);
		return NULL;
	}
	n->pid = fork();
	if (n->pid < 0) {
		snprintf(err, errlen, "privilege separation: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(n);
		return NULL;
	}
	if (n->pid == 0) {
		/* execv's argv is not const; these are the child's own copies. */
		char name[] = HELPER_NAME, s[] = "-s", f[] = "-f", d[] = "-d", v[] = "-v";
		char config[PATH_MAX];
		char *argv[8] = { name, s, fdarg, f, config };
		int argc = 5;

		snprintf(config, sizeof(config), "%s", config_path);
		if (foreground)
			argv[argc++] = d;
		if (verbose)
			argv[argc++] = v;
		/* Only the helper's end crosses the exec. */
		close(sv[0]);
		fcntl(sv[1], F_SETFD, 0);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		execv(path, argv);
		fprintf(stderr, "portleased: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	n->fd = sv[0];
	setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	len = recv(n->fd, &hello, sizeof(hello), 0);
	if (len != sizeof(hello) || hello.rc < 0) {
		if (len == sizeof(hello))
			snprintf(err, errlen, "%.*s", (int)sizeof(hello.message), hello.message);
		else
			snprintf(err, errlen, "%s did not start (see its messages above)", HELPER_NAME);
		close(n->fd);
		waitpid(n->pid, NULL, 0);
		free(n);
		return NULL;
	}
	n->portid = hello.nft_portid;
	if (hello.has_conntrack) {
		ct_handle.n = n;
		*ct = &ct_handle;
	} else {
		snprintf(ct_err, ct_errlen, "%.*s", (int)sizeof(hello.message), hello.message);
	}
	return n;
}

static void on_gone(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	/* Between requests the helper says nothing: readable means gone. */
	helper_lost("its socket closed");
}

int priv_watch(struct nft *n, struct event_base *base)
{
	n->gone = event_new(base, n->fd, EV_READ | EV_PERSIST, on_gone, n);
	return n->gone ? event_add(n->gone, NULL) : -1;
}

int priv_reload(struct nft *n)
{
	struct priv_reply reply;

	memset(&n->request, 0, sizeof(n->request));
	return call(n, PRIV_RELOAD, &reply);
}

/* --- nft.h --- */

void nft_close(struct nft *n, int remove_table)
{
	struct priv_reply reply;

	if (!n)
		return;
	if (n->gone)
		event_free(n->gone);
	send_queue(n);
	free(n->told);
	memset(&n->request, 0, sizeof(n->request));
	n->request.op = PRIV_CLOSE;
	n->request.remove = remove_table ? 1 : 0;
	if (send(n->fd, &n->request, sizeof(n->request), MSG_NOSIGNAL) == sizeof(n->request))
		recv(n->fd, &reply, sizeof(reply), 0);
	close(n->fd);
	/* Ours unless daemon() made us another process; then init reaps it. */
	waitpid(n->pid, NULL, WNOHANG);
	free(n);
}

int nft_set_hairpin_address(struct nft *n, const struct in_addr *addr)
{
	struct priv_reply reply;

	memset(&n->request, 0, sizeof(n->request));
	n->request.has_hairpin = addr != NULL;
	if (addr)
		n->request.hairpin = *addr;
	return call(n, PRIV_HAIRPIN, &reply);
}

int nft_rebuild(struct nft *n)
{
	struct priv_reply reply;

	memset(&n->request, 0, sizeof(n->request));
	return call(n, PRIV_REBUILD, &reply);
}

int nft_intact(struct nft *n)
{
	struct priv_reply reply;

	memset(&n->request, 0, sizeof(n->request));
	return call(n, PRIV_INTACT, &reply);
}

int nft_limited_total(struct nft *n, uint64_t *dropped)
{
	struct priv_reply reply;
	int rc;

	memset(&n->request, 0, sizeof(n->request));
	rc = call(n, PRIV_LIMITED, &reply);
	*dropped = rc == 0 ? reply.counters.limited : 0;
	return rc;
}

int priv_forwarded_ports(struct nft *n, struct forwarded_ports *out)
{
	static struct priv_forwarded_reply reply;

	send_queue(n);
	memset(&n->request, 0, sizeof(n->request));
	n->request.op = PRIV_FORWARDED;
	exchange(n, &n->request, sizeof(n->request), &reply, sizeof(reply));
	if (reply.rc == 0)
		*out = reply.ports;
	return reply.rc;
}

uint32_t nft_portid(const struct nft *n)
{
	return n->portid;
}

int nft_mapping_add(struct nft *n, const struct nft_mapping *m)
{
	struct priv_reply reply;

	if (n->batching)
		return queue_verb(n, PRIV_ADD, m);
	return call_mapping(n, PRIV_ADD, NULL, m, &reply);
}

int nft_mapping_replace(struct nft *n, const struct nft_mapping *old, const struct nft_mapping *m)
{
	struct priv_reply reply;

	return call_mapping(n, PRIV_REPLACE, old, m, &reply);
}

int nft_mapping_renew(struct nft *n, const struct nft_mapping *m)
{
	struct priv_reply reply;

	if (n->batching)
		return queue_verb(n, PRIV_RENEW, m);
	return call_mapping(n, PRIV_REPLACE, m, m, &reply);
}

int nft_mapping_delete(struct nft *n, const struct nft_mapping *m)
{
	struct priv_reply reply;

	if (n->batching)
		return queue_verb(n, PRIV_DELETE, m);
	return call_mapping(n, PRIV_DELETE, NULL, m, &reply);
}

int nft_mapping_counters(struct nft *n, const struct nft_mapping *m, struct nft_counters *out)
{
	struct priv_reply reply;
	int rc = call_mapping(n, PRIV_COUNTERS, NULL, m, &reply);

	*out = reply.counters;
	return rc;
}

int nft_mapping_last_used(struct nft *n, const struct nft_mapping *m, struct nft_counters *out)
{
	struct priv_reply reply;
	int rc = call_mapping(n, PRIV_LAST_USED, NULL, m, &reply);

	out->used = reply.counters.used;
	out->idle_ms = reply.counters.idle_ms;
	return rc;
}

/* --- conntrack.h --- */

struct conntrack *conntrack_open(char *err, size_t errlen)
{
	snprintf(err, errlen, "conntrack is the privileged helper's");
	return NULL;
}

void conntrack_close(struct conntrack *ct)
{
	(void)ct;
}

int conntrack_peer(struct conntrack *ct, const struct ct_flow *flow, uint32_t lifetime,
		   struct in6_addr *external_addr, uint16_t *external_port)
{
	struct nft *n = ct->n;
	struct priv_reply reply;
	int rc;

	memset(&n->request, 0, sizeof(n->request));
	n->request.flow = *flow;
	n->request.lifetime = lifetime;
	rc = call(n, PRIV_PEER, &reply);
	if (rc == 0) {
		*external_addr = reply.external_addr;
		*external_port = reply.external_port;
	}
	return rc;
}
