/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "priv/filter.h"
#include "unit.h"

static struct remote_filter filter(const char *prefix, uint16_t port)
{
	struct remote_filter f = { .port = port };

	ck_assert(addr_parse_prefix(prefix, &f.remote));
	return f;
}

static bool in_range(const struct remote_range *r, const struct in6_addr *a, uint16_t port)
{
	return memcmp(a, &r->first, sizeof(*a)) >= 0 && memcmp(a, &r->last, sizeof(*a)) <= 0 &&
	       port >= r->port_first && port <= r->port_last;
}

START_TEST(test_covered_filters_dropped)
{
	struct remote_filter f[] = {
		filter("203.0.113.20", 80),       /* inside the /24 below: dropped */
		filter("203.0.113.0/24", 0),
		filter("203.0.113.0/24", 0),      /* duplicate: the first stays */
		filter("198.51.100.0/24", 443),
		filter("198.51.100.7", 0),        /* not covered: other ports too */
	};
	size_t n = filter_drop_covered(f, 5);

	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(f[0].remote.len, 120);
	ck_assert_uint_eq(f[0].port, 0);
	ck_assert_uint_eq(f[1].port, 443);
	ck_assert_uint_eq(f[2].remote.len, 128);
}
END_TEST

START_TEST(test_single_prefix_range)
{
	struct remote_filter f = filter("203.0.113.0/24", 0);
	struct remote_range r[FILTER_MAX_RANGES];
	struct in6_addr last = unit_v4("203.0.113.255");

	ck_assert_uint_eq(filter_ranges(&f, 1, r), 1);
	ck_assert_mem_eq(&r[0].first, &f.remote.net, 16);
	ck_assert_mem_eq(&r[0].last, &last, 16);
	ck_assert_uint_eq(r[0].port_first, 0);
	ck_assert_uint_eq(r[0].port_last, 65535);
}
END_TEST

START_TEST(test_narrow_any_port_cut_around_wide_ports)
{
	struct remote_filter f[] = {
		filter("203.0.113.0/24", 80),
		filter("203.0.113.0/25", 0),
		filter("203.0.113.0/16", 65535),
	};
	struct remote_range r[FILTER_MAX_RANGES];
	size_t n = filter_ranges(f, filter_drop_covered(f, 3), r);

	/* 80, 65535, and the /25 on 0-79 and 81-65534. */
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(r[1].port_first, 0);
	ck_assert_uint_eq(r[1].port_last, 79);
	ck_assert_uint_eq(r[2].port_first, 81);
	ck_assert_uint_eq(r[2].port_last, 65534);
}
END_TEST

START_TEST(test_no_filters_admit_everyone)
{
	struct in6_addr a = unit_v4("192.0.2.1");

	ck_assert(filter_admits(NULL, 0, &a, 1));
}
END_TEST

/*
 * Random lists of up to FILTER_MAX filters inside one /24 with a handful of
 * ports: every (address, port) point must lie in exactly one range if the
 * filters admit it and in none otherwise, which is both "disjoint" (what the
 * kernel demands) and "the same set" (what the client asked for).
 */
START_TEST(test_ranges_match_filters_exactly)
{
	static const uint16_t ports[] = { 0, 1, 2, 80, 81, 65534, 65535 };
	const size_t nports = sizeof(ports) / sizeof(ports[0]);

	srand(7);
	for (int round = 0; round < 300; round++) {
		struct remote_filter f[FILTER_MAX];
		struct remote_range r[FILTER_MAX_RANGES];
		size_t n = 1 + (size_t)rand() % FILTER_MAX, nr;

		for (size_t i = 0; i < n; i++) {
			unsigned len = 120 + (unsigned)rand() % 9;
			struct in6_addr a = unit_v4("203.0.113.0");

			a.s6_addr[15] = (uint8_t)rand();
			addr_mask(&a, len);
			f[i] = (struct remote_filter){ .remote = { .net = a, .len = (uint8_t)len },
						       .port = ports[(size_t)rand() % nports] };
		}
		struct remote_filter original[FILTER_MAX];
		memcpy(original, f, sizeof(f));
		size_t kept = filter_drop_covered(f, n);
		nr = filter_ranges(f, kept, r);
		ck_assert_uint_le(nr, FILTER_MAX_RANGES);

		for (unsigned host = 0; host < 256; host++) {
			struct in6_addr a = unit_v4("203.0.113.0");
			a.s6_addr[15] = (uint8_t)host;
			for (size_t p = 1; p < nports; p++) {
				unsigned hits = 0;
				for (size_t k = 0; k < nr; k++)
					hits += in_range(&r[k], &a, ports[p]);
				ck_assert_uint_eq(hits, filter_admits(original, n, &a, ports[p]));
				ck_assert_uint_eq(filter_admits(f, kept, &a, ports[p]),
						  filter_admits(original, n, &a, ports[p]));
			}
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("filter");

	/* A hang guard, not a speed target: the exhaustive check takes
	 * seconds under the sanitizers on a loaded machine. */
	tcase_set_timeout(tc, 60);

	tcase_add_test(tc, test_covered_filters_dropped);
	tcase_add_test(tc, test_single_prefix_range);
	tcase_add_test(tc, test_narrow_any_port_cut_around_wide_ports);
	tcase_add_test(tc, test_no_filters_admit_everyone);
	tcase_add_test(tc, test_ranges_match_filters_exactly);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
