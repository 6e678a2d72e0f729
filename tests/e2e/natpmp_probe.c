/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * natpmp_probe: one NAT-PMP request, one answer, timed. For the e2e tests
 * where natpmpc cannot help: precise answer latency and hand-made (hostile)
 * datagrams.
 *
 *   natpmp_probe SERVER map tcp|udp INTERNAL_PORT EXTERNAL_PORT LIFETIME
 *   natpmp_probe SERVER raw HEXBYTES
 *   natpmp_probe SERVER flood tcp|udp FIRST_PORT COUNT DURATION_MS
 *   natpmp_probe SERVER spray HEXBYTES COUNT FIRST_SOURCE NSOURCES
 *
 * Prints "result=R op=O epoch=E [external=A | internal=I mapped=M lifetime=L]
 * rtt_us=T", or "noreply" and exits 1 if nothing came back within 1 s.
 *
 * flood sends COUNT map requests (internal ports FIRST_PORT on, lifetime
 * 60 s) evenly over DURATION_MS (at most 10 s), reads the answers as they
 * come and for 1 s after, and prints "sent=N success=S out_of_resources=R
 * other=O noreply=X elapsed_ms=T" (T: from the first request to the last
 * answer).
 *
 * spray sends the datagram COUNT times (at most 100,000), each from one of
 * NSOURCES IPv4 addresses from FIRST_SOURCE on, in turn (IP_TRANSPARENT: as
 * a host that forges its source would; needs CAP_NET_ADMIN), reads no
 * answer and prints "sent=N".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (hex[0] && hex[1] && n < cap) {
		unsigned v;
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr, "usage: natpmp_probe SERVER(IPv4 or IPv6) map tcp|udp IPORT EPORT LIFETIME\n"
			"       natpmp_probe SERVER raw HEXBYTES\n"
			"       natpmp_probe SERVER flood tcp|udp FIRST_PORT COUNT DURATION_MS\n"
			"       natpmp_probe SERVER spray HEXBYTES COUNT FIRST_SOURCE NSOURCES\n");
	exit(2);
}

static size_t build_map(uint8_t *req, const char *proto, unsigned long iport, unsigned long eport,
			unsigned long life)
{
	req[0] = 0;
	req[1] = strcmp(proto, "tcp") == 0 ? 2 : 1;
	req[2] = req[3] = 0;
	req[4] = (uint8_t)(iport >> 8);
	req[5] = (uint8_t)iport;
	req[6] = (uint8_t)(eport >> 8);
	req[7] = (uint8_t)eport;
	req[8] = (uint8_t)(life >> 24);
	req[9] = (uint8_t)(life >> 16);
	req[10] = (uint8_t)(life >> 8);
	req[11] = (uint8_t)life;
	return 12;
}

struct flood_count {
	unsigned answers, success, out_of_resources, other;
	uint64_t last_answer_us;
};

static void drain(int fd, int timeout_ms, struct flood_count *c)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t resp[64];
	ssize_t n;

	while (poll(&pfd, 1, timeout_ms) == 1) {
		if ((n = recv(fd, resp, sizeof(resp), MSG_DONTWAIT)) < 4)
			break;
		unsigned result = (unsigned)(resp[2] << 8 | resp[3]);
		c->answers++;
		c->success += result == 0;
		c->out_of_resources += result == 4;
		c->other += result != 0 && result != 4;
		c->last_answer_us = now_us();
	}
}

static int flood(int fd, const char *proto, unsigned long first, unsigned long count,
		 unsigned long duration_ms)
{
	struct flood_count c = { 0 };
	uint64_t start = now_us(), span = duration_ms * 1000;
	unsigned long sent = 0;
	uint8_t req[12];

	while (sent < count) {
		uint64_t due = start + (count > 1 ? span * sent / (count - 1) : 0), now = now_us();

		if (now < due) {
			drain(fd, (int)((due - now) / 1000), &c);
			continue;
		}
		build_map(req, proto, (first + sent) & 0xffff, (first + sent) & 0xffff, 60);
		if (send(fd, req, sizeof(req), 0) < 0)
			break;
		sent++;
		drain(fd, 0, &c);
	}
	drain(fd, 1000, &c);
	printf("sent=%lu success=%u out_of_resources=%u other=%u noreply=%lu elapsed_ms=%llu\n", sent,
	       c.success, c.out_of_resources, c.other, sent - c.answers,
	       (unsigned long long)(c.answers ? (c.last_answer_us - start) / 1000 : 0));
	return 0;
}

static int spray(const struct sockaddr_in *to, const uint8_t *req, size_t len, unsigned long count,
		 const char *first_source, unsigned long nsources)
{
	struct in_addr first;
	unsigned long sent = 0;
	int one = 1;

	if (inet_pton(AF_INET, first_source, &first) != 1 || nsources == 0 || count > 100000)
		usage();
	for (unsigned long i = 0; i < count; i++) {
		struct sockaddr_in from = { .sin_family = AF_INET,
					    .sin_addr.s_addr = htonl(ntohl(first.s_addr) + (uint32_t)(i % nsources)) };
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0 || setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0) {
			perror("natpmp_probe: spray");
			return 2;
		}
		if (sendto(fd, req, len, 0, (const struct sockaddr *)to, sizeof(*to)) == (ssize_t)len)
			sent++;
		close(fd);
	}
	printf("sent=%lu\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t req[2048], resp[64];
	size_t len = 0;
	struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(5351) };
	struct sockaddr_in6 server6 = { .sin6_family = AF_INET6, .sin6_port = htons(5351) };
	struct sockaddr *to = (struct sockaddr *)&server;
	socklen_t tolen = sizeof(server);
	struct pollfd pfd;
	uint64_t sent;
	ssize_t n;
	int fd;

	if (argc < 4)
		usage();
	if (inet_pton(AF_INET6, argv[1], &server6.sin6_addr) == 1) {
		to = (struct sockaddr *)&server6;
		tolen = sizeof(server6);
	} else if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
		usage();
	}
	if (strcmp(argv[2], "map") == 0 && argc == 7) {
		unsigned long iport = strtoul(argv[4], NULL, 10), eport = strtoul(argv[5], NULL, 10);
		unsigned long life = strtoul(argv[6], NULL, 10);
		len = build_map(req, argv[3], iport, eport, life);
	} else if (strcmp(argv[2], "flood") == 0 && argc == 7) {
		if (strtoul(argv[5], NULL, 10) > 100000 || strtoul(argv[6], NULL, 10) > 10000)
			usage();
	} else if (strcmp(argv[2], "raw") == 0 && argc == 4) {
		len = parse_hex(argv[3], req, sizeof(req));
	} else if (strcmp(argv[2], "spray") == 0 && argc == 7 && to == (struct sockaddr *)&server) {
		len = parse_hex(argv[3], req, sizeof(req));
		return spray(&server, req, len, strtoul(argv[4], NULL, 10), argv[5],
			     strtoul(argv[6], NULL, 10));
	} else {
		usage();
	}

	fd = socket(to->sa_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, to, tolen) < 0) {
		perror("natpmp_probe: socket");
		return 2;
	}
	if (strcmp(argv[2], "flood") == 0)
		return flood(fd, argv[3], strtoul(argv[4], NULL, 10), strtoul(argv[5], NULL, 10),
			     strtoul(argv[6], NULL, 10));
	sent = now_us();
	if (send(fd, req, len, 0) < 0) {
		perror("natpmp_probe: send");
		return 2;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 1000) != 1 || (n = recv(fd, resp, sizeof(resp), 0)) < 8) {
		printf("noreply\n");
		return 1;
	}
	printf("result=%u op=%u epoch=%u", (unsigned)(resp[2] << 8 | resp[3]), resp[1],
	       (unsigned)resp[4] << 24 | (unsigned)resp[5] << 16 | (unsigned)resp[6] << 8 | resp[7]);
	if (n == 12) {
		char ext[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, resp + 8, ext, sizeof(ext));
		printf(" external=%s", ext);
	} else if (n == 16) {
		printf(" internal=%u mapped=%u lifetime=%u", (unsigned)(resp[8] << 8 | resp[9]),
		       (unsigned)(resp[10] << 8 | resp[11]),
		       (unsigned)resp[12] << 24 | (unsigned)resp[13] << 16 |
			       (unsigned)resp[14] << 8 | resp[15]);
	}
	printf(" length=%zd rtt_us=%llu\n", n, (unsigned long long)(now_us() - sent));
	close(fd);
	return 0;
}
