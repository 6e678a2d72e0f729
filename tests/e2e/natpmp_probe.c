/*
 * natpmp_probe: one NAT-PMP request, one answer, timed. For the e2e tests
 * where natpmpc cannot help: precise answer latency and hand-made (hostile)
 * datagrams.
 *
 *   natpmp_probe SERVER map tcp|udp INTERNAL_PORT EXTERNAL_PORT LIFETIME
 *   natpmp_probe SERVER raw HEXBYTES
 *
 * Prints "result=R op=O epoch=E [external=A | internal=I mapped=M lifetime=L]
 * rtt_us=T", or "noreply" and exits 1 if nothing came back within 1 s.
 */
#include <arpa/inet.h>
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
			"       natpmp_probe SERVER raw HEXBYTES\n");
	exit(2);
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
		req[0] = 0;
		req[1] = strcmp(argv[3], "tcp") == 0 ? 2 : 1;
		req[2] = req[3] = 0;
		req[4] = (uint8_t)(iport >> 8);
		req[5] = (uint8_t)iport;
		req[6] = (uint8_t)(eport >> 8);
		req[7] = (uint8_t)eport;
		req[8] = (uint8_t)(life >> 24);
		req[9] = (uint8_t)(life >> 16);
		req[10] = (uint8_t)(life >> 8);
		req[11] = (uint8_t)life;
		len = 12;
	} else if (strcmp(argv[2], "raw") == 0 && argc == 4) {
		len = parse_hex(argv[3], req, sizeof(req));
	} else {
		usage();
	}

	fd = socket(to->sa_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, to, tolen) < 0) {
		perror("natpmp_probe: socket");
		return 2;
	}
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
