/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's approvals of requests "ask" rules refused
 * (daemon/approvals.c). */
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/approvals.h"

static struct approvals *a;

static void setup(void)
{
	a = malloc(sizeof(*a));
	ck_assert_ptr_nonnull(a);
	approvals_init(a);
}

static void teardown(void)
{
	free(a);
}

/* A request of host (by its IPv4 address text) for its own port. */
static struct pending_request request(const char *v4, uint16_t port)
{
	struct pending_request p;
	struct host_id host = unit_host(v4);
	struct in6_addr addr = unit_v4(v4);

	memset(&p, 0, sizeof(p));
	p.key = approvals_key(&host, &addr, &addr, IPPROTO_TCP, port);
	p.client = p.internal_addr = addr;
	p.external_port = port;
	p.origin = LEASE_ORIGIN_NATPMP;
	strcpy(p.description, "game");
	return p;
}

START_TEST(test_ask_approve)
{
	struct pending_request p = request("192.168.1.10", 8080), answered;
	const struct pending_request *out;

	ck_assert_uint_eq(approvals_until(a, &p.key, 1000), 0);
	ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_NEW);
	ck_assert_uint_eq(out->id, 1);
	ck_assert_str_eq(out->description, "game");
	/* The client retries: the same request, asked again. */
	ck_assert_int_eq(approvals_ask(a, &p, 2000, &out), APPROVALS_AGAIN);
	ck_assert_uint_eq(out->id, 1);
	ck_assert_uint_eq(out->asked, 2);
	ck_assert_uint_eq(approvals_pending_count(a, 2000), 1);

	ck_assert_int_eq(approvals_approve(a, 2, 60, 3000, &answered), -1);  /* no such request */
	ck_assert_int_eq(approvals_approve(a, 1, 60, 3000, &answered), 0);
	ck_assert_uint_eq(answered.id, 1);
	ck_assert_uint_eq(approvals_pending_count(a, 3000), 0);
	ck_assert_uint_eq(approvals_until(a, &p.key, 3000), 63000);
	ck_assert_int_eq(approvals_approve(a, 1, 60, 3000, &answered), -1);  /* answered already */
	/* Only the identical request: another port, or another host, is not. */
	struct pending_request other = request("192.168.1.10", 8081);
	ck_assert_uint_eq(approvals_until(a, &other.key, 3000), 0);
	other = request("192.168.1.11", 8080);
	ck_assert_uint_eq(approvals_until(a, &other.key, 3000), 0);
	/* Nor the same port as a pinhole, nor for a third party. */
	struct host_id host = unit_host("192.168.1.10");
	struct in6_addr v4 = unit_v4("192.168.1.10"), v6 = unit_v6("2001:db8::10"),
			third = unit_v4("192.168.1.12");
	struct approval_key k = approvals_key(&host, &v6, &v6, IPPROTO_TCP, 8080);
	ck_assert_uint_eq(approvals_until(a, &k, 3000), 0);
	k = approvals_key(&host, &v4, &third, IPPROTO_TCP, 8080);
	ck_assert_uint_eq(approvals_until(a, &k, 3000), 0);
	/* It runs out. */
	ck_assert_uint_eq(approvals_until(a, &p.key, 63000), 0);
}
END_TEST

START_TEST(test_reject_quiets)
{
	struct pending_request p = request("192.168.1.10", 8080), answered;
	const struct pending_request *out;

	ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_NEW);
	ck_assert_int_eq(approvals_reject(a, out->id, 2000, &answered), 0);
	ck_assert_uint_eq(approvals_until(a, &p.key, 2000), 0);
	ck_assert_int_eq(approvals_ask(a, &p, 3000, &out), APPROVALS_REJECTED);
	ck_assert_int_eq(approvals_ask(a, &p, 2000 + APPROVALS_REJECT_QUIET_MS, &out), APPROVALS_NEW);
	ck_assert_uint_eq(out->id, 2);
}
END_TEST

START_TEST(test_bounded)
{
	const struct pending_request *out;
	struct pending_request p;

	/* A host the router does not know cannot be approved. */
	p = request("192.168.1.10", 8080);
	p.key.host = host_id_unresolved(true);
	ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_UNKNOWN);
	/* A few per device. */
	for (uint16_t port = 1; port <= APPROVALS_PENDING_PER_HOST; port++) {
		p = request("192.168.1.10", port);
		ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_NEW);
	}
	p = request("192.168.1.10", 999);
	ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_FULL);
	/* And so many in all. */
	char addr[32];
	unsigned hosts = APPROVALS_PENDING_MAX / APPROVALS_PENDING_PER_HOST;
	for (unsigned h = 1; h < hosts; h++)
		for (uint16_t port = 1; port <= APPROVALS_PENDING_PER_HOST; port++) {
			snprintf(addr, sizeof(addr), "192.168.2.%u", h);
			p = request(addr, port);
			ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_NEW);
		}
	p = request("192.168.3.1", 1);
	ck_assert_int_eq(approvals_ask(a, &p, 1000, &out), APPROVALS_FULL);
	ck_assert_uint_eq(approvals_pending_count(a, 1000), APPROVALS_PENDING_MAX);
	/* Unanswered, they expire, and make room. */
	ck_assert_uint_eq(approvals_pending_count(a, 1000 + APPROVALS_PENDING_TTL_MS), 0);
	ck_assert_int_eq(approvals_ask(a, &p, 1000 + APPROVALS_PENDING_TTL_MS, &out), APPROVALS_NEW);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("approvals");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ask_approve);
	tcase_add_test(tc, test_reject_quiets);
	tcase_add_test(tc, test_bounded);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
