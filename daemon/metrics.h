/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daemon counts (requests and answers per protocol, decisions per
 * mapping) and what it holds (leases, address, epoch): the numbers behind
 * `portleasectl status` and the Prometheus text of `portleasectl metrics`
 * and the metrics listener. Pure: the counters are plain fields the servers
 * and the mapper bump; formatting does no I/O. */
#ifndef PORTLEASED_METRICS_H
#define PORTLEASED_METRICS_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "daemon/lease.h"
#include "daemon/upstream.h"

enum metrics_protocol {
	METRICS_NATPMP,
	METRICS_PCP,
	METRICS_UPNP,  /* SOAP control requests */
	METRICS_PROTOCOLS,
};

enum metrics_event {
	METRICS_GRANTED,
	METRICS_REFRESHED,
	METRICS_REFUSED,
	METRICS_EXPIRED,
	METRICS_DELETED,
	METRICS_EVENTS,
};

struct metrics_counters {
	/* Every request received from a LAN host is answered with success,
	 * answered with an error, or dropped (malformed beyond an answer):
	 * dropped = requests - successes - errors. */
	uint64_t requests[METRICS_PROTOCOLS];
	uint64_t successes[METRICS_PROTOCOLS];
	uint64_t errors[METRICS_PROTOCOLS];
	/* Decisions about mappings, by the origin of the request or lease. */
	uint64_t events[METRICS_EVENTS][LEASE_ORIGINS];
	/* Requests refused by client_request_rate (also counted as refused). */
	uint64_t rate_limited;
	/* NAT-PMP and PCP datagrams the kernel dropped, their socket's receive
	 * queue being full: requests that were never seen. */
	uint64_t receive_dropped;
	/* Reloads (SIGHUP, portleasectl reload), applied or refused. */
	uint64_t reloads[2];  /* [0] applied, [1] refused */
	/* Changes the kernel refused (nftables through the helper), and
	 * lease file writes that failed. */
	uint64_t nftables_errors;
	uint64_t lease_file_errors;
	/* Mappings removed for want of inbound connections (idle_timeout);
	 * also counted as expired. */
	uint64_t idle_expired;
	/* Requests "ask" rules left pending, and the operator's answers. */
	uint64_t pending_requests;
	uint64_t approved, rejected;
	/* on_event's command: runs, events not passed to it (per_minute, or
	 * all busy), and runs that failed (status, signal, timeout). */
	uint64_t on_event_runs, on_event_dropped, on_event_failures;
};

/* One request of protocol p: answered (with result success) or dropped. */
void metrics_count_request(struct metrics_counters *c, enum metrics_protocol p, bool answered,
			   bool success);

/* The daemon at one moment. */
struct daemon_status {
	const char *version;
	uint32_t uptime;  /* seconds since this process started */
	int64_t start_time;        /* Unix seconds: this process's start */
	int64_t epoch_start_time;  /* Unix seconds: the NAT-PMP/PCP epoch's */
	bool has_external_address;
	struct in6_addr external_address;
	uint32_t epoch;   /* NAT-PMP/PCP seconds since start of epoch */
	size_t leases, capacity, pinholes;
	size_t pending;   /* requests waiting for the operator */
	size_t by_origin[LEASE_ORIGINS];
	struct metrics_counters counters;
	/* New connections the inbound limits turned away since the kernel's
	 * table was made (mapper_metrics_status only). */
	uint64_t inbound_limited;
	struct upstream_status upstream;  /* state UPSTREAM_OFF when not told */
};

/* The Prometheus text exposition format (version 0.0.4). */
void metrics_format(struct evbuffer *out, const struct daemon_status *st);

const char *metrics_protocol_name(enum metrics_protocol p);
const char *metrics_event_name(enum metrics_event e);

#endif
