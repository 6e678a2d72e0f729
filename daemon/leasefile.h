/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lease file's format: every mapping, one line each, so that a restart
 * restores them. Text, key=value tokens, so that an operator can read it
 * and a damaged line costs that line only. Pure: lines in, records out; the
 * caller does the I/O and the clock.
 *
 *   portleased-leases 1 epoch_start=1795000000 clean=1
 *   lease proto=tcp origin=natpmp client=192.168.1.10 internal=192.168.1.10
 *         iport=8080 eport=8080 created=1795000100 expires=1795003700
 *         [nonce=24HEX] [filter=PREFIX/LEN,PORT]... [peer=1]
 *         [description=PERCENT-ENCODED] [mac=MAC] [device=NAME]
 *
 * (mac and device: the device the mapping's traffic goes to, as the
 * neighbour table and the DHCP leases knew it when the file was written;
 * the mac lets a restart count a restored mapping for its host before the
 * host is heard from again.)
 *
 * (one line per lease). A static mapping has no client and expires=never.
 */
#ifndef PORTLEASED_LEASEFILE_H
#define PORTLEASED_LEASEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "priv/filter.h"
#include "daemon/device_names.h"
#include "daemon/lease.h"

#define LEASEFILE_LINE_MAX 2048
#define LEASEFILE_NEVER INT64_MAX

struct leasefile_header {
	int64_t epoch_start;  /* Unix seconds */
	bool clean;           /* written at an orderly stop: nothing was lost after */
};

struct leasefile_record {
	uint8_t proto;
	enum lease_origin origin;
	bool has_client;  /* a static mapping has none */
	struct in6_addr client, internal_addr;
	uint16_t internal_port, external_port;
	int64_t created, expires;  /* Unix seconds; expires LEASEFILE_NEVER for static */
	bool has_nonce;
	uint8_t nonce[LEASE_NONCE_LEN];
	size_t nfilters;
	struct remote_filter filters[FILTER_MAX];
	bool peer;  /* PCP PEER: the filters are its remote peers */
	char description[LEASE_DESCRIPTION_MAX + 1];
	bool has_mac;
	uint8_t mac[6];
	char device[DEVICE_NAME_MAX + 1];  /* "": none */
};

/* Each writes one line, newline included, and returns its length (0 if it
 * does not fit in cap, which LEASEFILE_LINE_MAX always does). */
size_t leasefile_format_header(char *buf, size_t cap, const struct leasefile_header *h);
size_t leasefile_format(char *buf, size_t cap, const struct leasefile_record *r);

/* line without its newline. 0, or -1 if it is not a valid header/lease
 * line (unknown keys are skipped, for files of later versions). */
int leasefile_parse_header(const char *line, struct leasefile_header *h);
int leasefile_parse(const char *line, struct leasefile_record *r);

#endif
