/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The privileged helper's serving of requests (nft/helper_serve.c): what a
 * datagram from the other half gets, on the fake backend. What a hostile
 * daemon can send is also tried against the real helper end to end
 * (tests/e2e/priv_probe.c, security.sh). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_nft.h"
#include "nft/helper_serve.h"
#include "unit.h"

static struct helper h;
static char path[] = "/tmp/check_helper.XXXXXX";
static union helper_request req;

static void write_config(const char *policy_extra)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "external_interface = \"wan0\"; lan_interfaces = [ \"lan0\" ];\n"
		   "external_address = \"203.0.113.1\";\n"
		   "lifetime = { min = 60; max = 3600; };\n"
		   "policy = ( { action = \"deny\"; external_ports = \"1-1023\"; },\n"
		   "  %s\n"
		   "  { action = \"allow\"; clients = \"192.168.1.0/24\"; internal_ports = \"8000-8999\"; } );\n",
		policy_extra);
	fclose(f);
}

static void setup(void)
{
	char err[CONFIG_ERROR_MAX];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_config("");
	memset(&fake_nft, 0, sizeof(fake_nft));
	memset(&h, 0, sizeof(h));
	h.config_path = path;
	ck_assert_int_eq(config_load(path, &h.cfg, err, sizeof(err)), 0);
	h.nft = nft_open("t", NULL, "wan0", 0, NULL, 0, NULL, 0);
}

static void teardown(void)
{
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
}

static struct priv_mapping mapping(const char *host, uint16_t port)
{
	struct nft_mapping m = {
		.proto = IPPROTO_TCP, .external_port = port, .internal_addr = unit_v4(host),
		.internal_port = port, .timeout_ms = 60000, .client = unit_v4(host),
	};
	struct priv_mapping w;

	priv_mapping_pack(&w, &m);
	return w;
}

static int rc_of(struct helper_answer a)
{
	return ((const struct priv_reply *)a.reply)->rc;
}

static int one(uint32_t op, struct priv_mapping m)
{
	struct helper_answer a;

	memset(&req, 0, sizeof(req));
	req.one.op = op;
	req.one.mapping = m;
	a = helper_answer(&h, &req, sizeof(req.one));
	ck_assert_uint_eq(a.len, sizeof(struct priv_reply));
	ck_assert(!a.stop);
	return rc_of(a);
}

START_TEST(test_checks_before_the_kernel)
{
	struct helper_answer a;

	/* Allowed by its own reading of the policy: done. */
	ck_assert_int_eq(one(PRIV_ADD, mapping("192.168.1.10", 8080)), 0);
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_uint_eq(fake_nft.last_add.m.external_port, 8080);
	/* Denied there, whatever the daemon decided: never reaches the kernel. */
	ck_assert_int_eq(one(PRIV_ADD, mapping("192.168.1.10", 9000)), -EPERM);
	ck_assert_int_eq(one(PRIV_ADD, mapping("192.168.2.10", 8080)), -EPERM);
	/* A never-expiring mapping the config does not name. */
	struct priv_mapping m = mapping("192.168.1.10", 8081);
	m.operator_static = 1;
	m.timeout_ms = 0;
	ck_assert_int_eq(one(PRIV_ADD, m), -EPERM);
	/* Malformed: a short datagram, an unknown operation, port 0. */
	a = helper_answer(&h, &req, sizeof(req.one) - 1);
	ck_assert_int_eq(rc_of(a), -EINVAL);
	ck_assert_int_eq(one(99, mapping("192.168.1.10", 8080)), -EINVAL);
	ck_assert_int_eq(one(PRIV_ADD, mapping("192.168.1.10", 0)), -EINVAL);
	ck_assert_uint_eq(fake_nft.adds, 1);
	/* Deleting and reading are always allowed. */
	ck_assert_int_eq(one(PRIV_DELETE, mapping("192.168.2.10", 9000)), 0);
	ck_assert_uint_eq(fake_nft.deletes, 1);
}
END_TEST

START_TEST(test_peer_and_hairpin_checked_by_the_helper)
{
	/* PEER only for a flow on a LAN interface's prefix: lan0 is not here. */
	memset(&req, 0, sizeof(req));
	req.one.op = PRIV_PEER;
	req.one.flow = (struct ct_flow){ .proto = IPPROTO_UDP,
					 .internal_addr = unit_v4("192.168.1.10"),
					 .internal_port = 8000,
					 .remote_addr = unit_v4("198.51.100.7"),
					 .remote_port = 3478 };
	req.one.lifetime = 60;
	ck_assert_int_eq(rc_of(helper_answer(&h, &req, sizeof(req.one))), -EPERM);
	/* Hairpin only to the external address. */
	memset(&req, 0, sizeof(req));
	req.one.op = PRIV_HAIRPIN;
	req.one.has_hairpin = 1;
	inet_pton(AF_INET, "198.51.100.1", &req.one.hairpin);
	ck_assert_int_eq(rc_of(helper_answer(&h, &req, sizeof(req.one))), -EPERM);
	ck_assert(!fake_nft.hairpin);
	inet_pton(AF_INET, "203.0.113.1", &req.one.hairpin);
	ck_assert_int_eq(rc_of(helper_answer(&h, &req, sizeof(req.one))), 0);
	ck_assert(fake_nft.hairpin);
}
END_TEST

START_TEST(test_batch_items_each_on_their_own)
{
	static union helper_request b;
	struct helper_answer a;
	const struct priv_batch_reply *r;

	b.batch.op = PRIV_BATCH;
	b.batch.count = 3;
	b.batch.items[0] = (struct priv_batch_item){ .op = PRIV_ADD,
						     .mapping = mapping("192.168.1.10", 8080) };
	b.batch.items[1] = (struct priv_batch_item){ .op = PRIV_ADD,
						     .mapping = mapping("192.168.1.10", 9000) };
	b.batch.items[2] = (struct priv_batch_item){ .op = PRIV_ADD,
						     .mapping = mapping("192.168.1.10", 0) };
	a = helper_answer(&h, &b, PRIV_BATCH_SIZE(3));
	ck_assert_uint_eq(a.len, sizeof(struct priv_batch_reply));
	r = a.reply;
	ck_assert_int_eq(r->rc[0], 0);
	ck_assert_int_eq(r->rc[1], -EPERM);
	ck_assert_int_eq(r->rc[2], -EINVAL);
	ck_assert_uint_eq(fake_nft.adds, 1);
	/* A batch whose size disagrees with its count is refused whole. */
	a = helper_answer(&h, &b, PRIV_BATCH_SIZE(3) - 8);
	ck_assert_int_eq(rc_of(a), -EINVAL);
	ck_assert_uint_eq(fake_nft.adds, 1);
}
END_TEST

START_TEST(test_reload_and_close)
{
	struct helper_answer a;

	ck_assert_int_eq(one(PRIV_ADD, mapping("192.168.1.10", 9000)), -EPERM);
	/* The operator allows it and reloads: the helper reads the file itself. */
	write_config("{ action = \"allow\"; clients = \"192.168.1.0/24\"; internal_ports = \"9000\"; },");
	ck_assert_int_eq(one(PRIV_RELOAD, mapping("192.168.1.10", 9000)), 0);
	ck_assert_int_eq(one(PRIV_ADD, mapping("192.168.1.10", 9000)), 0);
	/* Close: answered, then the helper stops. */
	memset(&req, 0, sizeof(req));
	req.one.op = PRIV_CLOSE;
	a = helper_answer(&h, &req, sizeof(req.one));
	ck_assert(a.stop);
	ck_assert_int_eq(rc_of(a), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("helper");
	TCase *tc = tcase_create("serve");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_checks_before_the_kernel);
	tcase_add_test(tc, test_peer_and_hairpin_checked_by_the_helper);
	tcase_add_test(tc, test_batch_items_each_on_their_own);
	tcase_add_test(tc, test_reload_and_close);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
