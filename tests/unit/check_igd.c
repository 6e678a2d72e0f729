/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fake_nft.h"
#include "daemon/upnp/igd.h"
#include "daemon/mapper.h"
#include "unit.h"

#define WANIP "urn:schemas-upnp-org:service:WANIPConnection:"
#define FW6 "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1"

static struct config cfg;
static struct event_base *base;
static struct mapper *m;
static struct igd igd;
static const struct upnp_service *ip_connection, *common_config, *firewall;

static void setup(void)
{
	char err[CONFIG_ERROR_MAX];
	struct in_addr ext;

	memset(&fake_nft, 0, sizeof(fake_nft));
	ck_assert_int_eq(config_load_string(
		"external_interface = \"lo\"; lan_interfaces = [ \"lan0\" ];\n"
		"lifetime = { min = 1; max = 600; }; max_leases = 8;\n"
		"policy = ( { action = \"deny\"; external_ports = \"1-1023\"; },\n"
		"  { action = \"allow\"; clients = \"192.168.1.5\"; third_party = true; },\n"
		"  { action = \"allow\"; clients = \"192.168.1.0/24\"; internal_ports = \"1024-65535\"; },\n"
		"  { action = \"allow\"; clients = \"2001:db8:1::/64\"; internal_ports = \"1024-65535\"; } );\n",
		"igd.conf", &cfg, err, sizeof(err)), 0);
	base = event_base_new();
	m = mapper_new(base, &cfg, nft_open("t", NULL, "lo", 0, NULL, 0, err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(m);
	inet_pton(AF_INET, "203.0.113.1", &ext);
	mapper_set_external_address(m, &ext);
	igd = (struct igd){ .cfg = &cfg, .mapper = m, .version = 2 };
	for (size_t i = 0; i < igd_service_count(); i++) {
		if (strcmp(igd_service(i)->name, "WANIPConnection") == 0)
			ip_connection = igd_service(i);
		if (strcmp(igd_service(i)->name, "WANCommonInterfaceConfig") == 0)
			common_config = igd_service(i);
		if (strcmp(igd_service(i)->name, "WANIPv6FirewallControl") == 0)
			firewall = igd_service(i);
	}
	ck_assert_ptr_nonnull(firewall);
	ck_assert_ptr_nonnull(ip_connection);
	ck_assert_ptr_nonnull(common_config);
}

static void teardown(void)
{
	mapper_free(m);
	event_base_free(base);
}

/* The outcome of one call: the HTTP status, the UPnP error of a fault, the
 * response's arguments. */
struct outcome {
	int http;
	int error;
	struct soap_call response;
	char text[8192];
};

/* One call as made, by client. */
static struct outcome run_call(const char *client, const struct upnp_service *s,
			       const struct soap_call *c)
{
	/* An IPv6 asker is on 2001:db8:1::/64, an IPv4 one on 192.168.1.0/24. */
	bool v6 = strchr(client, ':') != NULL;
	struct igd_context ctx = { .client = unit_v4(v6 ? "0.0.0.0" : client),
				   .local = unit_v4("192.168.1.1") };
	struct evbuffer *out = evbuffer_new();
	struct outcome o = { 0 };
	char *text, *code;
	size_t n;

	ck_assert(addr_parse_prefix(v6 ? "2001:db8:1::/64" : "192.168.1.0/24", &ctx.lan));
	if (v6) {
		ck_assert_int_eq(inet_pton(AF_INET6, client, &ctx.client), 1);
		inet_pton(AF_INET6, "2001:db8:1::1", &ctx.local);
	}
	o.http = igd_control(&igd, s, &ctx, c, out);
	text = unit_take_text(out);
	n = strlen(text);
	evbuffer_free(out);
	ck_assert_uint_lt(n, sizeof(o.text));
	memcpy(o.text, text, n + 1);
	if (o.http == 200) {
		/* A port listing is longer than a request's argument may be. */
		if (strcmp(c->action, "GetListOfPortMappings") != 0)
			ck_assert_int_eq(soap_parse(text, n, &o.response), SOAP_OK);
	} else {
		ck_assert_int_eq(o.http, 500);
		code = strstr(text, "<errorCode>");
		ck_assert_ptr_nonnull(code);
		o.error = atoi(code + strlen("<errorCode>"));
	}
	free(text);
	return o;
}

/* call(client, service type, action, name, value, ..., NULL) */
static struct outcome call_as(const char *client, const struct upnp_service *s, const char *type,
			      const char *action, ...)
{
	struct soap_call c = { 0 };
	const char *name;
	va_list ap;

	snprintf(c.service_type, sizeof(c.service_type), "%s", type);
	snprintf(c.action, sizeof(c.action), "%s", action);
	va_start(ap, action);
	while ((name = va_arg(ap, const char *))) {
		snprintf(c.args[c.nargs].name, sizeof(c.args[0].name), "%s", name);
		snprintf(c.args[c.nargs].value, sizeof(c.args[0].value), "%s", va_arg(ap, const char *));
		c.nargs++;
	}
	va_end(ap);
	return run_call(client, s, &c);
}

#define ADD(client, action, eport, proto, iport, iclient, lease, remote)                      \
	call_as(client, ip_connection, WANIP "2", action, "NewRemoteHost", remote,             \
		"NewExternalPort", eport, "NewProtocol", proto, "NewInternalPort", iport,      \
		"NewInternalClient", iclient, "NewEnabled", "1",                               \
		"NewPortMappingDescription", "test <&>", "NewLeaseDuration", lease, NULL)

static struct outcome get_specific(const char *client, const char *eport, const char *proto)
{
	return call_as(client, ip_connection, WANIP "2", "GetSpecificPortMappingEntry",
		       "NewRemoteHost", "", "NewExternalPort", eport, "NewProtocol", proto, NULL);
}

START_TEST(test_add_and_read_back)
{
	struct outcome o = ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8000",
			       "192.168.1.10", "0", "");

	ck_assert_int_eq(o.http, 200);
	ck_assert_str_eq(o.response.action, "AddPortMappingResponse");
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_uint_eq(fake_nft.last_add.m.external_port, 8080);
	ck_assert_uint_eq(fake_nft.last_add.m.internal_port, 8000);
	ck_assert_uint_eq(fake_nft.last_add.m.proto, IPPROTO_TCP);
	ck_assert_uint_eq(fake_nft.last_add.m.nremotes, 0);
	/* Lease 0 is the policy's longest lifetime, never "forever". */
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms, 600000);

	o = get_specific("192.168.1.99", "8080", "TCP");
	ck_assert_int_eq(o.http, 200);
	ck_assert_str_eq(soap_arg(&o.response, "NewInternalClient"), "192.168.1.10");
	ck_assert_str_eq(soap_arg(&o.response, "NewInternalPort"), "8000");
	ck_assert_str_eq(soap_arg(&o.response, "NewEnabled"), "1");
	ck_assert_str_eq(soap_arg(&o.response, "NewPortMappingDescription"), "test <&>");
	ck_assert_int_gt(atoi(soap_arg(&o.response, "NewLeaseDuration")), 590);
	ck_assert_int_le(atoi(soap_arg(&o.response, "NewLeaseDuration")), 600);
	ck_assert_int_eq(get_specific("192.168.1.10", "8080", "UDP").error, 714);
	ck_assert_int_eq(get_specific("192.168.1.10", "8081", "TCP").error, 714);

	/* Longer than allowed: the longest allowed. */
	o = ADD("192.168.1.10", "AddPortMapping", "8081", "UDP", "8001", "192.168.1.10",
		"999999", "");
	ck_assert_int_eq(o.http, 200);
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms, 600000);
}
END_TEST

/* Behind another NAT: the upstream (a fake) maps our ports. */
static bool chain_ready(void *arg, struct in_addr *external, bool *has_external)
{
	(void)arg;
	inet_pton(AF_INET, "198.51.100.9", external);
	*has_external = true;
	return true;
}

static bool chain_map(void *arg, uint8_t proto, uint16_t port, uint16_t upstream_port,
		      uint32_t lifetime)
{
	(void)arg;
	(void)proto;
	(void)port;
	(void)upstream_port;
	(void)lifetime;
	return true;
}

/* The waiting call's answer once the upstream said what: text and status. */
static int chained(const char *action, uint16_t port, bool ok, uint16_t upstream_port,
		   char **text)
{
	struct soap_call c = { 0 };
	struct igd_chain_wait w;
	struct evbuffer *out = evbuffer_new();
	int status;

	snprintf(c.service_type, sizeof(c.service_type), WANIP "2");
	snprintf(c.action, sizeof(c.action), "%s", action);
	ck_assert(igd_take_chain_wait(&igd, &c, &w));
	ck_assert_uint_eq(w.port, port);
	mapper_chain_answered(m, &(struct upstream_mapped){ .proto = IPPROTO_TCP, .port = port,
							    .ok = ok, .external_port = upstream_port,
							    .lifetime = 600, .why = ok ? NULL : "NOT_AUTHORIZED" });
	status = igd_chained_answer(&igd, &w, out);
	*text = unit_take_text(out);
	evbuffer_free(out);
	return status;
}

START_TEST(test_chained_answers)
{
	char *text;

	mapper_set_chain(m, &(struct mapper_chain){ .ready = chain_ready, .map = chain_map });
	/* The twin at the same port: granted, AddAnyPortMapping's port told. */
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8000", "192.168.1.10",
			     "600", "").http, 200);
	ck_assert_int_eq(chained("AddPortMapping", 8080, true, 8080, &text), 200);
	ck_assert_ptr_nonnull(strstr(text, "AddPortMappingResponse"));
	free(text);
	ck_assert_int_eq(ADD("192.168.1.10", "AddAnyPortMapping", "8090", "TCP", "8010",
			     "192.168.1.10", "600", "").http, 200);
	ck_assert_int_eq(chained("AddAnyPortMapping", 8090, true, 8090, &text), 200);
	ck_assert_ptr_nonnull(strstr(text, "<NewReservedPort>8090</NewReservedPort>"));
	free(text);
	/* A renewal waits for nothing. */
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8000", "192.168.1.10",
			     "600", "").http, 200);
	ck_assert(!mapper_take_chain_wait(m, &(uint8_t){ 0 }, &(uint16_t){ 0 }));
	/* The twin at another port: not what the client asked for; taken back. */
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8081", "TCP", "8001", "192.168.1.10",
			     "600", "").http, 200);
	ck_assert_int_eq(chained("AddPortMapping", 8081, true, 18081, &text), 500);
	ck_assert_ptr_nonnull(strstr(text, "<errorCode>718</errorCode>"));
	free(text);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8081));
	ck_assert_int_eq(get_specific("192.168.1.10", "8081", "TCP").error, 714);
	/* Refused upstream under on_failure "refuse": ActionFailed, nothing kept. */
	cfg.upstream_refuse_on_failure = true;
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8082", "TCP", "8002", "192.168.1.10",
			     "600", "").http, 200);
	ck_assert_int_eq(chained("AddPortMapping", 8082, false, 0, &text), 500);
	ck_assert_ptr_nonnull(strstr(text, "<errorCode>501</errorCode>"));
	free(text);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8082));
	/* ... and under "local": granted, this router's alone. */
	cfg.upstream_refuse_on_failure = false;
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8083", "TCP", "8003", "192.168.1.10",
			     "600", "").http, 200);
	ck_assert_int_eq(chained("AddPortMapping", 8083, false, 0, &text), 200);
	free(text);
	mapper_set_chain(m, NULL);
}
END_TEST

START_TEST(test_secure_mode)
{
	/* another LAN host, without a third-party rule */
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.11", "60", "").error, 606);
	/* the router, the network and broadcast addresses, another network */
	ck_assert_int_eq(ADD("192.168.1.5", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.1", "60", "").error, 606);
	ck_assert_int_eq(ADD("192.168.1.5", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.255", "60", "").error, 606);
	ck_assert_int_eq(ADD("192.168.1.5", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.0", "60", "").error, 606);
	ck_assert_int_eq(ADD("192.168.1.5", "AddPortMapping", "8080", "TCP", "8080",
			     "10.0.0.5", "60", "").error, 606);
	/* a port the policy keeps closed */
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "80", "TCP", "8080",
			     "192.168.1.10", "60", "").error, 606);
	ck_assert_uint_eq(fake_nft.adds, 0);
	/* each refusal counted as UPnP's, as the other protocols' are */
	ck_assert_uint_eq(mapper_metrics(m)->events[METRICS_REFUSED][LEASE_ORIGIN_UPNP], 6);
	/* the host the policy lets map for others */
	ck_assert_int_eq(ADD("192.168.1.5", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.11", "60", "").http, 200);
	ck_assert_uint_eq(fake_nft.adds, 1);
}
END_TEST

START_TEST(test_invalid_args)
{
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "0", "TCP", "8080",
			     "192.168.1.10", "60", "").error, 716);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "SCTP", "8080",
			     "192.168.1.10", "60", "").error, 402);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "65536", "TCP", "8080",
			     "192.168.1.10", "60", "").error, 402);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "0",
			     "192.168.1.10", "60", "").error, 402);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "host.example", "60", "").error, 402);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "-1", "").error, 402);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", " 8080", "TCP", "8080",
			     "192.168.1.10", "60", "").error, 402);
	/* an in argument missing */
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "2", "DeletePortMapping",
				 "NewExternalPort", "8080", "NewProtocol", "TCP", NULL).error, 402);
	/* no such action; an IGD:2 action asked of WANIPConnection:1; another service */
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "2", "Reboot", NULL).error,
			 401);
	ck_assert_int_eq(ADD("192.168.1.10", "AddAnyPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "1", "AddAnyPortMapping",
				 NULL).error, 401);
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "3", "GetStatusInfo",
				 NULL).error, 401);
	ck_assert_int_eq(call_as("192.168.1.10", common_config, WANIP "2", "GetStatusInfo",
				 NULL).error, 401);
}
END_TEST

START_TEST(test_conflict_and_overwrite)
{
	struct outcome o;

	ck_assert_int_eq(ADD("192.168.1.11", "AddPortMapping", "9000", "TCP", "9000",
			     "192.168.1.11", "60", "").http, 200);
	/* someone else's external port */
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "9000", "TCP", "9001",
			     "192.168.1.10", "60", "").error, 718);
	/* AddAnyPortMapping finds another one */
	o = ADD("192.168.1.10", "AddAnyPortMapping", "9000", "TCP", "9001", "192.168.1.10",
		"60", "");
	ck_assert_int_eq(o.http, 200);
	ck_assert_str_eq(o.response.action, "AddAnyPortMappingResponse");
	ck_assert_str_ne(soap_arg(&o.response, "NewReservedPort"), "9000");
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	/* The owner moves its mapping to another external port: one lease. */
	ck_assert_int_eq(ADD("192.168.1.11", "AddPortMapping", "9100", "TCP", "9000",
			     "192.168.1.11", "60", "").http, 200);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	ck_assert_int_eq(get_specific("192.168.1.11", "9000", "TCP").error, 714);
	o = get_specific("192.168.1.11", "9100", "TCP");
	ck_assert_str_eq(soap_arg(&o.response, "NewInternalPort"), "9000");
	/* and points that external port at another internal port */
	ck_assert_int_eq(ADD("192.168.1.11", "AddPortMapping", "9100", "TCP", "9200",
			     "192.168.1.11", "60", "").http, 200);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	o = get_specific("192.168.1.11", "9100", "TCP");
	ck_assert_str_eq(soap_arg(&o.response, "NewInternalPort"), "9200");
}
END_TEST

/* A port another host holds through NAT-PMP or PCP: 729 for a
 * WANIPConnection:2 caller, 718 (all IGD:1 knows) for a :1 caller. */
START_TEST(test_conflict_with_other_mechanisms)
{
	struct map_request pmp = { .proto = IPPROTO_TCP, .client = unit_v4("192.168.1.11"),
				   .internal_addr = unit_v4("192.168.1.11"),
				   .internal_port = 9500, .suggested_external_port = 9500,
				   .lifetime = 60, .origin = LEASE_ORIGIN_NATPMP };

	ck_assert_int_eq(mapper_map(m, &pmp).status, MAP_OK);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "9500", "TCP", "9500",
			     "192.168.1.10", "60", "").error, 729);
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "1", "AddPortMapping",
				 "NewRemoteHost", "", "NewExternalPort", "9500", "NewProtocol",
				 "TCP", "NewInternalPort", "9500", "NewInternalClient",
				 "192.168.1.10", "NewEnabled", "1", "NewPortMappingDescription",
				 "", "NewLeaseDuration", "60", NULL).error, 718);
	/* the NAT-PMP mapping is untouched */
	ck_assert_uint_eq(fake_nft.deletes, 0);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
}
END_TEST

START_TEST(test_remote_host_is_a_filter)
{
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "60", "203.0.113.20").http, 200);
	ck_assert_uint_eq(fake_nft.last_add.m.nremotes, 1);
	ck_assert_uint_eq(addr_to_v4(&fake_nft.last_add.remotes[0].first).s_addr,
			  inet_addr("203.0.113.20"));
	ck_assert_uint_eq(addr_to_v4(&fake_nft.last_add.remotes[0].last).s_addr,
			  inet_addr("203.0.113.20"));
	/* The entry is named with its remote host. */
	ck_assert_int_eq(get_specific("192.168.1.10", "8080", "TCP").error, 714);
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "2",
				 "GetSpecificPortMappingEntry", "NewRemoteHost", "203.0.113.20",
				 "NewExternalPort", "8080", "NewProtocol", "TCP", NULL).http, 200);
}
END_TEST

static struct outcome delete(const char *client, const char *eport, const char *proto)
{
	return call_as(client, ip_connection, WANIP "2", "DeletePortMapping", "NewRemoteHost", "",
		       "NewExternalPort", eport, "NewProtocol", proto, NULL);
}

START_TEST(test_delete)
{
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(delete("192.168.1.11", "8080", "TCP").error, 606);
	ck_assert_int_eq(delete("192.168.1.10", "8080", "UDP").error, 714);
	ck_assert_uint_eq(fake_nft.deletes, 0);
	ck_assert_int_eq(delete("192.168.1.10", "8080", "TCP").http, 200);
	ck_assert_uint_eq(fake_nft.deletes, 1);
	ck_assert_uint_eq(fake_nft.last_delete.m.external_port, 8080);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
	ck_assert_int_eq(delete("192.168.1.10", "8080", "TCP").error, 714);
}
END_TEST

static struct outcome delete_range(const char *client, const char *first, const char *last)
{
	return call_as(client, ip_connection, WANIP "2", "DeletePortMappingRange", "NewStartPort",
		       first, "NewEndPort", last, "NewProtocol", "TCP", "NewManage", "1", NULL);
}

START_TEST(test_delete_range_own_only)
{
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "5001", "TCP", "5001",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "5002", "TCP", "5002",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "6000", "TCP", "6000",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(ADD("192.168.1.11", "AddPortMapping", "5003", "TCP", "5003",
			     "192.168.1.11", "60", "").http, 200);
	ck_assert_int_eq(delete_range("192.168.1.10", "5002", "5001").error, 733);
	ck_assert_int_eq(delete_range("192.168.1.10", "7000", "8000").error, 730);
	ck_assert_int_eq(delete_range("192.168.1.10", "5000", "5999").http, 200);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	ck_assert_int_eq(get_specific("192.168.1.10", "6000", "TCP").http, 200);
	ck_assert_int_eq(get_specific("192.168.1.10", "5003", "TCP").http, 200);
	ck_assert_int_eq(delete_range("192.168.1.10", "5000", "5999").error, 730);
}
END_TEST

START_TEST(test_generic_entries_and_listing)
{
	struct outcome o;
	const char *text;

	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "7002", "TCP", "7002",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "7001", "TCP", "7001",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "7003", "UDP", "7003",
			     "192.168.1.10", "60", "").http, 200);
	for (int i = 0; i < 3; i++) {
		char index[12];

		snprintf(index, sizeof(index), "%d", i);
		o = call_as("192.168.1.10", ip_connection, WANIP "1", "GetGenericPortMappingEntry",
			    "NewPortMappingIndex", index, NULL);
		ck_assert_int_eq(o.http, 200);
		ck_assert_str_eq(soap_arg(&o.response, "NewInternalClient"), "192.168.1.10");
	}
	o = call_as("192.168.1.10", ip_connection, WANIP "1", "GetGenericPortMappingEntry",
		    "NewPortMappingIndex", "3", NULL);
	ck_assert_int_eq(o.error, 713);
	ck_assert_uint_eq(igd_mapping_count(&igd), 3);

	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetListOfPortMappings",
		    "NewStartPort", "7000", "NewEndPort", "7999", "NewProtocol", "TCP",
		    "NewManage", "0", "NewNumberOfPorts", "0", NULL);
	ck_assert_int_eq(o.http, 200);
	/* The listing is an XML document in a CDATA section, sorted by
	 * external port, TCP only, its descriptions escaped. */
	text = strstr(o.text, "<NewPortListing><![CDATA[<?xml");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "<p:NewExternalPort>7001</"));
	ck_assert(strstr(text, "7001") < strstr(text, "7002"));
	ck_assert_ptr_null(strstr(text, "7003"));
	ck_assert_ptr_nonnull(strstr(text, "<p:NewDescription>test &lt;&amp;&gt;</"));
	ck_assert_ptr_nonnull(strstr(text, "</p:PortMappingList>]]></NewPortListing>"));
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetListOfPortMappings",
		    "NewStartPort", "7000", "NewEndPort", "7999", "NewProtocol", "TCP",
		    "NewManage", "0", "NewNumberOfPorts", "1", NULL);
	ck_assert_int_eq(o.http, 200);
	ck_assert_ptr_nonnull(strstr(o.text, "7001"));
	ck_assert_ptr_null(strstr(o.text, "7002"));
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetListOfPortMappings",
		    "NewStartPort", "1", "NewEndPort", "2", "NewProtocol", "TCP",
		    "NewManage", "0", "NewNumberOfPorts", "0", NULL);
	ck_assert_int_eq(o.error, 730);
}
END_TEST

START_TEST(test_status_actions)
{
	struct outcome o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetExternalIPAddress",
				   NULL);

	ck_assert_str_eq(soap_arg(&o.response, "NewExternalIPAddress"), "203.0.113.1");
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetStatusInfo", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "NewConnectionStatus"), "Connected");
	ck_assert_str_eq(soap_arg(&o.response, "NewLastConnectionError"), "ERROR_NONE");
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetConnectionTypeInfo", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "NewConnectionType"), "IP_Routed");
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetNATRSIPStatus", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "NewNATEnabled"), "1");

	mapper_set_external_address(m, NULL);
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetExternalIPAddress", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "NewExternalIPAddress"), "");
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetStatusInfo", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "NewConnectionStatus"), "Disconnected");
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "60", "").error, 501);
}
END_TEST

/* The counters are the external interface's own (here lo). */
START_TEST(test_interface_counters)
{
	struct outcome o = call_as("192.168.1.10", common_config,
				   "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
				   "GetTotalPacketsReceived", NULL);
	FILE *f = fopen("/sys/class/net/lo/statistics/rx_packets", "r");
	unsigned long long kernel = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%llu", &kernel), 1);
	fclose(f);
	ck_assert_int_eq(o.http, 200);
	ck_assert_uint_ge(strtoull(soap_arg(&o.response, "NewTotalPacketsReceived"), NULL, 10),
			  kernel & 0xffffffffULL);
	o = call_as("192.168.1.10", common_config,
		    "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1",
		    "GetCommonLinkProperties", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "NewWANAccessType"), "Ethernet");
	ck_assert_str_eq(soap_arg(&o.response, "NewPhysicalLinkStatus"), "Up");
}
END_TEST

static const char *state_value(const struct igd_state *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->vars[i].name, name) == 0)
			return st->vars[i].value;
	return NULL;
}

/* What GENA sends: the variables the SCPD marks evented, as they are. */
START_TEST(test_evented_state)
{
	struct igd_state st;

	igd_evented_state(&igd, ip_connection, &st);
	ck_assert_uint_eq(st.n, 4);
	ck_assert_str_eq(state_value(&st, "PortMappingNumberOfEntries"), "0");
	ck_assert_str_eq(state_value(&st, "ExternalIPAddress"), "203.0.113.1");
	ck_assert_str_eq(state_value(&st, "ConnectionStatus"), "Connected");
	ck_assert_str_eq(state_value(&st, "PossibleConnectionTypes"), "IP_Routed");
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "60", "").http, 200);
	igd_evented_state(&igd, ip_connection, &st);
	ck_assert_str_eq(state_value(&st, "PortMappingNumberOfEntries"), "1");
	mapper_set_external_address(m, NULL);
	igd_evented_state(&igd, ip_connection, &st);
	ck_assert_str_eq(state_value(&st, "ExternalIPAddress"), "");
	ck_assert_str_eq(state_value(&st, "ConnectionStatus"), "Disconnected");
	igd_evented_state(&igd, common_config, &st);
	ck_assert_uint_eq(st.n, 1);
	ck_assert_str_eq(state_value(&st, "PhysicalLinkStatus"), "Up");
}
END_TEST

#define ADD_PINHOLE(client, remote, rport, iclient, iport, proto, lease)                     \
	call_as(client, firewall, FW6, "AddPinhole", "RemoteHost", remote, "RemotePort", rport, \
		"InternalClient", iclient, "InternalPort", iport, "Protocol", proto,            \
		"LeaseTime", lease, NULL)

static struct outcome by_id(const char *client, const char *action, const char *id)
{
	return call_as(client, firewall, FW6, action, "UniqueID", id, NULL);
}

START_TEST(test_pinhole_lifecycle)
{
	const char *me = "2001:db8:1::10", *other = "2001:db8:1::11";
	struct outcome o = ADD_PINHOLE(me, "", "0", me, "8080", "6", "3600");
	struct in6_addr want;
	char id[8];

	ck_assert_int_eq(o.http, 200);
	snprintf(id, sizeof(id), "%s", soap_arg(&o.response, "UniqueID"));
	ck_assert_int_gt(atoi(id), 0);
	ck_assert_uint_eq(fake_nft.adds, 1);
	inet_pton(AF_INET6, me, &want);
	ck_assert(addr_equal(&fake_nft.last_add.m.internal_addr, &want));
	ck_assert_uint_eq(fake_nft.last_add.m.internal_port, 8080);
	ck_assert_uint_eq(fake_nft.last_add.m.proto, IPPROTO_TCP);
	ck_assert_uint_eq(fake_nft.last_add.m.nremotes, 0);
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms, 600000);  /* lifetime.max */
	/* A pinhole is no IPv4 port mapping. */
	ck_assert_uint_eq(igd_mapping_count(&igd), 0);

	/* The same endpoint again: the same pinhole, renewed, with the new
	 * remote filter. */
	o = ADD_PINHOLE(me, "2001:db8:99::1", "4000", me, "8080", "TCP", "100");
	ck_assert_int_eq(o.http, 200);
	ck_assert_str_eq(soap_arg(&o.response, "UniqueID"), id);
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_uint_eq(fake_nft.refreshes, 1);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 1);
	ck_assert_uint_eq(fake_nft.last_refresh.m.remotes[0].port_first, 4000);
	ck_assert_uint_eq(fake_nft.last_refresh.m.timeout_ms, 100000);

	o = call_as(me, firewall, FW6, "UpdatePinhole", "UniqueID", id, "NewLeaseTime", "200",
		    NULL);
	ck_assert_int_eq(o.http, 200);
	ck_assert_uint_eq(fake_nft.refreshes, 2);
	ck_assert_uint_eq(fake_nft.last_refresh.m.timeout_ms, 200000);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 1);  /* kept */

	o = by_id(me, "GetPinholePackets", id);
	ck_assert_str_eq(soap_arg(&o.response, "PinholePackets"), "0");
	ck_assert_int_eq(by_id(me, "CheckPinholeWorking", id).error, 709);
	fake_nft.packets = 3;
	o = by_id(me, "GetPinholePackets", id);
	ck_assert_str_eq(soap_arg(&o.response, "PinholePackets"), "3");
	o = by_id(me, "CheckPinholeWorking", id);
	ck_assert_str_eq(soap_arg(&o.response, "IsWorking"), "1");
	fake_nft.packets_error = -EIO;
	ck_assert_int_eq(by_id(me, "GetPinholePackets", id).error, 501);
	fake_nft.packets_error = 0;

	/* Another host may neither read nor touch it. */
	ck_assert_int_eq(by_id(other, "GetPinholePackets", id).error, 606);
	ck_assert_int_eq(by_id(other, "CheckPinholeWorking", id).error, 606);
	ck_assert_int_eq(by_id(other, "DeletePinhole", id).error, 606);
	ck_assert_int_eq(call_as(other, firewall, FW6, "UpdatePinhole", "UniqueID", id,
				 "NewLeaseTime", "60", NULL).error, 606);
	ck_assert_int_eq(by_id(me, "DeletePinhole", "9999").error, 704);
	ck_assert_int_eq(by_id(me, "DeletePinhole", "0").error, 704);
	ck_assert_int_eq(by_id(me, "DeletePinhole", "x").error, 402);

	ck_assert_int_eq(by_id(me, "DeletePinhole", id).http, 200);
	ck_assert_uint_eq(fake_nft.deletes, 1);
	ck_assert_int_eq(by_id(me, "DeletePinhole", id).error, 704);
	ck_assert_int_eq(by_id(me, "GetPinholePackets", id).error, 704);
}
END_TEST

START_TEST(test_pinhole_refusals)
{
	const char *me = "2001:db8:1::10";

	/* Secure mode: the asker's own address, on its link, not the router. */
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", "2001:db8:1::11", "8080", "6", "60").error, 606);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", "2001:db8:1::1", "8080", "6", "60").error, 606);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", "2001:db8:2::10", "8080", "6", "60").error, 606);
	/* An IPv4 asker cannot vouch for an IPv6 address. */
	ck_assert_int_eq(ADD_PINHOLE("192.168.1.10", "", "0", me, "8080", "6", "60").error, 606);
	/* The policy: ports below 1024 are not for hosts of 2001:db8:1::/64. */
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "80", "6", "60").error, 606);
	/* The service's own errors. */
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "0", "6", "60").error, 706);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "8080", "65535", "60").error, 707);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "8080", "136", "60").error, 705);
	/* Malformed. */
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", "192.168.1.10", "8080", "6", "60").error, 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", "::ffff:192.168.1.10", "8080", "6", "60").error,
			 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", "", "8080", "6", "60").error, 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "nonsense", "0", me, "8080", "6", "60").error, 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "70000", me, "8080", "6", "60").error, 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "8080", "-6", "60").error, 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "8080", "6", "0").error, 402);
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "8080", "6", "86401").error, 402);
	ck_assert_int_eq(call_as(me, firewall, FW6, "AddPinhole", "RemoteHost", "", NULL).error,
			 402);
	ck_assert_uint_eq(fake_nft.adds, 0);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);

	/* A full table is PinholeSpaceExhausted. */
	for (int port = 2000; port < 2008; port++) {
		char p[12];

		snprintf(p, sizeof(p), "%d", port);
		ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, p, "17", "60").http, 200);
	}
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "3000", "17", "60").error, 701);
}
END_TEST

START_TEST(test_firewall_status_and_events)
{
	const char *me = "2001:db8:1::10";
	struct outcome o = call_as(me, firewall, FW6, "GetFirewallStatus", NULL);
	struct igd_state st;
	char before[IGD_VALUE_MAX];

	ck_assert_int_eq(o.http, 200);
	ck_assert_str_eq(soap_arg(&o.response, "FirewallEnabled"), "1");
	ck_assert_str_eq(soap_arg(&o.response, "InboundPinholeAllowed"), "1");

	igd_evented_state(&igd, firewall, &st);
	ck_assert_uint_eq(st.n, 3);
	ck_assert_str_eq(state_value(&st, "FirewallEnabled"), "1");
	ck_assert_str_eq(state_value(&st, "InboundPinholeAllowed"), "1");
	snprintf(before, sizeof(before), "%s", state_value(&st, "SystemUpdateID"));
	ck_assert_int_eq(ADD_PINHOLE(me, "", "0", me, "8080", "6", "60").http, 200);
	igd_evented_state(&igd, firewall, &st);
	ck_assert_str_ne(state_value(&st, "SystemUpdateID"), before);

	/* No rule can allow an IPv6 host: pinholes are not allowed, and say so. */
	cfg.policy.count = 3;
	o = call_as(me, firewall, FW6, "GetFirewallStatus", NULL);
	ck_assert_str_eq(soap_arg(&o.response, "InboundPinholeAllowed"), "0");
}
END_TEST

/* IGD:2 only; an IGD:1 control point never sees it. */
START_TEST(test_firewall_service_is_igd2_only)
{
	struct igd_identity id;
	uint8_t seed[16] = { 1 };
	struct evbuffer *b = evbuffer_new();
	char *text;

	ck_assert_uint_eq(igd_service_version(firewall, 1), 0);
	ck_assert_uint_eq(igd_service_version(firewall, 2), 1);
	igd_identity_init(&id, 2, seed);
	igd_root_description(b, &id);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<serviceType>" FW6 "</serviceType>"));
	ck_assert_ptr_nonnull(strstr(text, "<controlURL>/ctl/IP6FCtl</controlURL>"));
	free(text);
	igd_identity_init(&id, 1, seed);
	igd_root_description(b, &id);
	text = unit_take_text(b);
	ck_assert_ptr_null(strstr(text, "WANIPv6FirewallControl"));
	free(text);
	/* the IGD:1 beside an IGD:2: its SCPDs under its prefix, and the
	 * firewall service for the clients that take the IGD:1 */
	snprintf(id.prefix, sizeof(id.prefix), "/igd1");
	id.with_v2_services = true;
	igd_root_description(b, &id);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<serviceType>" FW6 "</serviceType>"));
	ck_assert_ptr_nonnull(strstr(text, "<serviceType>" WANIP "1</serviceType>"));
	ck_assert_ptr_nonnull(strstr(text, "<SCPDURL>/igd1/"));
	ck_assert_ptr_null(strstr(text, WANIP "2"));
	ck_assert_uint_eq(igd_offered_version(firewall, &id), 1);
	free(text);
	igd_scpd(b, firewall, 1);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<name>CheckPinholeWorking</name>"));
	ck_assert_ptr_nonnull(strstr(text, "<stateVariable sendEvents=\"yes\"><name>SystemUpdateID"));
	free(text);
	evbuffer_free(b);
}
END_TEST

/* The descriptions are well-formed XML that lists what is served. */
START_TEST(test_descriptions)
{
	struct igd_identity id;
	uint8_t seed[16] = { 1, 2, 3 };
	struct evbuffer *b = evbuffer_new();
	char *text;

	igd_identity_init(&id, 2, seed);
	ck_assert_str_ne(id.uuid[0], id.uuid[1]);
	ck_assert_uint_eq(strlen(id.uuid[0]), 36);
	ck_assert_int_eq(id.uuid[0][14], '4');
	igd_root_description(b, &id);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "urn:schemas-upnp-org:device:InternetGatewayDevice:2"));
	ck_assert_ptr_nonnull(strstr(text, "<serviceType>urn:schemas-upnp-org:service:"
					   "WANIPConnection:2</serviceType>"));
	ck_assert_ptr_nonnull(strstr(text, "<controlURL>/ctl/IPConn</controlURL>"));
	free(text);

	igd_scpd(b, ip_connection, 1);
	text = unit_take_text(b);
	ck_assert_ptr_nonnull(strstr(text, "<name>AddPortMapping</name>"));
	ck_assert_ptr_null(strstr(text, "<name>AddAnyPortMapping</name>"));
	free(text);
	evbuffer_free(b);

	ck_assert(igd_type_matches("urn:schemas-upnp-org:service:WANIPConnection:1", "service",
				   "WANIPConnection", 2, NULL));
	ck_assert(!igd_type_matches("urn:schemas-upnp-org:service:WANIPConnection:3", "service",
				    "WANIPConnection", 2, NULL));
	ck_assert(!igd_type_matches("urn:schemas-upnp-org:service:WANIPConnection:1x", "service",
				    "WANIPConnection", 2, NULL));
	ck_assert(!igd_type_matches("urn:schemas-upnp-org:device:WANIPConnection:1", "service",
				    "WANIPConnection", 2, NULL));
}
END_TEST

/* What clients send for "any remote host" is any remote host: no filter. */
START_TEST(test_remote_host_forgiven)
{
	static const char *const any[] = { "undefined", "*", "not-an-ip", "" };
	char port[8];

	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		const struct lease *l;

		snprintf(port, sizeof(port), "%zu", 8080 + i);
		ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", port, "TCP", port,
				     "192.168.1.10", "60", any[i]).http, 200);
		l = lease_by_external(mapper_leases(m), IPPROTO_TCP, (uint16_t)(8080 + i));
		ck_assert_ptr_nonnull(l);
		ck_assert_uint_eq(l->nfilters, 0);
		/* and names the same mapping when deleting */
	}
	ck_assert_int_eq(call_as("192.168.1.10", ip_connection, WANIP "2", "DeletePortMapping",
				 "NewRemoteHost", "undefined", "NewExternalPort", "8080",
				 "NewProtocol", "TCP", NULL).http, 200);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
}
END_TEST

/* A value of variable, as the SCPD we serve allows it: its
 * allowedValueList, or its type's form. */
static void assert_allowed(const struct upnp_service *s, const char *action,
			   const struct soap_arg *got)
{
	const struct upnp_action *a = igd_find_action(s, 2, action);
	const struct upnp_variable *v = NULL;
	const char *variable = NULL;

	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < a->nargs; i++)
		if (strcmp(a->args[i].name, got->name) == 0)
			variable = a->args[i].variable;
	ck_assert_msg(variable != NULL, "%s answers %s, which it does not declare", action,
		      got->name);
	for (size_t i = 0; i < s->nvariables; i++)
		if (strcmp(s->variables[i].name, variable) == 0)
			v = &s->variables[i];
	ck_assert_ptr_nonnull(v);
	if (v->allowed) {
		size_t n = strlen(got->value);
		const char *hit = strstr(v->allowed, got->value);

		ck_assert_msg(n && hit && (hit == v->allowed || hit[-1] == ' ') &&
				      (hit[n] == ' ' || hit[n] == '\0'),
			      "%s %s = \"%s\", not in {%s}", action, got->name, got->value,
			      v->allowed);
	} else if (strcmp(v->type, "boolean") == 0) {
		ck_assert_msg(strcmp(got->value, "0") == 0 || strcmp(got->value, "1") == 0,
			      "%s %s = \"%s\", not a boolean", action, got->name, got->value);
	} else if (strncmp(v->type, "ui", 2) == 0 || strncmp(v->type, "i", 1) == 0) {
		ck_assert_msg(got->value[0] && strspn(got->value, "0123456789") == strlen(got->value),
			      "%s %s = \"%s\", not a %s", action, got->name, got->value, v->type);
	}
}

/* A plausible value for an in argument, so that every action can run. */
static const char *value_for(const struct upnp_argument *arg)
{
	static const struct { const char *name, *value; } by_name[] = {
		{ "NewStartPort", "1" }, { "NewEndPort", "65535" }, { "NewNumberOfPorts", "100" },
		{ "NewPortMappingIndex", "0" }, { "NewExternalPort", "9090" },
		{ "NewInternalPort", "9090" }, { "NewProtocol", "UDP" }, { "NewRemoteHost", "" },
		{ "NewInternalClient", "192.168.1.10" }, { "NewEnabled", "1" }, { "NewManage", "1" },
		{ "NewPortMappingDescription", "every action" }, { "NewLeaseDuration", "60" },
	};

	for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
		if (strcmp(arg->name, by_name[i].name) == 0)
			return by_name[i].value;
	return "0";
}

/* Every action of every service answers values as its SCPD spells them
 * (TCP and UDP, booleans 0 and 1, ConnectionStatus...). */
START_TEST(test_answers_as_the_scpd_spells_them)
{
	const struct upnp_service *services[] = { ip_connection, common_config };
	struct outcome o;
	unsigned answered = 0;

	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8080", "TCP", "8080",
			     "192.168.1.10", "60", "").http, 200);
	ck_assert_int_eq(ADD("192.168.1.10", "AddPortMapping", "8081", "UDP", "8081",
			     "192.168.1.10", "60", "").http, 200);
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetListOfPortMappings",
		    "NewStartPort", "1", "NewEndPort", "65535", "NewProtocol", "TCP",
		    "NewManage", "1", "NewNumberOfPorts", "10", NULL);
	ck_assert_ptr_nonnull(strstr(o.text, "<p:NewProtocol>TCP</p:NewProtocol>"));
	ck_assert_ptr_null(strstr(o.text, "<p:NewProtocol>tcp"));
	o = call_as("192.168.1.10", ip_connection, WANIP "2", "GetGenericPortMappingEntry",
		    "NewPortMappingIndex", "1", NULL);
	ck_assert_int_eq(o.http, 200);
	ck_assert_str_eq(soap_arg(&o.response, "NewProtocol"), "UDP");
	for (size_t k = 0; k < sizeof(services) / sizeof(services[0]); k++) {
		const struct upnp_service *s = services[k];
		char type[96];

		snprintf(type, sizeof(type), "urn:schemas-upnp-org:service:%s:%u", s->name,
			 igd_service_version(s, 2));
		for (size_t i = 0; i < s->nactions; i++) {
			const struct upnp_action *a = &s->actions[i];
			struct soap_call c = { 0 };

			snprintf(c.service_type, sizeof(c.service_type), "%s", type);
			snprintf(c.action, sizeof(c.action), "%s", a->name);
			for (size_t j = 0; j < a->nargs; j++) {
				if (a->args[j].dir != ARG_IN)
					continue;
				snprintf(c.args[c.nargs].name, sizeof(c.args[0].name), "%s",
					 a->args[j].name);
				snprintf(c.args[c.nargs].value, sizeof(c.args[0].value), "%s",
					 value_for(&a->args[j]));
				c.nargs++;
			}
			o = run_call("192.168.1.10", s, &c);
			if (o.http != 200 || strcmp(a->name, "GetListOfPortMappings") == 0)
				continue;
			answered++;
			for (size_t j = 0; j < o.response.nargs; j++)
				assert_allowed(s, a->name, &o.response.args[j]);
		}
	}
	ck_assert_uint_ge(answered, 12);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("igd");
	TCase *tc = tcase_create("control");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_and_read_back);
	tcase_add_test(tc, test_secure_mode);
	tcase_add_test(tc, test_chained_answers);
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_conflict_and_overwrite);
	tcase_add_test(tc, test_conflict_with_other_mechanisms);
	tcase_add_test(tc, test_remote_host_is_a_filter);
	tcase_add_test(tc, test_remote_host_forgiven);
	tcase_add_test(tc, test_answers_as_the_scpd_spells_them);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_delete_range_own_only);
	tcase_add_test(tc, test_generic_entries_and_listing);
	tcase_add_test(tc, test_status_actions);
	tcase_add_test(tc, test_interface_counters);
	tcase_add_test(tc, test_evented_state);
	tcase_add_test(tc, test_descriptions);
	tcase_add_test(tc, test_pinhole_lifecycle);
	tcase_add_test(tc, test_pinhole_refusals);
	tcase_add_test(tc, test_firewall_status_and_events);
	tcase_add_test(tc, test_firewall_service_is_igd2_only);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
