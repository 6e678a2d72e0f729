/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuration: parsed and validated once into a plain struct. Everything
 * the rest of the daemon reads from the config file comes from here. */
#ifndef PORTLEASED_CONFIG_H
#define PORTLEASED_CONFIG_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/policy.h"

#define CONFIG_DEFAULT_PATH "/etc/portleased.conf"
#define CONFIG_MAX_LAN_INTERFACES 16
/* upnp.igd_version: which IGDs are served, side by side for "both". */
#define CONFIG_IGD_1 1u
#define CONFIG_IGD_2 2u
#define CONFIG_IGD_BOTH (CONFIG_IGD_1 | CONFIG_IGD_2)
#define CONFIG_TABLE_NAME_MAX 32
#define CONFIG_ERROR_MAX 512
#define CONFIG_DEFAULT_PINHOLE_MARK 0x10000000u
#define CONFIG_DEFAULT_UPNP_HTTP_PORT 5000
#define CONFIG_DEFAULT_STUN_PORT 3478
#define CONFIG_DEFAULT_CONTROL_SOCKET "/run/portleased/control.sock"
#define CONFIG_DEFAULT_LEASE_FILE "/var/lib/portleased/leases"
#define CONFIG_DEFAULT_STATIC_FILE "/etc/portleased.static"
#define CONFIG_STATIC_FILE_MAX 255
#define CONFIG_LEASE_FILE_MAX 4000
#define CONFIG_PATH_MAX 107  /* a unix socket's sun_path, less its NUL */
#define CONFIG_GROUP_MAX 32
#define CONFIG_USER_MAX 32
#define CONFIG_DEFAULT_USER "portleased"
#define CONFIG_MAX_STATIC 256
#define CONFIG_MAX_DHCP_LEASE_FILES 8
#define CONFIG_DHCP_LEASE_FILE_MAX 255
#define CONFIG_DESCRIPTION_MAX 128
#define CONFIG_OWNER_MAX 64
#define CONFIG_IDLE_TIMEOUT_MAX (366u * 86400)
#define CONFIG_COMMAND_MAX 255

/* The events on_event may run its command for, as bits of on_event_mask. */
enum config_event {
	CONFIG_EVENT_GRANTED, CONFIG_EVENT_REFRESHED, CONFIG_EVENT_REFUSED, CONFIG_EVENT_PENDING,
	CONFIG_EVENT_APPROVED, CONFIG_EVENT_REJECTED, CONFIG_EVENT_EXPIRED, CONFIG_EVENT_DELETED,
	CONFIG_EVENT_CONFLICT, CONFIG_EVENTS
};
/* Its name, as audit lines say it; -1 for none. */
int config_event_of(const char *name);

/* A port forward the operator declares: no policy check, no expiry, and no
 * client can refresh or remove it. An IPv6 one is a pinhole (external_port
 * is internal_port). */
struct static_mapping {
	uint8_t proto;
	uint16_t external_port;
	struct in6_addr internal_addr;  /* IPv4 as IPv4-mapped */
	uint16_t internal_port;
	char description[CONFIG_DESCRIPTION_MAX + 1];
	/* The operator's inventory: who answers for it, why it is open, and
	 * when to look at it again (Unix seconds of that date; 0: not said). */
	char owner[CONFIG_OWNER_MAX + 1];
	char purpose[CONFIG_DESCRIPTION_MAX + 1];
	int64_t review_by;
	/* Named by the config's static_mappings or the static file: the
	 * helper grants it (it never expires) only then. */
	bool declared;
	bool from_file;                 /* the static file's (portleasectl add) */
};

/* Who maps our external ports on the network beyond ours (double NAT,
 * carrier-grade NAT): nobody is asked, whoever answers at the default
 * gateway (or the server given), or that server over one protocol. */
enum config_upstream {
	CONFIG_UPSTREAM_OFF,
	CONFIG_UPSTREAM_AUTO,
	CONFIG_UPSTREAM_PCP,
	CONFIG_UPSTREAM_NATPMP,
	CONFIG_UPSTREAM_UPNP,
};

struct config {
	char external_interface[IF_NAMESIZE];
	bool has_external_address;
	struct in_addr external_address;
	char lan_interfaces[CONFIG_MAX_LAN_INTERFACES][IF_NAMESIZE];
	size_t lan_interface_count;
	/* The inet table portleased's sets and chains live in: its own, or
	 * with forward_chain set, the firewall's (firewall_integration), whose
	 * forward chain then jumps to ours. */
	char nft_table[CONFIG_TABLE_NAME_MAX + 1];
	char forward_chain[CONFIG_TABLE_NAME_MAX + 1];  /* "": our own table */
	/* Started as root, both processes become this user (docs/security.md). */
	char user[CONFIG_USER_MAX + 1];
	uint32_t lifetime_min;  /* seconds */
	uint32_t lifetime_max;
	uint32_t max_leases;
	uint32_t max_leases_per_client;  /* new mappings one client may hold */
	/* Map requests one client may make: a token bucket (0: no limit). */
	uint32_t client_requests_per_second;
	uint32_t client_request_burst;
	bool enable_pcp;  /* false: NAT-PMP only, PCP requests get UNSUPP_VERSION */
	/* Set on the first packet of every connection through an IPv6
	 * pinhole, so that a drop-policy firewall can admit those (0: none). */
	uint32_t pinhole_mark;
	/* UPnP IGD: SSDP on UDP 1900 and HTTP on http_port of the LAN
	 * addresses; the IGD version clients are offered (1 or 2). */
	bool upnp_enable;
	uint32_t upnp_http_port;
	uint32_t upnp_igd_version;  /* a mask: CONFIG_IGD_1, CONFIG_IGD_2 or both */
	/* The operators' unix socket (portleasectl): mode 0600, or 0660 and
	 * owned by control_group when that is set. */
	char control_socket[CONFIG_PATH_MAX + 1];
	char control_group[CONFIG_GROUP_MAX + 1];
	/* Every mapping, restored at start; "" for none. */
	char lease_file[CONFIG_LEASE_FILE_MAX + 1];
	/* The operator's runtime static mappings (static_file.h); "" for none. */
	char static_file[CONFIG_STATIC_FILE_MAX + 1];
	/* The LAN's DHCP servers' lease files, for device names
	 * (device_names.h); missing ones are skipped. */
	char dhcp_lease_files[CONFIG_MAX_DHCP_LEASE_FILES][CONFIG_DHCP_LEASE_FILE_MAX + 1];
	size_t dhcp_lease_file_count;
	/* A command run for chosen events, the event's fields in its
	 * environment: "" for none. */
	char on_event_command[CONFIG_COMMAND_MAX + 1];
	uint32_t on_event_mask;        /* 1u << enum config_event */
	uint32_t on_event_per_minute;  /* runs at most; the rest are counted */
	enum config_upstream upstream;
	bool has_upstream_server;         /* else the default gateway's */
	struct in_addr upstream_server;
	/* A mapping the upstream will not make (or does not answer for): the
	 * client is refused, rather than granted one reached from behind the
	 * upstream's NAT only. */
	bool upstream_refuse_on_failure;
	/* A STUN server asked when no mapping service answers: the public
	 * address, and whether the NAT in front is symmetric. */
	bool has_upstream_stun;
	struct in_addr upstream_stun;
	uint16_t upstream_stun_port;
	/* The WAN's DHCP client's lease file, where the PCP server its DHCP
	 * server names is read (empty: not read; unset: dhclient's own path
	 * for the external interface). */
	bool has_upstream_dhcp_leases;
	char upstream_dhcp_leases[CONFIG_DHCP_LEASE_FILE_MAX + 1];
	/* LAN hosts reach mappings at the external address too. */
	bool hairpin;
	/* SIGTERM leaves the nftables table (and so the mappings) in place. */
	bool keep_state_on_stop;
	/* Prometheus metrics over HTTP (GET /metrics), when metrics_listen:
	 * on a loopback address, or an address of a LAN interface. */
	bool metrics_listen;
	struct in6_addr metrics_address;  /* IPv4 as IPv4-mapped */
	uint16_t metrics_port;
	struct policy policy;
	struct static_mapping statics[CONFIG_MAX_STATIC];
	size_t static_count;
};

/* Reads and validates path into *cfg, and then the static file it names
 * (its mappings appended to statics). On failure returns -1 and writes
 * "file:line: what is wrong" to err; *cfg is then unspecified. Warnings (a
 * private external address, say) go to the log. */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);

/* A lifetime a client asked for, within lifetime.min and lifetime.max. */
uint32_t config_clamp_lifetime(const struct config *cfg, uint32_t lifetime);

/* Same, from a string, without the static file; name stands for the file
 * name in messages. */
int config_load_string(const char *text, const char *name, struct config *cfg, char *err,
		       size_t errlen);

#endif
