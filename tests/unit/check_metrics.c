/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <event2/buffer.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"
#include "unit.h"

static struct daemon_status sample(void)
{
	struct daemon_status st = {
		.version = "1.2.3", .uptime = 3600, .start_time = 1796000000, .epoch = 3599,
		.epoch_start_time = 1795990000, .has_external_address = true,
		.external_address = unit_v4("203.0.113.1"), .leases = 7, .capacity = 4096,
		.pinholes = 2, .by_origin = { 4, 2, 1 },
	};

	metrics_count_request(&st.counters, METRICS_NATPMP, true, true);
	metrics_count_request(&st.counters, METRICS_NATPMP, true, false);
	metrics_count_request(&st.counters, METRICS_NATPMP, false, false);
	metrics_count_request(&st.counters, METRICS_UPNP, true, true);
	st.counters.events[METRICS_GRANTED][LEASE_ORIGIN_PCP] = 5;
	st.counters.events[METRICS_REFUSED][LEASE_ORIGIN_NATPMP] = 9;
	st.counters.rate_limited = 8;
	st.counters.receive_dropped = 42;
	st.counters.reloads[0] = 3;
	st.counters.reloads[1] = 1;
	st.counters.nftables_errors = 2;
	st.counters.lease_file_errors = 5;
	return st;
}

static char *format(const struct daemon_status *st)
{
	struct evbuffer *b = evbuffer_new();
	char *text;

	metrics_format(b, st);
	text = unit_take_text(b);
	evbuffer_free(b);
	return text;
}

START_TEST(test_counting)
{
	struct daemon_status st = sample();

	ck_assert_uint_eq(st.counters.requests[METRICS_NATPMP], 3);
	ck_assert_uint_eq(st.counters.successes[METRICS_NATPMP], 1);
	ck_assert_uint_eq(st.counters.errors[METRICS_NATPMP], 1);  /* and one dropped */
	ck_assert_uint_eq(st.counters.requests[METRICS_PCP], 0);
}
END_TEST

START_TEST(test_samples)
{
	struct daemon_status st = sample();
	char *text = format(&st);
	static const char *const want[] = {
		"portleased_build_info{version=\"1.2.3\"} 1\n",
		"portleased_start_time_seconds 1796000000\n",
		"portleased_epoch_start_time_seconds 1795990000\n",
		"portleased_external_address_info{address=\"203.0.113.1\"} 1\n",
		"portleased_leases{origin=\"natpmp\"} 4\n",
		"portleased_leases{origin=\"upnp\"} 1\n",
		"portleased_leases_max 4096\n",
		"portleased_pinholes 2\n",
		"portleased_requests_total{protocol=\"natpmp\"} 3\n",
		"portleased_requests_total{protocol=\"pcp\"} 0\n",
		"portleased_responses_total{protocol=\"natpmp\",result=\"success\"} 1\n",
		"portleased_responses_total{protocol=\"natpmp\",result=\"error\"} 1\n",
		"portleased_responses_total{protocol=\"upnp\",result=\"success\"} 1\n",
		"portleased_mapping_events_total{event=\"granted\",origin=\"pcp\"} 5\n",
		"portleased_mapping_events_total{event=\"refused\",origin=\"natpmp\"} 9\n",
		"portleased_mapping_events_total{event=\"expired\",origin=\"upnp\"} 0\n",
		"portleased_rate_limited_total 8\n",
		"portleased_receive_dropped_total 42\n",
		"portleased_reloads_total{result=\"applied\"} 3\n",
		"portleased_reloads_total{result=\"refused\"} 1\n",
		"portleased_nftables_errors_total 2\n",
		"portleased_lease_file_errors_total 5\n",
		"# TYPE portleased_start_time_seconds gauge\n",
		"# TYPE portleased_requests_total counter\n",
		"# TYPE portleased_leases gauge\n",
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(text, want[i]), "missing: %s", want[i]);
	free(text);

	st.has_external_address = false;
	text = format(&st);
	ck_assert_ptr_null(strstr(text, "portleased_external_address_info{"));
	ck_assert_ptr_nonnull(strstr(text, "portleased_upstream_info{state=\"off\",protocol=\"\","
					   "server=\"\",external_address=\"\"} 1\n"));
	ck_assert_ptr_null(strstr(text, "\nportleased_upstream_epoch_seconds "));
	free(text);

	st.upstream = (struct upstream_status){ .state = UPSTREAM_FOUND,
						.protocol = UPSTREAM_NATPMP, .has_server = true,
						.has_external = true, .has_epoch = true,
						.epoch = 12 };
	inet_pton(AF_INET, "100.64.0.1", &st.upstream.server);
	inet_pton(AF_INET, "203.0.113.1", &st.upstream.external);
	text = format(&st);
	ck_assert_ptr_nonnull(strstr(text, "portleased_upstream_info{state=\"found\","
					   "protocol=\"natpmp\",server=\"100.64.0.1\","
					   "external_address=\"203.0.113.1\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "portleased_upstream_epoch_seconds 12\n"));
	free(text);
	/* A UPnP IGD has no epoch. */
	st.upstream.protocol = UPSTREAM_UPNP;
	st.upstream.has_epoch = false;
	text = format(&st);
	ck_assert_ptr_nonnull(strstr(text, "protocol=\"upnp\",server=\"100.64.0.1\""));
	ck_assert_ptr_null(strstr(text, "\nportleased_upstream_epoch_seconds "));
	free(text);
}
END_TEST

/* Every line is a comment or a sample Prometheus can parse; every sample's
 * family has its TYPE line before it. */
START_TEST(test_exposition_grammar)
{
	struct daemon_status st = sample();
	char *text = format(&st), *save = NULL, typed[64][64];
	size_t ntyped = 0, samples = 0;
	regex_t sample_re, type_re;

	ck_assert_int_eq(regcomp(&sample_re,
				 "^([a-z_]+)(\\{[a-z_]+=\"[^\"\\\\]*\"(,[a-z_]+=\"[^\"\\\\]*\")*\\})? [0-9]+$",
				 REG_EXTENDED), 0);
	ck_assert_int_eq(regcomp(&type_re, "^# TYPE ([a-z_]+) (counter|gauge)$", REG_EXTENDED), 0);
	ck_assert(text[strlen(text) - 1] == '\n');
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[2];
		bool known = false;

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (regexec(&type_re, line, 2, m, 0) == 0) {
			ck_assert_uint_lt(ntyped, 64);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 line + m[1].rm_so);
			continue;
		}
		ck_assert_msg(regexec(&sample_re, line, 2, m, 0) == 0, "not a sample: %s", line);
		for (size_t i = 0; i < ntyped; i++)
			known |= strlen(typed[i]) == (size_t)(m[1].rm_eo - m[1].rm_so) &&
				 strncmp(typed[i], line + m[1].rm_so, strlen(typed[i])) == 0;
		ck_assert_msg(known, "no TYPE before %s", line);
		samples++;
	}
	ck_assert_uint_ge(samples, 30);
	regfree(&sample_re);
	regfree(&type_re);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_counting);
	tcase_add_test(tc, test_samples);
	tcase_add_test(tc, test_exposition_grammar);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
