/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "daemon/control.h"
#include "unit.h"

static char err[CONTROL_ERROR_MAX];

START_TEST(test_parse_requests)
{
	struct control_request r;
	struct in6_addr want;

	ck_assert_int_eq(control_parse("list", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_LIST);
	ck_assert(!r.json);
	ck_assert_int_eq(control_parse("status json", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_STATUS);
	ck_assert(r.json);
	ck_assert_int_eq(control_parse("metrics", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_METRICS);
	ck_assert_int_eq(control_parse("metrics json", &r, err), -1);
	ck_assert_int_eq(control_parse("reload", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_RELOAD);
	ck_assert_int_eq(control_parse("review", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_REVIEW);
	ck_assert_uint_eq(r.lifetime, CONTROL_REVIEW_IDLE_DEFAULT);
	ck_assert_int_eq(control_parse("review 3600 json", &r, err), 0);
	ck_assert_uint_eq(r.lifetime, 3600);
	ck_assert(r.json);
	ck_assert_int_eq(control_parse("review 0", &r, err), -1);
	ck_assert_int_eq(control_parse("review 1d", &r, err), -1);
	ck_assert_int_eq(control_parse("review 1 2", &r, err), -1);
	ck_assert_int_eq(control_parse("add udp 27015 192.168.1.20 27016 game server json", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_ADD);
	ck_assert_uint_eq(r.proto, IPPROTO_UDP);
	ck_assert_uint_eq(r.external_port, 27015);
	ck_assert_uint_eq(r.port, 27016);
	ck_assert(addr_equal(&r.addr, &(struct in6_addr){ 0 }) == false);
	ck_assert_str_eq(r.description, "game server json");
	ck_assert(!r.json);
	ck_assert_int_eq(control_parse("add tcp 80 2001:db8::5 80", &r, err), 0);
	ck_assert_str_eq(r.description, "");
	ck_assert_int_eq(control_parse("add tcp 80 192.168.1.20", &r, err), -1);
	ck_assert_ptr_nonnull(strstr(err, "add: tcp|udp EXTERNAL_PORT ADDRESS PORT"));
	ck_assert_int_eq(control_parse("add tcp 80 192.168.1.20 0", &r, err), -1);
	ck_assert_int_eq(control_parse("add sctp 80 192.168.1.20 80", &r, err), -1);
	ck_assert_int_eq(control_parse("add tcp 80 example.org 80", &r, err), -1);
	ck_assert_int_eq(control_parse("add tcp 80 192.168.1.20 80 bell\a", &r, err), -1);
	ck_assert_str_eq(err, "add: the description holds a control character");
	ck_assert_int_eq(control_parse("explain 192.168.1.10 tcp 8080 8080 100000 json", &r, err), 0);
	ck_assert(r.has_lifetime);
	ck_assert_uint_eq(r.lifetime, 100000);
	ck_assert(r.json);
	ck_assert_int_eq(control_parse("explain 192.168.1.10 tcp 8080 8080 -5", &r, err), -1);
	ck_assert_int_eq(control_parse("explain 192.168.1.10 tcp 8080 8080 99999999999", &r, err), -1);
	ck_assert_int_eq(control_parse("delete tcp 8080", &r, err), 0);
	ck_assert_int_eq(r.command, CONTROL_DELETE);
	ck_assert_uint_eq(r.proto, IPPROTO_TCP);
	ck_assert_uint_eq(r.port, 8080);
	ck_assert(!r.has_addr);
	ck_assert_int_eq(control_parse("delete udp 2001:db8::10 9000", &r, err), 0);
	inet_pton(AF_INET6, "2001:db8::10", &want);
	ck_assert(r.has_addr && addr_equal(&r.addr, &want));
	ck_assert_uint_eq(r.proto, IPPROTO_UDP);
	ck_assert_uint_eq(r.port, 9000);
	ck_assert_int_eq(control_parse("flush", &r, err), 0);
	ck_assert(r.command == CONTROL_FLUSH && !r.has_addr);
	ck_assert_int_eq(control_parse("flush 192.168.1.10", &r, err), 0);
	want = unit_v4("192.168.1.10");
	ck_assert(r.has_addr && addr_equal(&r.addr, &want));
	ck_assert_int_eq(control_parse("explain 192.168.1.10 tcp 8080 18080 json", &r, err), 0);
	ck_assert(r.command == CONTROL_EXPLAIN && r.json && addr_equal(&r.addr, &want));
	ck_assert_uint_eq(r.port, 8080);
	ck_assert_uint_eq(r.external_port, 18080);
	ck_assert_int_eq(control_parse("explain 192.168.1.10 udp 53", &r, err), 0);
	ck_assert_uint_eq(r.external_port, 0);
}
END_TEST

START_TEST(test_malformed_requests)
{
	static const char *const bad[] = {
		"", "json", "list extra", "lists", "delete tcp", "delete tcp 0", "delete tcp 65536",
		"delete icmp 80", "delete tcp 80x", "delete tcp -1", "delete tcp nothost 80",
		"list  json", "list ", " list", "flush nothost", "explain 192.168.1.10 tcp",
		"explain host tcp 80", "explain 192.168.1.10 sctp 80", "a b c d e f g h i",
		"delete tcp 8080 8081 8082 8083", "reload now", "reload json",
	};
	struct control_request r;
	char longer[CONTROL_REQUEST_MAX + 10];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(control_parse(bad[i], &r, err) < 0, "'%s' was taken", bad[i]);
		ck_assert_msg(err[0] != '\0', "'%s' got no message", bad[i]);
	}
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ck_assert_int_lt(control_parse(longer, &r, err), 0);
	ck_assert_str_eq(err, "request too long");
}
END_TEST

static char *json_of(const char *s)
{
	struct evbuffer *b = evbuffer_new();
	char *out;

	control_json_string(b, s);
	out = unit_take_text(b);
	evbuffer_free(b);
	return out;
}

/* Descriptions come from LAN clients: whatever bytes, valid JSON out, and
 * what a script prints of it holds no control (the \\xNN of the table). */
START_TEST(test_json_strings)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "web server", "\"web server\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "tab\there\n\x1b[31m", "\"tab\\\\x09here\\\\x0a\\\\x1b[31m\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "\xff", "\"\\\\xff\"" },
		{ "\xc0\xaf", "\"\\\\xc0\\\\xaf\"" },               /* overlong '/' */
		{ "\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"" },  /* a surrogate */
		{ "\xe2\x82", "\"\\\\xe2\\\\x82\"" },               /* cut short */
		{ "\x7f", "\"\\\\x7f\"" },
		{ "\xc2\x9b" "31m", "\"\\\\xc2\\\\x9b31m\"" },       /* C1's CSI */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = json_of(cases[i].in);
		ck_assert_str_eq(got, cases[i].out);
		free(got);
	}
}
END_TEST

START_TEST(test_list_formats)
{
	struct control_lease rows[2] = {
		{ .proto = IPPROTO_TCP, .external_port = 18080,
		  .internal_addr = unit_v4("192.168.1.10"), .internal_port = 8080,
		  .client = unit_v4("192.168.1.10"), .origin = "upnp",
		  .description = "evil\x1b]0;title\x07", .created = 1000, .expires = 1600,
		  .remaining = 599, .has_counters = true, .packets = 5, .bytes = 300, .used = true,
		  .last_used = 1590, .idle = 75 },
		{ .proto = IPPROTO_UDP, .pinhole = true, .internal_port = 9000, .origin = "pcp",
		  .description = "", .remaining = 3700, .nfilters = 1, .pinhole_id = 7 },
	};
	struct evbuffer *b = evbuffer_new();
	char *text;

	inet_pton(AF_INET6, "2001:db8::10", &rows[1].internal_addr);
	rows[1].client = rows[1].internal_addr;
	rows[0].conflict = LEASE_CONFLICT_ROUTER_SERVES;
	/* The device: its name, else its link-layer address. */
	rows[0].device = (struct lan_device){ .has_mac = true, .mac = { 2, 0, 0, 0, 0, 0x0a },
					      .name = "nas" };
	rows[1].device = (struct lan_device){ .has_mac = true, .mac = { 2, 0, 0, 0, 0, 0x0b } };
	/* Behind another NAT, the forward's twin is at the upstream's 28080. */
	rows[0].upstream = LEASE_UPSTREAM_OK;
	rows[0].upstream_port = 28080;
	/* The pinhole has an inbound limit, which turned 12 away. */
	rows[1].limit = &(struct inbound_limit){ .per_remote = 5, .total = 50 };
	rows[1].has_counters = true;
	rows[1].limited = 12;
	control_format_list(b, rows, 2, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "PROTO"));
	ck_assert_ptr_nonnull(strstr(text, " 192.168.1.10:8080   nas               192.168.1.10 "));
	ck_assert_ptr_nonnull(strstr(text, " [2001:db8::10]:9000 02:00:00:00:00:0b 2001:db8::10 "));
	ck_assert_ptr_nonnull(strstr(text, "192.168.1.10:8080"));
	ck_assert_ptr_nonnull(strstr(text, "[2001:db8::10]:9000"));
	ck_assert_ptr_nonnull(strstr(text, "9m59s"));
	ck_assert_ptr_nonnull(strstr(text, "         5          300 1m15s ago "));
	ck_assert_ptr_nonnull(strstr(text, "1h01m"));
	ck_assert_ptr_nonnull(strstr(text, "[1 remote filter] [LIMIT 5/s per remote, 50/s in all: "
					   "12 turned away] \n"));
	ck_assert_ptr_nonnull(strstr(text, "[CONFLICT: the router itself now serves this port from "
					   "the WAN] [UPSTREAM PORT 28080] evil"));
	/* no terminal escape gets through */
	ck_assert_ptr_null(strchr(text, 0x1b));
	ck_assert_ptr_null(strchr(text, 0x07));
	ck_assert_ptr_nonnull(strstr(text, "evil\\x1b]0;title\\x07"));
	free(text);

	control_format_list(b, rows, 2, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "{\"leases\":[{\"protocol\":\"tcp\",\"external_port\":18080,"
					   "\"internal_address\":\"192.168.1.10\",\"internal_port\":8080,"));
	ck_assert_ptr_nonnull(strstr(text, "\"last_used\":1590,\"mac\":\"02:00:00:00:00:0a\","
					   "\"device\":\"nas\",\"owner\":null,\"purpose\":null,"
					   "\"review_by\":null,\"inbound_limit\":null,"
					   "\"limited\":null,\"upstream\":\"ok\",\"upstream_port\":28080}"));
	ck_assert_ptr_nonnull(strstr(text, "\"review_by\":null,\"inbound_limit\":{\"per_remote\":5,"
					   "\"total\":50,\"burst\":null},\"limited\":12,"
					   "\"upstream\":null,\"upstream_port\":null}"));
	ck_assert_ptr_nonnull(strstr(text, "\"mac\":\"02:00:00:00:00:0b\",\"device\":null,"));
	ck_assert_ptr_nonnull(strstr(text, "\"description\":\"evil\\\\x1b]0;title\\\\x07\""));
	ck_assert_ptr_nonnull(strstr(text, "\"created\":1000,\"expires\":1600,\"remaining\":599"));
	ck_assert_ptr_nonnull(strstr(text, "\"packets\":5,\"bytes\":300,\"last_used\":1590,"));
	ck_assert_ptr_nonnull(strstr(text, "\"external_port\":null"));
	ck_assert_ptr_nonnull(strstr(text, "\"remote_filters\":0,\"peers\":null,"
					   "\"conflict\":\"router_serves\","));
	ck_assert_ptr_nonnull(strstr(text, "\"remote_filters\":1,\"peers\":null,\"conflict\":null,"));
	ck_assert_ptr_nonnull(strstr(text, "\"pinhole_id\":7,\"packets\":0,\"bytes\":0,"
					   "\"last_used\":null,"));
	free(text);

	/* A static mapping: no client, never expires. */
	rows[0].permanent = true;
	rows[0].origin = "static";
	rows[0].device = (struct lan_device){ 0 };
	control_format_list(b, rows, 1, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "192.168.1.10:8080 -      -      static never "));
	free(text);
	control_format_list(b, rows, 1, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\"internal_port\":8080,\"client\":null,\"origin\":\"static\""));
	ck_assert_ptr_nonnull(strstr(text, "\"mac\":null,\"device\":null,"));
	ck_assert_ptr_nonnull(strstr(text, "\"created\":1000,\"expires\":null,\"remaining\":null,"));
	free(text);

	/* A PEER mapping: its remote peers, where filters would be counted. */
	struct remote_filter peers[2] = { { .remote = { .net = unit_v4("198.51.100.7"), .len = 128 },
					    .port = 3478 },
					  { .remote = { .net = unit_v4("198.51.100.8"), .len = 128 },
					    .port = 9000 } };
	rows[0] = (struct control_lease){ .proto = IPPROTO_UDP, .external_port = 45060,
					  .internal_addr = unit_v4("192.168.1.10"),
					  .internal_port = 5060, .client = unit_v4("192.168.1.10"),
					  .origin = "pcp", .description = "", .remaining = 60,
					  .nfilters = 2, .filters = peers, .peer = true };
	control_format_list(b, rows, 1, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "[PEER 198.51.100.7:3478 198.51.100.8:9000] \n"));
	ck_assert_ptr_null(strstr(text, "remote filter"));
	free(text);
	control_format_list(b, rows, 1, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\"remote_filters\":2,\"peers\":[\"198.51.100.7:3478\","
					   "\"198.51.100.8:9000\"],\"conflict\":null,"));
	free(text);

	control_format_list(b, rows, 0, false);
	text = unit_take_text(b);
	ck_assert_str_eq(text, "no mappings\n");
	free(text);
	evbuffer_free(b);
}
END_TEST

START_TEST(test_explanations)
{
	struct policy_rule rule = { .allow = true, .internal_ports = { 1024, 65535 },
				    .external_ports = { 1, 65535 }, .line = 12 };
	struct control_explanation e = {
		.decision = { .allow = true, .rule = 2 }, .rule = &rule, .internal_port = 8080,
		.external_port = 8080, .proto = IPPROTO_TCP, .client = unit_v4("192.168.1.10"),
		.external_port_free = false, .client_leases = 8, .client_quota = 8, .leases = 9,
		.capacity = 1024, .host = unit_host("0.0.0.1"),
	};
	struct evbuffer *b = evbuffer_new();
	char *text;

	ck_assert(addr_parse_prefix("192.168.1.0/24", &rule.clients));
	control_format_explanation(b, &e, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "192.168.1.10 tcp 8080 -> external port 8080: allowed by "
					   "the rule at line 12 (allow clients 192.168.1.0/24 "
					   "internal_ports 1024-65535)"));
	ck_assert_ptr_nonnull(strstr(text, "external port 8080 is taken"));
	ck_assert_ptr_nonnull(strstr(text, "quota reached"));
	ck_assert_ptr_nonnull(strstr(text, "the client's host (02:00:00:00:00:01) holds 8 of its 8"));
	ck_assert_ptr_null(strstr(text, "from the WAN"));
	free(text);
	e.device_name = "nas";
	control_format_explanation(b, &e, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "the client's host (02:00:00:00:00:01, nas) holds 8 of"));
	free(text);
	control_format_explanation(b, &e, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\"device\":\"nas\""));
	free(text);
	e.device_name = NULL;
	e.taken_by = LEASE_CONFLICT_ROUTER_SERVES;
	control_format_explanation(b, &e, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "the router listens on tcp 8080 from the WAN: no mapping "
					   "takes that port"));
	free(text);
	control_format_explanation(b, &e, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\"taken_by\":\"router_serves\","));
	e.taken_by = LEASE_CONFLICT_NONE;
	free(text);
	e.has_lifetime = true;
	e.lifetime_asked = 100000;
	e.lifetime_granted = 86400;
	control_format_explanation(b, &e, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "a lifetime of 100000 s would be granted as 86400 s (lifetime.max)\n"));
	free(text);
	/* The rule's inbound limit, as the config says it. */
	e.limit = &(struct inbound_limit){ .per_remote = 10, .burst = 20 };
	control_format_explanation(b, &e, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "internal_ports 1024-65535 inbound_limit per_remote 10/s "
					   "burst 20)\n"));
	free(text);
	control_format_explanation(b, &e, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, ",\"inbound_limit\":{\"per_remote\":10,\"total\":null,"
					   "\"burst\":20}}\n"));
	free(text);
	e.limit = NULL;

	e.decision = (struct policy_decision){ .allow = false, .rule = -1 };
	e.rule = NULL;
	control_format_explanation(b, &e, true);
	text = unit_take_text(b);
	ck_assert_str_eq(text, "{\"allowed\":false,\"needs_approval\":false,\"rule_line\":null,"
			       "\"external_port\":8080,"
			       "\"external_port_free\":false,\"taken_by\":null,"
			       "\"host\":\"02:00:00:00:00:01\","
			       "\"client_leases\":8,\"client_quota\":8,"
			       "\"leases\":9,\"capacity\":1024,\"device\":null,"
			       "\"lifetime\":86400,\"inbound_limit\":null}\n");
	free(text);
	evbuffer_free(b);
}
END_TEST

START_TEST(test_review_formats)
{
	struct control_finding f[4] = {
		{ .kind = CONTROL_REVIEW_DUE, .now = 1796601600 + 3 * 86400,
		  .lease = { .proto = IPPROTO_TCP, .external_port = 2222,
			     .internal_addr = unit_v4("192.168.1.5"), .internal_port = 22,
			     .origin = "static", .description = "", .permanent = true,
			     .owner = "alice", .purpose = "lab ssh\x1b", .review_by = 1796601600 } },
		{ .kind = CONTROL_NEVER_USED, .now = 1000 + 9 * 86400 + 3600,
		  .lease = { .proto = IPPROTO_UDP, .external_port = 9000,
			     .internal_addr = unit_v4("192.168.1.10"), .internal_port = 9000,
			     .origin = "natpmp", .description = "game", .created = 1000,
			     .has_counters = true,
			     .device = { .has_mac = true, .mac = { 2, 0, 0, 0, 0, 0x0a }, .name = "nas" } } },
		{ .kind = CONTROL_IDLE, .now = 5000,
		  .lease = { .proto = IPPROTO_TCP, .external_port = 8080,
			     .internal_addr = unit_v4("192.168.1.10"), .internal_port = 80,
			     .origin = "upnp", .description = "", .has_counters = true, .used = true,
			     .idle = 3 * 3600 } },
		{ .kind = CONTROL_DEVICE_GONE, .now = 5000,
		  .lease = { .proto = IPPROTO_TCP, .external_port = 8081,
			     .internal_addr = unit_v4("192.168.1.99"), .internal_port = 80,
			     .origin = "pcp", .description = "" } },
	};
	struct evbuffer *b = evbuffer_new();
	char *text;

	control_format_review(b, f, 4, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "review_due  tcp   2222   192.168.1.5:22 - static: to be "
					   "reviewed by 2026-12-07 (3d00h ago); owner alice; purpose "
					   "lab ssh\\x1b\n"));
	ck_assert_ptr_nonnull(strstr(text, "never_used  udp   9000   192.168.1.10:9000 nas natpmp: made "
					   "9d01h ago, no inbound connection since; game\n"));
	ck_assert_ptr_nonnull(strstr(text, "idle        tcp   8080   192.168.1.10:80 - upnp: last "
					   "inbound connection 3h00m ago\n"));
	ck_assert_ptr_nonnull(strstr(text, "device_gone tcp   8081   192.168.1.99:80 - pcp: the router "
					   "knows no device at 192.168.1.99\n"));
	free(text);
	control_format_review(b, f, 1, true);
	text = unit_take_text(b);
	ck_assert_str_eq(text, "{\"findings\":[{\"reason\":\"review_due\",\"why\":\"to be reviewed "
			       "by 2026-12-07 (3d00h ago)\",\"protocol\":\"tcp\",\"external_port\":2222,"
			       "\"internal_address\":\"192.168.1.5\",\"internal_port\":22,"
			       "\"origin\":\"static\",\"description\":\"\",\"mac\":null,\"device\":null,"
			       "\"owner\":\"alice\",\"purpose\":\"lab ssh\\\\x1b\",\"review_by\":\"2026-12-07\"}]}\n");
	free(text);
	control_format_review(b, f, 0, false);
	text = unit_take_text(b);
	ck_assert_str_eq(text, "nothing needs a look\n");
	free(text);
	evbuffer_free(b);
}
END_TEST

START_TEST(test_status_formats)
{
	struct daemon_status st = {
		.version = "1.2.3", .uptime = 3700, .epoch = 3700, .leases = 7, .capacity = 4096,
		.pinholes = 2, .by_origin = { 4, 2, 1 },
	};
	struct evbuffer *b = evbuffer_new();
	char *text;

	metrics_count_request(&st.counters, METRICS_PCP, true, true);
	metrics_count_request(&st.counters, METRICS_PCP, true, false);
	metrics_count_request(&st.counters, METRICS_PCP, false, false);
	st.counters.events[METRICS_GRANTED][LEASE_ORIGIN_PCP] = 5;
	st.counters.events[METRICS_GRANTED][LEASE_ORIGIN_UPNP] = 1;
	st.counters.events[METRICS_REFUSED][LEASE_ORIGIN_NATPMP] = 9;
	st.counters.rate_limited = 8;
	control_format_status(b, &st, false);
	text = unit_take_text(b);
	ck_assert_str_eq(text, "portleased 1.2.3, up 1h01m\n"
			       "external address: none\n"
			       "epoch: 3700 s\n"
			       "upstream: off\n"
			       "leases: 7 of 4096 (2 IPv6 pinholes); natpmp 4, pcp 2, upnp 1, static 0\n"
			       "natpmp requests: 0 (0 answered with success, 0 with an error, 0 dropped)\n"
			       "pcp requests: 3 (1 answered with success, 1 with an error, 1 dropped)\n"
			       "upnp requests: 0 (0 answered with success, 0 with an error, 0 dropped)\n"
			       "mappings: 6 granted, 0 refreshed, 9 refused, 0 expired, 0 deleted "
			       "(8 for asking too fast)\n");
	free(text);
	control_format_status(b, &st, true);
	text = unit_take_text(b);
	ck_assert_str_eq(text, "{\"version\":\"1.2.3\",\"uptime\":3700,\"external_address\":null,"
			       "\"epoch\":3700,\"leases\":7,\"capacity\":4096,\"pinholes\":2,"
			       "\"by_origin\":{\"natpmp\":4,\"pcp\":2,\"upnp\":1,\"static\":0},"
			       "\"requests\":{\"natpmp\":{\"received\":0,\"success\":0,\"error\":0},"
			       "\"pcp\":{\"received\":3,\"success\":1,\"error\":1},"
			       "\"upnp\":{\"received\":0,\"success\":0,\"error\":0}},"
			       "\"events\":{\"granted\":6,\"refreshed\":0,\"refused\":9,\"expired\":0,"
			       "\"deleted\":0},\"rate_limited\":8,"
			       "\"upstream\":{\"state\":\"off\",\"protocol\":null,\"server\":null,"
			       "\"server_is_gateway\":null,\"server_from\":null,\"external_address\":null,\"epoch\":null,"
			       "\"why\":null,\"stun\":null}}\n");
	free(text);

	/* Behind another NAT: who maps our ports there, and to what. */
	st.upstream = (struct upstream_status){ .state = UPSTREAM_FOUND, .protocol = UPSTREAM_PCP,
						.has_server = true, .server_is_gateway = true,
						.has_external = true, .has_epoch = true,
						.epoch = 75 };
	inet_pton(AF_INET, "100.64.0.1", &st.upstream.server);
	inet_pton(AF_INET, "203.0.113.1", &st.upstream.external);
	control_format_status(b, &st, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\nupstream: pcp at 100.64.0.1 (the default gateway), "
					   "external address 203.0.113.1, epoch 75 s\n"));
	free(text);
	control_format_status(b, &st, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, ",\"upstream\":{\"state\":\"found\",\"protocol\":\"pcp\","
					   "\"server\":\"100.64.0.1\",\"server_is_gateway\":true,\"server_from\":\"gateway\","
					   "\"external_address\":\"203.0.113.1\",\"epoch\":75,"
					   "\"why\":null,\"stun\":null}}\n"));
	free(text);
	/* A UPnP IGD tells no epoch. */
	st.upstream.protocol = UPSTREAM_UPNP;
	st.upstream.has_epoch = false;
	control_format_status(b, &st, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\nupstream: upnp at 100.64.0.1 (the default gateway), "
					   "external address 203.0.113.1\n"));
	free(text);
	control_format_status(b, &st, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\"protocol\":\"upnp\",\"server\":\"100.64.0.1\","
					   "\"server_is_gateway\":true,\"server_from\":\"gateway\",\"external_address\":"
					   "\"203.0.113.1\",\"epoch\":null,"));
	free(text);
	st.upstream = (struct upstream_status){ .state = UPSTREAM_NONE, .has_server = true,
						.why = "no PCP or NAT-PMP server answers" };
	inet_pton(AF_INET, "100.64.0.1", &st.upstream.server);
	control_format_status(b, &st, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "\nupstream: none at 100.64.0.1 (upstream.server): no PCP "
					   "or NAT-PMP server answers\n"));
	free(text);
	/* STUN's word on the NAT in front. */
	st.upstream.stun = UPSTREAM_STUN_ANSWERED;
	st.upstream.stun_server.port = 3478;
	st.upstream.stun_nat = STUN_NAT_SYMMETRIC;
	inet_pton(AF_INET, "203.0.113.9", &st.upstream.stun_server.addr);
	inet_pton(AF_INET, "198.51.100.4", &st.upstream.stun_public);
	control_format_status(b, &st, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "server answers; STUN at 203.0.113.9:3478: public address "
					   "198.51.100.4, NAT symmetric\n"));
	free(text);
	control_format_status(b, &st, true);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, ",\"stun\":{\"server\":\"203.0.113.9:3478\",\"state\":"
					   "\"answered\",\"public_address\":\"198.51.100.4\","
					   "\"nat\":\"symmetric\"}}}\n"));
	free(text);
	st.upstream.stun = UPSTREAM_STUN_SILENT;
	control_format_status(b, &st, false);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "; STUN at 203.0.113.9:3478: no answer\n"));
	free(text);
	evbuffer_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_requests);
	tcase_add_test(tc, test_malformed_requests);
	tcase_add_test(tc, test_json_strings);
	tcase_add_test(tc, test_list_formats);
	tcase_add_test(tc, test_explanations);
	tcase_add_test(tc, test_review_formats);
	tcase_add_test(tc, test_status_formats);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
