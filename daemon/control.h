/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operators' control protocol, spoken over a unix socket between
 * portleasectl and the daemon: one request line in, one answer out, then
 * the connection closes. This module parses requests and formats answers;
 * it does no I/O and reads no clock. */
#ifndef PORTLEASED_CONTROL_H
#define PORTLEASED_CONTROL_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "daemon/host.h"
#include "daemon/lease.h"
#include "daemon/metrics.h"
#include "config/policy.h"

#define CONTROL_REQUEST_MAX 256  /* a request line, newline included */
#define CONTROL_ERROR_MAX 128
#define CONTROL_DESCRIPTION_MAX 128

/*
 * Requests (words separated by single spaces, "json" last for JSON):
 *   list [json]
 *   status [json]
 *   metrics                               Prometheus text
 *   delete tcp|udp EXTERNAL_PORT          an IPv4 port mapping
 *   delete tcp|udp ADDRESS PORT           the mapping of an internal endpoint
 *   flush [CLIENT]                        all, or what CLIENT asked for
 *   explain CLIENT tcp|udp INTERNAL_PORT [EXTERNAL_PORT [LIFETIME]] [json]
 *   add tcp|udp EXTERNAL_PORT ADDRESS PORT [DESCRIPTION]
 *                                         a static mapping; the description is
 *                                         the rest of the line, spaces and all
 *   reload                                reread the configuration file; the
 *                                         answer comes once it is applied
 *   pending [json]                        requests "ask" rules left for the operator
 *   approve ID [SECONDS]                  let that request succeed (default a day)
 *   reject ID                             refuse it, and its retries for an hour
 *   monitor [json]                        the events as they happen, one a line,
 *                                         until the client closes
 *   review [IDLE_SECONDS] [json]          what needs the operator's look: static
 *                                         mappings past review_by, mappings never
 *                                         used or idle IDLE_SECONDS (default a
 *                                         week), devices gone from the LAN
 * Answers: a status line "ok" or "error: WHY", then the body.
 */
enum control_command {
	CONTROL_LIST,
	CONTROL_STATUS,
	CONTROL_METRICS,
	CONTROL_DELETE,
	CONTROL_FLUSH,
	CONTROL_EXPLAIN,
	CONTROL_ADD,
	CONTROL_RELOAD,
	CONTROL_REVIEW,
	CONTROL_PENDING,
	CONTROL_APPROVE,
	CONTROL_REJECT,
	CONTROL_MONITOR,
};

#define CONTROL_REVIEW_IDLE_DEFAULT (7u * 86400)

struct control_request {
	enum control_command command;
	bool json;
	uint8_t proto;
	bool has_addr;           /* delete, add: the internal address; flush, explain: the
				    client */
	struct in6_addr addr;
	uint16_t port;           /* delete: external (no address) or internal port;
				    explain: internal port */
	uint16_t external_port;  /* explain (0: the internal port), add */
	char description[CONTROL_DESCRIPTION_MAX + 1];  /* add */
	bool has_lifetime;       /* explain */
	uint32_t lifetime;       /* explain; review: the idle threshold; approve: for how
				    long, seconds */
	uint32_t id;             /* approve, reject: the pending request's */
};

/* line without its newline. Returns 0, or -1 with a message in err. */
int control_parse(const char *line, struct control_request *out, char err[CONTROL_ERROR_MAX]);

/* One mapping as `list` shows it. Times are Unix seconds. */
struct control_lease {
	uint8_t proto;
	bool pinhole;                /* IPv6: no external port */
	uint16_t external_port;
	struct in6_addr internal_addr;
	uint16_t internal_port;
	struct in6_addr client;
	struct lan_device device;    /* the internal address's */
	const char *origin;          /* "natpmp", "pcp", "upnp" */
	const char *description;     /* from the client: untrusted bytes */
	int64_t created, expires;
	uint32_t remaining;          /* seconds */
	bool permanent;              /* static: no client, never expires */
	bool has_counters;
	uint64_t packets, bytes;
	const struct inbound_limit *limit;  /* the policy's for it, or NULL */
	uint8_t upstream;            /* enum lease_upstream: its twin beyond our NAT */
	uint16_t upstream_port;      /* LEASE_UPSTREAM_OK: the twin's external port */
	uint64_t limited;            /* has_counters: new connections limit turned away */
	bool used;                   /* has_counters: a connection has come */
	int64_t last_used;           /* used: when the last one did */
	uint32_t idle;               /* used: seconds since */
	size_t nfilters;             /* remote filters */
	const struct remote_filter *filters;
	bool peer;                   /* PCP PEER: the filters are its remote peers */
	uint16_t pinhole_id;
	enum lease_conflict conflict; /* what else takes its external port since */
	/* A static mapping's inventory (the config's): "" or NULL for none. */
	const char *owner, *purpose;
	int64_t review_by;           /* Unix seconds; 0: none */
};

void control_format_list(struct evbuffer *out, const struct control_lease *leases, size_t n,
			 bool json);

/* Why a mapping needs the operator's look. */
enum control_finding_kind {
	CONTROL_REVIEW_DUE,   /* a static mapping past its review_by */
	CONTROL_NEVER_USED,   /* no inbound connection since it was made, idle_threshold ago */
	CONTROL_IDLE,         /* none for idle_threshold */
	CONTROL_DEVICE_GONE,  /* the router has no neighbour entry for its internal address */
};

struct control_finding {
	enum control_finding_kind kind;
	struct control_lease lease;  /* has_counters, used, idle, created: as list's */
	int64_t now;                 /* Unix seconds */
};

void control_format_review(struct evbuffer *out, const struct control_finding *findings,
			   size_t n, bool json);

/* A pending request as `pending` shows it. Times are Unix seconds. */
struct control_pending {
	uint32_t id;
	uint8_t proto;
	bool pinhole;
	uint16_t external_port;      /* as asked */
	struct in6_addr client, internal_addr;
	uint16_t internal_port;
	struct lan_device device;
	const char *origin;
	const char *description;     /* from the client: untrusted bytes */
	int64_t first, last;
	uint32_t expires_in;         /* seconds */
	unsigned asked;
};

void control_format_pending(struct evbuffer *out, const struct control_pending *rows, size_t n,
			    bool json);

/* One event for monitor (an audit record), at now (Unix seconds): "TIME
 * event=... ..." as the audit line has it, or a JSON object; a line. */
struct audit_record;
void control_format_event(struct evbuffer *out, const struct audit_record *r, int64_t now,
			  bool json);

void control_format_status(struct evbuffer *out, const struct daemon_status *st, bool json);

/* What the policy would say to a request, and the lease table's room. */
struct control_explanation {
	struct policy_decision decision;
	const struct policy_rule *rule;  /* the deciding rule, NULL for none */
	const struct inbound_limit *limit;  /* its inbound limit, NULL for none */
	uint16_t internal_port, external_port;
	uint8_t proto;
	struct in6_addr client;
	struct host_id host;            /* client's: whose mappings count against the quota */
	const char *device_name;        /* client's, from the DHCP leases; NULL: none */
	bool external_port_free;
	enum lease_conflict taken_by;   /* the router's service, another rule's forward */
	size_t client_leases, client_quota, leases, capacity;  /* client_leases: its host's */
	bool has_lifetime;              /* asked about one */
	uint32_t lifetime_asked, lifetime_granted;  /* within the config's bounds */
};

void control_format_explanation(struct evbuffer *out, const struct control_explanation *e,
				bool json);

/* A JSON string of untrusted bytes: escaped, invalid UTF-8 replaced. */
void control_json_string(struct evbuffer *out, const char *s);

#endif
