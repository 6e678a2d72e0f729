/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "config/static_file.h"
#include "lib/parse.h"

#define DEFAULT_LIFETIME_MIN 120
#define DEFAULT_LIFETIME_MAX 86400
#define LIFETIME_CEILING (30u * 86400u)
#define DEFAULT_MAX_LEASES 4096
/* Enough for a busy console or a BitTorrent client, not for one host to
 * take the whole table. */
#define DEFAULT_MAX_LEASES_PER_CLIENT 128
/* Ample for a host renewing its quota of mappings and a UPnP client's
 * burst at start; a flood is cut to a trickle. */
#define DEFAULT_CLIENT_REQUESTS_PER_SECOND 10
#define DEFAULT_CLIENT_REQUEST_BURST 50
#define CLIENT_REQUEST_RATE_CEILING 1000000
#define MAX_LEASES_CEILING 65535u * 2u

struct parse_ctx {
	const char *name;
	char *err;
	size_t errlen;
};

static int fail_at(struct parse_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct parse_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
{
	char msg[CONFIG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s && config_setting_source_line(s) > 0)
		snprintf(ctx->err, ctx->errlen, "%s:%u: %s", ctx->name,
			 config_setting_source_line(s), msg);
	else
		snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->name, msg);
	return -1;
}

static bool valid_ifname(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IF_NAMESIZE)
		return false;
	for (size_t i = 0; i < len; i++)
		if (isspace((unsigned char)name[i]) || name[i] == '/' || name[i] == ':')
			return false;
	return true;
}

static int get_ifname(struct parse_ctx *ctx, const config_setting_t *s, char out[IF_NAMESIZE])
{
	const char *name = config_setting_get_string(s);

	if (!name)
		return fail_at(ctx, s, "'%s' must be a string", config_setting_name(s) ?
				       config_setting_name(s) : "interface");
	if (!valid_ifname(name))
		return fail_at(ctx, s, "'%s' is not a valid interface name", name);
	snprintf(out, IF_NAMESIZE, "%s", name);
	return 0;
}

/* An int, or a string "N" or "LO-HI". */
static int get_port_range(struct parse_ctx *ctx, const config_setting_t *s,
			  struct port_range *out)
{
	uint16_t lo, hi;
	const char *text;

	if (config_setting_type(s) == CONFIG_TYPE_INT) {
		int v = config_setting_get_int(s);
		if (v < 1 || v > 65535)
			return fail_at(ctx, s, "port %d is outside 1-65535", v);
		*out = (struct port_range){ (uint16_t)v, (uint16_t)v };
		return 0;
	}
	text = config_setting_get_string(s);
	if (!text)
		return fail_at(ctx, s, "'%s' must be a port or a range \"LO-HI\"",
			       config_setting_name(s));
	if (!parse_port_range(text, &lo, &hi))
		return fail_at(ctx, s, "'%s' is not a port (1-65535) or a range \"LO-HI\"", text);
	if (lo < 1 || lo > hi)
		return fail_at(ctx, s, "port range '%s' must lie within 1-65535, low end first", text);
	*out = (struct port_range){ lo, hi };
	return 0;
}

static int check_known_members(struct parse_ctx *ctx, const config_setting_t *group,
			       const char *const *known, const char *where)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(m);
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++)
			ok = name && strcmp(name, *k) == 0;
		if (!ok)
			return fail_at(ctx, m, "unknown setting '%s' in %s", name ? name : "?",
				       where);
	}
	return 0;
}

/* A duration: seconds as a number, or text such as "90s", "15m", "12h",
 * "7d", "2w"; at least a second, at most CONFIG_IDLE_TIMEOUT_MAX. */
static int get_duration(struct parse_ctx *ctx, const config_setting_t *m, const char *name,
			unsigned long *seconds)
{
	const char *text = config_setting_get_string(m);
	long long n;

	if (config_setting_type(m) == CONFIG_TYPE_INT || config_setting_type(m) == CONFIG_TYPE_INT64) {
		n = config_setting_get_int64(m);
		if (n >= 1 && n <= CONFIG_IDLE_TIMEOUT_MAX) {
			*seconds = (unsigned long)n;
			return 0;
		}
	} else if (text && parse_duration(text, CONFIG_IDLE_TIMEOUT_MAX, seconds) && *seconds > 0) {
		return 0;
	}
	return fail_at(ctx, m, "'%s' must be a duration from 1 s to 366 days: seconds, or a "
		       "number with s, m, h, d or w, such as \"12h\" or \"7d\"", name);
}

/* Text for people, up to max bytes, no control character, into out. */
static int get_text(struct parse_ctx *ctx, const config_setting_t *m, const char *name,
		    size_t max, char *out)
{
	const char *text = config_setting_get_string(m);

	if (!text || strlen(text) > max)
		return fail_at(ctx, m, "'%s' must be text of at most %zu bytes", name, max);
	for (const char *c = text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return fail_at(ctx, m, "'%s' must not hold control characters", name);
	snprintf(out, max + 1, "%s", text);
	return 0;
}

static int parse_rule(struct parse_ctx *ctx, const config_setting_t *s, struct policy_rule *rule)
{
	static const char *const known[] = { "action", "clients", "protocol", "internal_ports",
					     "external_ports", "third_party", "idle_timeout",
					     "inbound_limit", NULL };
	const config_setting_t *m;
	const char *text;

	if (!config_setting_is_group(s))
		return fail_at(ctx, s, "a policy rule must be a group { action = ...; }");
	if (check_known_members(ctx, s, known, "a policy rule") < 0)
		return -1;

	memset(rule, 0, sizeof(*rule));
	rule->line = config_setting_source_line(s);
	rule->internal_ports = (struct port_range){ 1, 65535 };
	rule->external_ports = (struct port_range){ 1, 65535 };
	addr_parse_prefix("::/0", &rule->clients);

	m = config_setting_get_member(s, "action");
	if (!m)
		return fail_at(ctx, s, "policy rule has no 'action' (\"allow\", \"deny\" or \"ask\")");
	text = config_setting_get_string(m);
	if (text && strcmp(text, "allow") == 0)
		rule->allow = true;
	else if (text && strcmp(text, "ask") == 0)
		rule->ask = true;
	else if (!text || strcmp(text, "deny") != 0)
		return fail_at(ctx, m, "'action' must be \"allow\", \"deny\" or \"ask\"");

	if ((m = config_setting_get_member(s, "clients"))) {
		text = config_setting_get_string(m);
		if (text && strncmp(text, "mac:", 4) == 0) {
			if (!parse_mac(text + 4, rule->mac))
				return fail_at(ctx, m, "'clients' \"%s\": a link-layer address is "
					       "six pairs of hex digits, such as "
					       "\"mac:02:5e:10:00:00:0a\"", text);
			rule->by_mac = true;
		} else if (!text || !addr_parse_prefix(text, &rule->clients)) {
			return fail_at(ctx, m, "'clients' must be an address or prefix such as "
				       "\"192.168.1.0/24\", or a host's link-layer address such "
				       "as \"mac:02:5e:10:00:00:0a\"");
		}
	}
	if ((m = config_setting_get_member(s, "protocol"))) {
		text = config_setting_get_string(m);
		if (!parse_proto(text, &rule->proto) && (!text || strcmp(text, "any") != 0))
			return fail_at(ctx, m, "'protocol' must be \"tcp\", \"udp\" or \"any\"");
	}
	if ((m = config_setting_get_member(s, "third_party"))) {
		if (config_setting_type(m) != CONFIG_TYPE_BOOL)
			return fail_at(ctx, m, "'third_party' must be true or false");
		rule->third_party = config_setting_get_bool(m);
	}
	if ((m = config_setting_get_member(s, "idle_timeout"))) {
		unsigned long seconds;

		if (get_duration(ctx, m, "idle_timeout", &seconds) < 0)
			return -1;
		if (!rule->allow && !rule->ask)
			return fail_at(ctx, m, "'idle_timeout' is for allow and ask rules: a deny "
				       "rule allows no mapping");
		rule->idle_timeout = (uint32_t)seconds;
	}
	if ((m = config_setting_get_member(s, "internal_ports")) &&
	    get_port_range(ctx, m, &rule->internal_ports) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "external_ports")) &&
	    get_port_range(ctx, m, &rule->external_ports) < 0)
		return -1;
	return 0;
}

static int get_port(struct parse_ctx *ctx, const config_setting_t *s, uint16_t *port)
{
	int v;

	if (config_setting_type(s) != CONFIG_TYPE_INT)
		return fail_at(ctx, s, "'%s' must be a port number", config_setting_name(s));
	v = config_setting_get_int(s);
	if (v < 1 || v > 65535)
		return fail_at(ctx, s, "port %d is outside 1-65535", v);
	*port = (uint16_t)v;
	return 0;
}

static int parse_static(struct parse_ctx *ctx, const config_setting_t *s,
			struct static_mapping *sm)
{
	static const char *const known[] = { "protocol", "external_port", "internal_address",
					     "internal_port", "description", "owner", "purpose",
					     "review_by", NULL };
	const config_setting_t *m;
	const char *text;
	bool has_external;

	if (!config_setting_is_group(s))
		return fail_at(ctx, s, "a static mapping must be a group { protocol = ...; }");
	if (check_known_members(ctx, s, known, "a static mapping") < 0)
		return -1;
	memset(sm, 0, sizeof(*sm));
	sm->declared = true;
	m = config_setting_get_member(s, "protocol");
	text = m ? config_setting_get_string(m) : NULL;
	if (!parse_proto(text, &sm->proto))
		return fail_at(ctx, m ? m : s, "a static mapping's 'protocol' must be \"tcp\" or "
			       "\"udp\"");
	if (!(m = config_setting_get_member(s, "internal_address")))
		return fail_at(ctx, s, "a static mapping needs 'internal_address'");
	text = config_setting_get_string(m);
	if (!parse_address(text, &sm->internal_addr))
		return fail_at(ctx, m, "'internal_address' must be an IPv4 or IPv6 address");
	if (!(m = config_setting_get_member(s, "internal_port")))
		return fail_at(ctx, s, "a static mapping needs 'internal_port'");
	if (get_port(ctx, m, &sm->internal_port) < 0)
		return -1;
	has_external = (m = config_setting_get_member(s, "external_port")) != NULL;
	if (has_external && get_port(ctx, m, &sm->external_port) < 0)
		return -1;
	if (addr_is_v4(&sm->internal_addr) && !has_external)
		return fail_at(ctx, s, "a static IPv4 mapping needs 'external_port'");
	if (!addr_is_v4(&sm->internal_addr)) {
		/* A pinhole: no translation. */
		if (has_external && sm->external_port != sm->internal_port)
			return fail_at(ctx, m, "an IPv6 static mapping is a pinhole: its "
				       "external_port is its internal_port");
		sm->external_port = sm->internal_port;
	}
	if ((m = config_setting_get_member(s, "description")) &&
	    get_text(ctx, m, "description", CONFIG_DESCRIPTION_MAX, sm->description) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "owner")) &&
	    get_text(ctx, m, "owner", CONFIG_OWNER_MAX, sm->owner) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "purpose")) &&
	    get_text(ctx, m, "purpose", CONFIG_DESCRIPTION_MAX, sm->purpose) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "review_by"))) {
		text = config_setting_get_string(m);
		if (!parse_date(text, &sm->review_by))
			return fail_at(ctx, m, "'review_by' must be a date \"YYYY-MM-DD\", such as "
				       "\"2027-06-30\"");
	}
	return 0;
}

/* "192.168.1.1:9737" or "[2001:db8::1]:9737"; the port 1-65535. */
static bool parse_endpoint(const char *text, struct in6_addr *addr, uint16_t *port)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *digits;
	struct in_addr v4;
	size_t len;
	char *end;
	unsigned long p;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return false;
		len = (size_t)(close - text - 1);
		if (len >= sizeof(host))
			return false;
		memcpy(host, text + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return false;
		digits = close + 2;
	} else {
		colon = strchr(text, ':');
		if (!colon || strchr(colon + 1, ':'))
			return false;
		len = (size_t)(colon - text);
		if (len >= sizeof(host))
			return false;
		memcpy(host, text, len);
		host[len] = '\0';
		if (inet_pton(AF_INET, host, &v4) != 1)
			return false;
		*addr = addr_from_v4(v4);
		digits = colon + 1;
	}
	if (*digits < '0' || *digits > '9')
		return false;
	errno = 0;
	p = strtoul(digits, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return false;
	*port = (uint16_t)p;
	return true;
}

static int get_uint(struct parse_ctx *ctx, const config_setting_t *s, uint32_t min,
		    uint32_t max, uint32_t *out)
{
	long long v;

	if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
		return fail_at(ctx, s, "'%s' must be a whole number", config_setting_name(s));
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail_at(ctx, s, "'%s' is %lld; it must lie within %u-%u",
			       config_setting_name(s), v, min, max);
	*out = (uint32_t)v;
	return 0;
}

/* A table or chain name: what nft accepts unquoted. */
static int get_nft_name(struct parse_ctx *ctx, const config_setting_t *s, const char *what,
			char out[CONFIG_TABLE_NAME_MAX + 1])
{
	const char *text = config_setting_get_string(s);

	if (!text || !*text || strlen(text) > CONFIG_TABLE_NAME_MAX ||
	    strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_-") != strlen(text))
		return fail_at(ctx, s, "%s must be 1-%d letters, digits, '_' or '-'", what,
			       CONFIG_TABLE_NAME_MAX);
	snprintf(out, CONFIG_TABLE_NAME_MAX + 1, "%s", text);
	return 0;
}

static void set_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->nft_table, sizeof(cfg->nft_table), "portleased");
	cfg->lifetime_min = DEFAULT_LIFETIME_MIN;
	cfg->lifetime_max = DEFAULT_LIFETIME_MAX;
	cfg->max_leases = DEFAULT_MAX_LEASES;
	cfg->pinhole_mark = CONFIG_DEFAULT_PINHOLE_MARK;
	cfg->max_leases_per_client = DEFAULT_MAX_LEASES_PER_CLIENT;
	cfg->client_requests_per_second = DEFAULT_CLIENT_REQUESTS_PER_SECOND;
	cfg->client_request_burst = DEFAULT_CLIENT_REQUEST_BURST;
	cfg->enable_pcp = true;
	cfg->hairpin = true;
	cfg->upnp_enable = true;
	cfg->upnp_http_port = CONFIG_DEFAULT_UPNP_HTTP_PORT;
	cfg->upnp_igd_version = CONFIG_IGD_BOTH;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s",
		 CONFIG_DEFAULT_CONTROL_SOCKET);
	snprintf(cfg->lease_file, sizeof(cfg->lease_file), "%s", CONFIG_DEFAULT_LEASE_FILE);
	snprintf(cfg->static_file, sizeof(cfg->static_file), "%s", CONFIG_DEFAULT_STATIC_FILE);
	snprintf(cfg->user, sizeof(cfg->user), "%s", CONFIG_DEFAULT_USER);
	/* Where Debian's DHCP servers keep their leases: dnsmasq, Kea, ISC. */
	static const char *const lease_files[] = { "/var/lib/misc/dnsmasq.leases",
						   "/var/lib/kea/kea-leases4.csv",
						   "/var/lib/kea/kea-leases6.csv",
						   "/var/lib/dhcp/dhcpd.leases" };
	for (size_t i = 0; i < sizeof(lease_files) / sizeof(lease_files[0]); i++)
		snprintf(cfg->dhcp_lease_files[i], sizeof(cfg->dhcp_lease_files[i]), "%s",
			 lease_files[i]);
	cfg->dhcp_lease_file_count = sizeof(lease_files) / sizeof(lease_files[0]);
	/* What an operator is told of; refreshes and refusals only if named. */
	cfg->on_event_mask = ~0u & ((1u << CONFIG_EVENTS) - 1) &
			     ~(1u << CONFIG_EVENT_REFRESHED) & ~(1u << CONFIG_EVENT_REFUSED);
	cfg->on_event_per_minute = 10;
	cfg->upstream = CONFIG_UPSTREAM_AUTO;
}

/* A true-or-false member of root, if it is there. */
static int get_bool(struct parse_ctx *ctx, const config_setting_t *root, const char *name,
		    bool *out)
{
	const config_setting_t *s = config_setting_get_member(root, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail_at(ctx, s, "'%s' must be true or false", name);
	*out = config_setting_get_bool(s);
	return 0;
}

/* The group root.name, if it is there, with only the members known;
 * shape says what it should look like. Returns NULL when it is absent or
 * refused (*rc -1). */
static const config_setting_t *get_group(struct parse_ctx *ctx, const config_setting_t *root,
					 const char *name, const char *const *known,
					 const char *shape, int *rc)
{
	const config_setting_t *s = config_setting_get_member(root, name);
	char what[40];

	*rc = 0;
	if (!s)
		return NULL;
	if (!config_setting_is_group(s)) {
		*rc = fail_at(ctx, s, "'%s' must be a group %s", name, shape);
		return NULL;
	}
	snprintf(what, sizeof(what), "'%s'", name);
	if (check_known_members(ctx, s, known, what) < 0) {
		*rc = -1;
		return NULL;
	}
	return s;
}

static int parse_interfaces(struct parse_ctx *ctx, const config_setting_t *root,
			    struct config *cfg)
{
	const config_setting_t *s;
	const char *text;

	if (!(s = config_setting_get_member(root, "external_interface")))
		return fail_at(ctx, NULL, "'external_interface' is required (the WAN interface)");
	if (get_ifname(ctx, s, cfg->external_interface) < 0)
		return -1;

	if ((s = config_setting_get_member(root, "external_address"))) {
		text = config_setting_get_string(s);
		if (!text || inet_pton(AF_INET, text, &cfg->external_address) != 1)
			return fail_at(ctx, s, "'external_address' must be an IPv4 address");
		cfg->has_external_address = true;
		/* Fine behind double NAT or CGNAT, but worth a line in the log
		 * in case it is a mistake. */
		if (addr_v4_is_reserved(cfg->external_address))
			log_warnx("%s:%u: external_address %s is private or reserved; fine behind "
				  "double NAT or CGNAT, but WAN hosts beyond that NAT cannot reach it",
				  ctx->name, config_setting_source_line(s), text);
	}

	if (!(s = config_setting_get_member(root, "lan_interfaces")))
		return fail_at(ctx, NULL, "'lan_interfaces' is required (the interfaces LAN "
			       "clients ask on)");
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail_at(ctx, s, "'lan_interfaces' must be a list such as [ \"br-lan\" ]");
	if (config_setting_length(s) == 0)
		return fail_at(ctx, s, "'lan_interfaces' is empty: name at least one");
	if (config_setting_length(s) > CONFIG_MAX_LAN_INTERFACES)
		return fail_at(ctx, s, "at most %d LAN interfaces", CONFIG_MAX_LAN_INTERFACES);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char *name = cfg->lan_interfaces[cfg->lan_interface_count];

		if (get_ifname(ctx, e, name) < 0)
			return -1;
		if (strcmp(name, cfg->external_interface) == 0)
			return fail_at(ctx, e, "'%s' is the external interface; it cannot also "
				       "be a LAN interface", name);
		cfg->lan_interface_count++;
	}
	return 0;
}

/* Our own table, or firewall_integration's place in the firewall's. */
static int parse_table(struct parse_ctx *ctx, const config_setting_t *root, struct config *cfg)
{
	static const char *const integration_known[] = { "table", "forward_chain", NULL };
	const config_setting_t *s, *m;
	int rc;

	if ((s = config_setting_get_member(root, "nft_table")) &&
	    get_nft_name(ctx, s, "'nft_table'", cfg->nft_table) < 0)
		return -1;
	if (config_setting_get_member(root, "firewall_integration") &&
	    config_setting_get_member(root, "nft_table"))
		return fail_at(ctx, config_setting_get_member(root, "firewall_integration"),
			       "'firewall_integration' puts portleased in the firewall's table; "
			       "drop 'nft_table', or this group");
	if (!(s = get_group(ctx, root, "firewall_integration", integration_known,
			    "{ table = \"fw4\"; forward_chain = \"forward\"; }", &rc)))
		return rc;
	if (!(m = config_setting_get_member(s, "table")))
		return fail_at(ctx, s, "'firewall_integration' needs 'table' (the firewall's "
			       "inet table, such as \"fw4\")");
	if (get_nft_name(ctx, m, "firewall_integration 'table'", cfg->nft_table) < 0)
		return -1;
	if (!(m = config_setting_get_member(s, "forward_chain")))
		return fail_at(ctx, s, "'firewall_integration' needs 'forward_chain' (its "
			       "forward-hook chain, such as \"forward\")");
	return get_nft_name(ctx, m, "firewall_integration 'forward_chain'", cfg->forward_chain);
}

static int parse_user(struct parse_ctx *ctx, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "user");
	const char *text;

	if (!s)
		return 0;
	text = config_setting_get_string(s);
	if (!text || !*text || strlen(text) > CONFIG_USER_MAX || *text == '-' ||
	    strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(text))
		return fail_at(ctx, s, "'user' must be a user name: 1-%d lower-case letters, "
			       "digits, '_' or '-'", CONFIG_USER_MAX);
	snprintf(cfg->user, sizeof(cfg->user), "%s", text);
	return 0;
}

/* Lifetimes, the lease table's size, each host's share and request rate. */
static int parse_limits(struct parse_ctx *ctx, const config_setting_t *root, struct config *cfg)
{
	static const char *const lifetime_known[] = { "min", "max", NULL };
	static const char *const rate_known[] = { "per_second", "burst", NULL };
	const config_setting_t *s, *m;
	int rc;

	if ((s = get_group(ctx, root, "lifetime", lifetime_known,
			   "{ min = ...; max = ...; }", &rc))) {
		if ((m = config_setting_get_member(s, "min")) &&
		    get_uint(ctx, m, 1, LIFETIME_CEILING, &cfg->lifetime_min) < 0)
			return -1;
		if ((m = config_setting_get_member(s, "max")) &&
		    get_uint(ctx, m, 1, LIFETIME_CEILING, &cfg->lifetime_max) < 0)
			return -1;
		if (cfg->lifetime_min > cfg->lifetime_max)
			return fail_at(ctx, s, "lifetime min (%u) is above max (%u)",
				       cfg->lifetime_min, cfg->lifetime_max);
	} else if (rc < 0) {
		return -1;
	}

	if ((s = config_setting_get_member(root, "max_leases")) &&
	    get_uint(ctx, s, 1, MAX_LEASES_CEILING, &cfg->max_leases) < 0)
		return -1;
	if ((s = config_setting_get_member(root, "max_leases_per_client")) &&
	    get_uint(ctx, s, 1, MAX_LEASES_CEILING, &cfg->max_leases_per_client) < 0)
		return -1;

	if (!(s = get_group(ctx, root, "client_request_rate", rate_known,
			    "{ per_second = ...; burst = ...; }", &rc)))
		return rc;
	if ((m = config_setting_get_member(s, "per_second")) &&
	    get_uint(ctx, m, 0, CLIENT_REQUEST_RATE_CEILING, &cfg->client_requests_per_second) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "burst")) &&
	    get_uint(ctx, m, 1, CLIENT_REQUEST_RATE_CEILING, &cfg->client_request_burst) < 0)
		return -1;
	return 0;
}

static int parse_upnp(struct parse_ctx *ctx, const config_setting_t *root, struct config *cfg)
{
	static const char *const upnp_known[] = { "enable", "http_port", "igd_version", NULL };
	const config_setting_t *s, *m;
	int rc;

	if (!(s = get_group(ctx, root, "upnp", upnp_known, "{ enable = ...; ... }", &rc)))
		return rc;
	if ((m = config_setting_get_member(s, "enable"))) {
		if (config_setting_type(m) != CONFIG_TYPE_BOOL)
			return fail_at(ctx, m, "upnp 'enable' must be true or false");
		cfg->upnp_enable = config_setting_get_bool(m);
	}
	if ((m = config_setting_get_member(s, "http_port")) &&
	    get_uint(ctx, m, 1, 65535, &cfg->upnp_http_port) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "igd_version")) &&
	    config_setting_type(m) == CONFIG_TYPE_STRING) {
		if (strcmp(config_setting_get_string(m), "both") != 0)
			return fail_at(ctx, m, "'igd_version' must be 1, 2 or \"both\"");
		cfg->upnp_igd_version = CONFIG_IGD_BOTH;
	} else if (m && get_uint(ctx, m, 1, 2, &cfg->upnp_igd_version) < 0) {
		return -1;
	}
	return 0;
}

static int parse_control(struct parse_ctx *ctx, const config_setting_t *root,
			 struct config *cfg)
{
	static const char *const control_known[] = { "socket", "group", NULL };
	const config_setting_t *s, *m;
	const char *text;
	int rc;

	if (!(s = get_group(ctx, root, "control", control_known,
			    "{ socket = ...; group = ...; }", &rc)))
		return rc;
	if ((m = config_setting_get_member(s, "socket"))) {
		text = config_setting_get_string(m);
		if (!text || text[0] != '/' || strlen(text) > CONFIG_PATH_MAX)
			return fail_at(ctx, m, "control 'socket' must be an absolute path of at "
				       "most %d bytes", CONFIG_PATH_MAX);
		snprintf(cfg->control_socket, sizeof(cfg->control_socket), "%s", text);
	}
	if ((m = config_setting_get_member(s, "group"))) {
		text = config_setting_get_string(m);
		if (!text || !*text || strlen(text) > CONFIG_GROUP_MAX)
			return fail_at(ctx, m, "control 'group' must be a group name of at most "
				       "%d bytes", CONFIG_GROUP_MAX);
		snprintf(cfg->control_group, sizeof(cfg->control_group), "%s", text);
	}
	return 0;
}

static int parse_metrics(struct parse_ctx *ctx, const config_setting_t *root,
			 struct config *cfg)
{
	static const char *const metrics_known[] = { "listen", NULL };
	const config_setting_t *s, *m;
	const char *text;
	int rc;

	if (!(s = get_group(ctx, root, "metrics", metrics_known,
			    "{ listen = \"ADDRESS:PORT\"; }", &rc)))
		return rc;
	if ((m = config_setting_get_member(s, "listen"))) {
		text = config_setting_get_string(m);
		if (!text || !parse_endpoint(text, &cfg->metrics_address, &cfg->metrics_port))
			return fail_at(ctx, m, "metrics 'listen' must be \"IPV4:PORT\" or "
				       "\"[IPV6]:PORT\", such as \"127.0.0.1:9737\"");
		cfg->metrics_listen = true;
	}
	return 0;
}

static const char *const event_names[CONFIG_EVENTS] = {
	[CONFIG_EVENT_GRANTED] = "granted", [CONFIG_EVENT_REFRESHED] = "refreshed",
	[CONFIG_EVENT_REFUSED] = "refused", [CONFIG_EVENT_PENDING] = "pending",
	[CONFIG_EVENT_APPROVED] = "approved", [CONFIG_EVENT_REJECTED] = "rejected",
	[CONFIG_EVENT_EXPIRED] = "expired", [CONFIG_EVENT_DELETED] = "deleted",
	[CONFIG_EVENT_CONFLICT] = "conflict",
};

int config_event_of(const char *name)
{
	for (int i = 0; i < CONFIG_EVENTS; i++)
		if (name && strcmp(name, event_names[i]) == 0)
			return i;
	return -1;
}

/* on_event = { command = "/path"; events = [ ... ]; per_minute = N; } */
static int parse_on_event(struct parse_ctx *ctx, const config_setting_t *root,
			  struct config *cfg)
{
	static const char *const known[] = { "command", "events", "per_minute", NULL };
	const config_setting_t *s, *m;
	const char *text;
	int rc;

	if (!(s = get_group(ctx, root, "on_event", known, "{ command = \"/path\"; ... }", &rc)))
		return rc;
	m = config_setting_get_member(s, "command");
	text = m ? config_setting_get_string(m) : NULL;
	if (!text || *text != '/' || strlen(text) > CONFIG_COMMAND_MAX)
		return fail_at(ctx, m ? m : s, "on_event needs 'command', an absolute path of at "
			       "most %d bytes (run without a shell)", CONFIG_COMMAND_MAX);
	snprintf(cfg->on_event_command, sizeof(cfg->on_event_command), "%s", text);
	/* Not an error: it may be installed after the config; but say so now
	 * rather than at the first event. */
	if (access(text, X_OK) < 0)
		log_warnx("%s:%d: on_event command %s: %s", ctx->name, config_setting_source_line(m),
			  text, strerror(errno));
	if ((m = config_setting_get_member(s, "events"))) {
		if (!config_setting_is_array(m) && !config_setting_is_list(m))
			return fail_at(ctx, m, "on_event 'events' must be a list such as "
				       "[ \"granted\", \"pending\" ]");
		cfg->on_event_mask = 0;
		for (int i = 0; i < config_setting_length(m); i++) {
			const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
			int ev = config_event_of(config_setting_get_string(e));

			if (ev < 0)
				return fail_at(ctx, e, "unknown event: the events are granted, "
					       "refreshed, refused, pending, approved, rejected, "
					       "expired, deleted and conflict");
			cfg->on_event_mask |= 1u << ev;
		}
	}
	if ((m = config_setting_get_member(s, "per_minute")) &&
	    get_uint(ctx, m, 1, 600, &cfg->on_event_per_minute) < 0)
		return -1;
	return 0;
}

/* upstream = { mode = "auto"; server = "100.64.0.1"; on_failure = "local"; } */
static int parse_upstream(struct parse_ctx *ctx, const config_setting_t *root,
			  struct config *cfg)
{
	static const char *const known[] = { "mode", "server", "on_failure", "stun",
					     "dhcp_leases", NULL };
	static const char *const modes[] = { [CONFIG_UPSTREAM_OFF] = "off",
					     [CONFIG_UPSTREAM_AUTO] = "auto",
					     [CONFIG_UPSTREAM_PCP] = "pcp",
					     [CONFIG_UPSTREAM_NATPMP] = "natpmp",
					     [CONFIG_UPSTREAM_UPNP] = "upnp" };
	const config_setting_t *s, *m;
	const char *text;
	int rc;
	bool known_mode = false;

	if (!(s = get_group(ctx, root, "upstream", known, "{ mode = \"auto\"; ... }", &rc)))
		return rc;
	if ((m = config_setting_get_member(s, "mode"))) {
		text = config_setting_get_string(m);
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && !known_mode; i++)
			if (text && strcmp(text, modes[i]) == 0) {
				cfg->upstream = (enum config_upstream)i;
				known_mode = true;
			}
		if (!known_mode)
			return fail_at(ctx, m, "upstream 'mode' must be \"off\", \"auto\", \"pcp\", "
				       "\"natpmp\" or \"upnp\"");
	}
	if ((m = config_setting_get_member(s, "server"))) {
		text = config_setting_get_string(m);
		if (!text || inet_pton(AF_INET, text, &cfg->upstream_server) != 1)
			return fail_at(ctx, m, "upstream 'server' must be an IPv4 address, such as "
				       "\"100.64.0.1\" (default: the external interface's default "
				       "gateway)");
		cfg->has_upstream_server = true;
	}
	if ((m = config_setting_get_member(s, "on_failure"))) {
		text = config_setting_get_string(m);
		if (text && strcmp(text, "refuse") == 0)
			cfg->upstream_refuse_on_failure = true;
		else if (!text || strcmp(text, "local") != 0)
			return fail_at(ctx, m, "upstream 'on_failure' must be \"local\" (grant the "
				       "mapping on this router alone) or \"refuse\"");
	}
	if ((m = config_setting_get_member(s, "stun"))) {
		char host[INET_ADDRSTRLEN] = "";
		const char *colon;
		size_t host_len = 0;

		text = config_setting_get_string(m);
		colon = text ? strchr(text, ':') : NULL;
		if (text)
			host_len = colon ? (size_t)(colon - text) : strlen(text);
		if (text && host_len < sizeof(host)) {
			memcpy(host, text, host_len);
			host[host_len] = '\0';
		}
		cfg->upstream_stun_port = CONFIG_DEFAULT_STUN_PORT;
		if (!text || inet_pton(AF_INET, host, &cfg->upstream_stun) != 1 ||
		    (colon && !parse_port(colon + 1, &cfg->upstream_stun_port)))
			return fail_at(ctx, m, "upstream 'stun' must be an IPv4 address and an "
				       "optional port, such as \"203.0.113.9:3478\" (a name would "
				       "need a lookup)");
		cfg->has_upstream_stun = true;
	}
	if ((m = config_setting_get_member(s, "dhcp_leases"))) {
		text = config_setting_get_string(m);
		if (!text || (*text && *text != '/') || strlen(text) > CONFIG_DHCP_LEASE_FILE_MAX)
			return fail_at(ctx, m, "upstream 'dhcp_leases' must be an absolute path (the "
				       "DHCP client's lease file), or \"\" not to read one");
		snprintf(cfg->upstream_dhcp_leases, sizeof(cfg->upstream_dhcp_leases), "%s", text);
		cfg->has_upstream_dhcp_leases = true;
	}
	return 0;
}

/* The lease file and the static file: an absolute path, or "" for none;
 * the DHCP servers' lease files: a list of absolute paths. */
static int parse_files(struct parse_ctx *ctx, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *s;
	const char *text;

	if ((s = config_setting_get_member(root, "lease_file"))) {
		text = config_setting_get_string(s);
		if (!text || (*text && *text != '/') || strlen(text) > CONFIG_LEASE_FILE_MAX)
			return fail_at(ctx, s, "'lease_file' must be an absolute path, or \"\" for none");
		snprintf(cfg->lease_file, sizeof(cfg->lease_file), "%s", text);
	}
	if ((s = config_setting_get_member(root, "static_file"))) {
		text = config_setting_get_string(s);
		if (!text || (*text && *text != '/') || strlen(text) > CONFIG_STATIC_FILE_MAX)
			return fail_at(ctx, s, "'static_file' must be an absolute path of at most %d "
				       "bytes, or \"\" for none", CONFIG_STATIC_FILE_MAX);
		snprintf(cfg->static_file, sizeof(cfg->static_file), "%s", text);
	}
	if ((s = config_setting_get_member(root, "dhcp_lease_files"))) {
		if (!config_setting_is_array(s) && !config_setting_is_list(s))
			return fail_at(ctx, s, "'dhcp_lease_files' must be a list of paths such as "
				       "[ \"/var/lib/misc/dnsmasq.leases\" ], or [ ] for none");
		if (config_setting_length(s) > CONFIG_MAX_DHCP_LEASE_FILES)
			return fail_at(ctx, s, "at most %d DHCP lease files",
				       CONFIG_MAX_DHCP_LEASE_FILES);
		cfg->dhcp_lease_file_count = 0;
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			text = config_setting_get_string(e);
			if (!text || *text != '/' || strlen(text) > CONFIG_DHCP_LEASE_FILE_MAX)
				return fail_at(ctx, e, "a DHCP lease file must be an absolute path "
					       "of at most %d bytes", CONFIG_DHCP_LEASE_FILE_MAX);
			snprintf(cfg->dhcp_lease_files[cfg->dhcp_lease_file_count],
				 sizeof(cfg->dhcp_lease_files[0]), "%s", text);
			cfg->dhcp_lease_file_count++;
		}
	}
	return 0;
}

static int parse_statics(struct parse_ctx *ctx, const config_setting_t *root,
			 struct config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "static_mappings");

	if (!s)
		return 0;
	if (!config_setting_is_list(s))
		return fail_at(ctx, s, "'static_mappings' must be a list: ( { ... }, { ... } )");
	if (config_setting_length(s) > CONFIG_MAX_STATIC)
		return fail_at(ctx, s, "at most %d static mappings", CONFIG_MAX_STATIC);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct static_mapping *sm = &cfg->statics[cfg->static_count];

		if (parse_static(ctx, e, sm) < 0)
			return -1;
		for (size_t j = 0; j < cfg->static_count; j++)
			if (static_mappings_clash(&cfg->statics[j], sm))
				return fail_at(ctx, e, "this static mapping takes the port or "
					       "internal endpoint of an earlier one");
		cfg->static_count++;
	}
	return 0;
}

/* inbound_limit = { per_remote = N; total = N; burst = N; }: the kernel
 * counts new connections per mapping (nft_ruleset.c). */
static int parse_inbound_limit(struct parse_ctx *ctx, const config_setting_t *rule_setting,
			       struct policy *policy, struct policy_rule *rule)
{
	static const char *const known[] = { "per_remote", "total", "burst", NULL };
	const config_setting_t *s = config_setting_get_member(rule_setting, "inbound_limit"), *m;
	struct inbound_limit limit = { 0 };

	if (!s)
		return 0;
	if (!config_setting_is_group(s))
		return fail_at(ctx, s, "'inbound_limit' must be a group { per_remote = 10; "
			       "total = 100; burst = 20; }");
	if (check_known_members(ctx, s, known, "inbound_limit") < 0)
		return -1;
	if (!rule->allow && !rule->ask)
		return fail_at(ctx, s, "'inbound_limit' is for allow and ask rules: a deny rule "
			       "allows no mapping");
	if ((m = config_setting_get_member(s, "per_remote")) &&
	    get_uint(ctx, m, 1, INBOUND_LIMIT_MAX, &limit.per_remote) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "total")) &&
	    get_uint(ctx, m, 1, INBOUND_LIMIT_MAX, &limit.total) < 0)
		return -1;
	if ((m = config_setting_get_member(s, "burst")) &&
	    get_uint(ctx, m, 1, INBOUND_LIMIT_MAX, &limit.burst) < 0)
		return -1;
	if (!limit.per_remote && !limit.total)
		return fail_at(ctx, s, "'inbound_limit' needs 'per_remote' or 'total' (new "
			       "connections per second)");
	if (!(rule->limit_class = policy_limit_class(policy, &limit)))
		return fail_at(ctx, s, "at most %d different inbound limits in a policy",
			       POLICY_MAX_LIMITS);
	return 0;
}

static int parse_policy(struct parse_ctx *ctx, const config_setting_t *root, struct config *cfg)
{
	const config_setting_t *s = config_setting_get_member(root, "policy");

	if (!s)
		return fail_at(ctx, NULL, "'policy' is required: with no rule every request is "
			       "denied");
	if (!config_setting_is_list(s))
		return fail_at(ctx, s, "'policy' must be a list of rules: ( { ... }, { ... } )");
	if (config_setting_length(s) > POLICY_MAX_RULES)
		return fail_at(ctx, s, "at most %d policy rules", POLICY_MAX_RULES);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *rule = config_setting_get_elem(s, (unsigned)i);

		if (parse_rule(ctx, rule, &cfg->policy.rules[cfg->policy.count]) < 0 ||
		    parse_inbound_limit(ctx, rule, &cfg->policy,
					&cfg->policy.rules[cfg->policy.count]) < 0)
			return -1;
		cfg->policy.count++;
	}
	if (cfg->policy.count == 0)
		log_warnx("%s: the policy has no rule: every request will be denied", ctx->name);
	return 0;
}

/* In the order the settings are checked, so that the first mistake in
 * that order is the one reported. */
static int parse_root(struct parse_ctx *ctx, const config_t *lc, struct config *cfg)
{
	static const char *const known[] = { "external_interface", "external_address",
					     "lan_interfaces", "nft_table", "lifetime",
					     "max_leases", "max_leases_per_client",
					     "client_request_rate", "pinhole_mark",
					     "enable_pcp", "upnp", "control", "metrics", "policy",
					     "static_mappings", "lease_file", "static_file",
					     "dhcp_lease_files", "on_event", "keep_state_on_stop", "hairpin",
					     "firewall_integration", "user", "upstream", NULL };
	const config_setting_t *root = config_root_setting(lc), *s;

	set_defaults(cfg);
	if (check_known_members(ctx, root, known, "the top level") < 0 ||
	    parse_interfaces(ctx, root, cfg) < 0 || parse_table(ctx, root, cfg) < 0 ||
	    parse_user(ctx, root, cfg) < 0 || parse_limits(ctx, root, cfg) < 0 ||
	    get_bool(ctx, root, "enable_pcp", &cfg->enable_pcp) < 0 ||
	    parse_upnp(ctx, root, cfg) < 0 || parse_control(ctx, root, cfg) < 0 ||
	    parse_metrics(ctx, root, cfg) < 0)
		return -1;
	if ((s = config_setting_get_member(root, "pinhole_mark")) &&
	    get_uint(ctx, s, 0, UINT32_MAX, &cfg->pinhole_mark) < 0)
		return -1;
	if (parse_files(ctx, root, cfg) < 0 || parse_on_event(ctx, root, cfg) < 0 ||
	    parse_upstream(ctx, root, cfg) < 0 ||
	    get_bool(ctx, root, "hairpin", &cfg->hairpin) < 0 ||
	    get_bool(ctx, root, "keep_state_on_stop", &cfg->keep_state_on_stop) < 0 ||
	    parse_statics(ctx, root, cfg) < 0)
		return -1;
	return parse_policy(ctx, root, cfg);
}

static int finish(struct parse_ctx *ctx, config_t *lc, int read_ok, struct config *cfg)
{
	int rc;

	if (read_ok != CONFIG_TRUE) {
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			snprintf(ctx->err, ctx->errlen, "%s: cannot read: %s", ctx->name,
				 strerror(errno));
		else
			snprintf(ctx->err, ctx->errlen, "%s:%d: %s", ctx->name,
				 config_error_line(lc), config_error_text(lc));
		config_destroy(lc);
		return -1;
	}
	rc = parse_root(ctx, lc, cfg);
	config_destroy(lc);
	return rc;
}

/* The static file's mappings after the config's, none clashing. */
static int add_static_file(struct config *cfg, char *err, size_t errlen)
{
	struct static_mapping *file = malloc(CONFIG_MAX_STATIC * sizeof(*file));
	size_t n = 0;
	int rc = -1;

	if (!file) {
		snprintf(err, errlen, "%s: out of memory", cfg->static_file);
		return -1;
	}
	if (static_file_read(cfg->static_file, file, CONFIG_MAX_STATIC, &n, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (cfg->static_count == CONFIG_MAX_STATIC) {
			snprintf(err, errlen, "%s: with the config's, more than %d static mappings",
				 cfg->static_file, CONFIG_MAX_STATIC);
			goto out;
		}
		for (size_t j = 0; j < cfg->static_count; j++)
			if (static_mappings_clash(&cfg->statics[j], &file[i])) {
				snprintf(err, errlen, "%s: %s %u takes the port or internal endpoint of "
					 "a static mapping of the config", cfg->static_file,
					 file[i].proto == IPPROTO_TCP ? "tcp" : "udp",
					 file[i].external_port);
				goto out;
			}
		cfg->statics[cfg->static_count++] = file[i];
	}
	rc = 0;
out:
	free(file);
	return rc;
}

int config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	struct parse_ctx ctx = { .name = path, .err = err, .errlen = errlen };
	config_t lc;

	config_init(&lc);
	errno = 0;
	if (finish(&ctx, &lc, config_read_file(&lc, path), cfg) < 0)
		return -1;
	return cfg->static_file[0] ? add_static_file(cfg, err, errlen) : 0;
}

int config_load_string(const char *text, const char *name, struct config *cfg, char *err,
		       size_t errlen)
{
	struct parse_ctx ctx = { .name = name, .err = err, .errlen = errlen };
	config_t lc;

	config_init(&lc);
	return finish(&ctx, &lc, config_read_string(&lc, text), cfg);
}

uint32_t config_clamp_lifetime(const struct config *cfg, uint32_t lifetime)
{
	if (lifetime < cfg->lifetime_min)
		return cfg->lifetime_min;
	if (lifetime > cfg->lifetime_max)
		return cfg->lifetime_max;
	return lifetime;
}
