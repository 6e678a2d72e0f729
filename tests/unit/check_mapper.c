/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "fake_nft.h"
#include "lib/log.h"
#include "daemon/leasefile.h"
#include "daemon/mapper.h"
#include "unit.h"

static struct config cfg;
static struct event_base *base;
static struct mapper *m;

/* Hosts as the neighbour table would tell them: 192.168.1.100 to .199 are
 * one host's addresses, every other address a host of its own. */
static struct host_id fake_host_of(void *arg, const struct in6_addr *addr)
{
	static const uint8_t crowd[6] = { 0x02, 0xcc, 0, 0, 0, 1 };
	char text[ADDR_STRLEN];

	(void)arg;
	if (addr_is_v4(addr) && addr->s6_addr[12] == 192 && addr->s6_addr[13] == 168 &&
	    addr->s6_addr[14] == 1 && addr->s6_addr[15] >= 100 && addr->s6_addr[15] < 200)
		return host_id_of_mac(crowd);
	return unit_host(addr_is_v4(addr) ? addr_format(addr, text) : "0.0.0.6");
}

static struct mapper *new_mapper(void)
{
	struct mapper *made = mapper_new(base, &cfg, nft_open("t", NULL, "wan0", 0, NULL, 0, NULL, 0), 1);

	ck_assert_ptr_nonnull(made);
	mapper_set_host_lookup(made, fake_host_of, NULL);
	return made;
}

static void setup(void)
{
	char err[CONFIG_ERROR_MAX];
	struct in_addr ext;

	memset(&fake_nft, 0, sizeof(fake_nft));
	ck_assert_int_eq(config_load_string(
		"external_interface = \"wan0\"; lan_interfaces = [ \"lan0\" ];\n"
		"lifetime = { min = 1; max = 600; }; max_leases = 3;\n"
		"policy = ( { action = \"deny\"; external_ports = \"1-1023\"; },\n"
		"  { action = \"allow\"; clients = \"192.168.1.0/24\"; internal_ports = \"1024-65535\"; } );\n",
		"mapper.conf", &cfg, err, sizeof(err)), 0);
	base = event_base_new();
	m = new_mapper();
	inet_pton(AF_INET, "203.0.113.1", &ext);
	mapper_set_external_address(m, &ext);
}

static void teardown(void)
{
	mapper_free(m);
	event_base_free(base);
}

static struct map_request req(const char *host, uint16_t iport, uint16_t eport, uint32_t life)
{
	return (struct map_request){
		.proto = IPPROTO_TCP, .client = unit_v4(host), .internal_addr = unit_v4(host),
		.internal_port = iport, .suggested_external_port = eport, .lifetime = life,
		.origin = LEASE_ORIGIN_NATPMP,
	};
}

static const uint8_t peer_nonce[LEASE_NONCE_LEN] = { 1 }, other_nonce[LEASE_NONCE_LEN] = { 2 };

static struct peer_request peer(uint16_t iport, const char *remote, uint16_t rport,
				uint16_t suggested, uint32_t life, const uint8_t *nonce)
{
	return (struct peer_request){
		.proto = IPPROTO_UDP, .client = unit_v4("192.168.1.10"),
		.internal_addr = unit_v4("192.168.1.10"), .internal_port = iport,
		.remote_addr = unit_v4(remote), .remote_port = rport,
		.suggested_external_port = suggested, .lifetime = life, .nonce = nonce,
	};
}

START_TEST(test_peer_makes_the_mapping)
{
	struct peer_request p = peer(5060, "198.51.100.7", 3478, 45060, 120, peer_nonce);
	struct in6_addr ext;
	struct map_result res = mapper_peer(m, &p, &ext);
	const struct lease *l;
	char text[ADDR_STRLEN];

	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_eq(res.external_port, 45060);
	ck_assert_uint_eq(res.lifetime, 120);
	ck_assert_str_eq(addr_format(&ext, text), "203.0.113.1");
	/* The kernel is told: its flows with that one remote, both ways. */
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert(fake_nft.last_add.m.peer);
	ck_assert_uint_eq(fake_nft.last_add.m.external_port, 45060);
	ck_assert_uint_eq(fake_nft.last_add.m.nremotes, 1);
	ck_assert_str_eq(addr_format(&fake_nft.last_add.remotes[0].first, text), "198.51.100.7");
	ck_assert_str_eq(addr_format(&fake_nft.last_add.remotes[0].last, text), "198.51.100.7");
	ck_assert_uint_eq(fake_nft.last_add.remotes[0].port_first, 3478);
	ck_assert_uint_eq(fake_nft.last_add.remotes[0].port_last, 3478);
	l = lease_by_external(mapper_leases(m), IPPROTO_UDP, 45060);
	ck_assert_ptr_nonnull(l);
	ck_assert(l->peer);
	ck_assert_int_eq(l->origin, LEASE_ORIGIN_PCP);
	/* Its port is taken like a MAP's. */
	struct map_request r = req("192.168.1.11", 6000, 45060, 60);
	r.proto = IPPROTO_UDP;
	ck_assert_uint_ne(mapper_map(m, &r).external_port, 45060);
}
END_TEST

START_TEST(test_peer_renews_adds_and_deletes_remotes)
{
	struct peer_request p = peer(5060, "198.51.100.7", 3478, 0, 120, peer_nonce);
	struct in6_addr ext;
	uint16_t port = mapper_peer(m, &p, &ext).external_port;
	const struct lease *l;

	/* Renewed: the same port, the same one remote. */
	p.lifetime = 300;
	ck_assert_uint_eq(mapper_peer(m, &p, &ext).external_port, port);
	ck_assert_uint_eq(fake_nft.refreshes, 1);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 1);
	/* Another remote of the same internal endpoint: the same external
	 * port, one mapping with both. */
	p = peer(5060, "198.51.100.8", 9000, 0, 300, peer_nonce);
	ck_assert_uint_eq(mapper_peer(m, &p, &ext).external_port, port);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 2);
	ck_assert(fake_nft.last_refresh.m.peer);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
	/* Only its nonce's holder changes it. */
	p.nonce = other_nonce;
	ck_assert_int_eq(mapper_peer(m, &p, &ext).status, MAP_NOT_OWNER);
	/* A MAP may not open its port to every remote, nor delete it. */
	struct map_request r = req("192.168.1.10", 5060, 0, 60);
	r.proto = IPPROTO_UDP;
	r.origin = LEASE_ORIGIN_PCP;
	r.nonce = peer_nonce;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_PORT_UNAVAILABLE);
	struct unmap_request u = { .client = r.client, .internal_addr = r.internal_addr,
				   .proto = IPPROTO_UDP, .internal_port = 5060, .nonce = peer_nonce,
				   .origin = LEASE_ORIGIN_PCP };
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_OK);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
	/* Lifetime 0 takes a remote out; the last one, the mapping. */
	p = peer(5060, "198.51.100.8", 9000, 0, 0, peer_nonce);
	ck_assert_int_eq(mapper_peer(m, &p, &ext).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 1);
	l = lease_by_external(mapper_leases(m), IPPROTO_UDP, port);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->nfilters, 1);
	p = peer(5060, "198.51.100.7", 3478, 0, 0, peer_nonce);
	ck_assert_int_eq(mapper_peer(m, &p, &ext).status, MAP_OK);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
	ck_assert(fake_nft.last_delete.m.peer);
	/* Nothing left to delete: still a success. */
	ck_assert_int_eq(mapper_peer(m, &p, &ext).status, MAP_OK);
}
END_TEST

START_TEST(test_peer_needs_policy_and_no_map)
{
	struct peer_request p = peer(100, "198.51.100.7", 3478, 0, 120, peer_nonce);
	struct map_request r = req("192.168.1.10", 5060, 0, 60);
	struct in6_addr ext;

	ck_assert_int_eq(mapper_peer(m, &p, &ext).status, MAP_DENIED);
	/* An endpoint with a MAP mapping: only its existing flows (none here). */
	r.proto = IPPROTO_UDP;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	p = peer(5060, "198.51.100.7", 3478, 0, 120, peer_nonce);
	ck_assert_int_eq(mapper_peer(m, &p, &ext).status, MAP_NO_FLOW);
	ck_assert_uint_eq(fake_nft.adds, 1);
}
END_TEST

START_TEST(test_grant_installs_one_forward)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	struct map_result res = mapper_map(m, &r);

	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_eq(res.external_port, 8080);
	ck_assert_uint_eq(res.lifetime, 60);
	ck_assert_int_eq(res.rule, 1);
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_uint_eq(fake_nft.last_add.m.external_port, 8080);
	ck_assert_uint_eq(fake_nft.last_add.m.internal_port, 8080);
	ck_assert_uint_eq(addr_to_v4(&fake_nft.last_add.m.internal_addr).s_addr, inet_addr("192.168.1.10"));
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms, 60000);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
}
END_TEST

START_TEST(test_replace_own)
{
	struct map_request mine = req("192.168.1.10", 8080, 8080, 60);
	struct map_request other = req("192.168.1.11", 9090, 9090, 60);
	struct map_request up = req("192.168.1.10", 8080, 18080, 60);
	struct map_result res;

	ck_assert_int_eq(mapper_map(m, &mine).status, MAP_OK);
	ck_assert_int_eq(mapper_map(m, &other).status, MAP_OK);
	up.origin = LEASE_ORIGIN_UPNP;
	up.exact_port = up.replace_own = true;
	/* Denied: nothing moves. */
	up.suggested_external_port = 80;
	ck_assert_int_eq(mapper_map(m, &up).status, MAP_DENIED);
	ck_assert_ptr_nonnull(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
	/* Another client's port: a conflict, with how it was made. */
	up.suggested_external_port = 9090;
	res = mapper_map(m, &up);
	ck_assert_int_eq(res.status, MAP_CONFLICT);
	ck_assert_int_eq(res.conflict_origin, LEASE_ORIGIN_NATPMP);
	ck_assert_ptr_nonnull(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
	/* Its own endpoint's mapping moves to the port asked for. */
	up.suggested_external_port = 18080;
	res = mapper_map(m, &up);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_eq(res.external_port, 18080);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
}
END_TEST

/* UPnP's replace-own in a burst: its mapping moves to the port asked for
 * in the burst's one transaction (its delete and its add queued, nothing
 * applied before the burst ends), under the rule that allowed the port. */
START_TEST(test_replace_own_in_a_batch)
{
	struct map_request mine = req("192.168.1.10", 8080, 8080, 60);
	struct map_request up = req("192.168.1.10", 8080, 18080, 60);
	struct map_request picked = req("192.168.1.10", 9000, 0, 60);
	unsigned withdrawn[4];
	const struct lease *l;
	struct map_result res;

	ck_assert_int_eq(mapper_map(m, &mine).status, MAP_OK);
	up.origin = LEASE_ORIGIN_UPNP;
	up.exact_port = up.replace_own = true;
	mapper_batch_begin(m);
	mapper_batch_request(m, 0);
	res = mapper_map(m, &up);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_int_eq(res.rule, 1);
	mapper_batch_request(m, 1);
	ck_assert_int_eq(mapper_map(m, &picked).rule, 1);
	ck_assert_uint_eq(fake_nft.batch_verbs, 3);
	ck_assert_uint_eq(fake_nft.batch_ends, 0);
	ck_assert_uint_eq(mapper_batch_end(m, withdrawn, 4), 0);
	ck_assert_uint_eq(fake_nft.batch_ends, 1);
	ck_assert_ptr_nonnull(l = lease_by_external(mapper_leases(m), IPPROTO_TCP, 18080));
	ck_assert_int_eq(l->rule, 1);
	ck_assert_ptr_nonnull(l = lease_by_external(mapper_leases(m), IPPROTO_TCP, 9000));
	ck_assert_int_eq(l->rule, 1);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
}
END_TEST

START_TEST(test_denied_touches_nothing)
{
	struct map_request r = req("192.168.1.10", 22, 22, 60);
	struct map_result res = mapper_map(m, &r);

	ck_assert_int_eq(res.status, MAP_DENIED);
	r = req("10.0.0.5", 8080, 8080, 60);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_DENIED);
	ck_assert_uint_eq(fake_nft.adds, 0);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
}
END_TEST

START_TEST(test_backend_failure_leaves_no_lease)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	fake_nft.fail_next = -ENOBUFS;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_BACKEND_FAILED);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
	/* The port was not kept: the next request gets it. */
	ck_assert_uint_eq(mapper_map(m, &r).external_port, 8080);
}
END_TEST

/* Begins a batch with a (tag 0) and b (tag 1), b's kernel change to be
 * refused when the batch ends. */
static void batch_refusing_the_second(const struct map_request *a, const struct map_request *b)
{
	mapper_batch_begin(m);
	mapper_batch_request(m, 0);
	ck_assert_int_eq(mapper_map(m, a).status, MAP_OK);
	mapper_batch_request(m, 1);
	fake_nft.fail_next = -EBUSY;
	ck_assert_int_eq(mapper_map(m, b).status, MAP_OK);  /* not known yet */
}

/* A burst: the adds are queued; the one the kernel refused at the end is
 * withdrawn and its request's tag returned, the others stay. */
START_TEST(test_batch_withdraws_what_the_kernel_refused)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 60);
	struct map_request b = req("192.168.1.10", 8081, 8081, 60);
	struct map_request c = req("192.168.1.11", 8082, 8082, 60);
	unsigned withdrawn[4];

	batch_refusing_the_second(&a, &b);
	mapper_batch_request(m, 2);
	ck_assert_int_eq(mapper_map(m, &c).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.batch_ends, 0);
	ck_assert_uint_eq(mapper_batch_end(m, withdrawn, 4), 1);
	ck_assert_uint_eq(withdrawn[0], 1);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8081));
	ck_assert_ptr_nonnull(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
	ck_assert_ptr_nonnull(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8082));
	/* Nothing of it got in, and what is under its keys is not ours. */
	ck_assert_uint_eq(fake_nft.deletes, 0);
	/* Outside the batch, answered again: a plain grant. */
	ck_assert_int_eq(mapper_map(m, &b).status, MAP_OK);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 3);
}
END_TEST

/* A refresh in a burst is queued too: the replaced elements' counters
 * come back with the batch, and one the kernel refused is undone (its old
 * expiry) and its request answered again. */
START_TEST(test_batch_refresh_counts_and_undoes_a_refusal)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 60);
	struct map_request b = req("192.168.1.10", 8081, 8081, 60);
	struct lease *la, *lb;
	uint64_t b_expiry;
	unsigned withdrawn[4];

	ck_assert_int_eq(mapper_map(m, &a).status, MAP_OK);
	ck_assert_int_eq(mapper_map(m, &b).status, MAP_OK);
	la = lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080);
	lb = lease_by_external(mapper_leases(m), IPPROTO_TCP, 8081);
	b_expiry = lb->expires_ms;
	fake_nft.packets = 7;
	a.lifetime = b.lifetime = 500;

	batch_refusing_the_second(&a, &b);
	ck_assert_uint_eq(fake_nft.refreshes, 1);
	ck_assert_uint_eq(fake_nft.batch_ends, 0);
	ck_assert_uint_eq(mapper_batch_end(m, withdrawn, 4), 1);
	ck_assert_uint_eq(withdrawn[0], 1);

	ck_assert_uint_eq(la->packets_before, 7);
	ck_assert_uint_eq(la->bytes_before, 700);
	ck_assert_uint_ge(la->expires_ms, b_expiry + 400 * 1000);
	ck_assert_uint_eq(lb->packets_before, 0);
	ck_assert_uint_eq(lb->expires_ms, b_expiry);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	/* Outside the batch, answered again: the refresh done at once. */
	ck_assert_int_eq(mapper_map(m, &b).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.refreshes, 2);
	ck_assert_uint_eq(lb->packets_before, 7);
	ck_assert_uint_ge(lb->expires_ms, b_expiry + 400 * 1000);
}
END_TEST

/* A lease whose add is still queued is not refreshed or deleted on a
 * guess: the batch is settled first, and a refused one is granted anew. */
START_TEST(test_batch_settles_before_touching_a_queued_lease)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 60);
	struct unmap_request u = { .client = unit_v4("192.168.1.10"),
				   .internal_addr = unit_v4("192.168.1.10"),
				   .proto = IPPROTO_TCP, .internal_port = 8080 };
	unsigned withdrawn[4];

	mapper_batch_begin(m);
	fake_nft.fail_next = -EBUSY;
	mapper_map(m, &a);
	ck_assert_int_eq(mapper_map(m, &a).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.batch_ends, 1);
	ck_assert_uint_eq(fake_nft.refreshes, 0);  /* withdrawn, then a new grant */
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_OK);
	ck_assert_uint_eq(fake_nft.batch_ends, 2);
	ck_assert_uint_eq(mapper_batch_end(m, withdrawn, 4), 1);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
}
END_TEST

START_TEST(test_refresh_keeps_port_and_clamps)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	mapper_map(m, &r);
	r.suggested_external_port = 9999;
	r.lifetime = 100000;
	struct map_result res = mapper_map(m, &r);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_eq(res.external_port, 8080);
	ck_assert_uint_eq(res.lifetime, 600);
	ck_assert_uint_eq(fake_nft.refreshes, 1);
	ck_assert_uint_eq(fake_nft.last_refresh.m.timeout_ms, 600000);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
}
END_TEST

START_TEST(test_failed_refresh_keeps_lease)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	mapper_map(m, &r);
	fake_nft.fail_next = -EPERM;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_BACKEND_FAILED);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
}
END_TEST

/* The last connection to the endpoint, unless it came before the mapping
 * (to an earlier one of the same endpoint). */
START_TEST(test_last_used)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	struct nft_counters c;

	mapper_map(m, &r);
	ck_assert_int_eq(mapper_counters(m, lease_first(mapper_leases(m)), &c), 0);
	ck_assert(!c.used);
	fake_nft.used = true;
	fake_nft.idle_ms = 0;
	ck_assert_int_eq(mapper_counters(m, lease_first(mapper_leases(m)), &c), 0);
	ck_assert(c.used);
	fake_nft.idle_ms = 3600 * 1000;  /* an hour ago: before this mapping */
	ck_assert_int_eq(mapper_counters(m, lease_first(mapper_leases(m)), &c), 0);
	ck_assert(!c.used);
	fake_nft.used = false;
}
END_TEST

/* A refresh replaces the kernel's elements and their counters: what they
 * counted is kept with the lease. */
START_TEST(test_packets_survive_refreshes)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	const struct lease *l;
	struct nft_counters c;

	mapper_map(m, &r);
	l = lease_first(mapper_leases(m));
	fake_nft.packets = 5;
	ck_assert_int_eq(mapper_counters(m, l, &c), 0);
	ck_assert_uint_eq(c.packets, 5);
	ck_assert_uint_eq(c.bytes, 500);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);   /* counted 5 */
	fake_nft.packets = 2;  /* the new elements' own */
	ck_assert_int_eq(mapper_counters(m, l, &c), 0);
	ck_assert_uint_eq(c.packets, 7);
	ck_assert_uint_eq(c.bytes, 700);
	/* Unreadable counters: the refresh still happens, nothing is added. */
	fake_nft.packets_error = -EIO;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	ck_assert_int_eq(mapper_counters(m, l, &c), -EIO);
	fake_nft.packets_error = 0;
	ck_assert_int_eq(mapper_counters(m, l, &c), 0);
	ck_assert_uint_eq(c.packets, 7);
}
END_TEST

START_TEST(test_table_full)
{
	for (uint16_t p = 2000; p < 2003; p++) {
		struct map_request r = req("192.168.1.10", p, p, 60);
		ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	}
	struct map_request r = req("192.168.1.11", 3000, 3000, 60);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_TABLE_FULL);
	ck_assert_uint_eq(fake_nft.adds, 3);
}
END_TEST

START_TEST(test_no_external_address)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	mapper_set_external_address(m, NULL);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NO_EXTERNAL_ADDRESS);
	ck_assert_uint_eq(fake_nft.adds, 0);
}
END_TEST

static struct unmap_request unmap(const char *host, uint8_t proto, uint16_t port,
				  const uint8_t *nonce)
{
	return (struct unmap_request){ .client = unit_v4(host), .internal_addr = unit_v4(host),
				       .proto = proto, .internal_port = port, .nonce = nonce };
}

START_TEST(test_unmap_and_unmap_all)
{
	struct in6_addr b = unit_v4("192.168.1.11");
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	struct unmap_request u;

	mapper_map(m, &r);
	r = req("192.168.1.10", 8081, 8081, 60);
	mapper_map(m, &r);
	r = req("192.168.1.11", 8082, 8082, 60);
	mapper_map(m, &r);

	u = unmap("192.168.1.11", IPPROTO_TCP, 8082, NULL);
	u.internal_addr = unit_v4("192.168.1.10");
	u.internal_port = 8080;
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_NOT_OWNER);  /* lan .11 cannot delete .10's */
	u = unmap("192.168.1.10", IPPROTO_TCP, 8080, NULL);
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_OK);
	ck_assert_uint_eq(fake_nft.deletes, 1);
	ck_assert_uint_eq(fake_nft.last_delete.m.external_port, 8080);
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_OK);  /* already gone: fine */
	ck_assert_uint_eq(fake_nft.deletes, 1);
	u.proto = IPPROTO_UDP;
	ck_assert_uint_eq(mapper_unmap_all(m, &u), 0);
	u.proto = 0;
	ck_assert_uint_eq(mapper_unmap_all(m, &u), 1);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
	ck_assert_ptr_nonnull(lease_by_internal(mapper_leases(m), &b, IPPROTO_TCP, 8082));
}
END_TEST

/* The operator removes whoever's leases, one or a client's or all. */
START_TEST(test_operator_remove_and_flush)
{
	struct in6_addr ten = unit_v4("192.168.1.10");
	struct map_request r;
	size_t before;

	for (uint16_t p = 8080; p < 8083; p++) {
		r = req(p == 8082 ? "192.168.1.11" : "192.168.1.10", p, p, 60);
		ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	}
	mapper_remove(m, lease_by_external(mapper_leases(m), IPPROTO_TCP, 8082));
	ck_assert_uint_eq(fake_nft.deletes, 1);
	ck_assert_uint_eq(fake_nft.last_delete.m.external_port, 8082);
	r = req("192.168.1.11", 8082, 8082, 60);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	before = fake_nft.deletes;
	ck_assert_uint_eq(mapper_flush(m, &ten), 2);
	ck_assert_uint_eq(fake_nft.deletes, before + 2);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
	ck_assert_uint_eq(mapper_flush(m, NULL), 1);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);
}
END_TEST

START_TEST(test_nonce_binds_mapping)
{
	static const uint8_t nonce_a[LEASE_NONCE_LEN] = { 1 }, nonce_b[LEASE_NONCE_LEN] = { 2 };
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	struct unmap_request u = unmap("192.168.1.10", IPPROTO_TCP, 8080, nonce_b);

	r.origin = LEASE_ORIGIN_PCP;
	r.nonce = nonce_a;
	r.description = "web";
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	ck_assert_str_eq(lease_first(mapper_leases(m))->description, "web");
	r.nonce = nonce_b;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_OWNER);
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_NOT_OWNER);
	ck_assert_uint_eq(mapper_unmap_all(m, &u), 0);
	/* NAT-PMP and UPnP carry no nonce: neither its own host (or one that
	 * spoofs its address) may renew, shorten or delete it that way. */
	r.nonce = NULL;
	r.origin = LEASE_ORIGIN_NATPMP;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_OWNER);
	r.lifetime = 1;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_OWNER);
	u.nonce = NULL;
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_NOT_OWNER);
	u.proto = 0;
	ck_assert_uint_eq(mapper_unmap_all(m, &u), 0);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
	ck_assert_uint_ge(mapper_remaining(m, lease_first(mapper_leases(m))), 59);
	u.proto = IPPROTO_TCP;
	u.nonce = nonce_a;
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_OK);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 0);

	/* A NAT-PMP mapping has no nonce: its host renews it by NAT-PMP, and
	 * by PCP takes it over; from then on it is the nonce's. */
	r = req("192.168.1.10", 8080, 8080, 60);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	r.origin = LEASE_ORIGIN_PCP;
	r.nonce = nonce_a;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	r.origin = LEASE_ORIGIN_NATPMP;
	r.nonce = NULL;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_OWNER);
}
END_TEST

/* The router serves tcp 8080 and 8081 itself. */
static int router_serves_8080_8081(void *arg, uint8_t proto, uint16_t port,
				   const struct in_addr *external)
{
	(void)external;
	++*(unsigned *)arg;
	return proto == IPPROTO_TCP && (port == 8080 || port == 8081);
}

START_TEST(test_router_ports_kept)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	struct map_result res;
	unsigned asked = 0;

	mapper_set_router_serves(m, router_serves_8080_8081, &asked);
	res = mapper_map(m, &r);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_ne(res.external_port, 8080);
	ck_assert_uint_ne(res.external_port, 8081);
	ck_assert_uint_eq(fake_nft.last_add.m.external_port, res.external_port);
	ck_assert_uint_ge(asked, 2);
	/* asked for exactly that port: refused, nothing added */
	r = req("192.168.1.11", 8081, 8081, 60);
	r.exact_port = true;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_ROUTER_SERVES);
	ck_assert_uint_eq(fake_nft.adds, 1);
	/* UDP 8080 is not the router's */
	r = req("192.168.1.11", 8080, 8080, 60);
	r.proto = IPPROTO_UDP;
	ck_assert_uint_eq(mapper_map(m, &r).external_port, 8080);
}
END_TEST

START_TEST(test_exact_port)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	r.exact_port = true;
	ck_assert_uint_eq(mapper_map(m, &r).external_port, 8080);
	r = req("192.168.1.11", 8081, 8080, 60);
	r.exact_port = true;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_PORT_UNAVAILABLE);
	r.suggested_external_port = 80;  /* denied by the policy */
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_PORT_UNAVAILABLE);
	r.exact_port = false;
	ck_assert_uint_eq(mapper_map(m, &r).external_port, 1024);
	ck_assert_uint_eq(fake_nft.adds, 2);
}
END_TEST

START_TEST(test_third_party_mapping)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	r.internal_addr = unit_v4("192.168.1.20");
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_DENIED);
	cfg.policy.rules[1].third_party = true;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	ck_assert_uint_eq(addr_to_v4(&fake_nft.last_add.m.internal_addr).s_addr, inet_addr("192.168.1.20"));
}
END_TEST

/* The operator's own rule forwards udp 9000-9001. */
static int forwarded_9000_9001(void *arg, uint8_t proto, uint16_t port,
			       const struct in_addr *external)
{
	(void)arg;
	(void)external;
	return proto == IPPROTO_UDP && (port == 9000 || port == 9001) ? ROUTER_PORT_FORWARDED : 0;
}

START_TEST(test_forwarded_ports_kept)
{
	struct map_request r = req("192.168.1.10", 9000, 9000, 60);
	struct map_result res;

	r.proto = IPPROTO_UDP;
	mapper_set_router_serves(m, forwarded_9000_9001, NULL);
	res = mapper_map(m, &r);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_ne(res.external_port, 9000);
	ck_assert_uint_ne(res.external_port, 9001);
	r = req("192.168.1.11", 9001, 9001, 60);
	r.proto = IPPROTO_UDP;
	r.exact_port = true;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_FORWARDED_ELSEWHERE);
	ck_assert_uint_eq(fake_nft.adds, 1);
}
END_TEST

/* A host that spoofs the router's LAN address, or names it (or the
 * network's edges) as a third party, gets nothing: the router's own
 * LAN-only services would reach the WAN. */
START_TEST(test_router_address_refused)
{
	static struct own_addresses own;
	struct map_request r = req("192.168.1.1", 8080, 8080, 60);
	struct static_mapping sm = { .proto = IPPROTO_TCP, .external_port = 2222,
				     .internal_addr = unit_v4("192.168.1.1"), .internal_port = 22 };

	unit_own_address(&own, "lan0", "192.168.1.1", 24);
	mapper_set_own_addresses(m, &own);
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_A_HOST);
	ck_assert_str_eq(mapper_internal_refusal(m, &r.internal_addr),
			 "an address of the router (lan0)");
	cfg.policy.rules[1].third_party = true;
	r = req("192.168.1.10", 8080, 8080, 60);
	r.internal_addr = unit_v4("192.168.1.255");
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_A_HOST);
	r.internal_addr = unit_v4("169.254.1.1");
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_A_HOST);
	ck_assert_int_eq(mapper_add_static(m, &sm), MAP_NOT_A_HOST);
	ck_assert_uint_eq(fake_nft.adds, 0);
	/* the host next door is fine */
	r.internal_addr = unit_v4("192.168.1.20");
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
}
END_TEST

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	event_base_loopbreak(arg);
}

START_TEST(test_timer_expires_leases)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 1);
	struct timeval wait = { 1, 300000 };
	struct event *stop = evtimer_new(base, stop_loop, base);

	mapper_map(m, &r);
	r = req("192.168.1.10", 8081, 8081, 60);
	mapper_map(m, &r);
	evtimer_add(stop, &wait);
	event_base_dispatch(base);
	event_free(stop);

	ck_assert_uint_eq(fake_nft.deletes, 1);
	ck_assert_uint_eq(fake_nft.last_delete.m.external_port, 8080);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);
}
END_TEST

START_TEST(test_filters_set_kept_and_replaced)
{
	struct remote_filter filters[2];
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	ck_assert(addr_parse_prefix("203.0.113.0/24", &filters[0].remote));
	filters[0].port = 0;
	ck_assert(addr_parse_prefix("203.0.113.20", &filters[1].remote));  /* covered */
	filters[1].port = 443;
	r.origin = LEASE_ORIGIN_PCP;
	r.replace_filters = true;
	r.filters = filters;
	r.nfilters = 2;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.last_add.m.nremotes, 1);
	ck_assert_uint_eq(fake_nft.last_add.m.remotes[0].port_last, 65535);

	/* A NAT-PMP refresh cannot speak of filters: they stay. */
	struct map_request plain = req("192.168.1.10", 8080, 8080, 60);
	ck_assert_int_eq(mapper_map(m, &plain).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 1);

	/* A PCP refresh without FILTER removes them, and the old elements are
	 * what the replace deletes. */
	r.nfilters = 0;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.last_refresh.m.nremotes, 0);
	ck_assert_uint_eq(fake_nft.last_replaced_nremotes, 1);
	struct map_request again = req("192.168.1.10", 8080, 8080, 60);
	ck_assert_int_eq(mapper_map(m, &again).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.last_replaced_nremotes, 0);
}
END_TEST

START_TEST(test_quota_per_client)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);

	cfg.max_leases_per_client = 2;  /* read on every request, as after a reload */
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	r.internal_port = 8081;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	r.internal_port = 8082;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_QUOTA_EXCEEDED);
	/* A renewal is not a new mapping. */
	r.internal_port = 8081;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
	/* Another client has its own quota. */
	struct map_request other = req("192.168.1.11", 8082, 8082, 60);
	ck_assert_int_eq(mapper_map(m, &other).status, MAP_OK);
}
END_TEST

/* The review's source: tcp 8080 is the router's since, udp 9090 another
 * rule's. */
static bool service_started;

static int fake_refresh(void *arg)
{
	(void)arg;
	return 0;
}

static int fake_taken(void *arg, uint8_t proto, uint16_t port)
{
	(void)arg;
	if (service_started && proto == IPPROTO_TCP && port == 8080)
		return ROUTER_PORT_SERVED;
	if (service_started && proto == IPPROTO_UDP && port == 9090)
		return ROUTER_PORT_FORWARDED;
	return 0;
}

/* A service that starts after a mapping took its port is found by the
 * review, flagged on the mapping, and unflagged when it goes. */
START_TEST(test_conflicts_reviewed)
{
	struct map_request tcp = req("192.168.1.10", 8080, 8080, 60);
	struct map_request udp = req("192.168.1.10", 9090, 9090, 60);
	struct map_request other = req("192.168.1.11", 8081, 8081, 60);

	udp.proto = IPPROTO_UDP;
	ck_assert_int_eq(mapper_map(m, &tcp).status, MAP_OK);
	ck_assert_int_eq(mapper_map(m, &udp).status, MAP_OK);
	ck_assert_int_eq(mapper_map(m, &other).status, MAP_OK);
	ck_assert_int_eq(mapper_review_conflicts(m), 0);  /* no source: nothing to tell */
	mapper_set_conflict_source(m, &(struct mapper_conflict_source){
		.refresh = fake_refresh, .conflict = fake_taken });
	service_started = false;
	ck_assert_int_eq(mapper_review_conflicts(m), 0);
	service_started = true;
	ck_assert_int_eq(mapper_review_conflicts(m), 2);
	ck_assert_uint_eq(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080)->conflict,
			  LEASE_CONFLICT_ROUTER_SERVES);
	ck_assert_uint_eq(lease_by_external(mapper_leases(m), IPPROTO_UDP, 9090)->conflict,
			  LEASE_CONFLICT_FORWARDED);
	ck_assert_uint_eq(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8081)->conflict,
			  LEASE_CONFLICT_NONE);
	service_started = false;
	ck_assert_int_eq(mapper_review_conflicts(m), 0);
	ck_assert_uint_eq(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080)->conflict,
			  LEASE_CONFLICT_NONE);
}
END_TEST

/* Maps port from 192.168.1.first and the n - 1 addresses after it; returns
 * how many were granted. */
static unsigned map_from_each(int first, int n, uint16_t port)
{
	unsigned granted = 0;

	for (int i = 0; i < n; i++) {
		char addr[32];
		struct map_request r;

		snprintf(addr, sizeof(addr), "192.168.1.%d", first + i);
		r = req(addr, port, port, 60);
		granted += mapper_map(m, &r).status == MAP_OK;
	}
	return granted;
}

/* One host asking from many addresses has one host's quota and rate, and
 * a host that holds nothing is served beside it. */
START_TEST(test_shares_per_host)
{
	cfg.max_leases = 16;
	mapper_free(m);
	m = new_mapper();
	mapper_set_external_address(m, &(struct in_addr){ htonl(0xcb007101) });
	cfg.max_leases_per_client = 4;
	ck_assert_uint_eq(map_from_each(100, 12, 8080), 4);
	struct map_request newcomer = req("192.168.1.20", 8080, 8080, 60);
	ck_assert_int_eq(mapper_map(m, &newcomer).status, MAP_OK);
	/* the rate too: the crowd's addresses draw on one bucket */
	cfg.max_leases_per_client = 100;
	cfg.client_requests_per_second = 1;
	cfg.client_request_burst = 3;
	ck_assert_uint_le(map_from_each(150, 12, 9000), 4);
	newcomer = req("192.168.1.21", 9000, 9000, 60);
	ck_assert_int_eq(mapper_map(m, &newcomer).status, MAP_OK);
}
END_TEST

/* A client asking too fast is refused, before anything reaches the
 * kernel, while another is served. The wall clock cannot be stopped, so
 * the rate is one a minute: no token comes back during the test. */
START_TEST(test_request_rate_per_client)
{
	struct map_request r = req("192.168.1.10", 8080, 8080, 60);
	struct map_request other = req("192.168.1.11", 9090, 9090, 60);
	unsigned granted = 0, limited = 0;

	cfg.max_leases = 10;
	mapper_free(m);  /* the table's size is fixed when it is made */
	m = new_mapper();
	mapper_set_external_address(m, &(struct in_addr){ htonl(0xcb007101) });
	cfg.client_requests_per_second = 1;
	cfg.client_request_burst = 3;
	for (int i = 0; i < 20; i++) {
		enum map_status st;

		r.internal_port = (uint16_t)(8080 + i);
		st = mapper_map(m, &r).status;
		granted += st == MAP_OK;
		limited += st == MAP_RATE_LIMITED;
	}
	ck_assert_uint_le(granted, 4);  /* the burst, and at most one more token */
	ck_assert_uint_ge(granted, 3);
	ck_assert_uint_eq(granted + limited, 20);
	ck_assert_uint_eq(fake_nft.adds, granted);
	ck_assert_int_eq(mapper_map(m, &other).status, MAP_OK);
	/* What status and metrics report. */
	struct daemon_status st;
	mapper_status(m, &st);
	ck_assert_uint_eq(st.counters.rate_limited, limited);
	ck_assert_uint_eq(st.counters.events[METRICS_REFUSED][r.origin], limited);
	ck_assert_uint_eq(st.counters.events[METRICS_GRANTED][r.origin], granted + 1);
	ck_assert_uint_eq(st.by_origin[r.origin], granted + 1);
	ck_assert_uint_eq(st.leases, granted + 1);
	mapper_flush(m, NULL);
	mapper_status(m, &st);
	ck_assert_uint_eq(st.by_origin[r.origin], 0);
	ck_assert_uint_eq(st.counters.events[METRICS_DELETED][r.origin], granted + 1);
	/* 0 lifts the limit, as a reload would. */
	cfg.client_requests_per_second = 0;
	r.internal_port = 8200;
	ck_assert_int_eq(mapper_map(m, &r).status, MAP_OK);
}
END_TEST

/* The operator's mapping: no timeout in the kernel, no expiry, no client
 * may renew or remove it, a flush leaves it, and it takes its port from a
 * client that held it. The policy (which denies 80) does not apply. */
START_TEST(test_static_mapping)
{
	struct static_mapping sm = { .proto = IPPROTO_TCP, .external_port = 80,
				     .internal_addr = unit_v4("192.168.1.20"), .internal_port = 8000,
				     .description = "web" };
	struct map_request r = req("192.168.1.20", 8000, 8000, 60);
	struct unmap_request u = { .client = unit_v4("192.168.1.20"), .proto = IPPROTO_TCP,
				   .internal_addr = unit_v4("192.168.1.20"), .internal_port = 8000 };
	struct map_request squatter = req("192.168.1.30", 9000, 9000, 60);
	struct lease *l;

	ck_assert_int_eq(mapper_add_static(m, &sm), MAP_OK);
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms, 0);
	l = lease_by_external(mapper_leases(m), IPPROTO_TCP, 80);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->origin, LEASE_ORIGIN_STATIC);
	ck_assert_uint_eq(mapper_remaining(m, l), 0);
	ck_assert(l->expires_ms == LEASE_NEVER);
	/* The same again is a no-op; another on its port is refused. */
	ck_assert_int_eq(mapper_add_static(m, &sm), MAP_OK);
	ck_assert_uint_eq(fake_nft.adds, 1);
	sm.internal_port = 8001;
	ck_assert_int_eq(mapper_add_static(m, &sm), MAP_PORT_UNAVAILABLE);
	sm.internal_port = 8000;

	ck_assert_int_eq(mapper_map(m, &r).status, MAP_NOT_OWNER);
	ck_assert_int_eq(mapper_unmap(m, &u), MAP_NOT_OWNER);
	u.proto = 0;
	ck_assert_uint_eq(mapper_unmap_all(m, &u), 0);
	ck_assert_uint_eq(mapper_flush(m, NULL), 0);
	ck_assert_uint_eq(fake_nft.deletes, 0);

	/* A client's mapping on the port a static one wants is displaced. */
	ck_assert_int_eq(mapper_map(m, &squatter).status, MAP_OK);
	struct static_mapping sm2 = { .proto = IPPROTO_TCP, .external_port = 9000,
				      .internal_addr = unit_v4("192.168.1.21"), .internal_port = 22 };
	ck_assert_int_eq(mapper_add_static(m, &sm2), MAP_OK);
	ck_assert_uint_eq(fake_nft.deletes, 1);
	l = lease_by_external(mapper_leases(m), IPPROTO_TCP, 9000);
	ck_assert_int_eq(l->origin, LEASE_ORIGIN_STATIC);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);

	/* Only the operator removes it. */
	mapper_remove(m, l);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 9000));
}
END_TEST

/* The config's static mappings, kept in step on reload; portleasectl
 * add's are left alone. */
START_TEST(test_static_sync)
{
	struct static_mapping added = { .proto = IPPROTO_UDP, .external_port = 5000,
					.internal_addr = unit_v4("192.168.1.40"), .internal_port = 5000 };

	cfg.statics[0] = (struct static_mapping){ .proto = IPPROTO_TCP, .external_port = 80,
						  .internal_addr = unit_v4("192.168.1.20"),
						  .internal_port = 8000, .declared = true };
	cfg.statics[1] = (struct static_mapping){ .proto = IPPROTO_TCP, .external_port = 443,
						  .internal_addr = unit_v4("192.168.1.20"),
						  .internal_port = 8443, .declared = true };
	cfg.static_count = 2;
	mapper_sync_static(m, &cfg);
	ck_assert_int_eq(mapper_add_static(m, &added), MAP_OK);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 3);
	mapper_sync_static(m, &cfg);  /* unchanged: nothing touched */
	ck_assert_uint_eq(fake_nft.adds, 3);
	ck_assert_uint_eq(fake_nft.deletes, 0);

	cfg.statics[0].internal_port = 8080;  /* edited */
	cfg.statics[1] = cfg.statics[0];
	cfg.static_count = 1;                  /* 443 dropped */
	mapper_sync_static(m, &cfg);
	ck_assert_uint_eq(fake_nft.deletes, 2);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	ck_assert_uint_eq(lease_by_external(mapper_leases(m), IPPROTO_TCP, 80)->internal_port, 8080);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 443));
	ck_assert_ptr_nonnull(lease_by_external(mapper_leases(m), IPPROTO_UDP, 5000));
}
END_TEST

/* A reload's policy applies to the leases already granted. */
/* Leases from the lease file come back with what is left of their
 * lifetime, nonce and filters; expired ones do not. */
START_TEST(test_restore)
{
	int64_t now = time(NULL);
	struct leasefile_record r = {
		.proto = IPPROTO_UDP, .origin = LEASE_ORIGIN_PCP, .has_client = true,
		.client = unit_v4("192.168.1.10"), .internal_addr = unit_v4("192.168.1.10"),
		.internal_port = 5000, .external_port = 15000, .created = now - 50,
		.expires = now + 100, .has_nonce = true, .nonce = { 7 }, .nfilters = 1,
		.description = "back",
	};
	const struct lease *l;

	ck_assert(addr_parse_prefix("198.51.100.0/24", &r.filters[0].remote));
	ck_assert_int_eq(mapper_restore(m, &r), MAP_OK);
	l = lease_by_external(mapper_leases(m), IPPROTO_UDP, 15000);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_ge(mapper_remaining(m, l), 99);
	ck_assert_uint_le(mapper_remaining(m, l), 100);
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms / 1000, 100);
	ck_assert_uint_eq(fake_nft.last_add.m.nremotes, 1);
	ck_assert(l->has_nonce && l->nonce[0] == 7);
	ck_assert_str_eq(l->description, "back");
	ck_assert_int_le(mapper_wall_time(m, l->created_ms), now - 49);
	/* Its owner, with its nonce, renews it; another is refused. */
	struct map_request renew = req("192.168.1.10", 5000, 15000, 60);
	renew.proto = IPPROTO_UDP;
	renew.origin = LEASE_ORIGIN_PCP;
	renew.nonce = (uint8_t[LEASE_NONCE_LEN]){ 8 };
	ck_assert_int_eq(mapper_map(m, &renew).status, MAP_NOT_OWNER);
	renew.nonce = (uint8_t[LEASE_NONCE_LEN]){ 7 };
	ck_assert_int_eq(mapper_map(m, &renew).status, MAP_OK);

	r.internal_port = 5001;
	r.external_port = 15001;
	r.expires = now - 1;
	ck_assert_int_eq(mapper_restore(m, &r), MAP_NO_FLOW);
	r.expires = now + 100;
	r.external_port = 15000;  /* taken */
	ck_assert_int_eq(mapper_restore(m, &r), MAP_PORT_UNAVAILABLE);
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 1);

	/* A clean stop's epoch carries on; one from the future does not. */
	mapper_continue_epoch(m, now - 30);
	ck_assert_uint_ge(mapper_epoch(m), 30);
	ck_assert_int_le(mapper_epoch_start(m), now - 29);
	mapper_continue_epoch(m, now + 1000);
	ck_assert_uint_ge(mapper_epoch(m), 30);
}
END_TEST

/* Another program flushed our table: every lease goes back in, with the
 * time it has left, a static one with none. */
/* The external address goes to the kernel for hairpinning, unless the
 * config says no hairpin. */
START_TEST(test_hairpin_address)
{
	struct in_addr ext = { htonl(0xcb007102) };

	ck_assert(fake_nft.hairpin);
	cfg.hairpin = false;
	mapper_set_external_address(m, &ext);
	ck_assert(!fake_nft.hairpin);
	cfg.hairpin = true;
	mapper_set_external_address(m, &ext);
	ck_assert(fake_nft.hairpin);
	mapper_set_external_address(m, NULL);
	ck_assert(!fake_nft.hairpin);
}
END_TEST

START_TEST(test_reinstall)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 600);
	struct static_mapping sm = { .proto = IPPROTO_TCP, .external_port = 80,
				     .internal_addr = unit_v4("192.168.1.20"), .internal_port = 8000 };
	size_t n;

	ck_assert_int_eq(mapper_map(m, &a).status, MAP_OK);
	ck_assert_int_eq(mapper_add_static(m, &sm), MAP_OK);
	fake_nft.adds = 0;
	ck_assert_int_eq(mapper_reinstall(m, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(fake_nft.rebuilds, 1);
	ck_assert_uint_eq(fake_nft.adds, 2);
	ck_assert_uint_eq(fake_nft.last_add.m.timeout_ms, 0);  /* the static one, last */
	ck_assert_uint_eq(lease_count(mapper_leases(m)), 2);
	fake_nft.fail_next = -ENOBUFS;  /* one that fails does not stop the others */
	ck_assert_int_eq(mapper_reinstall(m, &n), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_reload_applies_policy)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 600);
	struct map_request b = req("192.168.1.11", 9090, 9090, 600);
	const struct lease *l;

	ck_assert_int_eq(mapper_map(m, &a).status, MAP_OK);
	ck_assert_int_eq(mapper_map(m, &b).status, MAP_OK);
	ck_assert_uint_eq(mapper_apply_policy(m), 0);  /* same policy: nothing */
	ck_assert_uint_eq(fake_nft.deletes + fake_nft.refreshes, 0);

	ck_assert(addr_parse_prefix("192.168.1.11/32", &cfg.policy.rules[1].clients));
	cfg.lifetime_max = 60;
	ck_assert_uint_eq(mapper_apply_policy(m), 1);
	ck_assert_uint_eq(fake_nft.deletes, 1);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080));
	l = lease_by_external(mapper_leases(m), IPPROTO_TCP, 9090);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_le(mapper_remaining(m, l), 60);
	ck_assert_uint_eq(fake_nft.refreshes, 1);
	ck_assert_uint_eq(fake_nft.last_refresh.m.timeout_ms, 60000);
}
END_TEST

/* A mapping's inbound limit is its rule's: given to the kernel with it,
 * changed with the rule at a reload (its elements replaced), and a change
 * of the limits themselves makes the table anew around every mapping. */
START_TEST(test_inbound_limit_follows_policy)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 600);

	cfg.policy.limits[0] = (struct inbound_limit){ .per_remote = 5 };
	cfg.policy.limit_count = 1;
	cfg.policy.rules[1].limit_class = 1;
	ck_assert_uint_eq(mapper_apply_policy(m), 0);
	ck_assert_uint_eq(fake_nft.rebuilds, 1);  /* chains for the new limits */
	ck_assert_int_eq(mapper_map(m, &a).status, MAP_OK);
	ck_assert_uint_eq(fake_nft.last_add.m.limit_class, 1);
	ck_assert_uint_eq(mapper_apply_policy(m), 0);  /* nothing changed: nothing done */
	ck_assert_uint_eq(fake_nft.rebuilds + fake_nft.refreshes, 1);

	cfg.policy.rules[1].limit_class = 0;  /* the rule no longer limits */
	ck_assert_uint_eq(mapper_apply_policy(m), 0);
	ck_assert_uint_eq(fake_nft.rebuilds, 1);
	ck_assert_uint_eq(fake_nft.refreshes, 1);
	ck_assert_uint_eq(fake_nft.last_refresh.m.limit_class, 0);
	ck_assert_uint_eq(lease_by_external(mapper_leases(m), IPPROTO_TCP, 8080)->limit_class, 0);

	cfg.policy.rules[1].limit_class = 1;
	cfg.policy.limits[0].per_remote = 6;  /* a new rate: made anew, put back */
	fake_nft.adds = 0;
	ck_assert_uint_eq(mapper_apply_policy(m), 0);
	ck_assert_uint_eq(fake_nft.rebuilds, 2);
	ck_assert_uint_eq(fake_nft.adds, 1);
	ck_assert_uint_eq(fake_nft.last_add.m.limit_class, 1);
}
END_TEST

struct decided_seen {
	uint32_t id;
	bool approved;
	unsigned calls;
};

static void note_decided(void *arg, uint32_t id, bool approved)
{
	struct decided_seen *seen = arg;

	*seen = (struct decided_seen){ .id = id, .approved = approved, .calls = seen->calls + 1 };
}

/* What the PCP answerer needs to answer a waiting client at once: which
 * pending request a request was left as, and the operator's answer. */
START_TEST(test_approval_told)
{
	struct map_request a = req("192.168.1.10", 8080, 8080, 600);
	struct map_request b = req("192.168.1.11", 8081, 8081, 600);
	struct decided_seen seen = { 0 };
	uint32_t id;

	cfg.policy.rules[1].allow = false;
	cfg.policy.rules[1].ask = true;
	mapper_policy_changed(m);
	mapper_set_decided_observer(m, note_decided, &seen);
	ck_assert_int_eq(mapper_map(m, &a).status, MAP_DENIED);
	id = mapper_take_pending(m);
	ck_assert_uint_ne(id, 0);
	ck_assert_uint_eq(mapper_take_pending(m), 0);  /* taken */
	ck_assert_int_eq(mapper_map(m, &a).status, MAP_DENIED);  /* a retry: the same */
	ck_assert_uint_eq(mapper_take_pending(m), id);
	ck_assert_int_eq(mapper_approve(m, id, 60, 0), 0);
	ck_assert_uint_eq(seen.calls, 1);
	ck_assert_uint_eq(seen.id, id);
	ck_assert(seen.approved);
	ck_assert_int_eq(mapper_map(m, &a).status, MAP_OK);
	ck_assert_uint_eq(mapper_take_pending(m), 0);  /* granted: nothing pending */

	ck_assert_int_eq(mapper_map(m, &b).status, MAP_DENIED);
	id = mapper_take_pending(m);
	ck_assert_int_eq(mapper_reject(m, id, 0), 0);
	ck_assert_uint_eq(seen.calls, 2);
	ck_assert_uint_eq(seen.id, id);
	ck_assert(!seen.approved);
	mapper_set_decided_observer(m, NULL, NULL);
}
END_TEST

/* An upstream of our own making, for the chain's side of things. */
struct fake_upstream {
	bool found;
	struct in_addr external;
	unsigned asks, deletes;
	uint8_t proto;
	uint16_t port, upstream_port;
	uint32_t lifetime;
	unsigned chained_told;
};

static bool fake_ready(void *arg, struct in_addr *external, bool *has_external)
{
	struct fake_upstream *u = arg;

	*external = u->external;
	*has_external = true;
	return u->found;
}

static bool fake_map(void *arg, uint8_t proto, uint16_t port, uint16_t upstream_port,
		     uint32_t lifetime)
{
	struct fake_upstream *u = arg;

	u->upstream_port = upstream_port;
	if (lifetime)
		u->asks++;
	else
		u->deletes++;
	u->proto = proto;
	u->port = port;
	u->lifetime = lifetime;
	return true;
}

static void note_chained(void *arg, uint8_t proto, uint16_t port)
{
	struct fake_upstream *u = arg;

	(void)proto;
	(void)port;
	u->chained_told++;
}

/* Behind another NAT: a mapping's twin is asked for, its client waits for
 * the answer and is then told the upstream's port and address; a renewal
 * keeps the twin; the end of the mapping deletes it; a refusal upstream
 * leaves a mapping of ours alone, or none (upstream.on_failure). */
START_TEST(test_chained_to_upstream)
{
	struct fake_upstream up = { .found = true };
	struct map_request a = req("192.168.1.10", 8080, 8080, 600);
	struct map_request b = req("192.168.1.11", 9090, 9090, 600);
	struct map_result res;
	struct mapper_told told;
	unsigned told_before;
	uint8_t proto;
	uint16_t port;

	inet_pton(AF_INET, "198.51.100.9", &up.external);
	mapper_set_chain(m, &(struct mapper_chain){ .ready = fake_ready, .map = fake_map,
						    .arg = &up });
	ck_assert(mapper_add_chained_observer(m, note_chained, &up));
	res = mapper_map(m, &a);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert(res.chain_wait);
	ck_assert_uint_eq(up.asks, 1);
	ck_assert_uint_eq(up.port, 8080);
	ck_assert_uint_eq(up.upstream_port, 0);  /* no twin yet: the same port preferred */
	ck_assert_uint_eq(up.lifetime, 600);
	ck_assert(mapper_take_chain_wait(m, &proto, &port));
	ck_assert_uint_eq(port, 8080);
	ck_assert(!mapper_take_chain_wait(m, &proto, &port));  /* taken */
	/* The retry while it waits: waits too, asks nothing more. */
	res = mapper_map(m, &a);
	ck_assert(res.chain_wait);
	ck_assert_uint_eq(up.asks, 1);

	mapper_chain_answered(m, &(struct upstream_mapped){ .proto = IPPROTO_TCP, .port = 8080,
							    .ok = true, .external_port = 18080,
							    .lifetime = 300 });
	ck_assert_uint_eq(up.chained_told, 1);
	mapper_told(m, IPPROTO_TCP, 8080, &told);
	ck_assert(told.granted);
	ck_assert_uint_eq(told.external_port, 18080);
	ck_assert_uint_eq(told.address.s_addr, up.external.s_addr);
	ck_assert_uint_le(told.lifetime, 300);  /* no longer than the twin */
	res = mapper_map(m, &a);  /* a renewal: told at once */
	ck_assert(!res.chain_wait);
	ck_assert_uint_eq(res.external_port, 18080);
	ck_assert_uint_eq(res.told_address.s_addr, up.external.s_addr);
	ck_assert_uint_eq(up.asks, 1);  /* the twin has more than half its life left */

	ck_assert_int_eq(mapper_unmap(m, &(struct unmap_request){ .client = a.client,
				      .internal_addr = a.internal_addr, .proto = IPPROTO_TCP,
				      .internal_port = 8080 }), MAP_OK);
	ck_assert_uint_eq(up.deletes, 1);
	ck_assert_uint_eq(up.port, 8080);
	ck_assert_uint_eq(up.upstream_port, 18080);  /* the twin is deleted where it is */

	/* Refused upstream, on_failure local: ours alone, told our address. */
	ck_assert(mapper_map(m, &b).chain_wait);
	mapper_chain_answered(m, &(struct upstream_mapped){ .proto = IPPROTO_TCP, .port = 9090,
							    .why = "NOT_AUTHORIZED" });
	mapper_told(m, IPPROTO_TCP, 9090, &told);
	ck_assert(told.granted);
	ck_assert_uint_eq(told.external_port, 9090);
	ck_assert_uint_eq(told.address.s_addr, htonl(0xcb007101));  /* 203.0.113.1 */
	res = mapper_map(m, &b);
	ck_assert(!res.chain_wait);
	ck_assert_uint_eq(res.told_address.s_addr, htonl(0xcb007101));
	ck_assert_uint_eq(up.asks, 2);
	/* An upstream found (again) is asked once more. */
	mapper_chain_changed(m, false);
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(up.asks, 3);
	ck_assert_uint_eq(up.port, 9090);

	/* Deleted while its twin is asked for: a client waiting hears of it. */
	told_before = up.chained_told;
	ck_assert_int_eq(mapper_unmap(m, &(struct unmap_request){ .client = b.client,
				      .internal_addr = b.internal_addr, .proto = IPPROTO_TCP,
				      .internal_port = 9090 }), MAP_OK);
	ck_assert_uint_eq(up.chained_told, told_before + 1);

	/* on_failure refuse: the mapping goes, the waiting client is refused. */
	cfg.upstream_refuse_on_failure = true;
	ck_assert(mapper_map(m, &b).chain_wait);
	mapper_chain_answered(m, &(struct upstream_mapped){ .proto = IPPROTO_TCP, .port = 9090,
							    .why = "no answer" });
	mapper_told(m, IPPROTO_TCP, 9090, &told);
	ck_assert(!told.granted);
	ck_assert(told.no_answer);
	ck_assert_ptr_null(lease_by_external(mapper_leases(m), IPPROTO_TCP, 9090));

	/* A request dropped because the upstream is looked for again is no
	 * refusal: the mapping stays, to be asked anew. */
	ck_assert(mapper_map(m, &b).chain_wait);
	mapper_chain_answered(m, &(struct upstream_mapped){ .proto = IPPROTO_TCP, .port = 9090,
							    .why = "looked for again",
							    .again = true });
	mapper_told(m, IPPROTO_TCP, 9090, &told);
	ck_assert(told.granted);
	ck_assert_uint_eq(told.external_port, 9090);

	/* No upstream found: nothing asked, nothing waits. */
	up.found = false;
	res = mapper_map(m, &a);
	ck_assert(!res.chain_wait);
	ck_assert_uint_eq(res.external_port, 8080);
	mapper_set_chain(m, NULL);
	mapper_remove_chained_observer(m, note_chained, &up);
}
END_TEST

START_TEST(test_ipv6_pinhole_keeps_port_and_needs_policy)
{
	struct map_request r = req("192.168.1.10", 8080, 9000, 60);
	struct map_result res;

	inet_pton(AF_INET6, "2001:db8::10", &r.client);
	r.internal_addr = r.client;
	res = mapper_map(m, &r);
	ck_assert_int_eq(res.status, MAP_DENIED);  /* only 192.168.1.0/24 is allowed */
	ck_assert_uint_eq(fake_nft.adds, 0);

	mapper_free(m);
	char err[CONFIG_ERROR_MAX];
	ck_assert_int_eq(config_load_string(
		"external_interface = \"wan0\"; lan_interfaces = [ \"lan0\" ];\n"
		"policy = ( { action = \"allow\"; clients = \"2001:db8::/64\"; } );\n",
		"v6.conf", &cfg, err, sizeof(err)), 0);
	m = mapper_new(base, &cfg, nft_open("t", NULL, "wan0", 0, NULL, 0, err, sizeof(err)), 1);
	/* No external IPv4 address is needed for a pinhole. */
	res = mapper_map(m, &r);
	ck_assert_int_eq(res.status, MAP_OK);
	ck_assert_uint_eq(res.external_port, 8080);  /* no NAT: the suggestion is moot */
	ck_assert_mem_eq(&fake_nft.last_add.m.internal_addr, &r.internal_addr, 16);
	ck_assert_uint_eq(fake_nft.last_add.m.internal_port, 8080);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mapper");
	TCase *tc = tcase_create("core");

	log_init("check_mapper", LOG_TO_TERMINAL, false);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_grant_installs_one_forward);
	tcase_add_test(tc, test_denied_touches_nothing);
	tcase_add_test(tc, test_backend_failure_leaves_no_lease);
	tcase_add_test(tc, test_batch_withdraws_what_the_kernel_refused);
	tcase_add_test(tc, test_batch_settles_before_touching_a_queued_lease);
	tcase_add_test(tc, test_batch_refresh_counts_and_undoes_a_refusal);
	tcase_add_test(tc, test_refresh_keeps_port_and_clamps);
	tcase_add_test(tc, test_failed_refresh_keeps_lease);
	tcase_add_test(tc, test_table_full);
	tcase_add_test(tc, test_no_external_address);
	tcase_add_test(tc, test_unmap_and_unmap_all);
	tcase_add_test(tc, test_nonce_binds_mapping);
	tcase_add_test(tc, test_router_ports_kept);
	tcase_add_test(tc, test_router_address_refused);
	tcase_add_test(tc, test_forwarded_ports_kept);
	tcase_add_test(tc, test_exact_port);
	tcase_add_test(tc, test_third_party_mapping);
	tcase_add_test(tc, test_timer_expires_leases);
	tcase_add_test(tc, test_filters_set_kept_and_replaced);
	tcase_add_test(tc, test_ipv6_pinhole_keeps_port_and_needs_policy);
	tcase_add_test(tc, test_packets_survive_refreshes);
	tcase_add_test(tc, test_operator_remove_and_flush);
	tcase_add_test(tc, test_quota_per_client);
	tcase_add_test(tc, test_shares_per_host);
	tcase_add_test(tc, test_conflicts_reviewed);
	tcase_add_test(tc, test_request_rate_per_client);
	tcase_add_test(tc, test_static_mapping);
	tcase_add_test(tc, test_static_sync);
	tcase_add_test(tc, test_reload_applies_policy);
	tcase_add_test(tc, test_inbound_limit_follows_policy);
	tcase_add_test(tc, test_approval_told);
	tcase_add_test(tc, test_chained_to_upstream);
	tcase_add_test(tc, test_restore);
	tcase_add_test(tc, test_reinstall);
	tcase_add_test(tc, test_last_used);
	tcase_add_test(tc, test_hairpin_address);
	tcase_add_test(tc, test_replace_own);
	tcase_add_test(tc, test_replace_own_in_a_batch);
	tcase_add_test(tc, test_peer_makes_the_mapping);
	tcase_add_test(tc, test_peer_renews_adds_and_deletes_remotes);
	tcase_add_test(tc, test_peer_needs_policy_and_no_map);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
