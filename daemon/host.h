/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which host a LAN address belongs to. Addresses are cheap on a LAN (a
 * host may take a hundred IPv4 addresses, or as many IPv6 ones as it
 * likes), so the shares of a pool (leases, request rate, HTTP connections,
 * subscriptions, SSDP answers) are counted per host: per link-layer
 * address, as the router's neighbour table knows it (neigh_table.h).
 *
 * An address the table does not know (a host the router has not talked to
 * yet, or a forged source that never answers ARP or neighbour discovery)
 * belongs to the "unresolved" host of its family: all of them share one
 * host's share, so forging sources gains nothing. A host that forges its
 * link-layer address too counts as many hosts; that is for the switch
 * (port security, 802.1X) to stop. */
#ifndef PORTLEASED_HOST_H
#define PORTLEASED_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum host_kind {
	HOST_NONE = 0,        /* not a LAN host (a static mapping, the operator) */
	HOST_MAC,             /* mac holds its link-layer address */
	HOST_UNRESOLVED_V4,   /* an IPv4 address with no neighbour entry */
	HOST_UNRESOLVED_V6,
};

/* Compared and hashed as bytes: build them only with the functions below,
 * which leave no padding or unused bytes set. */
struct host_id {
	uint8_t kind;
	uint8_t zero;
	uint8_t mac[6];
};

/* "aa:bb:cc:dd:ee:ff", "unresolved-ipv4", "unresolved-ipv6" or "none". */
#define HOST_ID_STRLEN 18

static inline struct host_id host_id_of_mac(const uint8_t mac[6])
{
	struct host_id h = { .kind = HOST_MAC };

	memcpy(h.mac, mac, sizeof(h.mac));
	return h;
}

static inline struct host_id host_id_unresolved(bool v4)
{
	return (struct host_id){ .kind = v4 ? HOST_UNRESOLVED_V4 : HOST_UNRESOLVED_V6 };
}

static inline bool host_id_equal(const struct host_id *a, const struct host_id *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* A LAN device as operators see it: its link-layer address, and the name
 * a DHCP server's lease gave it (device_names.h). */
struct lan_device {
	bool has_mac;
	uint8_t mac[6];
	const char *name;  /* NULL: none; valid until the lease files are next
			      re-read, which is never during a callback */
};

const char *host_id_format(const struct host_id *h, char buf[HOST_ID_STRLEN]);
/* A hash of h under seed, for tables that hosts must not be able to steer. */
uint32_t host_id_hash(const struct host_id *h, uint32_t seed);
/* "aa:bb:cc:dd:ee:ff" into buf. */
const char *mac_format(const uint8_t mac[6], char buf[HOST_ID_STRLEN]);

#endif
