/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's static file (config/static_file.c): its lines, and whom
 * it is trusted from. */
#include "unit.h"

#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/static_file.h"

static char dir[] = "/tmp/check_static_file.XXXXXX", path[128];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/static", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
}

static void put(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_lines)
{
	struct static_mapping sm;
	const char *why = NULL;
	char line[STATIC_FILE_LINE_MAX + 2];

	ck_assert_int_eq(static_file_parse_line("tcp 8080 192.168.1.10 80 web server ", &sm, &why), 1);
	ck_assert_uint_eq(sm.proto, IPPROTO_TCP);
	ck_assert_uint_eq(sm.external_port, 8080);
	ck_assert_uint_eq(sm.internal_port, 80);
	{
		struct in6_addr want = unit_v4("192.168.1.10");

		ck_assert(addr_equal(&sm.internal_addr, &want));
	}
	ck_assert_str_eq(sm.description, "web server");
	ck_assert(sm.declared && sm.from_file);
	/* what it writes, it reads back the same */
	ck_assert_uint_gt(static_file_format_line(line, sizeof(line), &sm), 0);
	ck_assert_str_eq(line, "tcp 8080 192.168.1.10 80 web server\n");
	ck_assert_int_eq(static_file_parse_line("udp 9000 2001:db8::10 9000", &sm, &why), 1);
	ck_assert_uint_eq(sm.internal_port, 9000);
	ck_assert_str_eq(sm.description, "");
	ck_assert_uint_gt(static_file_format_line(line, sizeof(line), &sm), 0);
	ck_assert_str_eq(line, "udp 9000 2001:db8::10 9000\n");
	/* The inventory: percent-encoded tokens before the description. */
	ck_assert_int_eq(static_file_parse_line("tcp 2222 192.168.1.5 22 owner=alice purpose=lab%20ssh%25 "
						"review_by=2027-06-30 the lab", &sm, &why), 1);
	ck_assert_str_eq(sm.owner, "alice");
	ck_assert_str_eq(sm.purpose, "lab ssh%");
	ck_assert_int_eq(sm.review_by, 1814313600);
	ck_assert_str_eq(sm.description, "the lab");
	ck_assert_uint_gt(static_file_format_line(line, sizeof(line), &sm), 0);
	ck_assert_str_eq(line, "tcp 2222 192.168.1.5 22 owner=alice purpose=lab%20ssh%25 "
			       "review_by=2027-06-30 the lab\n");
	ck_assert_int_eq(static_file_parse_line("tcp 2222 192.168.1.5 22 owner=a%0ab", &sm, &why), -1);
	ck_assert_int_eq(static_file_parse_line("tcp 2222 192.168.1.5 22 owner=a%2", &sm, &why), -1);
	ck_assert_int_eq(static_file_parse_line("tcp 2222 192.168.1.5 22 review_by=2027-02-30", &sm, &why), -1);
	ck_assert_str_eq(why, "review_by= is a date YYYY-MM-DD");
	ck_assert_int_eq(static_file_parse_line("   # a comment", &sm, &why), 0);
	ck_assert_int_eq(static_file_parse_line("", &sm, &why), 0);
	ck_assert_uint_eq(static_file_format_line(line, 8, &sm), 0);
}
END_TEST

START_TEST(test_bad_lines)
{
	static const char *const bad[] = {
		"tcp 8080 192.168.1.10", "sctp 8080 192.168.1.10 80", "tcp 0 192.168.1.10 80",
		"tcp 65536 192.168.1.10 80", "tcp 80x 192.168.1.10 80", "tcp 80 192.168.1.300 80",
		"tcp 80 2001:db8::10 81", "tcp 80 192.168.1.10 80 bell\a",
		"tcp 80 192.168.1.10 -80",
	};
	struct static_mapping sm;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		ck_assert_msg(static_file_parse_line(bad[i], &sm, &why) == -1, "%s", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(test_read_and_write)
{
	struct static_mapping list[4], back[4];
	char err[256];
	size_t n = 99;
	const char *why;

	/* no file: no mappings */
	ck_assert_int_eq(static_file_read(path, list, 4, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(static_file_parse_line("tcp 8080 192.168.1.10 80 a", &list[0], &why), 1);
	ck_assert_int_eq(static_file_parse_line("udp 53 192.168.1.11 5353", &list[1], &why), 1);
	ck_assert_int_eq(static_file_write(path, list, 2, err, sizeof(err)), 0);
	ck_assert_int_eq(static_file_read(path, back, 4, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(back[0].description, "a");
	ck_assert_uint_eq(back[1].external_port, 53);
	/* room for one: too many */
	ck_assert_int_eq(static_file_read(path, back, 1, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":6: more than 1 static mappings"));
	/* a bad line is named */
	put("# comment\ntcp 8080 192.168.1.10\n", 0644);
	ck_assert_int_eq(static_file_read(path, back, 4, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "static:2: want PROTO"));
	/* two that clash */
	put("tcp 8080 192.168.1.10 80\ntcp 8080 192.168.1.11 80\n", 0644);
	ck_assert_int_eq(static_file_read(path, back, 4, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "static:2: takes the port"));
}
END_TEST

/* Its mappings never expire: a file that anyone but root may write is not
 * the operator's word. */
START_TEST(test_trust)
{
	struct static_mapping list[4];
	char err[256];
	size_t n;

	if (geteuid() != 0)
		return;  /* the file is then not root's: nothing to compare with */
	put("tcp 8080 192.168.1.10 80\n", 0644);
	ck_assert_int_eq(static_file_read(path, list, 4, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(chmod(path, 0664), 0);
	ck_assert_int_eq(static_file_read(path, list, 4, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "root owns and root alone may write"));
	ck_assert_int_eq(chmod(path, 0646), 0);
	ck_assert_int_eq(static_file_read(path, list, 4, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(chown(path, 65534, 65534), 0);
	ck_assert_int_eq(static_file_read(path, list, 4, &n, err, sizeof(err)), -1);
	/* nor a symbolic link to root's file */
	unlink(path);
	ck_assert_int_eq(symlink("/etc/hostname", path), 0);
	ck_assert_int_eq(static_file_read(path, list, 4, &n, err, sizeof(err)), -1);
}
END_TEST

/* config_load reads the file the config names, after its own static
 * mappings; config_load_string does not. */
START_TEST(test_config_reads_it)
{
	static struct config cfg;
	char conf[160], text[1024], err[CONFIG_ERROR_MAX];
	FILE *f;

	if (geteuid() != 0)
		return;
	snprintf(conf, sizeof(conf), "%s/portleased.conf", dir);
	snprintf(text, sizeof(text),
		 "external_interface = \"wan0\"; lan_interfaces = [ \"lan0\" ];\n"
		 "static_file = \"%s\";\n"
		 "static_mappings = ( { protocol = \"tcp\"; external_port = 443; "
		 "internal_address = \"192.168.1.5\"; internal_port = 8443; } );\n"
		 "policy = ( { action = \"allow\"; clients = \"192.168.1.0/24\"; } );\n", path);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fputs(text, f);
	fclose(f);
	put("tcp 8080 192.168.1.10 80 added\n", 0644);
	ck_assert_msg(config_load(conf, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.static_count, 2);
	ck_assert(!cfg.statics[0].from_file && cfg.statics[0].declared);
	ck_assert(cfg.statics[1].from_file && cfg.statics[1].declared);
	ck_assert_str_eq(cfg.statics[1].description, "added");
	ck_assert_int_eq(config_load_string(text, "string.conf", &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.static_count, 1);
	/* one that takes the config's port: the file is named */
	put("tcp 443 192.168.1.10 80\n", 0644);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "tcp 443 takes the port"));
	/* one that others may write: refused, loudly */
	put("tcp 8080 192.168.1.10 80\n", 0666);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), -1);
	unlink(conf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("static_file");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tc, test_read_and_write);
	tcase_add_test(tc, test_trust);
	tcase_add_test(tc, test_config_reads_it);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
