/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SSDP (UPnP Device Architecture 1.1 §1): M-SEARCH requests parsed with
 * fixed bounds, the (ST, USN) pairs a search target is answered with, and
 * the texts of responses and NOTIFY messages. Pure: no sockets. */
#ifndef PORTLEASED_SSDP_H
#define PORTLEASED_SSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/upnp/igd_desc.h"

#define SSDP_PORT 1900
#define SSDP_GROUP_V4 "239.255.255.250"
#define SSDP_GROUP_V6_LINK "ff02::c"
#define SSDP_GROUP_V6_SITE "ff05::c"
#define SSDP_MX_MAX 5          /* UDA 1.1: wait at most 5 s whatever MX says */
#define SSDP_ST_MAX 128
#define SSDP_USN_MAX (5 + UPNP_UUID_STRLEN + 2 + UPNP_TYPE_MAX)
#define SSDP_TARGETS_MAX 16    /* ssdp:all: root, 3 devices x 2, services */
#define SSDP_MESSAGE_MAX 1024  /* one response or NOTIFY */

struct ssdp_search {
	char st[SSDP_ST_MAX + 1];
	bool has_mx;
	unsigned mx;  /* seconds, capped at SSDP_MX_MAX */
};

/* 0 and *s filled for a well-formed M-SEARCH (MAN "ssdp:discover", an ST);
 * -1 for anything else, which is to be ignored without an answer. */
int ssdp_parse_search(const char *buf, size_t len, struct ssdp_search *s);

struct ssdp_target {
	char st[SSDP_ST_MAX + 1];  /* as asked: an older version gets its own */
	char usn[SSDP_USN_MAX + 1];
};

/* The answers st gets from this IGD (none if it names nothing here). An
 * older version of a type is answered too (UDA 1.1), unless exact: then
 * only the version this IGD has, because an IGD:1 beside it answers the
 * older ones (an IGD:1 client must not be sent to an IGD:2 description). */
size_t ssdp_targets(const struct igd_identity *id, const char *st, bool exact,
		    struct ssdp_target out[SSDP_TARGETS_MAX]);

/* Shared by responses and notifications. */
struct ssdp_announcement {
	const char *location;  /* the root description's URL on that link */
	const char *server;    /* "OS/version UPnP/1.1 product/version" */
	bool ipv6;             /* a NOTIFY goes to [FF02::C], not 239.255.255.250 */
	unsigned max_age;
	uint32_t boot_id, config_id;
};

/* The message's length, 0 if it did not fit in cap. */
size_t ssdp_format_response(char *buf, size_t cap, const struct ssdp_target *t,
			    const struct ssdp_announcement *a);
size_t ssdp_format_notify(char *buf, size_t cap, const struct ssdp_target *t,
			  const struct ssdp_announcement *a, bool alive);

#endif
