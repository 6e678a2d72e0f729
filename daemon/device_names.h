/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The LAN's device names, as its DHCP servers wrote them: so that a mapping
 * shows "nas" and not only 192.168.1.20. Read from the servers' lease
 * files, whichever kind each line is:
 *
 *   dnsmasq   EXPIRY MAC ADDRESS NAME CLIENT-ID  (NAME "*": none; IPv6
 *             lines have an IAID where the MAC stands)
 *   odhcpd    # IFACE DUID-OR-MAC IAID NAME VALID ID LENGTH ADDR/LEN...
 *             and its hosts lines: ADDRESS NAME
 *   Kea       CSV with a header naming address, hwaddr and hostname
 *   ISC dhcpd lease ADDRESS { ... hardware ethernet MAC; client-hostname "NAME"; }
 *
 * A later line wins over an earlier one (ISC appends renewals). The
 * names are the LAN hosts' own words: only a host name's characters
 * (letters, digits, "-", "_", ".") up to DEVICE_NAME_MAX are kept, any
 * other name is dropped, so they are safe in logs, tables and JSON.
 * Pure: text in, lookups out; device_files.h reads the files. */
#ifndef PORTLEASED_DEVICE_NAMES_H
#define PORTLEASED_DEVICE_NAMES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICE_NAME_MAX 63
/* Names kept per table; a LAN with more leases has its later ones unnamed. */
#define DEVICE_NAMES_MAX 8192

struct device_names;

/* Whether s is a name this table would keep. */
bool device_name_valid(const char *s);

struct device_names *device_names_new(void);
void device_names_free(struct device_names *t);
/* Forgets every name, to parse the files again. */
void device_names_clear(struct device_names *t);

/* Adds what one lease file's text says. Call device_names_finish after
 * the last file, before looking up. Returns how many names it took. */
size_t device_names_parse(struct device_names *t, const char *text, size_t len);
void device_names_finish(struct device_names *t);

/* NULL when no lease names it. */
const char *device_names_by_mac(const struct device_names *t, const uint8_t mac[6]);
const char *device_names_by_addr(const struct device_names *t, const struct in6_addr *addr);
/* Names kept (after device_names_finish). */
size_t device_names_count(const struct device_names *t);

#endif
