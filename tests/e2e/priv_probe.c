/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * priv_probe: plays a compromised unprivileged half against portleased-nft.
 * It starts the helper itself over a socketpair, as portleased does, and
 * sends it one request per argument:
 *
 *   priv_probe HELPER CONFIG add tcp|udp EXT_PORT INTERNAL_ADDR INT_PORT CLIENT
 *   priv_probe HELPER CONFIG short      (a datagram one byte short)
 *   priv_probe HELPER CONFIG static tcp|udp EXT_PORT INTERNAL_ADDR INT_PORT
 *   priv_probe HELPER CONFIG peer tcp|udp INTERNAL_ADDR INT_PORT REMOTE_ADDR REMOTE_PORT
 *
 * and prints the helper's answer as "rc=N" (0, or -errno). The helper is
 * then told to leave its table in place, for the test to look at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "priv/priv.h"

static struct in6_addr v4_mapped(const char *text)
{
	struct in6_addr a = { .s6_addr = { [10] = 0xff, [11] = 0xff } };

	if (inet_pton(AF_INET, text, &a.s6_addr[12]) != 1) {
		fprintf(stderr, "priv_probe: bad address %s\n", text);
		exit(2);
	}
	return a;
}

int main(int argc, char **argv)
{
	static struct priv_request r;
	struct priv_hello hello;
	struct priv_reply reply;
	char fdarg[16];
	size_t len = sizeof(r);
	int sv[2];
	pid_t pid;

	if (argc < 4) {
		fprintf(stderr, "usage: priv_probe HELPER CONFIG add|static|peer|short ...\n");
		return 2;
	}
	if (strcmp(argv[3], "add") == 0 || strcmp(argv[3], "static") == 0) {
		bool is_static = strcmp(argv[3], "static") == 0;

		if (argc != (is_static ? 8 : 9))
			return 2;
		r.op = PRIV_ADD;
		r.mapping.proto = strcmp(argv[4], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
		r.mapping.external_port = (uint16_t)atoi(argv[5]);
		r.mapping.internal_addr = v4_mapped(argv[6]);
		r.mapping.internal_port = (uint16_t)atoi(argv[7]);
		r.mapping.operator_static = is_static;
		r.mapping.timeout_ms = is_static ? 0 : 60000;
		if (!is_static)
			r.mapping.client = v4_mapped(argv[8]);
	} else if (strcmp(argv[3], "peer") == 0) {
		if (argc != 9)
			return 2;
		r.op = PRIV_PEER;
		r.flow.proto = strcmp(argv[4], "udp") == 0 ? IPPROTO_UDP : IPPROTO_TCP;
		r.flow.internal_addr = v4_mapped(argv[5]);
		r.flow.internal_port = (uint16_t)atoi(argv[6]);
		r.flow.remote_addr = v4_mapped(argv[7]);
		r.flow.remote_port = (uint16_t)atoi(argv[8]);
		r.lifetime = 600;
	} else if (strcmp(argv[3], "short") == 0) {
		r.op = PRIV_ADD;
		len = sizeof(r) - 1;
	} else {
		return 2;
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		execl(argv[1], "portleased-nft", "-s", fdarg, "-f", argv[2], "-d", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	if (recv(sv[0], &hello, sizeof(hello), 0) != sizeof(hello) || hello.rc < 0) {
		fprintf(stderr, "priv_probe: the helper did not start\n");
		return 1;
	}
	if (send(sv[0], &r, len, 0) != (ssize_t)len ||
	    recv(sv[0], &reply, sizeof(reply), 0) != sizeof(reply))
		return 1;
	printf("rc=%d\n", reply.rc);
	memset(&r, 0, sizeof(r));
	r.op = PRIV_CLOSE;
	r.remove = 0;
	send(sv[0], &r, sizeof(r), 0);
	recv(sv[0], &reply, sizeof(reply), 0);
	waitpid(pid, NULL, 0);
	return 0;
}
