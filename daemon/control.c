/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/control.h"
#include "daemon/audit.h"
#include "config/config.h"
#include "daemon/approvals.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/lease.h"
#include "lib/parse.h"
#include "lib/text.h"

#define WORDS_MAX 8
#define WORD_MAX 64

static int fail(char err[CONTROL_ERROR_MAX], const char *what)
{
	snprintf(err, CONTROL_ERROR_MAX, "%s", what);
	return -1;
}

/* add PROTO EXTERNAL_PORT ADDRESS PORT, then description (NULL: fewer than
 * five words came). */
static int parse_add(char words[][WORD_MAX], const char *description,
		     struct control_request *out, char err[CONTROL_ERROR_MAX])
{
	out->command = CONTROL_ADD;
	if (!description)
		return fail(err, "add: tcp|udp EXTERNAL_PORT ADDRESS PORT [DESCRIPTION]");
	if (!parse_proto(words[1], &out->proto))
		return fail(err, "add: the protocol is tcp or udp");
	if (!parse_port(words[2], &out->external_port) || !parse_port(words[4], &out->port))
		return fail(err, "add: ports are 1-65535");
	if (!parse_address(words[3], &out->addr))
		return fail(err, "add: not an IPv4 or IPv6 address");
	out->has_addr = true;
	if (strlen(description) > CONTROL_DESCRIPTION_MAX)
		return fail(err, "add: the description is longer than 128 bytes");
	for (const char *c = description; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail(err, "add: the description holds a control character");
	snprintf(out->description, sizeof(out->description), "%s", description);
	return 0;
}

int control_parse(const char *line, struct control_request *out, char err[CONTROL_ERROR_MAX])
{
	char words[WORDS_MAX][WORD_MAX];
	size_t n = 0;
	const char *p = line;

	memset(out, 0, sizeof(*out));
	if (strlen(line) >= CONTROL_REQUEST_MAX)
		return fail(err, "request too long");
	while (*p) {
		size_t len = strcspn(p, " ");

		if (len == 0 || len >= WORD_MAX || n == WORDS_MAX)
			return fail(err, "malformed request");
		memcpy(words[n], p, len);
		words[n++][len] = '\0';
		p += len;
		if (*p == ' ' && *++p == '\0')
			return fail(err, "malformed request");
		if (n == 5 && strcmp(words[0], "add") == 0)
			return parse_add(words, p, out, err);
	}
	if (n > 0 && strcmp(words[0], "add") == 0)
		return parse_add(words, NULL, out, err);
	if (n > 0 && strcmp(words[n - 1], "json") == 0) {
		out->json = true;
		n--;
	}
	if (n == 0)
		return fail(err, "empty request");

	if (strcmp(words[0], "list") == 0 && n == 1) {
		out->command = CONTROL_LIST;
	} else if (strcmp(words[0], "reload") == 0 && n == 1 && !out->json) {
		out->command = CONTROL_RELOAD;
	} else if (strcmp(words[0], "review") == 0 && n <= 2) {
		unsigned long idle = CONTROL_REVIEW_IDLE_DEFAULT;

		out->command = CONTROL_REVIEW;
		if (n == 2 && (!parse_uint(words[1], UINT32_MAX, &idle) || idle == 0))
			return fail(err, "review: the idle threshold is 1 or more seconds");
		out->lifetime = (uint32_t)idle;
	} else if (strcmp(words[0], "monitor") == 0 && n == 1) {
		out->command = CONTROL_MONITOR;
	} else if (strcmp(words[0], "pending") == 0 && n == 1) {
		out->command = CONTROL_PENDING;
	} else if ((strcmp(words[0], "approve") == 0 && (n == 2 || n == 3)) ||
		   (strcmp(words[0], "reject") == 0 && n == 2)) {
		unsigned long id, seconds = APPROVALS_DEFAULT_SECONDS;

		out->command = words[0][0] == 'a' ? CONTROL_APPROVE : CONTROL_REJECT;
		if (out->json)
			return fail(err, "approve and reject have no json");
		if (!parse_uint(words[1], UINT32_MAX, &id) || id == 0)
			return fail(err, "the pending request's number is 1 or more");
		if (n == 3 && (!parse_uint(words[2], CONFIG_IDLE_TIMEOUT_MAX, &seconds) || seconds == 0))
			return fail(err, "approve: for 1 s to 366 days");
		out->id = (uint32_t)id;
		out->lifetime = (uint32_t)seconds;
	} else if (strcmp(words[0], "status") == 0 && n == 1) {
		out->command = CONTROL_STATUS;
	} else if (strcmp(words[0], "metrics") == 0 && n == 1 && !out->json) {
		out->command = CONTROL_METRICS;
	} else if (strcmp(words[0], "delete") == 0 && (n == 3 || n == 4)) {
		out->command = CONTROL_DELETE;
		if (!parse_proto(words[1], &out->proto))
			return fail(err, "delete: the protocol is tcp or udp");
		if (n == 4) {
			if (!parse_address(words[2], &out->addr))
				return fail(err, "delete: not an IPv4 or IPv6 address");
			out->has_addr = true;
		}
		if (!parse_port(words[n - 1], &out->port))
			return fail(err, "delete: the port is 1-65535");
	} else if (strcmp(words[0], "flush") == 0 && n <= 2) {
		out->command = CONTROL_FLUSH;
		if (n == 2) {
			if (!parse_address(words[1], &out->addr))
				return fail(err, "flush: not an IPv4 or IPv6 address");
			out->has_addr = true;
		}
	} else if (strcmp(words[0], "explain") == 0 && n >= 4 && n <= 6) {
		unsigned long lifetime;

		out->command = CONTROL_EXPLAIN;
		out->has_addr = true;
		if (!parse_address(words[1], &out->addr))
			return fail(err, "explain: the client is an IPv4 or IPv6 address");
		if (!parse_proto(words[2], &out->proto))
			return fail(err, "explain: the protocol is tcp or udp");
		if (!parse_port(words[3], &out->port) ||
		    (n >= 5 && !parse_port(words[4], &out->external_port)))
			return fail(err, "explain: ports are 1-65535");
		if (n == 6) {
			if (!parse_uint(words[5], UINT32_MAX, &lifetime))
				return fail(err, "explain: the lifetime is a number of seconds");
			out->lifetime = (uint32_t)lifetime;
			out->has_lifetime = true;
		}
	} else {
		return fail(err, "unknown request");
	}
	return 0;
}

/* --- text for people --- */

/* Bytes a client chose, made harmless for a terminal (text.h). */
static void add_printable(struct evbuffer *out, const char *s)
{
	char text[TEXT_ESCAPED_MAX(LEASE_DESCRIPTION_MAX)];

	text_escape(text, sizeof(text), s, false);
	evbuffer_add(out, text, strlen(text));
}

#define DURATION_MAX 16

/* "59m58s", "1h01m", "7s", "9d04h". */
static const char *duration_text(char buf[DURATION_MAX], uint32_t s)
{
	if (s >= 86400)
		snprintf(buf, DURATION_MAX, "%ud%02uh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, DURATION_MAX, "%uh%02um", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, DURATION_MAX, "%um%02us", s / 60, s % 60);
	else
		snprintf(buf, DURATION_MAX, "%us", s);
	return buf;
}

static const char *endpoint(char buf[ADDR_STRLEN + 8], const struct in6_addr *a, uint16_t port)
{
	char text[ADDR_STRLEN];

	addr_format(a, text);
	snprintf(buf, ADDR_STRLEN + 8, addr_is_v4(a) ? "%s:%u" : "[%s]:%u", text, port);
	return buf;
}

/* --- JSON for scripts --- */

void control_json_string(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	while (*s) {
		size_t len = text_safe_char(s);

		if (len == 1 && (*s == '"' || *s == '\\')) {
			evbuffer_add_printf(out, "\\%c", *s++);
		} else if (len > 0) {
			evbuffer_add(out, s, len);
			s += len;
		} else {
			/* The same \xNN a person reads in the table and the log:
			 * a script that prints the value prints no control. */
			evbuffer_add_printf(out, "\\\\x%02x", (unsigned char)*s++);
		}
	}
	evbuffer_add(out, "\"", 1);
}

/* Text, or null for none. */
static void json_string_or_null(struct evbuffer *out, const char *s)
{
	if (s && *s)
		control_json_string(out, s);
	else
		evbuffer_add_printf(out, "null");
}

static void json_address(struct evbuffer *out, const struct in6_addr *a)
{
	char text[ADDR_STRLEN];

	evbuffer_add_printf(out, "\"%s\"", addr_format(a, text));
}

/* A device as the table shows it: its name, else its link-layer address. */
static const char *device_text(const struct lan_device *d, char mac[HOST_ID_STRLEN])
{
	if (d->name)
		return d->name;
	return d->has_mac ? mac_format(d->mac, mac) : "-";
}

/* ,"mac":...,"device":... (null for what is not known) */
static void json_device(struct evbuffer *out, const struct lan_device *d)
{
	char mac[HOST_ID_STRLEN];

	if (d->has_mac)
		evbuffer_add_printf(out, ",\"mac\":\"%s\"", mac_format(d->mac, mac));
	else
		evbuffer_add_printf(out, ",\"mac\":null");
	evbuffer_add_printf(out, ",\"device\":");
	json_string_or_null(out, d->name);
}

/* t (Unix seconds) in UTC: "2026-12-07", or with its time
 * "2026-12-07T01:02:03Z", into buf of UTC_TEXT_MAX bytes. */
#define UTC_TEXT_MAX 21
static const char *utc_text(char buf[UTC_TEXT_MAX], int64_t t, bool with_time)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n = 0;

	if (gmtime_r(&tt, &tm))
		n = with_time ? strftime(buf, UTC_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) :
				strftime(buf, UTC_TEXT_MAX, "%Y-%m-%d", &tm);
	if (n == 0)
		snprintf(buf, UTC_TEXT_MAX, "?");
	return buf;
}

static const char *date_text(char buf[UTC_TEXT_MAX], int64_t t)
{
	return utc_text(buf, t, false);
}

/* ,"owner":...,"purpose":...,"review_by":"YYYY-MM-DD" (null when not said) */
static void json_inventory(struct evbuffer *out, const struct control_lease *l)
{
	char date[UTC_TEXT_MAX];

	evbuffer_add_printf(out, ",\"owner\":");
	json_string_or_null(out, l->owner);
	evbuffer_add_printf(out, ",\"purpose\":");
	json_string_or_null(out, l->purpose);
	if (l->review_by)
		evbuffer_add_printf(out, ",\"review_by\":\"%s\"", date_text(date, l->review_by));
	else
		evbuffer_add_printf(out, ",\"review_by\":null");
}

static void json_count_or_null(struct evbuffer *out, const char *name, uint32_t n)
{
	if (n)
		evbuffer_add_printf(out, "\"%s\":%u", name, n);
	else
		evbuffer_add_printf(out, "\"%s\":null", name);
}

/* ,"inbound_limit":{"per_remote":...,"total":...,"burst":...} (null for
 * none; each null when not set: burst then a second's worth of each rate) */
static void json_inbound_limit(struct evbuffer *out, const struct inbound_limit *limit)
{
	if (!limit) {
		evbuffer_add_printf(out, ",\"inbound_limit\":null");
		return;
	}
	evbuffer_add_printf(out, ",\"inbound_limit\":{");
	json_count_or_null(out, "per_remote", limit->per_remote);
	evbuffer_add_printf(out, ",");
	json_count_or_null(out, "total", limit->total);
	evbuffer_add_printf(out, ",");
	json_count_or_null(out, "burst", limit->burst);
	evbuffer_add_printf(out, "}");
}

/* ,"upstream":"asked"|"ok"|"local"|null,"upstream_port":N|null: its twin
 * beyond our NAT. */
static void json_upstream_twin(struct evbuffer *out, const struct control_lease *l)
{
	static const char *const states[] = { [LEASE_UPSTREAM_ASKED] = "asked",
					      [LEASE_UPSTREAM_OK] = "ok",
					      [LEASE_UPSTREAM_LOCAL] = "local" };

	if (l->upstream == LEASE_UPSTREAM_NONE || l->upstream >= sizeof(states) / sizeof(states[0]))
		evbuffer_add_printf(out, ",\"upstream\":null");
	else
		evbuffer_add_printf(out, ",\"upstream\":\"%s\"", states[l->upstream]);
	if (l->upstream == LEASE_UPSTREAM_OK)
		evbuffer_add_printf(out, ",\"upstream_port\":%u", l->upstream_port);
	else
		evbuffer_add_printf(out, ",\"upstream_port\":null");
}

/* A mapping's limit, and ,"limited":... what it turned away (null for no
 * limit, or unknown). */
static void json_limit(struct evbuffer *out, const struct control_lease *l)
{
	json_inbound_limit(out, l->limit);
	if (l->limit && l->has_counters)
		evbuffer_add_printf(out, ",\"limited\":%llu", (unsigned long long)l->limited);
	else
		evbuffer_add_printf(out, ",\"limited\":null");
}

/* "protocol":...,"external_port":...,"internal_address":...,"internal_port":... */
static void json_endpoints(struct evbuffer *out, const struct control_lease *l)
{
	evbuffer_add_printf(out, "\"protocol\":\"%s\",\"external_port\":", proto_name(l->proto));
	if (l->pinhole)
		evbuffer_add_printf(out, "null");
	else
		evbuffer_add_printf(out, "%u", l->external_port);
	evbuffer_add_printf(out, ",\"internal_address\":");
	json_address(out, &l->internal_addr);
	evbuffer_add_printf(out, ",\"internal_port\":%u", l->internal_port);
}

/* [LIMIT 5/s per remote, 50/s in all: 12 turned away] */
static void add_limit_text(struct evbuffer *out, const struct control_lease *l)
{
	evbuffer_add_printf(out, "[LIMIT");
	if (l->limit->per_remote)
		evbuffer_add_printf(out, " %u/s per remote%s", l->limit->per_remote,
				    l->limit->total ? "," : "");
	if (l->limit->total)
		evbuffer_add_printf(out, " %u/s in all", l->limit->total);
	if (l->has_counters)
		evbuffer_add_printf(out, ": %llu turned away", (unsigned long long)l->limited);
	evbuffer_add_printf(out, "] ");
}

void control_format_list(struct evbuffer *out, const struct control_lease *leases, size_t n,
			 bool json)
{
	if (json) {
		evbuffer_add_printf(out, "{\"leases\":[");
		for (size_t i = 0; i < n; i++) {
			const struct control_lease *l = &leases[i];

			evbuffer_add_printf(out, "%s{", i ? "," : "");
			json_endpoints(out, l);
			evbuffer_add_printf(out, ",\"client\":");
			if (l->permanent)
				evbuffer_add_printf(out, "null");
			else
				json_address(out, &l->client);
			evbuffer_add_printf(out, ",\"origin\":\"%s\",\"description\":", l->origin);
			control_json_string(out, l->description);
			evbuffer_add_printf(out, ",\"created\":%lld", (long long)l->created);
			if (l->permanent)
				evbuffer_add_printf(out, ",\"expires\":null,\"remaining\":null");
			else
				evbuffer_add_printf(out, ",\"expires\":%lld,\"remaining\":%u",
						    (long long)l->expires, l->remaining);
			evbuffer_add_printf(out, ",\"remote_filters\":%zu,\"peers\":", l->nfilters);
			if (l->peer) {
				for (size_t j = 0; j < l->nfilters; j++) {
					char peer[ADDR_STRLEN + 8];

					evbuffer_add_printf(out, "%s\"%s\"", j ? "," : "[",
							    endpoint(peer, &l->filters[j].remote.net,
								     l->filters[j].port));
				}
				evbuffer_add_printf(out, "]");
			} else {
				evbuffer_add_printf(out, "null");
			}
			if (l->conflict != LEASE_CONFLICT_NONE)
				evbuffer_add_printf(out, ",\"conflict\":\"%s\"",
						    lease_conflict_name(l->conflict));
			else
				evbuffer_add_printf(out, ",\"conflict\":null");
			if (l->pinhole)
				evbuffer_add_printf(out, ",\"pinhole_id\":%u", l->pinhole_id);
			if (l->has_counters)
				evbuffer_add_printf(out, ",\"packets\":%llu,\"bytes\":%llu",
						    (unsigned long long)l->packets,
						    (unsigned long long)l->bytes);
			else
				evbuffer_add_printf(out, ",\"packets\":null,\"bytes\":null");
			if (l->has_counters && l->used)
				evbuffer_add_printf(out, ",\"last_used\":%lld", (long long)l->last_used);
			else
				evbuffer_add_printf(out, ",\"last_used\":null");
			json_device(out, &l->device);
			json_inventory(out, l);
			json_limit(out, l);
			json_upstream_twin(out, l);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "]}\n");
		return;
	}
	if (n == 0) {
		evbuffer_add_printf(out, "no mappings\n");
		return;
	}
	/* The address columns as wide as their widest entry: IPv6 ones are
	 * long, IPv4 ones short. */
	int internal_width = (int)strlen("INTERNAL"), client_width = (int)strlen("CLIENT");
	int device_width = (int)strlen("DEVICE");
	for (size_t i = 0; i < n; i++) {
		char internal[ADDR_STRLEN + 8], client[ADDR_STRLEN], mac[HOST_ID_STRLEN];
		int w = (int)strlen(endpoint(internal, &leases[i].internal_addr,
					     leases[i].internal_port));

		internal_width = w > internal_width ? w : internal_width;
		w = (int)strlen(device_text(&leases[i].device, mac));
		device_width = w > device_width ? w : device_width;
		w = leases[i].permanent ? 1 : (int)strlen(addr_format(&leases[i].client, client));
		client_width = w > client_width ? w : client_width;
	}
	evbuffer_add_printf(out, "%-5s %-8s %-*s %-*s %-*s %-6s %-8s %10s %12s %-9s %s\n", "PROTO",
			    "EXTERNAL", internal_width, "INTERNAL", device_width, "DEVICE",
			    client_width, "CLIENT", "VIA", "EXPIRES", "PACKETS", "BYTES", "LAST USED",
			    "DESCRIPTION");
	for (size_t i = 0; i < n; i++) {
		const struct control_lease *l = &leases[i];
		char ext[8] = "-", internal[ADDR_STRLEN + 8], client[ADDR_STRLEN];
		char remaining[DURATION_MAX], idle[DURATION_MAX + 4], mac[HOST_ID_STRLEN];

		if (!l->pinhole)
			snprintf(ext, sizeof(ext), "%u", l->external_port);
		evbuffer_add_printf(out, "%-5s %-8s %-*s %-*s %-*s %-6s %-8s ", proto_name(l->proto),
				    ext, internal_width,
				    endpoint(internal, &l->internal_addr, l->internal_port),
				    device_width, device_text(&l->device, mac), client_width, l->permanent ? "-" : addr_format(&l->client, client),
				    l->origin,
				    l->permanent ? "never" : duration_text(remaining, l->remaining));
		if (l->has_counters && l->used)
			snprintf(idle, sizeof(idle), "%s ago", duration_text(remaining, l->idle));
		else
			snprintf(idle, sizeof(idle), l->has_counters ? "never" : "?");
		if (l->has_counters)
			evbuffer_add_printf(out, "%10llu %12llu %-9s ", (unsigned long long)l->packets,
					    (unsigned long long)l->bytes, idle);
		else
			evbuffer_add_printf(out, "%10s %12s %-9s ", "?", "?", idle);
		if (l->conflict != LEASE_CONFLICT_NONE)
			evbuffer_add_printf(out, "[CONFLICT: %s] ", lease_conflict_text(l->conflict));
		if (l->peer) {
			char peer[ADDR_STRLEN + 8];

			/* The flows of the internal endpoint with these. */
			evbuffer_add_printf(out, "[PEER");
			for (size_t j = 0; j < l->nfilters; j++)
				evbuffer_add_printf(out, " %s", endpoint(peer, &l->filters[j].remote.net,
									 l->filters[j].port));
			evbuffer_add_printf(out, "] ");
		} else if (l->nfilters) {
			evbuffer_add_printf(out, "[%zu remote filter%s] ", l->nfilters,
					    l->nfilters == 1 ? "" : "s");
		}
		if (l->limit)
			add_limit_text(out, l);
		if (l->upstream == LEASE_UPSTREAM_OK)
			evbuffer_add_printf(out, "[UPSTREAM PORT %u] ", l->upstream_port);
		else if (l->upstream == LEASE_UPSTREAM_ASKED)
			evbuffer_add_printf(out, "[UPSTREAM ASKED] ");
		else if (l->upstream == LEASE_UPSTREAM_LOCAL)
			evbuffer_add_printf(out, "[UPSTREAM REFUSED: THIS ROUTER ONLY] ");
		add_printable(out, l->description);
		evbuffer_add_printf(out, "\n");
	}
}

static const char *const finding_names[] = {
	[CONTROL_REVIEW_DUE] = "review_due",
	[CONTROL_NEVER_USED] = "never_used",
	[CONTROL_IDLE] = "idle",
	[CONTROL_DEVICE_GONE] = "device_gone",
};

#define WHY_MAX 96

/* Why, as a person reads it. */
static const char *why_text(char buf[WHY_MAX], const struct control_finding *f)
{
	const struct control_lease *l = &f->lease;
	char when[DURATION_MAX], date[UTC_TEXT_MAX], addr[ADDR_STRLEN];

	switch (f->kind) {
	case CONTROL_REVIEW_DUE:
		snprintf(buf, WHY_MAX, "to be reviewed by %s (%s ago)", date_text(date, l->review_by),
			 duration_text(when, (uint32_t)(f->now - l->review_by)));
		break;
	case CONTROL_NEVER_USED:
		snprintf(buf, WHY_MAX, "made %s ago, no inbound connection since",
			 duration_text(when, (uint32_t)(f->now - l->created)));
		break;
	case CONTROL_IDLE:
		snprintf(buf, WHY_MAX, "last inbound connection %s ago",
			 duration_text(when, l->idle));
		break;
	case CONTROL_DEVICE_GONE:
		snprintf(buf, WHY_MAX, "the router knows no device at %s",
			 addr_format(&l->internal_addr, addr));
		break;
	}
	return buf;
}

void control_format_review(struct evbuffer *out, const struct control_finding *findings,
			   size_t n, bool json)
{
	if (json) {
		evbuffer_add_printf(out, "{\"findings\":[");
		for (size_t i = 0; i < n; i++) {
			const struct control_finding *f = &findings[i];
			const struct control_lease *l = &f->lease;
			char why[WHY_MAX];

			evbuffer_add_printf(out, "%s{\"reason\":\"%s\",\"why\":", i ? "," : "",
					    finding_names[f->kind]);
			control_json_string(out, why_text(why, f));
			evbuffer_add_printf(out, ",");
			json_endpoints(out, l);
			evbuffer_add_printf(out, ",\"origin\":\"%s\",\"description\":", l->origin);
			control_json_string(out, l->description ? l->description : "");
			json_device(out, &l->device);
			json_inventory(out, l);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "]}\n");
		return;
	}
	if (n == 0) {
		evbuffer_add_printf(out, "nothing needs a look\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct control_finding *f = &findings[i];
		const struct control_lease *l = &f->lease;
		char ext[8] = "-", internal[ADDR_STRLEN + 8], mac[HOST_ID_STRLEN], why[WHY_MAX];

		if (!l->pinhole)
			snprintf(ext, sizeof(ext), "%u", l->external_port);
		evbuffer_add_printf(out, "%-11s %-5s %-6s %s %s %s: %s", finding_names[f->kind],
				    proto_name(l->proto), ext,
				    endpoint(internal, &l->internal_addr, l->internal_port),
				    device_text(&l->device, mac), l->origin, why_text(why, f));
		if (l->owner && *l->owner) {
			evbuffer_add_printf(out, "; owner ");
			add_printable(out, l->owner);
		}
		if (l->purpose && *l->purpose) {
			evbuffer_add_printf(out, "; purpose ");
			add_printable(out, l->purpose);
		}
		if (l->description && *l->description) {
			evbuffer_add_printf(out, "; ");
			add_printable(out, l->description);
		}
		evbuffer_add_printf(out, "\n");
	}
}

void control_format_pending(struct evbuffer *out, const struct control_pending *rows, size_t n,
			    bool json)
{
	if (json) {
		evbuffer_add_printf(out, "{\"pending\":[");
		for (size_t i = 0; i < n; i++) {
			const struct control_pending *p = &rows[i];

			evbuffer_add_printf(out, "%s{\"id\":%u,\"protocol\":\"%s\",\"external_port\":",
					    i ? "," : "", p->id, proto_name(p->proto));
			if (p->pinhole)
				evbuffer_add_printf(out, "null");
			else
				evbuffer_add_printf(out, "%u", p->external_port);
			evbuffer_add_printf(out, ",\"internal_address\":");
			json_address(out, &p->internal_addr);
			evbuffer_add_printf(out, ",\"internal_port\":%u,\"client\":", p->internal_port);
			json_address(out, &p->client);
			evbuffer_add_printf(out, ",\"origin\":\"%s\",\"description\":", p->origin);
			control_json_string(out, p->description);
			evbuffer_add_printf(out, ",\"first_asked\":%lld,\"last_asked\":%lld,"
					    "\"asked\":%u,\"expires_in\":%u",
					    (long long)p->first, (long long)p->last, p->asked,
					    p->expires_in);
			json_device(out, &p->device);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "]}\n");
		return;
	}
	if (n == 0) {
		evbuffer_add_printf(out, "no pending requests\n");
		return;
	}
	evbuffer_add_printf(out, "%-5s %-5s %-8s %-24s %-17s %-6s %-6s %s\n", "ID", "PROTO",
			    "EXTERNAL", "INTERNAL", "DEVICE", "VIA", "ASKED", "DESCRIPTION");
	for (size_t i = 0; i < n; i++) {
		const struct control_pending *p = &rows[i];
		char ext[8] = "-", internal[ADDR_STRLEN + 8], mac[HOST_ID_STRLEN];

		if (!p->pinhole)
			snprintf(ext, sizeof(ext), "%u", p->external_port);
		evbuffer_add_printf(out, "%-5u %-5s %-8s %-24s %-17s %-6s %-6u ", p->id,
				    proto_name(p->proto), ext,
				    endpoint(internal, &p->internal_addr, p->internal_port),
				    device_text(&p->device, mac), p->origin, p->asked);
		add_printable(out, p->description);
		evbuffer_add_printf(out, "\n");
	}
}


static void json_text_field(struct evbuffer *out, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	evbuffer_add_printf(out, ",\"%s\":", key);
	control_json_string(out, value);
}

void control_format_event(struct evbuffer *out, const struct audit_record *r, int64_t now,
			  bool json)
{
	char when[UTC_TEXT_MAX], line[AUDIT_LINE_MAX], mac[HOST_ID_STRLEN];

	utc_text(when, now, true);
	if (!json) {
		audit_format(line, sizeof(line), r);
		/* The line as logged, less its "audit " tag. */
		evbuffer_add_printf(out, "%s %s\n", when,
				    strncmp(line, "audit ", 6) == 0 ? line + 6 : line);
		return;
	}
	evbuffer_add_printf(out, "{\"time\":\"%s\",\"event\":\"%s\"", when, r->event);
	json_text_field(out, "origin", r->origin);
	evbuffer_add_printf(out, ",\"protocol\":\"%s\"", proto_name(r->proto));
	if (!IN6_IS_ADDR_UNSPECIFIED(&r->client)) {
		evbuffer_add_printf(out, ",\"client\":");
		json_address(out, &r->client);
	}
	evbuffer_add_printf(out, ",\"internal_address\":");
	json_address(out, &r->internal_addr);
	evbuffer_add_printf(out, ",\"internal_port\":%u", r->internal_port);
	if (r->has_external_port)
		evbuffer_add_printf(out, ",\"external_port\":%u", r->external_port);
	if (r->has_peer) {
		evbuffer_add_printf(out, ",\"peer_address\":");
		json_address(out, &r->peer_addr);
		evbuffer_add_printf(out, ",\"peer_port\":%u", r->peer_port);
	}
	if (r->lifetime)
		evbuffer_add_printf(out, ",\"lifetime\":%u", r->lifetime);
	if (r->rule_line)
		evbuffer_add_printf(out, ",\"rule_line\":%u", r->rule_line);
	if (r->approval_id)
		evbuffer_add_printf(out, ",\"id\":%u", r->approval_id);
	if (r->approved_for)
		evbuffer_add_printf(out, ",\"for\":%u", r->approved_for);
	json_text_field(out, "by", r->by);
	if (r->has_uid)
		evbuffer_add_printf(out, ",\"uid\":%u", r->uid);
	json_text_field(out, "reason", r->reason);
	json_text_field(out, "result", r->result);
	if (r->device.has_mac)
		evbuffer_add_printf(out, ",\"mac\":\"%s\"", mac_format(r->device.mac, mac));
	json_text_field(out, "device", r->device.name);
	json_text_field(out, "description", r->description);
	evbuffer_add_printf(out, "}\n");
}

static uint64_t events_of_all_origins(const struct metrics_counters *c, size_t event)
{
	uint64_t n = 0;

	for (size_t o = 0; o < LEASE_ORIGINS; o++)
		n += c->events[event][o];
	return n;
}

/* "pcp at 100.64.0.1 (the default gateway), external address 203.0.113.1,
 * epoch 75 s", "none at 100.64.0.1: no PCP or NAT-PMP server answers" */
static void add_upstream_text(struct evbuffer *out, const struct upstream_status *u)
{
	char server[ADDR_STRLEN], ext[ADDR_STRLEN];
	struct in6_addr a;

	evbuffer_add_printf(out, "upstream: %s", u->state == UPSTREAM_FOUND ?
					upstream_protocol_name(u->protocol) : upstream_state_name(u->state));
	if (u->has_server) {
		a = addr_from_v4(u->server);
		evbuffer_add_printf(out, " at %s (%s)", addr_format(&a, server),
				    upstream_server_source(u));
	}
	if (u->state == UPSTREAM_FOUND) {
		a = addr_from_v4(u->external);
		evbuffer_add_printf(out, ", external address %s",
				    u->has_external ? addr_format(&a, ext) : "not told");
		if (u->has_epoch)
			evbuffer_add_printf(out, ", epoch %u s", u->epoch);
	} else if (u->state == UPSTREAM_NONE && u->why) {
		evbuffer_add_printf(out, ": %s", u->why);
	}
	if (u->stun != UPSTREAM_STUN_NONE) {
		a = addr_from_v4(u->stun_server.addr);
		evbuffer_add_printf(out, "; STUN at %s:%u: ", addr_format(&a, server),
				    u->stun_server.port);
		a = addr_from_v4(u->stun_public);
		if (u->stun == UPSTREAM_STUN_ANSWERED)
			evbuffer_add_printf(out, "public address %s, NAT %s", addr_format(&a, ext),
					    stun_nat_name(u->stun_nat));
		else
			evbuffer_add_printf(out, "%s", u->stun == UPSTREAM_STUN_ASKING ? "asking" :
											  "no answer");
	}
	evbuffer_add_printf(out, "\n");
}

/* ,"upstream":{"state":...,"protocol":...,"server":...,...} */
static void json_upstream(struct evbuffer *out, const struct upstream_status *u)
{
	char text[ADDR_STRLEN];
	struct in6_addr a;

	evbuffer_add_printf(out, ",\"upstream\":{\"state\":\"%s\",\"protocol\":",
			    upstream_state_name(u->state));
	if (u->state == UPSTREAM_FOUND)
		evbuffer_add_printf(out, "\"%s\"", upstream_protocol_name(u->protocol));
	else
		evbuffer_add_printf(out, "null");
	a = addr_from_v4(u->server);
	evbuffer_add_printf(out, ",\"server\":");
	if (u->has_server)
		evbuffer_add_printf(out, "\"%s\",\"server_is_gateway\":%s,\"server_from\":\"%s\"",
				    addr_format(&a, text), u->server_is_gateway ? "true" : "false",
				    u->server_is_gateway ? "gateway" :
				    u->server_from_dhcp ? "dhcp" : "upstream.server");
	else
		evbuffer_add_printf(out, "null,\"server_is_gateway\":null,\"server_from\":null");
	a = addr_from_v4(u->external);
	evbuffer_add_printf(out, ",\"external_address\":");
	if (u->state == UPSTREAM_FOUND && u->has_external)
		evbuffer_add_printf(out, "\"%s\"", addr_format(&a, text));
	else
		evbuffer_add_printf(out, "null");
	if (u->state == UPSTREAM_FOUND && u->has_epoch)
		evbuffer_add_printf(out, ",\"epoch\":%u", u->epoch);
	else
		evbuffer_add_printf(out, ",\"epoch\":null");
	evbuffer_add_printf(out, ",\"why\":");
	json_string_or_null(out, u->state == UPSTREAM_NONE ? u->why : NULL);
	evbuffer_add_printf(out, ",\"stun\":");
	if (u->stun == UPSTREAM_STUN_NONE) {
		evbuffer_add_printf(out, "null}");
		return;
	}
	a = addr_from_v4(u->stun_server.addr);
	evbuffer_add_printf(out, "{\"server\":\"%s:%u\",\"state\":\"%s\",\"public_address\":",
			    addr_format(&a, text), u->stun_server.port,
			    u->stun == UPSTREAM_STUN_ASKING ? "asking" :
			    u->stun == UPSTREAM_STUN_ANSWERED ? "answered" : "no answer");
	a = addr_from_v4(u->stun_public);
	if (u->stun == UPSTREAM_STUN_ANSWERED)
		evbuffer_add_printf(out, "\"%s\",\"nat\":\"%s\"}}", addr_format(&a, text),
				    stun_nat_name(u->stun_nat));
	else
		evbuffer_add_printf(out, "null,\"nat\":null}}");
}

void control_format_status(struct evbuffer *out, const struct daemon_status *st, bool json)
{
	const struct metrics_counters *c = &st->counters;
	char ext[ADDR_STRLEN] = "", up[DURATION_MAX];

	if (st->has_external_address)
		addr_format(&st->external_address, ext);
	if (json) {
		evbuffer_add_printf(out, "{\"version\":\"%s\",\"uptime\":%u,\"external_address\":",
				    st->version, st->uptime);
		if (st->has_external_address)
			evbuffer_add_printf(out, "\"%s\"", ext);
		else
			evbuffer_add_printf(out, "null");
		evbuffer_add_printf(out,
				    ",\"epoch\":%u,\"leases\":%zu,\"capacity\":%zu,\"pinholes\":%zu,"
				    "\"by_origin\":{",
				    st->epoch, st->leases, st->capacity, st->pinholes);
		for (size_t o = 0; o < LEASE_ORIGINS; o++)
			evbuffer_add_printf(out, "%s\"%s\":%zu", o ? "," : "",
					    lease_origin_name((enum lease_origin)o), st->by_origin[o]);
		evbuffer_add_printf(out, "},\"requests\":{");
		for (size_t p = 0; p < METRICS_PROTOCOLS; p++)
			evbuffer_add_printf(out,
					    "%s\"%s\":{\"received\":%" PRIu64 ",\"success\":%" PRIu64
					    ",\"error\":%" PRIu64 "}",
					    p ? "," : "", metrics_protocol_name((enum metrics_protocol)p),
					    c->requests[p], c->successes[p], c->errors[p]);
		evbuffer_add_printf(out, "},\"events\":{");
		for (size_t e = 0; e < METRICS_EVENTS; e++)
			evbuffer_add_printf(out, "%s\"%s\":%" PRIu64, e ? "," : "",
					    metrics_event_name((enum metrics_event)e),
					    events_of_all_origins(c, e));
		evbuffer_add_printf(out, "},\"rate_limited\":%" PRIu64, c->rate_limited);
		json_upstream(out, &st->upstream);
		evbuffer_add_printf(out, "}\n");
		return;
	}
	evbuffer_add_printf(out, "portleased %s, up %s", st->version, duration_text(up, st->uptime));
	evbuffer_add_printf(out, "\nexternal address: %s\nepoch: %u s\n",
			    st->has_external_address ? ext : "none", st->epoch);
	add_upstream_text(out, &st->upstream);
	evbuffer_add_printf(out, "leases: %zu of %zu (%zu IPv6 pinholes);", st->leases, st->capacity,
			    st->pinholes);
	for (size_t o = 0; o < LEASE_ORIGINS; o++)
		evbuffer_add_printf(out, "%s %s %zu", o ? "," : "",
				    lease_origin_name((enum lease_origin)o), st->by_origin[o]);
	evbuffer_add_printf(out, "\n");
	for (size_t p = 0; p < METRICS_PROTOCOLS; p++)
		evbuffer_add_printf(out,
				    "%s requests: %" PRIu64 " (%" PRIu64 " answered with success, %" PRIu64
				    " with an error, %" PRIu64 " dropped)\n",
				    metrics_protocol_name((enum metrics_protocol)p), c->requests[p],
				    c->successes[p], c->errors[p],
				    c->requests[p] - c->successes[p] - c->errors[p]);
	evbuffer_add_printf(out, "mappings:");
	for (size_t e = 0; e < METRICS_EVENTS; e++)
		evbuffer_add_printf(out, "%s %" PRIu64 " %s", e ? "," : "", events_of_all_origins(c, e),
				    metrics_event_name((enum metrics_event)e));
	evbuffer_add_printf(out, " (%" PRIu64 " for asking too fast)\n", c->rate_limited);
}

static void add_range(struct evbuffer *out, const char *name, const struct port_range *r)
{
	if (r->lo == 1 && r->hi == 65535)
		return;
	if (r->lo == r->hi)
		evbuffer_add_printf(out, " %s %u", name, r->lo);
	else
		evbuffer_add_printf(out, " %s %u-%u", name, r->lo, r->hi);
}

static const char *rule_action(const struct policy_rule *r)
{
	return r->allow ? "allow" : r->ask ? "ask" : "deny";
}

/* A rule as the config file says it (limit: its inbound limit, if any). */
static void add_rule(struct evbuffer *out, const struct policy_rule *r,
		     const struct inbound_limit *limit)
{
	char net[ADDR_STRLEN];
	unsigned len = r->clients.len;

	if (r->by_mac) {
		char mac[HOST_ID_STRLEN];

		evbuffer_add_printf(out, "%s clients mac:%s", rule_action(r), mac_format(r->mac, mac));
	} else {
		addr_format(&r->clients.net, net);
		if (addr_is_v4(&r->clients.net) && len >= 96)
			len -= 96;
		evbuffer_add_printf(out, "%s clients %s/%u", rule_action(r), net, len);
	}
	if (r->proto != POLICY_PROTO_ANY)
		evbuffer_add_printf(out, " protocol %s", proto_name(r->proto));
	add_range(out, "internal_ports", &r->internal_ports);
	add_range(out, "external_ports", &r->external_ports);
	if (r->third_party)
		evbuffer_add_printf(out, " third_party");
	if (r->idle_timeout) {
		char idle[DURATION_MAX];

		evbuffer_add_printf(out, " idle_timeout %s", duration_text(idle, r->idle_timeout));
	}
	if (limit) {
		evbuffer_add_printf(out, " inbound_limit");
		if (limit->per_remote)
			evbuffer_add_printf(out, " per_remote %u/s", limit->per_remote);
		if (limit->total)
			evbuffer_add_printf(out, " total %u/s", limit->total);
		if (limit->burst)
			evbuffer_add_printf(out, " burst %u", limit->burst);
	}
}

void control_format_explanation(struct evbuffer *out, const struct control_explanation *e,
				bool json)
{
	char client[ADDR_STRLEN], host[HOST_ID_STRLEN];

	addr_format(&e->client, client);
	host_id_format(&e->host, host);
	if (json) {
		evbuffer_add_printf(out, "{\"allowed\":%s,\"needs_approval\":%s,\"rule_line\":",
				    e->decision.allow ? "true" : "false",
				    e->decision.ask ? "true" : "false");
		if (e->rule)
			evbuffer_add_printf(out, "%u", e->rule->line);
		else
			evbuffer_add_printf(out, "null");
		evbuffer_add_printf(out,
				    ",\"external_port\":%u,\"external_port_free\":%s,"
				    "\"taken_by\":%s%s%s,"
				    "\"host\":\"%s\",\"client_leases\":%zu,\"client_quota\":%zu,"
				    "\"leases\":%zu,\"capacity\":%zu",
				    e->external_port, e->external_port_free ? "true" : "false",
				    e->taken_by ? "\"" : "", e->taken_by ? lease_conflict_name(e->taken_by) : "null",
				    e->taken_by ? "\"" : "", host,
				    e->client_leases, e->client_quota, e->leases, e->capacity);
		evbuffer_add_printf(out, ",\"device\":");
		json_string_or_null(out, e->device_name);
		if (e->has_lifetime)
			evbuffer_add_printf(out, ",\"lifetime\":%u", e->lifetime_granted);
		json_inbound_limit(out, e->limit);
		evbuffer_add_printf(out, "}\n");
		return;
	}
	evbuffer_add_printf(out, "%s %s %u -> external port %u: %s", client, proto_name(e->proto),
			    e->internal_port, e->external_port,
			    e->decision.allow ? "allowed" :
			    e->decision.ask ? "left pending for the operator's approval" : "denied");
	if (e->rule) {
		evbuffer_add_printf(out, " by the rule at line %u (", e->rule->line);
		add_rule(out, e->rule, e->limit);
		evbuffer_add_printf(out, ")\n");
	} else {
		evbuffer_add_printf(out, ": no rule matches, and what no rule allows is denied\n");
	}
	if (e->taken_by == LEASE_CONFLICT_ROUTER_SERVES)
		evbuffer_add_printf(out, "the router listens on %s %u from the WAN: no mapping takes "
				    "that port (another allowed port would be given; an exact "
				    "request is refused)\n", proto_name(e->proto), e->external_port);
	else if (e->taken_by == LEASE_CONFLICT_FORWARDED)
		evbuffer_add_printf(out, "another nftables rule forwards %s %u from the WAN: no "
				    "mapping takes that port (another allowed port would be given; "
				    "an exact request is refused)\n", proto_name(e->proto),
				    e->external_port);
	if (e->decision.allow && !e->external_port_free)
		evbuffer_add_printf(out, "external port %u is taken: another allowed port would be "
				    "given, unless the client insists on that one\n",
				    e->external_port);
	evbuffer_add_printf(out, "the client's host (%s%s%s) holds %zu of its %zu mappings; the "
			    "table %zu of %zu\n", host, e->device_name ? ", " : "",
			    e->device_name ? e->device_name : "", e->client_leases, e->client_quota, e->leases,
			    e->capacity);
	if (e->decision.allow && e->has_lifetime)
		evbuffer_add_printf(out, "a lifetime of %u s would be granted as %u s%s\n",
				    e->lifetime_asked, e->lifetime_granted,
				    e->lifetime_granted > e->lifetime_asked ? " (lifetime.min)" :
				    e->lifetime_granted < e->lifetime_asked ? " (lifetime.max)" : "");
	if (e->decision.allow && e->client_leases >= e->client_quota)
		evbuffer_add_printf(out, "so a new mapping would be refused: quota reached\n");
	else if (e->decision.allow && e->leases >= e->capacity)
		evbuffer_add_printf(out, "so a new mapping would be refused: the table is full\n");
}
