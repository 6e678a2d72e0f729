/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's approvals, for policy rules of action "ask": a request
 * such a rule decides is refused for now and kept here as pending, with
 * what the operator needs to judge it; an approval lets that device's
 * identical request (same protocol and internal port, same address family,
 * for itself or for the same third party) succeed until it runs out; a
 * rejection keeps the device from asking again for a while. Pure: the
 * caller supplies the clock and does the logging.
 *
 * Memory is bounded: APPROVALS_PENDING_MAX pending requests, at most
 * APPROVALS_PENDING_PER_HOST of one device (a host is its link-layer
 * address, host.h), and APPROVALS_MAX approvals and rejections. Only a
 * device the router knows by its link-layer address can be approved: all
 * unresolved addresses share one host, and approving it would approve
 * any of them. */
#ifndef PORTLEASED_APPROVALS_H
#define PORTLEASED_APPROVALS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/host.h"
#include "daemon/lease.h"

#define APPROVALS_PENDING_MAX 64
#define APPROVALS_PENDING_PER_HOST 4
#define APPROVALS_MAX 256
#define APPROVALS_PENDING_TTL_MS (3600u * 1000)  /* an unanswered request is dropped */
#define APPROVALS_REJECT_QUIET_MS (3600u * 1000) /* a rejected request is not pending again */
#define APPROVALS_DEFAULT_SECONDS 86400u

/* What makes two requests "identical". */
struct approval_key {
	struct host_id host;
	uint8_t proto;
	bool v6;                     /* a pinhole, not a port forward */
	uint16_t internal_port;
	struct in6_addr third_party; /* the internal address if it is not the asker's; :: */
};

struct pending_request {
	uint32_t id;
	struct approval_key key;
	struct in6_addr client, internal_addr;
	uint16_t external_port;      /* as asked */
	enum lease_origin origin;
	char description[LEASE_DESCRIPTION_MAX + 1];
	uint64_t first_ms, last_ms, expires_ms;
	unsigned asked;              /* times the device asked while pending */
	bool used;
};

struct approval {
	uint32_t id;                 /* the pending request's */
	struct approval_key key;
	uint64_t until_ms;
	bool rejected;               /* a rejection: quiet until until_ms */
	bool used;
};

struct approvals {
	struct pending_request pending[APPROVALS_PENDING_MAX];
	struct approval decided[APPROVALS_MAX];
	uint32_t next_id;
};

void approvals_init(struct approvals *a);

/* The key of a request from client, by host, for internal_addr. */
struct approval_key approvals_key(const struct host_id *host, const struct in6_addr *client,
				  const struct in6_addr *internal_addr, uint8_t proto,
				  uint16_t internal_port);

/* When the approval of key runs out (ms), or 0 when there is none. */
uint64_t approvals_until(const struct approvals *a, const struct approval_key *key, uint64_t now_ms);

enum approvals_asked {
	APPROVALS_NEW,        /* now pending (*out) */
	APPROVALS_AGAIN,      /* already pending (*out), asked again */
	APPROVALS_REJECTED,   /* rejected a while ago: not pending again yet */
	APPROVALS_UNKNOWN,    /* a host the router does not know: cannot be approved */
	APPROVALS_FULL,       /* the device, or everyone, has too many pending */
};

/* A request an "ask" rule refused: kept as pending unless it cannot be.
 * p's id, key, first/last/expires and asked are set here; the rest are
 * the caller's. */
enum approvals_asked approvals_ask(struct approvals *a, const struct pending_request *p,
				   uint64_t now_ms, const struct pending_request **out);

/* Approves (for seconds) or rejects the pending request id: 0 with a copy
 * in *out, or -1 when there is no such pending request (or no room). */
int approvals_approve(struct approvals *a, uint32_t id, uint32_t seconds, uint64_t now_ms,
		      struct pending_request *out);
int approvals_reject(struct approvals *a, uint32_t id, uint64_t now_ms,
		     struct pending_request *out);

/* Drops pending requests and decisions that have run out. */
void approvals_expire(struct approvals *a, uint64_t now_ms);
/* Pending requests not yet run out. */
size_t approvals_pending_count(const struct approvals *a, uint64_t now_ms);

#endif
