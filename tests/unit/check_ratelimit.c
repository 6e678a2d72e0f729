/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/ratelimit.h"
#include "unit.h"

static struct rate_limiter *new_limiter(void)
{
	struct rate_limiter *rl = malloc(sizeof(*rl));

	ck_assert_ptr_nonnull(rl);
	rate_limiter_init(rl, 12345);
	return rl;
}

static unsigned served(struct rate_limiter *rl, const struct host_id *c, uint64_t now,
		       unsigned tries, uint32_t rate, uint32_t burst)
{
	unsigned n = 0;

	for (unsigned i = 0; i < tries; i++)
		n += rate_limiter_take(rl, c, now, rate, burst);
	return n;
}

/* A burst is served whole, the next request refused; then one request
 * per 1/rate seconds, no more. */
START_TEST(test_burst_then_rate)
{
	struct rate_limiter *rl = new_limiter();
	struct host_id a = unit_host("192.168.1.10");

	ck_assert_uint_eq(served(rl, &a, 1000, 100, 5, 10), 10);
	ck_assert(!rate_limiter_take(rl, &a, 1199, 5, 10));
	ck_assert(rate_limiter_take(rl, &a, 1200, 5, 10));
	ck_assert(!rate_limiter_take(rl, &a, 1200, 5, 10));
	/* 10 s later: refilled to the burst, not beyond. */
	ck_assert_uint_eq(served(rl, &a, 11200, 100, 5, 10), 10);
	/* Over 60 s at 5/s: 300 served of 6000 asked, one every 200 ms. */
	unsigned n = 0;
	for (uint64_t t = 11210; t <= 71200; t += 10)
		n += rate_limiter_take(rl, &a, t, 5, 10);
	ck_assert_uint_eq(n, 300);
	free(rl);
}
END_TEST

START_TEST(test_clients_independent)
{
	struct rate_limiter *rl = new_limiter();
	struct host_id a = unit_host("192.168.1.10"), b = unit_host("192.168.1.11");

	ck_assert_uint_eq(served(rl, &a, 0, 50, 1, 3), 3);
	ck_assert_uint_eq(served(rl, &b, 0, 50, 1, 3), 3);
	ck_assert(!rate_limiter_take(rl, &a, 0, 1, 3));
	free(rl);
}
END_TEST

START_TEST(test_unlimited_and_reload)
{
	struct rate_limiter *rl = new_limiter();
	struct host_id a = unit_host("192.168.1.10");

	ck_assert_uint_eq(served(rl, &a, 0, 100000, 0, 0), 100000);
	ck_assert_uint_eq(served(rl, &a, 0, 4, 1, 100), 4);
	/* A reload to a burst of 2 applies at once: the 96 tokens left are
	 * not spendable. */
	ck_assert_uint_eq(served(rl, &a, 0, 10, 1, 2), 2);
	free(rl);
}
END_TEST

/* A host making up thousands of addresses cannot evict a limited host's
 * bucket: each refused request keeps that bucket the most recently used
 * of its set, and the table never grows. */
START_TEST(test_flood_of_addresses_keeps_the_limit)
{
	struct rate_limiter *rl = new_limiter();
	struct host_id a = unit_host("192.168.1.10");
	unsigned a_served = served(rl, &a, 0, 20, 1, 5);

	for (unsigned i = 0; i < 20 * RATELIMIT_CLIENTS; i++) {
		char text[32];
		struct host_id other;

		snprintf(text, sizeof(text), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		other = unit_host(text);
		ck_assert(rate_limiter_take(rl, &other, 0, 1, 5));
		if (i % 64 == 0)
			a_served += rate_limiter_take(rl, &a, 0, 1, 5);
	}
	ck_assert_uint_eq(a_served, 5);
	free(rl);
}
END_TEST

/* The clock going back (it is monotonic, but a caller may err) earns
 * nothing and breaks nothing. */
START_TEST(test_clock_backwards)
{
	struct rate_limiter *rl = new_limiter();
	struct host_id a = unit_host("192.168.1.10");

	ck_assert_uint_eq(served(rl, &a, 5000, 10, 1, 2), 2);
	ck_assert_uint_eq(served(rl, &a, 1000, 10, 1, 2), 0);
	ck_assert_uint_eq(served(rl, &a, 2000, 10, 1, 2), 1);
	free(rl);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_burst_then_rate);
	tcase_add_test(tc, test_clients_independent);
	tcase_add_test(tc, test_unlimited_and_reload);
	tcase_add_test(tc, test_flood_of_addresses_keeps_the_limit);
	tcase_add_test(tc, test_clock_backwards);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
