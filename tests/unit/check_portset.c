/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdlib.h>

#include "lib/portset.h"
#include "unit.h"

static struct portset ps;

static void setup(void)
{
	portset_init(&ps);
}

START_TEST(test_port_zero_never_free)
{
	ck_assert(portset_test(&ps, 0));
	ck_assert_int_eq(portset_find_free(&ps, 0, 10), 1);
}
END_TEST

START_TEST(test_add_remove)
{
	portset_add(&ps, 8080);
	ck_assert(portset_test(&ps, 8080));
	ck_assert_int_eq(portset_find_free(&ps, 8080, 8090), 8081);
	portset_remove(&ps, 8080);
	ck_assert(!portset_test(&ps, 8080));
	ck_assert_int_eq(portset_find_free(&ps, 8080, 8090), 8080);
}
END_TEST

START_TEST(test_range_bounds_respected)
{
	for (unsigned p = 100; p <= 200; p++)
		portset_add(&ps, (uint16_t)p);
	ck_assert_int_eq(portset_find_free(&ps, 100, 200), -1);
	ck_assert_int_eq(portset_find_free(&ps, 150, 201), 201);
	ck_assert_int_eq(portset_find_free(&ps, 201, 200), -1);
}
END_TEST

START_TEST(test_full_words_are_skipped)
{
	/* Fill 1..60000 so the search must cross hundreds of full words. */
	for (unsigned p = 1; p <= 60000; p++)
		portset_add(&ps, (uint16_t)p);
	ck_assert_int_eq(portset_find_free(&ps, 1, 65535), 60001);
	portset_remove(&ps, 4242);
	ck_assert_int_eq(portset_find_free(&ps, 1, 65535), 4242);
	ck_assert_int_eq(portset_find_free(&ps, 4243, 65535), 60001);
}
END_TEST

START_TEST(test_top_of_port_space)
{
	for (unsigned p = 1; p <= 65535; p++)
		portset_add(&ps, (uint16_t)p);
	ck_assert_int_eq(portset_find_free(&ps, 1, 65535), -1);
	ck_assert_int_eq(portset_find_free(&ps, 65535, 65535), -1);
	portset_remove(&ps, 65535);
	ck_assert_int_eq(portset_find_free(&ps, 1, 65535), 65535);
	ck_assert_int_eq(portset_find_free(&ps, 65535, 65535), 65535);
}
END_TEST

/* Against a plain array, with pseudo-random operations. */
START_TEST(test_matches_reference_model)
{
	static unsigned char model[65536];
	uint32_t x = 12345;

	for (int i = 0; i < 65536; i++)
		model[i] = i == 0;
	for (int round = 0; round < 20000; round++) {
		x = x * 1103515245u + 12345u;
		uint16_t port = (uint16_t)(1 + (x >> 8) % 65535);
		if (x & 0x80) {
			portset_add(&ps, port);
			model[port] = 1;
		} else {
			portset_remove(&ps, port);
			model[port] = 0;
		}
		uint16_t lo = (uint16_t)((x >> 3) % 65536), hi = (uint16_t)(lo + (x >> 20) % 3000);
		if (hi < lo)
			hi = 65535;
		int expect = -1;
		for (unsigned p = lo; p <= hi; p++)
			if (!model[p]) {
				expect = (int)p;
				break;
			}
		if (portset_find_free(&ps, lo, hi) != expect)
			ck_abort_msg("round %d: find_free(%u, %u) should be %d", round, lo, hi, expect);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("portset");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_port_zero_never_free);
	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_range_bounds_respected);
	tcase_add_test(tc, test_full_words_are_skipped);
	tcase_add_test(tc, test_top_of_port_space);
	tcase_add_test(tc, test_matches_reference_model);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
