/* SPDX-License-Identifier: GPL-2.0-or-later */
/* on_event (daemon/event_hook.c): the environment a command gets, and a
 * real command run, bounded and never waited for. */
#include "unit.h"

#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/audit.h"
#include "daemon/event_hook.h"

static const char *find(char **env, const char *key)
{
	size_t len = strlen(key);

	for (; *env; env++)
		if (strncmp(*env, key, len) == 0 && (*env)[len] == '=')
			return *env + len + 1;
	return NULL;
}

START_TEST(test_environment)
{
	struct audit_record r = {
		.event = "granted", .origin = "upnp", .proto = IPPROTO_TCP,
		.client = unit_v4("192.168.1.10"), .internal_addr = unit_v4("192.168.1.10"),
		.internal_port = 8080, .has_external_port = true, .external_port = 18080,
		.lifetime = 600, .rule_line = 12, .result = "ok",
		.device = { .has_mac = true, .mac = { 2, 0, 0, 0, 0, 0x0a }, .name = "nas" },
		.description = "web\n$(reboot)\x1b[31m",
	};
	char buf[2048], *env[24];
	size_t n = event_hook_environment(&r, 1796601600, buf, sizeof(buf), env, 24);

	ck_assert_uint_gt(n, 10);
	ck_assert_ptr_null(env[n]);
	ck_assert_str_eq(find(env, "PORTLEASED_EVENT"), "granted");
	ck_assert_str_eq(find(env, "PORTLEASED_TIME"), "1796601600");
	ck_assert_str_eq(find(env, "PORTLEASED_PROTOCOL"), "tcp");
	ck_assert_str_eq(find(env, "PORTLEASED_CLIENT"), "192.168.1.10");
	ck_assert_str_eq(find(env, "PORTLEASED_EXTERNAL_PORT"), "18080");
	ck_assert_str_eq(find(env, "PORTLEASED_MAC"), "02:00:00:00:00:0a");
	ck_assert_str_eq(find(env, "PORTLEASED_DEVICE"), "nas");
	/* The client's words, with no control character left. */
	ck_assert_str_eq(find(env, "PORTLEASED_DESCRIPTION"), "web\\x0a$(reboot)\\x1b[31m");
	ck_assert_str_eq(find(env, "PATH"), "/usr/sbin:/usr/bin:/sbin:/bin");
	ck_assert_ptr_null(find(env, "PORTLEASED_REASON"));

	/* Bounded: a small buffer leaves fields out, never half of one. */
	n = event_hook_environment(&r, 1, buf, 64, env, 24);
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_nonnull(strchr(env[i], '='));
	n = event_hook_environment(&r, 1, buf, sizeof(buf), env, 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(env[2]);
}
END_TEST

/* The command runs with the event in its environment, and a busy or
 * hung one costs the caller nothing: the call returns at once. */
START_TEST(test_runs_command)
{
	char dir[] = "/tmp/check_event_hook.XXXXXX", script[64], out[80], line[128];
	struct event_base *base = event_base_new();
	struct metrics_counters metrics = { 0 };
	struct config cfg = { .on_event_mask = ~0u, .on_event_per_minute = 2 };
	struct audit_record r = { .event = "pending", .proto = IPPROTO_UDP, .approval_id = 7,
				  .internal_addr = unit_v4("192.168.1.10"), .internal_port = 9 };
	struct event_hook *h;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/hook", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$PORTLEASED_EVENT $PORTLEASED_ID\" >> %s\n", out);
	fclose(f);
	chmod(script, 0755);
	snprintf(cfg.on_event_command, sizeof(cfg.on_event_command), "%s", script);
	h = event_hook_new(base, &cfg, &metrics);
	ck_assert_ptr_nonnull(h);
	event_hook_on_event(h, &r);
	event_hook_on_event(h, &r);
	event_hook_on_event(h, &r);  /* over per_minute: counted, not run */
	ck_assert_uint_eq(metrics.on_event_runs, 2);
	ck_assert_uint_eq(metrics.on_event_dropped, 1);
	/* The loop reaps them. */
	for (int i = 0; i < 50 && access(out, F_OK) != 0; i++)
		event_base_loop(base, EVLOOP_ONCE);
	for (int i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(20000);
	}
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "pending 7\n");
	fclose(f);
	ck_assert_uint_eq(metrics.on_event_failures, 0);
	/* An event not chosen runs nothing. */
	cfg.on_event_mask = 0;
	event_hook_configure(h, &cfg);
	event_hook_on_event(h, &r);
	ck_assert_uint_eq(metrics.on_event_runs, 2);
	event_hook_free(h);
	event_base_free(base);
	unlink(out);
	unlink(script);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("event_hook");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_environment);
	tcase_add_test(tc, test_runs_command);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
