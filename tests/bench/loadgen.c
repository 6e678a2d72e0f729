/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loadgen: the benchmark's load, the same for portleased and miniupnpd.
 * Every mode is bounded in count and time and stops by itself.
 *
 *   loadgen natpmp SERVER map|delete tcp|udp FIRST_PORT COUNT WINDOW LIFETIME
 *   loadgen pcp SERVER CLIENT_ADDR FIRST_PORT COUNT WINDOW LIFETIME
 *   loadgen upnp SERVER HTTP_PORT SERVICE CLIENT_ADDR FIRST_PORT COUNT WINDOW LEASE|delete
 *       COUNT map requests (internal port = suggested external port =
 *       FIRST_PORT + i), at most WINDOW outstanding. A request unanswered
 *       for 2 s is lost. Prints one line:
 *       "sent=N ok=K err=E lost=L incomplete=0|1 elapsed_s=T rate=R p50_us=A p99_us=B
 *       max_us=C" (incomplete: $LOADGEN_BUDGET_S ran out first). A PCP or
 *       NAT-PMP LIFETIME of 0 deletes (PCP: with the nonce the map had).
 *   loadgen delete-all SERVER DURATION_MS
 *       NAT-PMP "delete all my UDP mappings" requests (internal port 0,
 *       lifetime 0), WINDOW (64) in flight, for DURATION_MS: the hostile
 *       request that costs nothing to send ("sent=N answered=M").
 *   loadgen gap SERVER PORT DURATION_MS INTERVAL_MS
 *       NAT-PMP external-address requests every INTERVAL_MS: the longest
 *       wait for an answer ("max_gap_us=G answered=N lost=L").
 *   loadgen tcp-sink PORT DURATION_S / udp-sink PORT DURATION_S
 *       accept and close / count datagrams ("accepted=N" / "received=N pps=R")
 *   loadgen tcp-rate DST PORT DURATION_S WINDOW
 *       new connections, WINDOW at a time ("connected=N failed=F rate=R")
 *   loadgen tcp-probe DST PORT TIMEOUT_MS
 *       one connection: exit 0 if it gets through
 *   loadgen udp-rate DST PORT DURATION_S
 *       datagrams as fast as one socket sends ("sent=N")
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 200000
/* $LOADGEN_BUDGET_S: the request loads stop there and report what they
 * got, marked incomplete=1. */
static uint64_t budget_end = UINT64_MAX;
static bool incomplete;
#define LOST_US 2000000
#define MAX_WINDOW 1024

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in address(const char *ip, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "loadgen: bad address %s\n", ip);
		exit(2);
	}
	return sa;
}

/* --- request/answer load over UDP (NAT-PMP, PCP) --- */

struct run {
	unsigned count, window;
	uint64_t *sent_at;   /* per request; 0: answered or lost */
	uint64_t *latency;   /* of the answered */
	unsigned answered, ok, err, lost, next;
};

static void report(struct run *r, uint64_t start)
{
	double elapsed = (double)(now_us() - start) / 1e6;
	uint64_t p50 = 0, p99 = 0, max = 0;

	if (r->answered) {
		qsort(r->latency, r->answered, sizeof(*r->latency), cmp_u64);
		p50 = r->latency[r->answered / 2];
		p99 = r->latency[(size_t)((double)r->answered * 0.99)];
		max = r->latency[r->answered - 1];
	}
	printf("sent=%u ok=%u err=%u lost=%u incomplete=%d elapsed_s=%.3f rate=%.0f p50_us=%llu "
	       "p99_us=%llu max_us=%llu\n",
	       r->next, r->ok, r->err, r->lost, incomplete, elapsed,
	       elapsed > 0 ? (double)r->answered / elapsed : 0.0, (unsigned long long)p50,
	       (unsigned long long)p99, (unsigned long long)max);
}

static void run_init(struct run *r, unsigned count, unsigned window)
{
	if (count == 0 || count > MAX_COUNT || window == 0 || window > MAX_WINDOW) {
		fprintf(stderr, "loadgen: COUNT 1-%d, WINDOW 1-%d\n", MAX_COUNT, MAX_WINDOW);
		exit(2);
	}
	*r = (struct run){ .count = count, .window = window };
	r->sent_at = calloc(count, sizeof(*r->sent_at));
	r->latency = calloc(count, sizeof(*r->latency));
	if (!r->sent_at || !r->latency)
		die("calloc");
}

static void run_free(struct run *r)
{
	free(r->sent_at);
	free(r->latency);
}

static void answered(struct run *r, unsigned i, bool success)
{
	if (i >= r->count || r->sent_at[i] == 0)
		return;  /* a duplicate, or one already counted lost */
	r->latency[r->answered++] = now_us() - r->sent_at[i];
	r->sent_at[i] = 0;
	if (success)
		r->ok++;
	else
		r->err++;
}

/* Sends while fewer than the window are out, reads answers, gives up on
 * old ones. build(i, buf) writes request i; parse(buf, len, &i, &ok)
 * tells which request an answer is for. */
static void udp_load(int fd, struct run *r, size_t (*build)(unsigned i, uint8_t *buf),
		     bool (*parse)(const uint8_t *buf, size_t len, unsigned *i, bool *ok))
{
	unsigned outstanding = 0, oldest = 0;

	while (r->answered + r->lost < r->count && !(incomplete = now_us() > budget_end)) {
		uint8_t buf[1100];
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t t;

		while (outstanding < r->window && r->next < r->count) {
			size_t len = build(r->next, buf);

			r->sent_at[r->next] = now_us();
			if (send(fd, buf, len, 0) < 0 && errno != ENOBUFS && errno != EAGAIN)
				die("send");
			r->next++;
			outstanding++;
		}
		t = now_us();  /* after the sends: none is younger than t */
		while (oldest < r->next && r->sent_at[oldest] == 0)
			oldest++;
		for (unsigned i = oldest; i < r->next && r->sent_at[i] &&
					  t - r->sent_at[i] > LOST_US; i++) {
			r->sent_at[i] = 0;
			r->lost++;
			outstanding--;
		}
		if (poll(&p, 1, 100) > 0) {
			for (;;) {
				ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
				unsigned i;
				bool ok;

				if (len < 0)
					break;
				if (parse(buf, (size_t)len, &i, &ok) && i < r->next && r->sent_at[i]) {
					answered(r, i, ok);
					outstanding--;
				}
			}
		}
	}
}

static int udp_connect(const char *server, unsigned port)
{
	struct sockaddr_in sa = address(server, port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 4 << 20;

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("udp socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

static struct {
	uint8_t op;  /* NAT-PMP: 1 udp, 2 tcp */
	unsigned first_port;
	uint32_t lifetime;
	uint8_t client[16];
} g;

static size_t natpmp_build(unsigned i, uint8_t *b)
{
	uint16_t port = htons((uint16_t)(g.first_port + i));
	uint32_t life = htonl(g.lifetime);

	b[0] = 0;
	b[1] = g.op;
	b[2] = b[3] = 0;
	memcpy(b + 4, &port, 2);
	if (g.lifetime == 0)  /* a delete suggests no external port */
		port = 0;
	memcpy(b + 6, &port, 2);
	memcpy(b + 8, &life, 4);
	return 12;
}

static bool natpmp_parse(const uint8_t *b, size_t len, unsigned *i, bool *ok)
{
	if (len < 16 || b[0] != 0 || b[1] != 128 + g.op)
		return false;
	*i = (unsigned)((b[8] << 8 | b[9]) - g.first_port);
	*ok = b[2] == 0 && b[3] == 0;
	return true;
}

/* RFC 6887 MAP: header, then nonce (i in its first bytes), protocol,
 * internal port, suggested external port and address. */
static size_t pcp_build(unsigned i, uint8_t *b)
{
	uint16_t port = htons((uint16_t)(g.first_port + i));
	uint32_t life = htonl(g.lifetime), nonce = htonl(i);

	memset(b, 0, 60);
	b[0] = 2;
	b[1] = 1;
	memcpy(b + 4, &life, 4);
	memcpy(b + 8, g.client, 16);
	memcpy(b + 24, &nonce, 4);
	b[36] = 6;
	memcpy(b + 40, &port, 2);
	memcpy(b + 42, &port, 2);
	return 60;
}

static bool pcp_parse(const uint8_t *b, size_t len, unsigned *i, bool *ok)
{
	uint32_t nonce;

	if (len < 60 || b[0] != 2 || b[1] != 0x81)
		return false;
	memcpy(&nonce, b + 24, 4);
	*i = ntohl(nonce);
	*ok = b[3] == 0;
	return true;
}

/* --- UPnP SOAP over HTTP, one request per connection --- */

struct http_slot {
	int fd;
	unsigned i;
	uint64_t start;
	size_t sent, len, got;
	char req[1600], resp[1024];
};

static void upnp_load(const char *server, unsigned port, const char *service,
		      const char *client, struct run *r, uint32_t lease)
{
	struct sockaddr_in sa = address(server, port);
	struct http_slot *slots = calloc(r->window, sizeof(*slots));
	struct pollfd *pfd = calloc(r->window, sizeof(*pfd));

	if (!slots || !pfd)
		die("calloc");
	for (unsigned s = 0; s < r->window; s++)
		slots[s].fd = -1;
	while (r->answered + r->lost < r->count && !(incomplete = now_us() > budget_end)) {
		for (unsigned s = 0; s < r->window; s++) {
			struct http_slot *h = &slots[s];
			char body[1024];
			int blen;

			if (h->fd >= 0 || r->next >= r->count)
				continue;
			h->i = r->next++;
			if (lease == UINT32_MAX)
				blen = snprintf(body, sizeof(body),
					"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
					"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
					"<u:DeletePortMapping xmlns:u=\"%s\"><NewRemoteHost></NewRemoteHost>"
					"<NewExternalPort>%u</NewExternalPort><NewProtocol>TCP</NewProtocol>"
					"</u:DeletePortMapping></s:Body></s:Envelope>", service, g.first_port + h->i);
			else
				blen = snprintf(body, sizeof(body),
				"<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
				"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
				"<u:AddPortMapping xmlns:u=\"%s\"><NewRemoteHost></NewRemoteHost>"
				"<NewExternalPort>%u</NewExternalPort><NewProtocol>TCP</NewProtocol>"
				"<NewInternalPort>%u</NewInternalPort><NewInternalClient>%s</NewInternalClient>"
				"<NewEnabled>1</NewEnabled><NewPortMappingDescription>bench</NewPortMappingDescription>"
				"<NewLeaseDuration>%u</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>",
				service, g.first_port + h->i, g.first_port + h->i, client, lease);
			h->len = (size_t)snprintf(h->req, sizeof(h->req),
				"POST /ctl/IPConn HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n"
				"SOAPAction: \"%s#%s\"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
				server, port, service, lease == UINT32_MAX ? "DeletePortMapping" : "AddPortMapping",
				blen, body);
			h->sent = h->got = 0;
			h->start = now_us();
			r->sent_at[h->i] = h->start;
			h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (h->fd < 0)
				die("socket");
			if (connect(h->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
				die("connect");
		}
		for (unsigned s = 0; s < r->window; s++) {
			pfd[s].fd = slots[s].fd;
			pfd[s].events = slots[s].sent < slots[s].len ? POLLOUT : POLLIN;
		}
		poll(pfd, r->window, 100);
		for (unsigned s = 0; s < r->window; s++) {
			struct http_slot *h = &slots[s];
			bool done = false, ok = false;

			if (h->fd < 0)
				continue;
			if (now_us() - h->start > LOST_US) {
				r->sent_at[h->i] = 0;
				r->lost++;
				close(h->fd);
				h->fd = -1;
				continue;
			}
			if (pfd[s].revents & POLLOUT) {
				ssize_t n = send(h->fd, h->req + h->sent, h->len - h->sent, MSG_NOSIGNAL);

				if (n > 0)
					h->sent += (size_t)n;
				else if (n < 0 && errno != EAGAIN)
					done = true;
			} else if (pfd[s].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t n = recv(h->fd, h->resp + h->got, sizeof(h->resp) - 1 - h->got, 0);

				if (n > 0)
					h->got += (size_t)n;
				if (n <= 0 || h->got >= sizeof(h->resp) - 1) {
					h->resp[h->got] = '\0';
					ok = strncmp(h->resp, "HTTP/1.1 200", 12) == 0 ||
					     strncmp(h->resp, "HTTP/1.0 200", 12) == 0;
					done = true;
				}
			}
			if (done) {
				answered(r, h->i, ok);
				close(h->fd);
				h->fd = -1;
			}
		}
	}
	free(slots);
	free(pfd);
}

/* --- responsiveness --- */

static int delete_all_flood(const char *server, unsigned duration_ms)
{
	enum { WINDOW = 64 };
	int fd = udp_connect(server, 5351);
	uint64_t end = now_us() + (uint64_t)duration_ms * 1000;
	const uint8_t req[12] = { 0, 1 };  /* all zero past the opcode */
	unsigned long sent = 0, answered_n = 0, outstanding = 0;

	while (now_us() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t buf[64];

		for (; outstanding < WINDOW && send(fd, req, sizeof(req), MSG_DONTWAIT) > 0; outstanding++)
			sent++;
		if (poll(&p, 1, 10) <= 0) {
			/* What was dropped is not coming: a new window. */
			outstanding = 0;
			continue;
		}
		for (; recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; answered_n++)
			if (outstanding)
				outstanding--;
	}
	printf("sent=%lu answered=%lu\n", sent, answered_n);
	return 0;
}

static int gap(const char *server, unsigned port, unsigned duration_ms, unsigned interval_ms)
{
	int fd = udp_connect(server, port);
	uint64_t end = now_us() + (uint64_t)duration_ms * 1000, max_gap = 0;
	unsigned answered_n = 0, lost = 0;

	while (now_us() < end) {
		uint8_t req[2] = { 0, 0 }, buf[64];
		uint64_t t = now_us();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		bool got = false;

		send(fd, req, 2, 0);
		while (!got && now_us() - t < 1000000) {
			if (poll(&p, 1, 100) > 0 && recv(fd, buf, sizeof(buf), 0) >= 12 && buf[1] == 128)
				got = true;
		}
		if (got) {
			answered_n++;
			if (now_us() - t > max_gap)
				max_gap = now_us() - t;
		} else {
			lost++;
		}
		usleep(interval_ms * 1000);
	}
	printf("max_gap_us=%llu answered=%u lost=%u\n", (unsigned long long)max_gap, answered_n, lost);
	return 0;
}

/* --- the data path --- */

static int tcp_sink(unsigned port, unsigned duration_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	uint64_t end = now_us() + (uint64_t)duration_s * 1000000;
	unsigned long accepted = 0;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0)
		die("listen");
	while (now_us() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) <= 0)
			continue;
		for (int c; (c = accept(fd, NULL, NULL)) >= 0;) {
			struct linger l = { 1, 0 };

			/* A reset: no TIME_WAIT on either side to run out of ports. */
			setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(c);
			accepted++;
		}
	}
	printf("accepted=%lu\n", accepted);
	return 0;
}

static int udp_sink(unsigned port, unsigned duration_s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 8 << 20;
	uint64_t start = 0, last = 0, end = now_us() + (uint64_t)duration_s * 1000000;
	unsigned long received = 0;
	char buf[2048];

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind");
	while (now_us() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 100) <= 0)
			continue;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
			last = now_us();
			if (!start)
				start = last;
			received++;
		}
	}
	printf("received=%lu pps=%.0f\n", received,
	       last > start ? (double)received / ((double)(last - start) / 1e6) : 0.0);
	return 0;
}

static int tcp_rate(const char *dst, unsigned port, unsigned duration_s, unsigned window)
{
	struct sockaddr_in sa = address(dst, port);
	struct pollfd *p = calloc(window, sizeof(*p));
	uint64_t start = now_us(), end = start + (uint64_t)duration_s * 1000000;
	unsigned long connected = 0, failed = 0;

	if (!p || window == 0 || window > MAX_WINDOW)
		die("window");
	for (unsigned s = 0; s < window; s++)
		p[s].fd = -1;
	while (now_us() < end) {
		for (unsigned s = 0; s < window; s++) {
			if (p[s].fd >= 0)
				continue;
			p[s].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			p[s].events = POLLOUT;
			if (p[s].fd < 0 ||
			    (connect(p[s].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS))
				die("connect");
		}
		if (poll(p, window, 100) <= 0)
			continue;
		for (unsigned s = 0; s < window; s++) {
			int e = 0;
			socklen_t el = sizeof(e);
			struct linger l = { 1, 0 };

			if (!p[s].revents)
				continue;
			getsockopt(p[s].fd, SOL_SOCKET, SO_ERROR, &e, &el);
			/* The sink resets what it accepted: a reset means the
			 * handshake went through; a refusal, that it did not. */
			if (e == 0 || e == ECONNRESET)
				connected++;
			else
				failed++;
			setsockopt(p[s].fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(p[s].fd);
			p[s].fd = -1;
		}
	}
	printf("connected=%lu failed=%lu rate=%.0f\n", connected, failed,
	       (double)connected / ((double)(now_us() - start) / 1e6));
	return 0;
}

/* Whether one connection gets through within timeout_ms: exit 0 or 1. */
static int tcp_probe(const char *dst, unsigned port, unsigned timeout_ms)
{
	struct sockaddr_in sa = address(dst, port);
	struct pollfd p = { .fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), .events = POLLOUT };
	int e = ETIMEDOUT;
	socklen_t el = sizeof(e);

	if (p.fd < 0 || (connect(p.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS))
		return 1;
	if (poll(&p, 1, (int)timeout_ms) == 1)
		getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &e, &el);
	close(p.fd);
	return e == 0 || e == ECONNRESET ? 0 : 1;
}

static int udp_rate(const char *dst, unsigned port, unsigned duration_s)
{
	int fd = udp_connect(dst, port);
	uint64_t end = now_us() + (uint64_t)duration_s * 1000000;
	unsigned long sent = 0;
	char payload[64] = "portleased bench";

	while (now_us() < end)
		for (int k = 0; k < 256; k++)
			if (send(fd, payload, sizeof(payload), 0) > 0)
				sent++;
	printf("sent=%lu\n", sent);
	return 0;
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > 100000000ul) {
		fprintf(stderr, "loadgen: bad number %s\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	struct run r;
	uint64_t start;
	const char *mode = argc > 1 ? argv[1] : "";
	const char *budget = getenv("LOADGEN_BUDGET_S");

	if (budget)
		budget_end = now_us() + (uint64_t)num(budget) * 1000000;

	if (strcmp(mode, "natpmp") == 0 && argc == 9) {
		int fd = udp_connect(argv[2], 5351);

		g.op = strcmp(argv[4], "udp") == 0 ? 1 : 2;
		g.first_port = num(argv[5]);
		g.lifetime = strcmp(argv[3], "delete") == 0 ? 0 : num(argv[8]);
		run_init(&r, num(argv[6]), num(argv[7]));
		start = now_us();
		udp_load(fd, &r, natpmp_build, natpmp_parse);
		report(&r, start);
		run_free(&r);
		return 0;
	}
	if (strcmp(mode, "pcp") == 0 && argc == 8) {
		int fd = udp_connect(argv[2], 5351);
		struct in_addr client;

		if (inet_pton(AF_INET, argv[3], &client) != 1)
			return 2;
		g.client[10] = g.client[11] = 0xff;
		memcpy(g.client + 12, &client, 4);
		g.first_port = num(argv[4]);
		g.lifetime = num(argv[7]);
		run_init(&r, num(argv[5]), num(argv[6]));
		start = now_us();
		udp_load(fd, &r, pcp_build, pcp_parse);
		report(&r, start);
		run_free(&r);
		return 0;
	}
	if (strcmp(mode, "upnp") == 0 && argc == 10) {
		g.first_port = num(argv[6]);
		run_init(&r, num(argv[7]), num(argv[8]));
		start = now_us();
		upnp_load(argv[2], num(argv[3]), argv[4], argv[5], &r,
			  strcmp(argv[9], "delete") == 0 ? UINT32_MAX : num(argv[9]));
		report(&r, start);
		run_free(&r);
		return 0;
	}
	if (strcmp(mode, "delete-all") == 0 && argc == 4)
		return delete_all_flood(argv[2], num(argv[3]));
	if (strcmp(mode, "gap") == 0 && argc == 6)
		return gap(argv[2], num(argv[3]), num(argv[4]), num(argv[5]));
	if (strcmp(mode, "tcp-sink") == 0 && argc == 4)
		return tcp_sink(num(argv[2]), num(argv[3]));
	if (strcmp(mode, "udp-sink") == 0 && argc == 4)
		return udp_sink(num(argv[2]), num(argv[3]));
	if (strcmp(mode, "tcp-rate") == 0 && argc == 6)
		return tcp_rate(argv[2], num(argv[3]), num(argv[4]), num(argv[5]));
	if (strcmp(mode, "tcp-probe") == 0 && argc == 5)
		return tcp_probe(argv[2], num(argv[3]), num(argv[4]));
	if (strcmp(mode, "udp-rate") == 0 && argc == 5)
		return udp_rate(argv[2], num(argv[3]), num(argv[4]));
	fprintf(stderr, "usage: see the comment at the top of tests/bench/loadgen.c\n");
	return 2;
}
