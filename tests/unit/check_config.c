/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/log.h"
#include "unit.h"

static struct config cfg;
static char err[CONFIG_ERROR_MAX];

#define MINIMAL "external_interface = \"wan0\";\nlan_interfaces = [ \"br-lan\" ];\n"

static int load(const char *text)
{
	err[0] = '\0';
	return config_load_string(text, "test.conf", &cfg, err, sizeof(err));
}

START_TEST(test_example_file_loads)
{
	ck_assert_int_eq(config_load("config/portleased.conf", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.external_interface, "eth0");
	ck_assert_uint_eq(cfg.lan_interface_count, 1);
	ck_assert_str_eq(cfg.lan_interfaces[0], "br-lan");
	ck_assert_str_eq(cfg.nft_table, "portleased");
	ck_assert_uint_eq(cfg.policy.count, 2);
	ck_assert(!cfg.policy.rules[0].allow);
	ck_assert(cfg.policy.rules[1].allow);
}
END_TEST

START_TEST(test_defaults)
{
	ck_assert_int_eq(load(MINIMAL "policy = ( { action = \"allow\"; } );\n"), 0);
	ck_assert(!cfg.has_external_address);
	ck_assert_str_eq(cfg.nft_table, "portleased");
	ck_assert_str_eq(cfg.forward_chain, "");  /* our own table */
	ck_assert_uint_eq(cfg.upstream, CONFIG_UPSTREAM_AUTO);  /* whoever answers at the gateway */
	ck_assert(!cfg.has_upstream_server);
	ck_assert(!cfg.upstream_refuse_on_failure);  /* local only, with a warning */
	ck_assert_uint_eq(cfg.lifetime_min, 120);
	ck_assert_uint_eq(cfg.lifetime_max, 86400);
	ck_assert_uint_eq(cfg.max_leases, 4096);
	ck_assert_uint_eq(cfg.pinhole_mark, CONFIG_DEFAULT_PINHOLE_MARK);
	ck_assert_uint_eq(cfg.max_leases_per_client, 128);
	ck_assert_uint_eq(cfg.client_requests_per_second, 10);
	ck_assert_uint_eq(cfg.client_request_burst, 50);
	ck_assert(cfg.enable_pcp);
	ck_assert(cfg.upnp_enable);
	ck_assert_uint_eq(cfg.upnp_http_port, 5000);
	ck_assert_uint_eq(cfg.upnp_igd_version, CONFIG_IGD_BOTH);
	ck_assert_str_eq(cfg.control_socket, "/run/portleased/control.sock");
	ck_assert_str_eq(cfg.control_group, "");
	ck_assert(!cfg.metrics_listen);
	ck_assert(cfg.hairpin);
	ck_assert(!cfg.keep_state_on_stop);
	ck_assert_str_eq(cfg.lease_file, "/var/lib/portleased/leases");
	ck_assert_uint_eq(cfg.dhcp_lease_file_count, 4);
	ck_assert_str_eq(cfg.on_event_command, "");
	ck_assert(cfg.on_event_mask & (1u << CONFIG_EVENT_PENDING));
	ck_assert(!(cfg.on_event_mask & (1u << CONFIG_EVENT_REFUSED)));
	ck_assert_str_eq(cfg.dhcp_lease_files[0], "/var/lib/misc/dnsmasq.leases");
	ck_assert_uint_eq(cfg.policy.rules[0].proto, POLICY_PROTO_ANY);
	ck_assert_uint_eq(cfg.policy.rules[0].internal_ports.lo, 1);
	ck_assert_uint_eq(cfg.policy.rules[0].external_ports.hi, 65535);
	ck_assert_uint_eq(cfg.policy.rules[0].clients.len, 0);
	ck_assert_uint_eq(cfg.policy.rules[0].line, 3);
}
END_TEST

START_TEST(test_firewall_integration)
{
	ck_assert_int_eq(load(MINIMAL "policy = ();\n"
			      "firewall_integration = { table = \"fw4\"; forward_chain = \"forward\"; };\n"),
			 0);
	ck_assert_str_eq(cfg.nft_table, "fw4");
	ck_assert_str_eq(cfg.forward_chain, "forward");
}
END_TEST

START_TEST(test_full_rule)
{
	ck_assert_int_eq(load(MINIMAL
			      "external_address = \"198.51.100.7\";\n"
			      "lifetime = { min = 30; max = 600; };\n"
			      "max_leases = 10;\n"
			      "client_request_rate = { per_second = 0; burst = 7; };\n"
			      "pinhole_mark = 0x100;\n"
			      "upnp = { enable = false; http_port = 2189; igd_version = 1; };\n"
			      "control = { socket = \"/run/pl/ctl.sock\"; group = \"netadmin\"; };\n"
			      "metrics = { listen = \"[::1]:9100\"; };\n"
			      "hairpin = false; keep_state_on_stop = true; lease_file = \"\";\n"
			      "dhcp_lease_files = [ \"/tmp/hosts/odhcpd\", \"/tmp/dhcp.leases\" ];\n"
			      "on_event = { command = \"/usr/local/bin/tell\"; events = [ \"pending\" ]; per_minute = 3; };\n"
			      "static_mappings = ( { protocol = \"tcp\"; external_port = 80;\n"
			      "  internal_address = \"192.168.1.20\"; internal_port = 8000;\n"
			      "  description = \"web\"; owner = \"alice\"; purpose = \"the lab's web\";\n"
			      "  review_by = \"2027-06-30\"; },\n"
			      "  { protocol = \"udp\"; internal_address = \"2001:db8::20\"; internal_port = 9000; } );\n"
			      "nft_table = \"pl_test-1\";\n"
			      "upstream = { mode = \"natpmp\"; server = \"100.64.0.1\"; on_failure = \"refuse\"; stun = \"203.0.113.9:3479\"; dhcp_leases = \"/run/dhclient.wan0.leases\"; };\n"
			      "policy = ( { action = \"deny\"; clients = \"192.168.1.0/24\";\n"
			      "  protocol = \"udp\"; internal_ports = 53; external_ports = \"1000-2000\";\n"
			      "  third_party = true; },\n"
			      "  { action = \"allow\"; idle_timeout = \"12h\";\n"
			      "    inbound_limit = { per_remote = 5; burst = 10; }; },\n"
			      "  { action = \"ask\"; inbound_limit = { total = 50; }; },\n"
			      "  { action = \"allow\"; inbound_limit = { burst = 10; per_remote = 5; }; } );\n"),
			 0);
	ck_assert(cfg.has_external_address);
	ck_assert_uint_eq(cfg.external_address.s_addr, inet_addr("198.51.100.7"));
	ck_assert_uint_eq(cfg.lifetime_min, 30);
	ck_assert_uint_eq(cfg.lifetime_max, 600);
	ck_assert_uint_eq(cfg.max_leases, 10);
	ck_assert_uint_eq(cfg.client_requests_per_second, 0);
	ck_assert_uint_eq(cfg.client_request_burst, 7);
	ck_assert_uint_eq(cfg.pinhole_mark, 0x100);
	ck_assert(!cfg.upnp_enable);
	ck_assert_uint_eq(cfg.upnp_http_port, 2189);
	ck_assert_uint_eq(cfg.upnp_igd_version, 1);
	ck_assert_str_eq(cfg.control_socket, "/run/pl/ctl.sock");
	ck_assert_str_eq(cfg.control_group, "netadmin");
	ck_assert(cfg.metrics_listen);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&cfg.metrics_address));
	ck_assert_uint_eq(cfg.metrics_port, 9100);
	ck_assert(!cfg.hairpin);
	ck_assert(cfg.keep_state_on_stop);
	ck_assert_str_eq(cfg.lease_file, "");
	ck_assert_uint_eq(cfg.dhcp_lease_file_count, 2);
	ck_assert_str_eq(cfg.on_event_command, "/usr/local/bin/tell");
	ck_assert_uint_eq(cfg.on_event_mask, 1u << CONFIG_EVENT_PENDING);
	ck_assert_uint_eq(cfg.on_event_per_minute, 3);
	ck_assert_str_eq(cfg.dhcp_lease_files[1], "/tmp/dhcp.leases");
	ck_assert_uint_eq(cfg.static_count, 2);
	ck_assert_uint_eq(cfg.statics[0].proto, IPPROTO_TCP);
	ck_assert_str_eq(cfg.statics[0].owner, "alice");
	ck_assert_str_eq(cfg.statics[0].purpose, "the lab's web");
	ck_assert_int_eq(cfg.statics[0].review_by, 1814313600);  /* 2027-06-30 */
	ck_assert_uint_eq(cfg.upstream, CONFIG_UPSTREAM_NATPMP);
	ck_assert(cfg.has_upstream_server);
	ck_assert_uint_eq(cfg.upstream_server.s_addr, inet_addr("100.64.0.1"));
	ck_assert(cfg.upstream_refuse_on_failure);
	ck_assert(cfg.has_upstream_stun);
	ck_assert_uint_eq(cfg.upstream_stun.s_addr, inet_addr("203.0.113.9"));
	ck_assert_uint_eq(cfg.upstream_stun_port, 3479);
	ck_assert(cfg.has_upstream_dhcp_leases);
	ck_assert_str_eq(cfg.upstream_dhcp_leases, "/run/dhclient.wan0.leases");
	ck_assert_uint_eq(cfg.policy.count, 4);
	ck_assert_uint_eq(cfg.policy.rules[1].idle_timeout, 43200);
	/* Two distinct limits: the first and last rules share a class. */
	ck_assert_uint_eq(cfg.policy.limit_count, 2);
	ck_assert_uint_eq(cfg.policy.rules[0].limit_class, 0);
	ck_assert_uint_eq(cfg.policy.rules[1].limit_class, 1);
	ck_assert_uint_eq(cfg.policy.rules[2].limit_class, 2);
	ck_assert_uint_eq(cfg.policy.rules[3].limit_class, 1);
	ck_assert_uint_eq(cfg.policy.limits[0].per_remote, 5);
	ck_assert_uint_eq(cfg.policy.limits[0].total, 0);
	ck_assert_uint_eq(cfg.policy.limits[0].burst, 10);
	ck_assert_uint_eq(cfg.policy.limits[1].total, 50);
	ck_assert_uint_eq(cfg.statics[0].external_port, 80);
	ck_assert(addr_equal(&cfg.statics[0].internal_addr, &(struct in6_addr){ .s6_addr = {
		[10] = 0xff, [11] = 0xff, [12] = 192, [13] = 168, [14] = 1, [15] = 20 } }));
	ck_assert_uint_eq(cfg.statics[0].internal_port, 8000);
	ck_assert_str_eq(cfg.statics[0].description, "web");
	ck_assert(cfg.statics[0].declared);
	ck_assert_uint_eq(cfg.statics[1].external_port, 9000);  /* a pinhole */
	ck_assert_str_eq(cfg.nft_table, "pl_test-1");
	ck_assert(!cfg.policy.rules[0].allow);
	ck_assert_uint_eq(cfg.policy.rules[0].proto, IPPROTO_UDP);
	ck_assert_uint_eq(cfg.policy.rules[0].internal_ports.lo, 53);
	ck_assert_uint_eq(cfg.policy.rules[0].internal_ports.hi, 53);
	ck_assert_uint_eq(cfg.policy.rules[0].external_ports.lo, 1000);
	ck_assert_uint_eq(cfg.policy.rules[0].external_ports.hi, 2000);
	ck_assert_uint_eq(cfg.policy.rules[0].clients.len, 120);
	ck_assert(cfg.policy.rules[0].third_party);
}
END_TEST

/* Each bad file is refused with "test.conf:LINE: ..." naming the problem. */
static const struct {
	const char *text;
	const char *expect;  /* substring of the error, starting with the line */
} bad_files[] = {
	{ "external_interface = \"wan0\"\nlan_interfaces = [ \"br-lan\" ;\n", "test.conf:2: " },
	{ "lan_interfaces = [ \"br-lan\" ];\npolicy = ();\n", "'external_interface' is required" },
	{ "external_interface = \"wan0\";\npolicy = ();\n", "'lan_interfaces' is required" },
	{ MINIMAL, "'policy' is required" },
	{ MINIMAL "policy = ();\nbogus = 1;\n", "test.conf:4: unknown setting 'bogus'" },
	{ MINIMAL "policy = ( { action = \"maybe\"; } );\n", "test.conf:3: 'action' must be" },
	{ MINIMAL "policy = ( { clients = \"10.0.0.0/8\"; } );\n", "test.conf:3: policy rule has no 'action'" },
	{ MINIMAL "policy = ( { action = \"allow\";\n clients = \"10.0.0.0/33\"; } );\n",
	  "test.conf:4: 'clients' must be" },
	{ MINIMAL "policy = ( { action = \"allow\"; protocol = \"sctp\"; } );\n", "test.conf:3: 'protocol' must be" },
	{ MINIMAL "policy = ( { action = \"allow\"; external_ports = \"2000-1000\"; } );\n", "low end first" },
	{ MINIMAL "policy = ( { action = \"allow\"; external_ports = 0; } );\n", "outside 1-65535" },
	{ MINIMAL "policy = ( { action = \"allow\"; external_ports = \"1-99999\"; } );\n", "is not a port" },
	{ MINIMAL "policy = ( { action = \"allow\"; external_ports = \"80-\"; } );\n", "is not a port" },
	{ MINIMAL "policy = ( { action = \"allow\"; external_ports = \" 80\"; } );\n", "is not a port" },
	{ MINIMAL "policy = ( { action = \"allow\"; colour = \"red\"; } );\n", "unknown setting 'colour' in a policy rule" },
	{ MINIMAL "policy = ( \"allow all\" );\n", "must be a group" },
	{ MINIMAL "policy = ( { action = \"allow\"; third_party = \"yes\"; } );\n", "test.conf:3: 'third_party' must be true or false" },
	{ MINIMAL "policy = [ 1 ];\n", "must be a list of rules" },
	{ MINIMAL "policy = ();\nlifetime = { min = 600; max = 60; };\n", "test.conf:4: lifetime min (600) is above max (60)" },
	{ MINIMAL "policy = ();\nlifetime = { min = 0; };\n", "'min' is 0" },
	{ MINIMAL "policy = ();\nlifetime = { mix = 5; };\n", "unknown setting 'mix'" },
	{ MINIMAL "policy = ();\nmax_leases = 0;\n", "'max_leases' is 0" },
	{ MINIMAL "policy = ();\npinhole_mark = -1;\n", "'pinhole_mark' is -1" },
	{ MINIMAL "policy = ();\nmax_leases_per_client = 0;\n", "'max_leases_per_client' is 0" },
	{ MINIMAL "policy = ();\nclient_request_rate = 10;\n", "'client_request_rate' must be a group" },
	{ MINIMAL "policy = ();\nclient_request_rate = { burst = 0; };\n", "test.conf:4: 'burst' is 0" },
	{ MINIMAL "policy = ();\nclient_request_rate = { rate = 5; };\n", "unknown setting 'rate'" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"127.0.0.1\"; };\n", "test.conf:4: metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"::1:9100\"; };\n", "metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"127.0.0.1:0\"; };\n", "metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"127.0.0.1:65536\"; };\n", "metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"127.0.0.1:+80\"; };\n", "metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"[::1]9100\"; };\n", "metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { listen = \"localhost:9100\"; };\n", "metrics 'listen' must be" },
	{ MINIMAL "policy = ();\nmetrics = { port = 9100; };\n", "unknown setting 'port'" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; internal_address = \"192.168.1.2\"; internal_port = 80; } );\n", "test.conf:4: a static IPv4 mapping needs 'external_port'" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_port = 80; } );\n", "needs 'internal_address'" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"any\"; external_port = 80; internal_address = \"192.168.1.2\"; internal_port = 80; } );\n", "'protocol' must be \"tcp\" or \"udp\"" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_address = \"2001:db8::2\"; internal_port = 81; } );\n", "its external_port is its internal_port" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 70000; internal_address = \"192.168.1.2\"; internal_port = 80; } );\n", "port 70000 is outside 1-65535" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_address = \"192.168.1.2\"; internal_port = 80; description = \"a\\tb\"; } );\n", "control characters" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_address = \"192.168.1.2\"; internal_port = 80; },\n { protocol = \"tcp\"; external_port = 80; internal_address = \"192.168.1.3\"; internal_port = 80; } );\n", "test.conf:5: this static mapping takes the port" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_address = \"192.168.1.2\"; internal_port = 80; colour = 1; } );\n", "unknown setting 'colour' in a static mapping" },
	{ MINIMAL "policy = ();\nhairpin = 1;\n", "'hairpin' must be true or false" },
	{ MINIMAL "policy = ();\nlease_file = \"leases\";\n", "'lease_file' must be an absolute path" },
	{ MINIMAL "policy = ();\non_event = { events = [ \"granted\" ]; };\n", "test.conf:4: on_event needs 'command', an absolute path" },
	{ MINIMAL "policy = ();\non_event = { command = \"notify.sh\"; };\n", "on_event needs 'command', an absolute path" },
	{ MINIMAL "policy = ();\non_event = { command = \"/bin/true\"; events = [ \"granted\", \"exploded\" ]; };\n", "test.conf:4: unknown event: the events are granted" },
	{ MINIMAL "policy = ();\non_event = { command = \"/bin/true\"; per_minute = 0; };\n", "test.conf:4:" },
	{ MINIMAL "policy = ();\non_event = { command = \"/bin/true\"; shell = true; };\n", "unknown setting 'shell' in 'on_event'" },
	{ MINIMAL "policy = ( { action = \"allow\"; idle_timeout = \"3x\"; } );\n", "test.conf:3: 'idle_timeout' must be a duration from 1 s to 366 days" },
	{ MINIMAL "policy = ( { action = \"allow\"; idle_timeout = 0; } );\n", "test.conf:3: 'idle_timeout' must be a duration" },
	{ MINIMAL "policy = ( { action = \"allow\"; idle_timeout = \"400d\"; } );\n", "'idle_timeout' must be a duration" },
	{ MINIMAL "policy = ( { action = \"deny\"; idle_timeout = \"1d\"; } );\n", "test.conf:3: 'idle_timeout' is for allow and ask rules" },
	{ MINIMAL "policy = ( { action = \"deny\"; inbound_limit = { total = 5; }; } );\n", "test.conf:3: 'inbound_limit' is for allow and ask rules" },
	{ MINIMAL "policy = ();\nupstream = { mode = \"igd\"; };\n", "test.conf:4: upstream 'mode' must be \"off\", \"auto\", \"pcp\", \"natpmp\" or \"upnp\"" },
	{ MINIMAL "policy = ();\nupstream = { server = \"gateway\"; };\n", "test.conf:4: upstream 'server' must be an IPv4 address" },
	{ MINIMAL "policy = ();\nupstream = { mode = \"auto\"; port = 5351; };\n", "unknown setting 'port' in 'upstream'" },
	{ MINIMAL "policy = ();\nupstream = \"auto\";\n", "'upstream' must be a group" },
	{ MINIMAL "policy = ();\nupstream = { on_failure = \"drop\"; };\n", "test.conf:4: upstream 'on_failure' must be \"local\"" },
	{ MINIMAL "policy = ();\nupstream = { stun = \"stun.example.net\"; };\n", "test.conf:4: upstream 'stun' must be an IPv4 address and an optional port" },
	{ MINIMAL "policy = ();\nupstream = { stun = \"100.100.100.100999\"; };\n", "test.conf:4: upstream 'stun' must be an IPv4 address" },
	{ MINIMAL "policy = ();\nupstream = { stun = \"203.0.113.9:0\"; };\n", "test.conf:4: upstream 'stun' must be an IPv4 address" },
	{ MINIMAL "policy = ();\nupstream = { dhcp_leases = \"dhclient.leases\"; };\n", "test.conf:4: upstream 'dhcp_leases' must be an absolute path" },
	{ MINIMAL "policy = ( { action = \"allow\"; inbound_limit = 5; } );\n", "test.conf:3: 'inbound_limit' must be a group" },
	{ MINIMAL "policy = ( { action = \"allow\"; inbound_limit = { burst = 5; }; } );\n", "test.conf:3: 'inbound_limit' needs 'per_remote' or 'total'" },
	{ MINIMAL "policy = ( { action = \"allow\"; inbound_limit = { total = 0; }; } );\n", "test.conf:3: 'total' is 0; it must lie within 1-1000000" },
	{ MINIMAL "policy = ( { action = \"allow\"; inbound_limit = { total = \"5/s\"; }; } );\n", "'total' must be a whole number" },
	{ MINIMAL "policy = ( { action = \"allow\"; inbound_limit = { rate = 5; }; } );\n", "unknown setting 'rate' in inbound_limit" },
	{ MINIMAL "policy = ( { action = \"allow\"; inbound_limit = { total = 1; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 2; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 3; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 4; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 5; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 6; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 7; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 8; }; },\n"
		  "{ action = \"allow\"; inbound_limit = { total = 9; }; } );\n",
	  "test.conf:11: at most 8 different inbound limits in a policy" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_address = \"192.168.1.2\"; internal_port = 80;\n review_by = \"2026-02-30\"; } );\n", "test.conf:5: 'review_by' must be a date \"YYYY-MM-DD\"" },
	{ MINIMAL "policy = ();\nstatic_mappings = ( { protocol = \"tcp\"; external_port = 80; internal_address = \"192.168.1.2\"; internal_port = 80; owner = \"a\\tb\"; } );\n", "'owner' must not hold control characters" },
	{ MINIMAL "policy = ( { action = \"allow\"; clients = \"mac:02:5e:10:00:0a\"; } );\n", "test.conf:3: 'clients' \"mac:02:5e:10:00:0a\": a link-layer address is six pairs of hex digits" },
	{ MINIMAL "policy = ( { action = \"allow\"; clients = \"02:5e:10:00:00:0a\"; } );\n", "or a host's link-layer address such as \"mac:02:5e:10:00:00:0a\"" },
	{ MINIMAL "policy = ();\ndhcp_lease_files = \"/tmp/x\";\n", "test.conf:4: 'dhcp_lease_files' must be a list" },
	{ MINIMAL "policy = ();\ndhcp_lease_files = [ \"dnsmasq.leases\" ];\n", "test.conf:4: a DHCP lease file must be an absolute path" },
	{ MINIMAL "policy = ();\ndhcp_lease_files = [ \"/a\", \"/b\", \"/c\", \"/d\", \"/e\", \"/f\", \"/g\", \"/h\", \"/i\" ];\n", "at most 8 DHCP lease files" },
	{ MINIMAL "policy = ();\nkeep_state_on_stop = \"no\";\n", "'keep_state_on_stop' must be true or false" },
	{ MINIMAL "policy = ();\nenable_pcp = 1;\n", "'enable_pcp' must be true or false" },
	{ MINIMAL "policy = ();\nupnp = true;\n", "'upnp' must be a group" },
	{ MINIMAL "policy = ();\ncontrol = { socket = \"ctl.sock\"; };\n",
	  "control 'socket' must be an absolute path" },
	{ MINIMAL "policy = ();\ncontrol = { group = \"\"; };\n", "control 'group' must be" },
	{ MINIMAL "policy = ();\ncontrol = { mode = 0777; };\n", "mode" },
	{ MINIMAL "policy = ();\nupnp = { enable = 1; };\n", "upnp 'enable' must be true or false" },
	{ MINIMAL "policy = ();\nupnp = { http_port = 0; };\n", "'http_port' is 0" },
	{ MINIMAL "policy = ();\nupnp = { igd_version = 3; };\n", "'igd_version' is 3" },
	{ MINIMAL "policy = ();\nupnp = { igd_version = \"all\"; };\n",
	  "'igd_version' must be 1, 2 or \"both\"" },
	{ MINIMAL "policy = ();\nupnp = { port = 5000; };\n", "unknown setting 'port'" },
	{ MINIMAL "policy = ();\nmax_leases = \"many\";\n", "'max_leases' must be a whole number" },
	{ MINIMAL "policy = ();\nnft_table = \"bad name\";\n", "'nft_table' must be" },
	{ MINIMAL "policy = ();\nnft_table = \"x\";\n"
		  "firewall_integration = { table = \"fw4\"; forward_chain = \"forward\"; };\n",
	  "test.conf:5: 'firewall_integration' puts portleased in the firewall's table; drop "
	  "'nft_table'" },
	{ MINIMAL "policy = ();\nfirewall_integration = { forward_chain = \"forward\"; };\n",
	  "'firewall_integration' needs 'table'" },
	{ MINIMAL "policy = ();\nfirewall_integration = { table = \"fw4\"; };\n",
	  "'firewall_integration' needs 'forward_chain'" },
	{ MINIMAL "policy = ();\nfirewall_integration = { table = \"fw4\"; forward_chain = \"a b\"; };\n",
	  "firewall_integration 'forward_chain' must be 1-32 letters" },
	{ MINIMAL "policy = ();\nfirewall_integration = { table = \"fw4\"; chain = \"forward\"; };\n",
	  "unknown setting 'chain'" },
	{ MINIMAL "policy = ();\nfirewall_integration = \"fw4\";\n",
	  "'firewall_integration' must be a group" },
	{ MINIMAL "policy = ();\nexternal_address = \"example.org\";\n", "'external_address' must be" },
	{ "external_interface = \"wan0\";\nlan_interfaces = [ \"wan0\" ];\npolicy = ();\n", "test.conf:2: 'wan0' is the external interface" },
	{ "external_interface = \"a-very-long-interface-name\";\nlan_interfaces = [ \"x\" ];\npolicy = ();\n",
	  "test.conf:1: 'a-very-long-interface-name' is not a valid interface name" },
	{ "external_interface = \"wan0\";\nlan_interfaces = [ ];\npolicy = ();\n", "'lan_interfaces' is empty" },
	{ "external_interface = 5;\nlan_interfaces = [ \"x\" ];\npolicy = ();\n", "test.conf:1: 'external_interface' must be a string" },
};

START_TEST(test_bad_files_refused_with_line)
{
	ck_assert_int_eq(load(bad_files[_i].text), -1);
	ck_assert_msg(strstr(err, bad_files[_i].expect) != NULL, "case %d: got '%s', want '%s'", _i,
		      err, bad_files[_i].expect);
	ck_assert_msg(strncmp(err, "test.conf:", 10) == 0, "no file name: '%s'", err);
}
END_TEST

START_TEST(test_missing_file)
{
	ck_assert_int_eq(config_load("/nonexistent/portleased.conf", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/portleased.conf: cannot read: No such file or directory");
}
END_TEST

START_TEST(test_reserved_external_address_accepted)
{
	ck_assert_int_eq(load(MINIMAL "policy = ();\nexternal_address = \"100.64.1.1\";\n"), 0);
	ck_assert(cfg.has_external_address);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	log_init("check_config", LOG_TO_TERMINAL, false);
	tcase_add_test(tc, test_example_file_loads);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_full_rule);
	tcase_add_test(tc, test_firewall_integration);
	tcase_add_loop_test(tc, test_bad_files_refused_with_line, 0,
			    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_reserved_external_address_accepted);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
