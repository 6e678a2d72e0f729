/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "unit.h"

static const struct timespec noon = { .tv_sec = 43200, .tv_nsec = 123456789 };

/* The journal files a line at the priority its "<N>" names, and stamps it
 * itself: no time of ours, no process name (it knows the unit's). */
START_TEST(test_journal_lines_carry_their_priority)
{
	char line[256];

	log_format(line, sizeof(line), LOG_TO_JOURNAL, LOG_NOTICE, "portleased", &noon,
		   "audit event=granted origin=pcp", NULL);
	ck_assert_str_eq(line, "<5>audit event=granted origin=pcp");
	log_format(line, sizeof(line), LOG_TO_JOURNAL, LOG_ERR, "portleased", &noon,
		   "cannot open", "Permission denied");
	ck_assert_str_eq(line, "<3>cannot open: Permission denied");
	log_format(line, sizeof(line), LOG_TO_JOURNAL, LOG_WARNING, "portleased-nft", &noon,
		   "refused add", NULL);
	ck_assert_str_eq(line, "<4>refused add");
	log_format(line, sizeof(line), LOG_TO_JOURNAL, LOG_INFO, "portleased", &noon,
		   "audit event=refused_summary", NULL);
	ck_assert_str_eq(line, "<6>audit event=refused_summary");
	log_format(line, sizeof(line), LOG_TO_JOURNAL, LOG_DEBUG, "portleased", &noon, "x", NULL);
	ck_assert_str_eq(line, "<7>x");
}
END_TEST

/* On a terminal (or in a file of the tests), as before: time to the
 * millisecond, the process, the level's name. */
START_TEST(test_terminal_lines_name_time_process_and_level)
{
	char line[256], expected[64];
	struct tm tm;

	localtime_r(&noon.tv_sec, &tm);
	strftime(expected, sizeof(expected), "%H:%M:%S.123 portleased-nft warning: refused add", &tm);
	log_format(line, sizeof(line), LOG_TO_TERMINAL, LOG_WARNING, "portleased-nft", &noon,
		   "refused add", NULL);
	ck_assert_str_eq(line, expected);
	log_format(line, sizeof(line), LOG_TO_TERMINAL, LOG_NOTICE, "portleased", &noon, "audit",
		   NULL);
	ck_assert_ptr_nonnull(strstr(line, " portleased notice: audit"));
	log_format(line, sizeof(line), LOG_TO_TERMINAL, LOG_ERR, "portleased", &noon, "stop",
		   "No such file or directory");
	ck_assert_ptr_nonnull(strstr(line, " portleased error: stop: No such file or directory"));
	/* A priority out of range is shown as an error, never read past. */
	log_format(line, sizeof(line), LOG_TO_TERMINAL, 42, "portleased", &noon, "odd", NULL);
	ck_assert_ptr_nonnull(strstr(line, " portleased error: odd"));
}
END_TEST

START_TEST(test_lines_are_bounded)
{
	char line[8];

	ck_assert_int_eq(log_format(line, sizeof(line), LOG_TO_JOURNAL, LOG_NOTICE, "p", &noon,
				    "a long message", NULL),
			 (int)strlen("<5>a long message"));
	ck_assert_str_eq(line, "<5>a lo");
}
END_TEST

/* The journal's stream is recognised by what JOURNAL_STREAM names: the
 * device and inode of stderr. Anything else is a terminal or a file. */
START_TEST(test_journal_recognised_by_stderr_identity)
{
	struct stat st;
	char text[64];

	ck_assert_int_eq(fstat(2, &st), 0);
	unsetenv("JOURNAL_STREAM");
	ck_assert_int_eq(log_stderr_output(), LOG_TO_TERMINAL);
	snprintf(text, sizeof(text), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", text, 1);
	ck_assert_int_eq(log_stderr_output(), LOG_TO_JOURNAL);
	/* Inherited by a process whose stderr went elsewhere: not the journal. */
	snprintf(text, sizeof(text), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", text, 1);
	ck_assert_int_eq(log_stderr_output(), LOG_TO_TERMINAL);
	setenv("JOURNAL_STREAM", "garbage", 1);
	ck_assert_int_eq(log_stderr_output(), LOG_TO_TERMINAL);
	unsetenv("JOURNAL_STREAM");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_journal_lines_carry_their_priority);
	tcase_add_test(tc, test_terminal_lines_name_time_process_and_level);
	tcase_add_test(tc, test_lines_are_bounded);
	tcase_add_test(tc, test_journal_recognised_by_stderr_identity);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
