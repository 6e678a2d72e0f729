/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/device_names.h"

#include <stdlib.h>
#include <string.h>

#include "lib/parse.h"

#define LINE_MAX_LEN 1024
#define FIELDS_MAX 32

enum key_kind { KEY_MAC, KEY_ADDR };

struct entry {
	struct in6_addr addr;
	uint8_t mac[6];
	uint8_t kind;
	uint32_t seq;  /* order of appearance: the later wins */
	char name[DEVICE_NAME_MAX + 1];
};

struct device_names {
	struct entry *entries;
	size_t count, cap;
	uint32_t next_seq;
	bool finished;
};

/* What the Kea CSV header said, and the ISC block being read. */
struct parse_state {
	int csv_addr, csv_mac, csv_name;  /* column indexes; -1: not said */
	bool in_isc_lease;
	struct in6_addr isc_addr;
	bool isc_has_mac;
	uint8_t isc_mac[6];
	char isc_name[DEVICE_NAME_MAX + 1];
};

struct device_names *device_names_new(void)
{
	return calloc(1, sizeof(struct device_names));
}

void device_names_free(struct device_names *t)
{
	if (!t)
		return;
	free(t->entries);
	free(t);
}

void device_names_clear(struct device_names *t)
{
	t->count = 0;
	t->next_seq = 0;
	t->finished = false;
}

/* A host name's characters only, without a trailing dot: copied to out. */
static bool take_name(const char *s, size_t len, char out[DEVICE_NAME_MAX + 1])
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DEVICE_NAME_MAX || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

bool device_name_valid(const char *s)
{
	char copy[DEVICE_NAME_MAX + 1];
	size_t len = strlen(s);

	return len > 0 && s[len - 1] != '.' && take_name(s, len, copy);
}

static bool add(struct device_names *t, enum key_kind kind, const uint8_t *mac,
		const struct in6_addr *addr, const char *name)
{
	struct entry *e;

	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct entry *grown;

		if (t->cap >= DEVICE_NAMES_MAX)
			return false;
		if (cap > DEVICE_NAMES_MAX)
			cap = DEVICE_NAMES_MAX;
		grown = realloc(t->entries, cap * sizeof(*grown));
		if (!grown)
			return false;
		t->entries = grown;
		t->cap = cap;
	}
	e = &t->entries[t->count++];
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)kind;
	if (mac)
		memcpy(e->mac, mac, sizeof(e->mac));
	if (addr)
		e->addr = *addr;
	e->seq = t->next_seq++;
	strcpy(e->name, name);
	t->finished = false;
	return true;
}

/* The name for an address and, when known, a link-layer address. */
static size_t add_pair(struct device_names *t, const uint8_t *mac, const struct in6_addr *addr,
		       const char *name)
{
	size_t took = 0;

	if (addr && add(t, KEY_ADDR, NULL, addr, name))
		took++;
	if (mac && add(t, KEY_MAC, mac, NULL, name))
		took++;
	return took;
}

/* Splits line in place at any of seps; returns how many fields. */
static size_t split(char *line, const char *seps, char *fields[FIELDS_MAX])
{
	size_t n = 0;
	char *save = NULL;

	for (char *f = strtok_r(line, seps, &save); f && n < FIELDS_MAX;
	     f = strtok_r(NULL, seps, &save))
		fields[n++] = f;
	return n;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static bool hex_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (parse_hex_digit(*s) < 0)
			return false;
	return true;
}

/* odhcpd writes a DHCPv4 client's MAC as ether_ntoa(3) does: "2:0:a:b:c:d". */
static bool ether_ntoa_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;
		int digits = 0;

		for (; digits < 2 && parse_hex_digit(*s) >= 0; digits++, s++)
			v = v * 16 + (unsigned)parse_hex_digit(*s);
		if (digits == 0 || *s != (i < 5 ? ':' : '\0'))
			return false;
		mac[i] = (uint8_t)v;
		if (i < 5)
			s++;
	}
	return true;
}

/* # IFACE DUID IAID NAME VALID ID LENGTH ADDR/LEN...  (DHCPv6)
 * # IFACE MAC ipv4 NAME VALID ID 32 ADDR/32           (DHCPv4) */
static size_t parse_odhcpd(struct device_names *t, char **f, size_t n)
{
	char name[DEVICE_NAME_MAX + 1];
	uint8_t mac[6];
	bool has_mac;
	size_t took = 0;

	/* A comment that happens to have as many words is no lease: the
	 * IAID is hex, the validity a number (-1: forever), the length too. */
	bool v4 = n >= 4 && strcmp(f[3], "ipv4") == 0;

	if (n < 9 || !(v4 || hex_digits(f[3])) || !(all_digits(f[5]) || strcmp(f[5], "-1") == 0) ||
	    !all_digits(f[7]) || !take_name(f[4], strlen(f[4]), name))
		return 0;
	has_mac = v4 && ether_ntoa_mac(f[2], mac);
	for (size_t i = 8; i < n; i++) {
		struct in6_addr addr;
		char *slash = strchr(f[i], '/');

		if (slash)
			*slash = '\0';
		if (parse_address(f[i], &addr))
			took += add_pair(t, NULL, &addr, name);
	}
	if (has_mac && add(t, KEY_MAC, mac, NULL, name))
		took++;
	return took;
}

/* EXPIRY MAC-OR-IAID ADDRESS NAME [CLIENT-ID] */
static size_t parse_dnsmasq(struct device_names *t, char **f, size_t n)
{
	char name[DEVICE_NAME_MAX + 1];
	struct in6_addr addr;
	uint8_t mac[6];

	if (n < 4 || !parse_address(f[2], &addr) || !take_name(f[3], strlen(f[3]), name))
		return 0;
	return add_pair(t, parse_mac(f[1], mac) ? mac : NULL, &addr, name);
}

static int column(char **f, size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i], want) == 0)
			return (int)i;
	return -1;
}

static size_t parse_csv(struct device_names *t, struct parse_state *st, char *line)
{
	char *f[FIELDS_MAX], name[DEVICE_NAME_MAX + 1];
	struct in6_addr addr;
	uint8_t mac[6];
	size_t n;

	/* Empty CSV fields matter: split at each comma, not at runs of them. */
	n = 0;
	for (char *p = line; n < FIELDS_MAX;) {
		char *comma = strchr(p, ',');

		f[n++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	if (n > 0 && strcmp(f[0], "address") == 0) {
		st->csv_addr = 0;
		st->csv_mac = column(f, n, "hwaddr");
		st->csv_name = column(f, n, "hostname");
		return 0;
	}
	if (st->csv_addr < 0 || st->csv_name < 0 || (size_t)st->csv_name >= n ||
	    !parse_address(f[st->csv_addr], &addr) ||
	    !take_name(f[st->csv_name], strlen(f[st->csv_name]), name))
		return 0;
	return add_pair(t,
			st->csv_mac >= 0 && (size_t)st->csv_mac < n && parse_mac(f[st->csv_mac], mac) ?
				mac : NULL,
			&addr, name);
}

/* One line of an ISC dhcpd lease block; f split at blanks and ';'. */
static size_t parse_isc(struct device_names *t, struct parse_state *st, char **f, size_t n)
{
	if (n == 3 && strcmp(f[0], "lease") == 0 && strcmp(f[2], "{") == 0) {
		st->in_isc_lease = parse_address(f[1], &st->isc_addr);
		st->isc_has_mac = false;
		st->isc_name[0] = '\0';
		return 0;
	}
	if (!st->in_isc_lease)
		return 0;
	if (n == 3 && strcmp(f[0], "hardware") == 0 && strcmp(f[1], "ethernet") == 0) {
		st->isc_has_mac = parse_mac(f[2], st->isc_mac);
	} else if (n == 2 && strcmp(f[0], "client-hostname") == 0) {
		size_t len = strlen(f[1]);

		if (len < 2 || f[1][0] != '"' || f[1][len - 1] != '"' ||
		    !take_name(f[1] + 1, len - 2, st->isc_name))
			st->isc_name[0] = '\0';
	} else if (n == 1 && strcmp(f[0], "}") == 0) {
		st->in_isc_lease = false;
		if (st->isc_name[0])
			return add_pair(t, st->isc_has_mac ? st->isc_mac : NULL, &st->isc_addr,
					st->isc_name);
	}
	return 0;
}

static size_t parse_line(struct device_names *t, struct parse_state *st, char *line)
{
	char *f[FIELDS_MAX];
	struct in6_addr addr;
	char name[DEVICE_NAME_MAX + 1];
	size_t n;

	if (line[0] == '#') {
		if (line[1] != ' ')
			return 0;
		n = split(line + 2, " \t", f);
		/* Shift so that f[0] is "#", as the format's fields count it. */
		if (n == 0 || n >= FIELDS_MAX)
			return 0;
		memmove(f + 1, f, n * sizeof(*f));
		f[0] = line;
		return parse_odhcpd(t, f, n + 1);
	}
	if (!st->in_isc_lease && strchr(line, ','))
		return parse_csv(t, st, line);
	n = split(line, " \t;", f);
	if (n == 0)
		return 0;
	if (st->in_isc_lease || strcmp(f[0], "lease") == 0)
		return parse_isc(t, st, f, n);
	if (all_digits(f[0]))
		return parse_dnsmasq(t, f, n);
	if (n >= 2 && parse_address(f[0], &addr) && take_name(f[1], strlen(f[1]), name))
		return add_pair(t, NULL, &addr, name);
	return 0;
}

size_t device_names_parse(struct device_names *t, const char *text, size_t len)
{
	struct parse_state st = { .csv_addr = -1, .csv_mac = -1, .csv_name = -1 };
	char line[LINE_MAX_LEN];
	size_t took = 0;

	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t line_len = nl ? (size_t)(nl - text) : len;

		if (line_len > 0 && text[line_len - 1] == '\r')
			line_len--;
		/* A longer line is no lease line of any of these formats. */
		if (line_len < sizeof(line) && !memchr(text, '\0', line_len)) {
			memcpy(line, text, line_len);
			line[line_len] = '\0';
			took += parse_line(t, &st, line);
		}
		if (!nl)
			break;
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
	return took;
}

static int compare_keys(const struct entry *a, const struct entry *b)
{
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->kind == KEY_MAC ? memcmp(a->mac, b->mac, sizeof(a->mac)) :
				    memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

static int compare_entries(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = compare_keys(a, b);

	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void device_names_finish(struct device_names *t)
{
	size_t kept = 0;

	if (t->count > 0)
		qsort(t->entries, t->count, sizeof(*t->entries), compare_entries);
	/* Of equal keys, sorted by appearance, the last stays. */
	for (size_t i = 0; i < t->count; i++) {
		if (i + 1 < t->count && compare_keys(&t->entries[i], &t->entries[i + 1]) == 0)
			continue;
		t->entries[kept++] = t->entries[i];
	}
	t->count = kept;
	t->finished = true;
}

static const char *find(const struct device_names *t, const struct entry *key)
{
	size_t lo = 0, hi = t->finished ? t->count : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_keys(key, &t->entries[mid]);

		if (c == 0)
			return t->entries[mid].name;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *device_names_by_mac(const struct device_names *t, const uint8_t mac[6])
{
	struct entry key = { .kind = KEY_MAC };

	if (!t)
		return NULL;
	memcpy(key.mac, mac, sizeof(key.mac));
	return find(t, &key);
}

const char *device_names_by_addr(const struct device_names *t, const struct in6_addr *addr)
{
	struct entry key = { .kind = KEY_ADDR, .addr = *addr };

	if (!t)
		return NULL;
	return find(t, &key);
}

size_t device_names_count(const struct device_names *t)
{
	return t->count;
}
