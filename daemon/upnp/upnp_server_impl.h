/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The UPnP server's insides, shared by its three files: upnp_server.c
 * (links, identities, start and stop), upnp_http.c (descriptions, control
 * and events over HTTP), upnp_ssdp.c (discovery). Nothing else includes
 * it. */
#ifndef PORTLEASED_UPNP_SERVER_IMPL_H
#define PORTLEASED_UPNP_SERVER_IMPL_H

#include <arpa/inet.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "daemon/stream.h"
#include "daemon/upnp/gena_server.h"
#include "daemon/upnp/http.h"
#include "daemon/upnp/igd.h"
#include "daemon/upnp/igd_desc.h"
#include "daemon/upnp/ssdp.h"
#include "daemon/upnp/upnp_server.h"
#include "lib/ifaddr.h"

#define ADDRESSES_PER_INTERFACE 8
#define LINKS_MAX (CONFIG_MAX_LAN_INTERFACES * ADDRESSES_PER_INTERFACE)

/* HTTP: a slow or hostile host (with however many addresses) may hold a
 * few connections, never all. */
#define CONNECTIONS_MAX 64
#define CONNECTIONS_PER_HOST 8
#define REQUEST_SECONDS 5  /* a whole request must arrive in this time */

/* SSDP */
#define PENDING_REPLIES_MAX 32  /* searches waiting out their MX delay */
#define PENDING_REPLIES_PER_HOST 4
/* An answer's bytes within this multiple of its search's, so that a search
 * with a forged source draws little toward that address (ssdp:all: the
 * root device and what else fits; a real search of ~100 bytes fits two). */
#define ANSWER_BYTES_PER_SEARCH_BYTE 8
#define READS_PER_EVENT 64
#define MAX_AGE 1800
#define NOTIFY_INTERVAL 900     /* half of max-age, as UDA 1.1 advises */
#define NOTIFY_START_ROUNDS 3   /* at start, 1 s apart: UDP gets lost */
#define MULTICAST_TTL 2         /* UDA 1.1 §1.1.2 */

/* IGD:2 and, beside it, IGD:1 (upnp.igd_version "both"). */
#define IGDS_MAX 2
#define IGD1_PREFIX "/igd1"

/* One LAN address (IPv4, or global IPv6): where its hosts find the
 * descriptions. */
struct link {
	struct upnp_server *server;
	int family;
	struct if_address local;
	char addr_text[INET6_ADDRSTRLEN];
	char location[IGDS_MAX][96];  /* each IGD's root description here */
	struct evconnlistener *http;
};

struct connection {
	struct stream stream;  /* first: the list holds these */
	struct upnp_server *server;
	struct link *link;
	struct in6_addr peer;
	/* A head trickled in byte by byte must not be rescanned each time:
	 * how far the end of the head was looked for, and the head once
	 * parsed. */
	size_t scanned;
	bool have_head;
	struct http_request req;
	/* The whole request is in, waiting for the burst (upnp_http_burst). */
	bool ready;
	struct connection *next_ready;
	/* Its answer waits for the mapping's twin upstream (behind another
	 * NAT): waits once control found so, parked once the burst kept it. */
	bool waits, parked;
	struct igd_chain_wait wait;
};

struct pending_reply {
	bool used;
	struct upnp_server *server;
	struct event *timer;
	struct sockaddr_storage to;
	socklen_t tolen;
	struct link *link;
	struct host_id host;  /* the searcher's */
	char st[SSDP_ST_MAX + 1];
	size_t budget;  /* bytes the answers may take */
};

struct upnp_server {
	const struct config *cfg;
	struct event_base *base;
	struct igd igd;
	struct igd_identity ids[IGDS_MAX];  /* the newest first */
	size_t nids;
	struct gena_server *gena;
	char server_header[128];
	uint32_t boot_id;
	int ssdp_fd, ssdp6_fd;
	struct event *ssdp_ev, *ssdp6_ev, *notify_timer;
	unsigned notify_rounds;
	struct link links[LINKS_MAX];
	size_t nlinks;
	struct pending_reply pending[PENDING_REPLIES_MAX];
	struct stream_list connections;
	/* Connections whose whole request is in, oldest first, answered
	 * together once the loop has run every other ready callback. */
	struct connection *ready, **ready_tail;
	struct event *burst;
};

/* Between the three files (their comments are where they are defined). */
void upnp_http_connection_free(struct connection *c);
void upnp_http_burst(evutil_socket_t fd, short what, void *arg);
void upnp_http_chained(void *arg, uint8_t proto, uint16_t port);
int upnp_http_open(struct upnp_server *s, struct link *l, char *err, size_t errlen);
void upnp_ssdp_notify_all(struct upnp_server *s, bool alive);
void upnp_ssdp_notify_fired(evutil_socket_t fd, short what, void *arg);
void upnp_ssdp_reply_fired(evutil_socket_t fd, short what, void *arg);
bool upnp_has_links(const struct upnp_server *s, int family);
int upnp_ssdp_open(struct upnp_server *s, int family, char *err, size_t errlen);

#endif
