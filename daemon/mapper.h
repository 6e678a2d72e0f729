/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one place where all protocols converge: policy check, lease table,
 * nftables backend, and the expiry timer. Protocol modules speak only to
 * this interface. */
#ifndef PORTLEASED_MAPPER_H
#define PORTLEASED_MAPPER_H

#include <event2/event.h>
#include <stdbool.h>

#include "config/config.h"
#include "daemon/host.h"
#include "daemon/approvals.h"
#include "daemon/lease.h"
#include "daemon/metrics.h"
#include "daemon/upstream.h"
#include "priv/nft.h"
#include "priv/own_addr.h"

struct nft;
struct mapper;

struct map_request {
	uint8_t proto;                  /* IPPROTO_TCP or IPPROTO_UDP */
	struct in6_addr client;         /* the host that asked */
	struct in6_addr internal_addr;  /* where traffic is to go */
	uint16_t internal_port;
	uint16_t suggested_external_port;  /* 0: no preference */
	uint32_t lifetime;              /* seconds, > 0; clamped to the config's bounds */
	enum lease_origin origin;
	const uint8_t *nonce;           /* PCP mapping nonce, LEASE_NONCE_LEN bytes; NULL
	                                   for NAT-PMP */
	bool exact_port;                /* PCP PREFER_FAILURE: the suggested port or none */
	const char *description;        /* kept with the lease; may be NULL */
	/* PCP: the request's filters replace the lease's (none: every remote
	 * may use it). Otherwise a refresh keeps the lease's filters. */
	bool replace_filters;
	const struct remote_filter *filters;
	size_t nfilters;                /* at most FILTER_MAX */
	/* PCP PEER: the filters are remote peers (one address and port each),
	 * and the internal endpoint's flows with them leave from the external
	 * port too. The first is the one the request is about. */
	bool peer;
	/* UPnP's AddPortMapping: exactly the suggested external port, the
	 * policy asked first; the asker's own mappings without a nonce on
	 * that port or of that internal endpoint make way, another's is
	 * MAP_CONFLICT. */
	bool replace_own;
};

enum map_status {
	MAP_OK,
	MAP_DENIED,             /* the policy says no */
	MAP_NO_EXTERNAL_ADDRESS,
	MAP_NO_FREE_PORT,       /* every allowed external port is taken */
	MAP_TABLE_FULL,         /* max_leases reached */
	MAP_QUOTA_EXCEEDED,     /* the client holds max_leases_per_client */
	MAP_RATE_LIMITED,       /* the client asks faster than client_request_rate */
	MAP_BACKEND_FAILED,     /* nftables refused the change */
	MAP_UNSUPPORTED,        /* e.g. an IPv6 internal address, not yet mapped */
	MAP_NOT_OWNER,          /* the mapping belongs to another client or nonce */
	MAP_PORT_UNAVAILABLE,   /* exact_port asked, and that port is taken or denied */
	MAP_NO_FLOW,            /* PEER: the router tracks no such outbound flow */
	MAP_ROUTER_SERVES,      /* the exact port asked for is the router's own service's */
	MAP_NOT_A_HOST,         /* the internal address is the router's own, or no host's */
	MAP_FORWARDED_ELSEWHERE,  /* the exact port asked for, another table's rule forwards */
	MAP_CONFLICT,           /* replace_own: another's mapping holds the port or endpoint */
};

struct map_result {
	enum map_status status;
	uint16_t external_port;
	uint32_t lifetime;
	int rule;  /* deciding policy rule, -1 for none */
	enum lease_origin conflict_origin;  /* MAP_CONFLICT: how the other's was made */
	/* MAP_OK for IPv4: the address the client is told (the upstream's, when
	 * chained), and whether the answer waits for the upstream
	 * (mapper_take_chain_wait). */
	bool has_told_address;
	struct in_addr told_address;
	bool chain_wait;
};

/* cfg must outlive the mapper; the mapper rereads it on every request, so a
 * reload only has to replace its contents. */
struct mapper *mapper_new(struct event_base *base, const struct config *cfg, struct nft *nft,
			  uint32_t hash_seed);
void mapper_free(struct mapper *m);

void mapper_set_external_address(struct mapper *m, const struct in_addr *addr);
/* changed(arg) runs after a lease is added or removed, or the external
 * address is set (not on a mere refresh). One observer; NULL for none. */
void mapper_set_observer(struct mapper *m, void (*changed)(void *arg), void *arg);
bool mapper_external_address(const struct mapper *m, struct in_addr *out);
/* Seconds since the lease table was created (the NAT-PMP/PCP epoch). */
uint32_t mapper_epoch(const struct mapper *m);

struct map_result mapper_map(struct mapper *m, const struct map_request *req);

/*
 * A burst of requests answered in one go: between begin and end the
 * kernel's adds and deletes are queued and applied together (nft.h), and
 * the answers must wait for end. Before each request, its server gives it
 * a tag. end applies the rest and returns the tags (at most max) of the
 * requests whose new lease the kernel refused after all: those leases are
 * withdrawn, and their answers must be made again, outside the batch.
 */
void mapper_batch_begin(struct mapper *m);
void mapper_batch_request(struct mapper *m, unsigned tag);
size_t mapper_batch_end(struct mapper *m, unsigned *withdrawn, size_t max);
/* Which mappings an unmap is about; nonce NULL for NAT-PMP. */
struct unmap_request {
	struct in6_addr client;
	struct in6_addr internal_addr;
	uint8_t proto;           /* unmap_all: 0 for both TCP and UDP */
	uint16_t internal_port;  /* unmap only */
	const uint8_t *nonce;
	enum lease_origin origin;  /* the protocol that asks, for the audit log */
};

/* Removes the mapping of that internal endpoint, if there is one. Returns
 * MAP_OK (also when there was none) or MAP_NOT_OWNER (audited as a
 * refusal). */
enum map_status mapper_unmap(struct mapper *m, const struct unmap_request *req);
/* Removes every mapping of that internal address and protocol that the
 * client (and nonce, if given) owns; returns how many. */
size_t mapper_unmap_all(struct mapper *m, const struct unmap_request *req);

/* The operator's verbs: remove that lease whoever holds it; remove every
 * lease but the static ones, or every lease client asked for (returns how
 * many). */
void mapper_remove(struct mapper *m, struct lease *l);
size_t mapper_flush(struct mapper *m, const struct in6_addr *client);

/* PCP PEER: a LAN host's flow with one remote peer. */
struct peer_request {
	uint8_t proto;
	struct in6_addr client;
	struct in6_addr internal_addr;
	uint16_t internal_port;
	struct in6_addr remote_addr;
	uint16_t remote_port;
	uint16_t suggested_external_port;  /* 0: no preference */
	uint32_t lifetime;  /* clamped to the config's bounds; 0: delete */
	const uint8_t *nonce;  /* LEASE_NONCE_LEN bytes */
};

/* The lease file's side. dirty(arg) runs after every change the file must
 * record (refreshes too); one hook, NULL for none. */
void mapper_set_persistence(struct mapper *m, void (*dirty)(void *arg), void *arg);
/* A monotonic time of the mapper's (a lease's created_ms, expires_ms) as
 * Unix seconds. */
int64_t mapper_wall_time(const struct mapper *m, uint64_t monotonic_ms);
/* When the NAT-PMP/PCP epoch began, Unix seconds; and carrying on one that
 * began then (a restart that lost nothing). */
int64_t mapper_epoch_start(const struct mapper *m);
void mapper_continue_epoch(struct mapper *m, int64_t epoch_start);
struct leasefile_record;
/* A lease from the lease file, with what is left of its lifetime: MAP_OK;
 * MAP_NO_FLOW when it has expired meanwhile; MAP_PORT_UNAVAILABLE,
 * MAP_TABLE_FULL, MAP_BACKEND_FAILED. Not checked against the policy: call
 * mapper_apply_policy once all are in. */
enum map_status mapper_restore(struct mapper *m, const struct leasefile_record *r);

/* Someone else damaged our nftables table: it is made anew and every lease
 * put back with what is left of its lifetime. 0 (with how many went back
 * in) or a negative errno from the rebuild. */
int mapper_reinstall(struct mapper *m, size_t *reinstalled);

/* After a reload: removes the leases the policy no longer allows (logged
 * as deleted by policy) and cuts those that outlive lifetime.max down to
 * it. Static mappings are not the policy's. Returns how many went. */
size_t mapper_apply_policy(struct mapper *m);

/* A static mapping (the config's, or portleasectl add's): MAP_OK (also if
 * it is there already), MAP_PORT_UNAVAILABLE when another static mapping
 * holds its external port or internal endpoint, MAP_TABLE_FULL,
 * MAP_BACKEND_FAILED. A client's mapping in its way is removed. */
enum map_status mapper_add_static(struct mapper *m, const struct static_mapping *sm);
/* Makes the declared static mappings those of cfg: at start and on reload.
 * portleasectl add's are left alone. */
void mapper_sync_static(struct mapper *m, const struct config *cfg);

/* Whether the router itself takes proto/port (host order) from the WAN
 * at external: ROUTER_PORT_SERVED, a service of its own listens there
 * (router_ports.h); ROUTER_PORT_FORWARDED, another table's rule forwards
 * it (forwards.h); 0 neither; or a negative errno. Such a port is never
 * granted: another allowed port is taken, or an exact request is
 * MAP_ROUTER_SERVES or MAP_FORWARDED_ELSEWHERE. Without one, nothing is
 * asked. */
#define ROUTER_PORT_SERVED 1
#define ROUTER_PORT_FORWARDED 2
typedef int (*mapper_router_serves_fn)(void *arg, uint8_t proto, uint16_t port,
				       const struct in_addr *external);
void mapper_set_router_serves(struct mapper *m, mapper_router_serves_fn serves, void *arg);

/* What takes an external port from the WAN besides portleased's mappings,
 * for mappings granted before it came (a service the router started since,
 * a port forward the operator added since): refresh reads it afresh (a
 * negative errno: cannot tell now), conflict then answers per port with
 * ROUTER_PORT_SERVED, ROUTER_PORT_FORWARDED or 0. */
struct mapper_conflict_source {
	int (*refresh)(void *arg);
	int (*conflict)(void *arg, uint8_t proto, uint16_t port);
	void *arg;
};
void mapper_set_conflict_source(struct mapper *m, const struct mapper_conflict_source *src);
/* Reads the source afresh and marks every mapping whose external port
 * another now takes (lease.conflict), logging each change: the WAN's
 * packets for such a port no longer all reach the mapping's host. Returns
 * the mappings in conflict, or a negative errno. */
int mapper_review_conflicts(struct mapper *m);
/* What router_serves says of proto/port now (ROUTER_PORT_SERVED,
 * ROUTER_PORT_FORWARDED, 0, or a negative errno), for explain. */
int mapper_router_takes(struct mapper *m, uint8_t proto, uint16_t port);

/* Which host an address belongs to (host.h), for the shares counted per
 * host: mappings (max_leases_per_client), the request rate, refusal log
 * lines, and the UPnP and metrics servers' connections and subscriptions.
 * Without one, every address is its family's unresolved host. */
typedef struct host_id (*mapper_host_fn)(void *arg, const struct in6_addr *addr);
void mapper_set_host_lookup(struct mapper *m, mapper_host_fn host_of, void *arg);
/* The host of a LAN client's address; HOST_NONE for :: (the operator). */
struct host_id mapper_host_of(const struct mapper *m, const struct in6_addr *addr);

/* Every audit record as it is logged, and the events that are no
 * decision (event "conflict": something else took a mapping's external
 * port), for portleasectl monitor and on_event. The record and what it
 * points to are valid during the call only. At most 4 observers; -1 when
 * there is no room. */
struct audit_record;
typedef void (*mapper_event_fn)(void *arg, const struct audit_record *r);
int mapper_add_event_observer(mapper_event_fn fn, void *arg);
void mapper_remove_event_observer(mapper_event_fn fn, void *arg);

/* The mapper's clock: monotonic milliseconds, as leases and pending
 * requests hold their times. */
uint64_t mapper_now_ms(void);

/* Whether the operator approved this request (for "ask" rules). */
bool mapper_approved(const struct mapper *m, const struct in6_addr *client,
		     const struct in6_addr *internal_addr, uint8_t proto, uint16_t internal_port);

/*
 * Behind another NAT (upstream.h), each IPv4 mapping gets a twin at the
 * mapping service there: the mapper asks it for our external port as soon
 * as a mapping is granted, renews it before it runs out, and deletes it
 * when the mapping ends. A client is told the upstream's address and port;
 * its first answer waits for the upstream's (mapper_take_chain_wait).
 */
struct mapper_chain {
	/* Whether an upstream is found; its external address for us, if told. */
	bool (*ready)(void *arg, struct in_addr *external, bool *has_external);
	/* Asks it to map our external port for lifetime seconds (0: delete),
	 * at upstream_port there if the twin has one (0: not yet); false when
	 * it cannot now (the mapper tries again later). */
	bool (*map)(void *arg, uint8_t proto, uint16_t port, uint16_t upstream_port,
		    uint32_t lifetime);
	void *arg;
};
void mapper_set_chain(struct mapper *m, const struct mapper_chain *chain);
/* The upstream answered (or did not) for our port: its twin is made, or
 * upstream.on_failure decides. */
void mapper_chain_answered(struct mapper *m, const struct upstream_mapped *answer);
/* An upstream was found: mappings are chained (again), those it would not
 * map before asked for once more; lost: its twins are gone too. */
void mapper_chain_changed(struct mapper *m, bool lost);
/* Deletes every twin: portleased stops and takes its table away. */
void mapper_chain_release(struct mapper *m);
/* Whether the last mapper_map's answer waits for the upstream, and for
 * which of our ports; cleared by reading. */
bool mapper_take_chain_wait(struct mapper *m, uint8_t *proto, uint16_t *port);
/* Who is told when a mapping's twin is settled, to answer a waiting client. */
typedef void (*mapper_chained_fn)(void *arg, uint8_t proto, uint16_t port);
bool mapper_add_chained_observer(struct mapper *m, mapper_chained_fn chained, void *arg);
void mapper_remove_chained_observer(struct mapper *m, mapper_chained_fn chained, void *arg);
/* The mapping of our port goes, its twin too (audited by=upstream): a
 * client that asked for that exact port gets another one upstream, so
 * what it would advertise does not reach it. */
void mapper_chain_withdraw(struct mapper *m, uint8_t proto, uint16_t port);
/* What a client of our port is told now: granted (or not: the mapping is
 * gone), the port, address and lifetime; no_answer when the upstream did
 * not answer. */
struct mapper_told {
	bool granted;
	bool no_answer;
	uint16_t external_port;
	struct in_addr address;
	uint32_t lifetime;
};
void mapper_told(struct mapper *m, uint8_t proto, uint16_t port, struct mapper_told *out);
/* The external address clients are told: the upstream's when mappings are
 * chained, else ours. */
bool mapper_told_address(const struct mapper *m, struct in_addr *out);
/* That address changed (an upstream found, or its address): whoever
 * follows the mapper's changes (UPnP's events) hears of it. */
void mapper_told_address_changed(struct mapper *m);

/* The requests "ask" rules left pending (expired ones dropped first). */
struct approvals *mapper_approvals(struct mapper *m);
/* The operator's answer to pending request id (uid: who gave it, for the
 * audit line): an approval lets that device's identical request succeed
 * for seconds; a rejection keeps it refused for an hour. 0, or -1 when
 * there is no such pending request. */
int mapper_approve(struct mapper *m, uint32_t id, uint32_t seconds, uint32_t uid);
/* Who hears of each answer, to answer the waiting client at once where
 * its protocol lets a server speak first (PCP): id, and whether it was
 * approved. One listener. */
typedef void (*mapper_decided_fn)(void *arg, uint32_t id, bool approved);
void mapper_set_decided_observer(struct mapper *m, mapper_decided_fn decided, void *arg);
/* The id of the pending request the last request was left as (new, or
 * asked again), or 0; cleared by reading. */
uint32_t mapper_take_pending(struct mapper *m);
int mapper_reject(struct mapper *m, uint32_t id, uint32_t uid);

/* What the mapper keeps of the policy, taken again from the config (at
 * start, and by mapper_apply_policy after a reload): whether a rule names
 * a MAC or asks, so that a request looks up neither otherwise, the idle
 * sweep, every tenth of the shortest idle_timeout (1 s to 60 s), and the
 * inbound limits. Returns whether those changed: their chains must be made
 * anew. */
bool mapper_policy_changed(struct mapper *m);

/* The link-layer address of q's client's host, for policy rules that name
 * one: host's if the caller knows it (NULL: not), else
 * the neighbour table's. */
void mapper_query_mac(const struct mapper *m, struct policy_query *q, const struct host_id *host);

/* The name a DHCP server's lease gives a device (mac NULL: not known),
 * for list, explain and the audit lines; NULL for none. */
typedef const char *(*mapper_name_fn)(void *arg, const uint8_t *mac, const struct in6_addr *addr);
void mapper_set_name_lookup(struct mapper *m, mapper_name_fn name_of, void *arg);
/* Where status learns of the mapping service upstream (upstream.h). */
typedef void (*mapper_upstream_fn)(void *arg, struct upstream_status *out);
void mapper_set_upstream_lookup(struct mapper *m, mapper_upstream_fn upstream_of, void *arg);
/* The device at a LAN address: its host's link-layer address, its name. */
struct lan_device mapper_device_at(const struct mapper *m, const struct in6_addr *addr);
/* The device a mapping's traffic goes to: the host that asked, when it
 * asked for itself (it is known even once its neighbour entry is gone),
 * else whichever host has the internal address now. */
struct lan_device mapper_device_of(const struct mapper *m, const struct lease *l);
/* The same from what the lease itself holds, asking no socket: for the
 * lease file's writer, a forked child that must not read the neighbour
 * notices meant for the daemon. No MAC unless the host asked for itself. */
struct lan_device mapper_device_held(const struct mapper *m, const struct lease *l);

/* The router's addresses, which the caller keeps current: no mapping or
 * PEER may have its internal side at what own_addr_refusal refuses
 * (MAP_NOT_A_HOST). Without them only addresses no host has are refused. */
void mapper_set_own_addresses(struct mapper *m, const struct own_addresses *own);
/* NULL, or why a may not be a mapping's internal address. */
const char *mapper_internal_refusal(const struct mapper *m, const struct in6_addr *a);

struct conntrack;
/* Without one, PEER cannot find flows that exist already: it creates a
 * mapping for each. */
void mapper_set_conntrack(struct mapper *m, struct conntrack *ct);
/*
 * PEER (RFC 6887 §12). A flow the router already tracks, outside any
 * mapping of ours, is reported where the router's source NAT put it and
 * kept alive for the lifetime. Otherwise a PEER mapping (a lease with peer
 * set) is made or renewed: the flows between the internal endpoint and the
 * remote leave from its external port and come back through it, whichever
 * side sends first; more remotes of one internal endpoint share that
 * port; lifetime 0 takes the remote out (the last one: the lease). An
 * IPv6 one, without translation, is a pinhole for that remote.
 * MAP_OK with external_port, lifetime and *external_addr set; MAP_DENIED,
 * MAP_NO_FLOW (the internal endpoint has a MAP mapping and no such flow),
 * MAP_QUOTA_EXCEEDED (also: FILTER_MAX remotes already), the statuses of
 * mapper_map.
 */
struct map_result mapper_peer(struct mapper *m, const struct peer_request *req,
			      struct in6_addr *external_addr);

const char *map_status_name(enum map_status s);

/* A request its protocol's own checks refused before the mapper saw it
 * (status not MAP_OK; why: NULL for the status's own words): counted, and
 * audited like the mapper's own refusals. */
void mapper_refused(struct mapper *m, const struct map_request *req, enum map_status status,
		    const char *why);
/* Whether a line about a refused request of client's may be logged now:
 * its host's first in an interval, the rest counted and summarised with
 * the mapper's audit lines (audit.h), so that no host, with however many
 * addresses, floods the log. */
bool mapper_log_admit(struct mapper *m, const struct in6_addr *client);
/* Seconds the lease has left, rounded up; 0 for a static mapping. */
uint32_t mapper_remaining(const struct mapper *m, const struct lease *l);
/* How many times an IPv6 pinhole was added or removed (UPnP's
 * SystemUpdateID). */
uint32_t mapper_pinhole_changes(const struct mapper *m);
/* What the mapping let in over its whole life, refreshes included.
 * 0 or a negative errno. */
int mapper_counters(struct mapper *m, const struct lease *l, struct nft_counters *out);
const struct lease_table *mapper_leases(const struct mapper *m);
/* The request and decision counters; the servers count their requests
 * here, the mapper its decisions. */
struct metrics_counters *mapper_metrics(struct mapper *m);
/* The daemon as status and metrics show it. */
void mapper_status(const struct mapper *m, struct daemon_status *st);
/* The same, and what only the kernel counts (a question to the helper):
 * for the metrics. */
void mapper_metrics_status(struct mapper *m, struct daemon_status *st);
/* IPv4 port mappings held: every lease but the IPv6 pinholes. */
size_t mapper_port_mapping_count(const struct mapper *m);

#endif
