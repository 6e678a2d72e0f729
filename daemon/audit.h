/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit trail: one key=value line per decision about a mapping
 * (granted, refreshed, refused, expired, deleted), for syslog/journald and
 * for scripts that read them. A client's refusals are summarised: one line
 * per client per interval, then a count. Pure: the caller supplies the
 * clock and does the logging. */
#ifndef PORTLEASED_AUDIT_H
#define PORTLEASED_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "daemon/host.h"

#define AUDIT_LINE_MAX 1000  /* within log.c's 1024 */
#define AUDIT_REFUSAL_INTERVAL_MS 10000
#define AUDIT_CLIENTS_TRACKED 64

struct audit_record {
	const char *event;        /* "granted", "refreshed", "refused", "expired", "deleted" */
	const char *origin;       /* "natpmp", "pcp", "upnp" */
	uint8_t proto;
	struct in6_addr client;   /* :: for none (a static mapping) */
	struct in6_addr internal_addr;
	struct lan_device device;  /* the internal address's: mac=, device= */
	uint16_t internal_port;
	bool has_external_port;
	uint16_t external_port;
	uint32_t lifetime;        /* 0: not said */
	unsigned rule_line;       /* the deciding policy rule; 0: none */
	const char *result;       /* "ok", or why not; NULL: not said */
	const char *by;           /* deleted: "client", "operator", "policy"; NULL: not said */
	const char *reason;       /* expired: "idle" (no inbound connection for the
				     rule's idle_timeout); NULL: its lifetime ran out */
	const char *description;  /* the client's text; NULL or "": not said */
	/* "pending", "approved", "rejected": the request's number, the
	 * operator's uid, an approval's seconds */
	uint32_t approval_id;     /* 0: not said */
	bool has_uid;
	uint32_t uid;
	uint32_t approved_for;
	/* PCP PEER: the remote peer the flow is with */
	bool has_peer;
	struct in6_addr peer_addr;
	uint16_t peer_port;
};

/* "audit event=granted origin=natpmp proto=tcp client=192.168.1.10 ..." in
 * buf; values that need it quoted, with \", \\ and \xNN escapes. Returns
 * the length (a line that does not fit is cut at a field boundary). */
size_t audit_format(char *buf, size_t cap, const struct audit_record *r);

/* Which refusals get a line of their own: a host's first in an interval
 * (host.h: whichever of its addresses it asks from). The slots are a
 * shared pool: a host without a slot while every slot's interval is
 * running is not logged but counted with the "others" (summarised with
 * host HOST_NONE), so a flood from any number of hosts costs at most two
 * lines per slot and one more per interval, and a host with many
 * addresses takes one slot, not many. */
struct audit_limiter {
	struct {
		struct host_id host;
		struct in6_addr client;  /* the address its interval's line named */
		uint64_t window_start_ms;
		unsigned suppressed;
		bool used;
	} slots[AUDIT_CLIENTS_TRACKED];
	uint64_t others_start_ms;
	unsigned others;  /* refusals of hosts that found no slot */
};

void audit_limiter_init(struct audit_limiter *l);
/* Refusals not logged in an interval that has ended. */
struct audit_summary {
	struct host_id host;     /* HOST_NONE: the others */
	struct in6_addr client;  /* the address the interval's line named */
	unsigned count;          /* 0: nothing to report */
};

/* A refusal for client (an address of host) at now_ms: false to count it,
 * true to log it, after logging *ended if its count is not 0. */
bool audit_limiter_admit(struct audit_limiter *l, const struct host_id *host,
			 const struct in6_addr *client, uint64_t now_ms, struct audit_summary *ended);
/* The summaries due by now_ms: calls report(summary) for each host whose
 * interval has ended with refusals left unlogged, and forgets it, and for
 * the others. */
void audit_limiter_flush(struct audit_limiter *l, uint64_t now_ms,
			 void (*report)(const struct audit_summary *summary, void *arg), void *arg);

/* When the first interval holding refusals not yet logged nor summarised
 * ends, in *due_ms; false if there is none. */
bool audit_limiter_next_due(const struct audit_limiter *l, uint64_t *due_ms);

#endif
