/* SPDX-License-Identifier: GPL-2.0-or-later */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#include "lib/datagram.h"
#include "unit.h"

/* A received message as recvmsg() leaves it: the source in msg_name, and a
 * pktinfo control message unless pktinfo_level is NO_PKTINFO (IPPROTO_IP is 0). */
#define NO_PKTINFO (-1)
struct received {
	struct sockaddr_storage from;
	char control[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct msghdr msg;
};

static void receive(struct received *r, const char *source, int pktinfo_level, unsigned ifindex)
{
	memset(r, 0, sizeof(*r));
	r->msg.msg_name = &r->from;
	if (strchr(source, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&r->from;

		sin6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, source, &sin6->sin6_addr), 1);
		r->msg.msg_namelen = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&r->from;

		sin->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, source, &sin->sin_addr), 1);
		r->msg.msg_namelen = sizeof(*sin);
	}
	if (pktinfo_level == NO_PKTINFO)
		return;
	r->msg.msg_control = r->control;
	r->msg.msg_controllen = sizeof(r->control);
	struct cmsghdr *c = CMSG_FIRSTHDR(&r->msg);

	c->cmsg_level = pktinfo_level;
	if (pktinfo_level == IPPROTO_IP) {
		struct in_pktinfo pi = { .ipi_ifindex = (int)ifindex };

		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		r->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_ifindex = ifindex };

		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		r->msg.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
}

START_TEST(test_ipv4_and_ipv6_origins)
{
	struct received r;
	struct in6_addr source, want;
	unsigned ifindex = 0;

	receive(&r, "192.168.1.10", IPPROTO_IP, 3);
	ck_assert(datagram_origin(&r.msg, &source, &ifindex));
	ck_assert_uint_eq(ifindex, 3);
	want = unit_v4("192.168.1.10");
	ck_assert(addr_equal(&source, &want));

	receive(&r, "fe80::1", IPPROTO_IPV6, 7);
	ck_assert(datagram_origin(&r.msg, &source, &ifindex));
	ck_assert_uint_eq(ifindex, 7);
	inet_pton(AF_INET6, "fe80::1", &want);
	ck_assert(addr_equal(&source, &want));
}
END_TEST

START_TEST(test_incomplete_origins_refused)
{
	struct received r;
	struct in6_addr source;
	unsigned ifindex = 0;

	receive(&r, "192.168.1.10", NO_PKTINFO, 0);
	ck_assert(!datagram_origin(&r.msg, &source, &ifindex));
	receive(&r, "::ffff:192.168.1.10", IPPROTO_IPV6, 2);  /* mapped on an IPv6 socket */
	ck_assert(!datagram_origin(&r.msg, &source, &ifindex));
	receive(&r, "192.168.1.10", IPPROTO_IP, 2);
	r.msg.msg_namelen = 3;                      /* an odd address length */
	ck_assert(!datagram_origin(&r.msg, &source, &ifindex));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("datagram");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ipv4_and_ipv6_origins);
	tcase_add_test(tc, test_incomplete_origins_refused);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
