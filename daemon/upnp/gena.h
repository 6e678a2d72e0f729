/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GENA (UPnP Device Architecture 1.1 §4): the CALLBACK and TIMEOUT headers
 * of a SUBSCRIBE parsed with fixed bounds, and the body of an event. Pure. */
#ifndef PORTLEASED_GENA_H
#define PORTLEASED_GENA_H

#include <event2/buffer.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GENA_PATH_MAX 128
#define GENA_TIMEOUT_DEFAULT 1800  /* seconds, also the longest granted */
#define GENA_TIMEOUT_MIN 60

struct gena_callback {
	struct in_addr addr;
	uint16_t port;
	char path[GENA_PATH_MAX + 1];
};

/* "<http://a.b.c.d[:port][/path]>" (the first URL if there are several).
 * Only an IPv4 literal: a name would have to be resolved, and the caller
 * must compare the address with the subscriber's own (CallStranger,
 * CVE-2020-12695). False if malformed. */
bool gena_parse_callback(const char *header, struct gena_callback *cb);

/* "Second-N" clamped to [GENA_TIMEOUT_MIN, GENA_TIMEOUT_DEFAULT]; anything
 * else ("infinite", absent, malformed): GENA_TIMEOUT_DEFAULT. */
unsigned gena_parse_timeout(const char *header);

struct gena_property {
	const char *name;
	const char *value;
};

/* <e:propertyset> with one <e:property> per variable, values escaped. */
void gena_propertyset(struct evbuffer *out, const struct gena_property *props, size_t n);

#endif
