/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/audit.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/parse.h"
#include "lib/text.h"

struct line {
	char *buf;
	size_t cap, len;
	bool full;
};

/* One " key=value" field, whole or not at all. */
static void field(struct line *l, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void field(struct line *l, const char *key, const char *fmt, ...)
{
	char value[AUDIT_LINE_MAX];
	va_list ap;
	int n;

	if (l->full)
		return;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	n = snprintf(l->buf + l->len, l->cap - l->len, "%s%s=%s", l->len ? " " : "", key, value);
	if (n < 0 || (size_t)n >= l->cap - l->len) {
		l->buf[l->len] = '\0';
		l->full = true;
		return;
	}
	l->len += (size_t)n;
}

/* A client's text as one token: quoted, escaped (text.h), bounded. */
static void quoted_field(struct line *l, const char *key, const char *text)
{
	/* a 128-byte description, every byte escaped, fits */
	char q[TEXT_ESCAPED_MAX(128) + 2];
	size_t n;

	q[0] = '"';
	n = 1 + text_escape(q + 1, sizeof(q) - 2, text, true);
	q[n++] = '"';
	q[n] = '\0';
	field(l, key, "%s", q);
}

size_t audit_format(char *buf, size_t cap, const struct audit_record *r)
{
	struct line l = { .buf = buf, .cap = cap };
	char client[ADDR_STRLEN], internal[ADDR_STRLEN];

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	addr_format(&r->client, client);
	addr_format(&r->internal_addr, internal);
	field(&l, "audit event", "%s", r->event);
	field(&l, "origin", "%s", r->origin);
	field(&l, "proto", "%s", proto_name(r->proto));
	if (!IN6_IS_ADDR_UNSPECIFIED(&r->client))  /* a static mapping has no client */
		field(&l, "client", "%s", client);
	field(&l, "internal", addr_is_v4(&r->internal_addr) ? "%s:%u" : "[%s]:%u", internal,
	      r->internal_port);
	if (r->has_external_port)
		field(&l, "external_port", "%u", r->external_port);
	if (r->has_peer) {
		char peer[ADDR_STRLEN];

		field(&l, "peer", addr_is_v4(&r->peer_addr) ? "%s:%u" : "[%s]:%u",
		      addr_format(&r->peer_addr, peer), r->peer_port);
	}
	if (r->lifetime)
		field(&l, "lifetime", "%u", r->lifetime);
	if (r->rule_line)
		field(&l, "rule_line", "%u", r->rule_line);
	if (r->approval_id)
		field(&l, "id", "%u", r->approval_id);
	if (r->approved_for)
		field(&l, "for", "%u", r->approved_for);
	if (r->by)
		field(&l, "by", "%s", r->by);
	if (r->has_uid)
		field(&l, "uid", "%u", r->uid);
	if (r->reason)
		field(&l, "reason", "%s", r->reason);
	if (r->result)
		quoted_field(&l, "result", r->result);
	if (r->device.has_mac) {
		char mac[HOST_ID_STRLEN];

		field(&l, "mac", "%s", mac_format(r->device.mac, mac));
	}
	/* device_names.h keeps only a host name's characters: no quoting. */
	if (r->device.name)
		field(&l, "device", "%s", r->device.name);
	if (r->description && *r->description)
		quoted_field(&l, "description", r->description);
	return l.len;
}

void audit_limiter_init(struct audit_limiter *l)
{
	memset(l, 0, sizeof(*l));
}

bool audit_limiter_admit(struct audit_limiter *l, const struct host_id *host,
			 const struct in6_addr *client, uint64_t now_ms, struct audit_summary *ended)
{
	size_t slot = AUDIT_CLIENTS_TRACKED, oldest = AUDIT_CLIENTS_TRACKED;

	ended->count = 0;
	for (size_t i = 0; i < AUDIT_CLIENTS_TRACKED; i++) {
		bool running = now_ms - l->slots[i].window_start_ms < AUDIT_REFUSAL_INTERVAL_MS;

		if (!l->slots[i].used) {
			slot = slot < AUDIT_CLIENTS_TRACKED ? slot : i;
			continue;
		}
		if (host_id_equal(&l->slots[i].host, host)) {
			if (running) {
				l->slots[i].suppressed++;
				return false;
			}
			slot = i;
			break;
		}
		if (!running && (oldest == AUDIT_CLIENTS_TRACKED ||
				 l->slots[i].window_start_ms < l->slots[oldest].window_start_ms))
			oldest = i;
	}
	/* Every slot taken: one whose interval is over is summarised and
	 * reused; if none is, the newcomer is one of the others. */
	if (slot == AUDIT_CLIENTS_TRACKED)
		slot = oldest;
	if (slot == AUDIT_CLIENTS_TRACKED) {
		if (l->others++ == 0)
			l->others_start_ms = now_ms;
		return false;
	}
	if (l->slots[slot].used && l->slots[slot].suppressed) {
		ended->host = l->slots[slot].host;
		ended->client = l->slots[slot].client;
		ended->count = l->slots[slot].suppressed;
	}
	l->slots[slot].used = true;
	l->slots[slot].host = *host;
	l->slots[slot].client = *client;
	l->slots[slot].window_start_ms = now_ms;
	l->slots[slot].suppressed = 0;
	return true;
}

bool audit_limiter_next_due(const struct audit_limiter *l, uint64_t *due_ms)
{
	bool any = false;

	if (l->others) {
		*due_ms = l->others_start_ms + AUDIT_REFUSAL_INTERVAL_MS;
		any = true;
	}
	for (size_t i = 0; i < AUDIT_CLIENTS_TRACKED; i++) {
		uint64_t due = l->slots[i].window_start_ms + AUDIT_REFUSAL_INTERVAL_MS;

		if (!l->slots[i].used || !l->slots[i].suppressed || (any && due >= *due_ms))
			continue;
		*due_ms = due;
		any = true;
	}
	return any;
}

void audit_limiter_flush(struct audit_limiter *l, uint64_t now_ms,
			 void (*report)(const struct audit_summary *summary, void *arg), void *arg)
{
	for (size_t i = 0; i < AUDIT_CLIENTS_TRACKED; i++) {
		if (!l->slots[i].used ||
		    now_ms - l->slots[i].window_start_ms < AUDIT_REFUSAL_INTERVAL_MS)
			continue;
		if (l->slots[i].suppressed) {
			struct audit_summary summary = { .host = l->slots[i].host,
							 .client = l->slots[i].client,
							 .count = l->slots[i].suppressed };

			report(&summary, arg);
		}
		l->slots[i].used = false;
	}
	if (l->others && now_ms - l->others_start_ms >= AUDIT_REFUSAL_INTERVAL_MS) {
		struct audit_summary others = { .host = { .kind = HOST_NONE }, .count = l->others };

		report(&others, arg);
		l->others = 0;
	}
}
