/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portleasectl: the operator's tool. On the router it lists and controls
 * portleased's mappings through its control socket (control_client.c); on
 * any host it speaks PCP (RFC 6887) to a gateway, falling back to NAT-PMP
 * (RFC 6886) when the gateway answers that it only knows version 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/addr.h"
#include "ctl/control_client.h"
#include "daemon/pmp/natpmp.h"
#include "daemon/pmp/pcp.h"
#include "lib/parse.h"
#include "lib/wire.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_ANSWER 3

struct options {
	const char *gateway;  /* NULL: the IPv4 default route's */
	unsigned timeout_ms;
	uint32_t lifetime;
	uint8_t nonce[PCP_NONCE_LEN];
	bool have_nonce;
	bool prefer_failure;
	const char *third_party;
	const char *description;
	size_t nfilters;
	struct pcp_filter filters[PCP_MAX_FILTERS];
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: portleasectl [-s SOCKET] list [--json]\n"
		"       portleasectl [-s SOCKET] status [--json]\n"
		"       portleasectl [-s SOCKET] metrics\n"
		"       portleasectl [-s SOCKET] add [-F FILE] [--owner TEXT] [--purpose TEXT]\n"
		"                    [--review-by YYYY-MM-DD] tcp|udp EXTERNAL_PORT ADDRESS PORT\n"
		"                    [DESCRIPTION]\n"
		"       portleasectl [-s SOCKET] delete [-F FILE] tcp|udp EXTERNAL_PORT\n"
		"       portleasectl [-s SOCKET] delete [-F FILE] tcp|udp ADDRESS PORT\n"
		"       portleasectl [-s SOCKET] flush [CLIENT]\n"
		"       portleasectl [-s SOCKET] explain CLIENT tcp|udp INTERNAL_PORT [EXTERNAL_PORT [LIFETIME]]\n"
		"                    [--json]\n"
		"       portleasectl [-s SOCKET] reload\n"
		"       portleasectl [-s SOCKET] review [--idle DURATION] [--json]\n"
		"       portleasectl [-s SOCKET] pending [--json]\n"
		"       portleasectl [-s SOCKET] approve [--for DURATION] ID\n"
		"       portleasectl [-s SOCKET] reject ID\n"
		"       portleasectl [-s SOCKET] monitor [--json]\n"
		"       portleasectl pcp [options] map tcp|udp INTERNAL_PORT [EXTERNAL_PORT]\n"
		"       portleasectl pcp [options] delete tcp|udp|all INTERNAL_PORT\n"
		"       portleasectl pcp [options] peer tcp|udp INTERNAL_PORT REMOTE_ADDR REMOTE_PORT\n"
		"                    [EXTERNAL_PORT]\n"
		"       portleasectl pcp [options] announce\n"
		"       portleasectl pcp [options] external\n"
		"       portleasectl -V | --version\n"
		"\n"
		"On the router, as root (or a member of the control group), the first\n"
		"fourteen ask portleased through its control socket (-s, --socket; default\n"
		"/run/portleased/control.sock): list the mappings (--json for scripts), the\n"
		"daemon's status and counters, the same as Prometheus metrics, add a static\n"
		"mapping (never expires, no client can remove it; kept in the static file,\n"
		"-F, --static-file, default /etc/portleased.static, so adding needs root),\n"
		"delete one mapping (by external port, or an IPv6 pinhole by its address\n"
		"and port) whoever made it (a static one leaves the static file too), flush\n"
		"all mappings but the static ones or one client's, explain which policy\n"
		"rule would decide a request, reload the configuration file (the answer\n"
		"comes once it is applied, or says why the running one stays), review\n"
		"what needs a look (static mappings past their review_by date, mappings\n"
		"never used or idle for --idle, default 7d, devices gone from the LAN),\n"
		"and answer the requests that \"ask\" rules leave pending: approve one\n"
		"(--for how long the device's identical request succeeds, default 1d) or\n"
		"reject it (refused for an hour); and monitor the events (granted,\n"
		"refused, pending, approved, rejected, expired, deleted, conflict) as\n"
		"they happen, a line each (--json: a JSON object each), until interrupted.\n"
		"\n"
		"pcp asks the gateway for a port mapping over PCP (RFC 6887), falling back to\n"
		"NAT-PMP (RFC 6886) if the gateway only speaks that. Prints one line of\n"
		"key=value pairs.\n"
		"\n"
		"options:\n"
		"  -g, --gateway ADDR       the gateway, IPv4 or IPv6 (fe80::1%%eth0 for a\n"
		"                           link-local one); default: the IPv4 default route's.\n"
		"                           Over IPv6 the mapping is an IPv6 firewall pinhole\n"
		"  -l, --lifetime SECONDS   lifetime to ask for (default 7200; 0 for peer:\n"
		"                           delete it)\n"
		"  -n, --nonce HEX          24 hex digits: the mapping nonce. A mapping can be\n"
		"                           renewed or deleted only with the nonce that made\n"
		"                           it; without -n a random one is used and printed\n"
		"  -p, --prefer-failure     the suggested external port or nothing\n"
		"  -t, --third-party ADDR   map for another LAN host (if the policy allows)\n"
		"  -f, --filter PREFIX[:PORT]\n"
		"                           only this remote prefix (and port) may use the\n"
		"                           mapping; repeat for up to 8. IPv6 as [PREFIX]:PORT.\n"
		"                           A /0 prefix removes the mapping's filters\n"
		"  -d, --description TEXT   kept with the mapping (RFC 7220)\n"
		"  -w, --wait MS            give up after MS milliseconds (default 3000)\n"
		"  -h, --help               this help\n"
		"\n"
		"peer asks for the external address and port that this host's flow from\n"
		"INTERNAL_PORT to the remote leaves from, kept for the lifetime: where the\n"
		"gateway's NAT put a flow that exists, or else a new mapping (the suggested\n"
		"EXTERNAL_PORT if free), so that the first packet sent after the answer\n"
		"leaves from it and the remote's packets come back, whichever side sends\n"
		"first. Asking again renews it; -l 0 deletes it.\n"
		"external prints the gateway's external address (NAT-PMP opcode 0).\n"
		"exit status: 0 success, 1 refused (by the gateway or by portleased), 2 usage,\n"
		"3 no answer (no gateway, or no portleased to ask)\n");
}

/* The gateway of the IPv4 default route, from /proc/net/route. */
static bool default_gateway(struct in_addr *gw)
{
	FILE *f = fopen("/proc/net/route", "r");
	char line[256];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char ifname[64];
		unsigned dest, gateway, flags;
		if (sscanf(line, "%63s %x %x %x", ifname, &dest, &gateway, &flags) == 4 &&
		    dest == 0 && (flags & 0x2)) {
			gw->s_addr = gateway;  /* already in network order */
			found = true;
		}
	}
	fclose(f);
	return found;
}

static bool parse_nonce(const char *hex, uint8_t nonce[PCP_NONCE_LEN])
{
	if (strlen(hex) != 2 * PCP_NONCE_LEN)
		return false;
	for (int i = 0; i < PCP_NONCE_LEN; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		nonce[i] = (uint8_t)v;
	}
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Sends the request and retransmits it (250 ms, doubling) until an answer
 * comes or the wait is over. Returns the answer's length, 0 on timeout, -1
 * on a socket error.
 */
static ssize_t exchange(int fd, const uint8_t *req, size_t len, uint8_t *resp, size_t cap,
			unsigned wait_ms)
{
	uint64_t deadline = now_ms() + wait_ms;
	unsigned interval = 250;

	for (;;) {
		uint64_t now = now_ms(), until;
		if (now >= deadline)
			return 0;
		if (send(fd, req, len, 0) < 0)
			return -1;
		until = now + interval < deadline ? now + interval : deadline;
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int left = (int)(until - now_ms());
			ssize_t n;

			if (left <= 0)
				break;
			if (poll(&pfd, 1, left) <= 0)
				break;
			n = recv(fd, resp, cap, 0);
			if (n >= 2)
				return n;  /* the socket is connected: only the gateway */
		}
		interval *= 2;
	}
}

static void print_nonce(const uint8_t nonce[PCP_NONCE_LEN])
{
	printf(" nonce=");
	for (int i = 0; i < PCP_NONCE_LEN; i++)
		printf("%02x", nonce[i]);
}

/* NAT-PMP, for a gateway that does not speak PCP. */
static int natpmp_fallback(int fd, const struct options *o, uint8_t proto, uint16_t iport,
			   uint16_t eport, uint32_t lifetime)
{
	uint8_t req[12], resp[64];
	struct natpmp_response r;
	ssize_t n;

	natpmp_build_map_request(req, sizeof(req),
				 proto == IPPROTO_TCP ? NATPMP_OP_MAP_TCP : NATPMP_OP_MAP_UDP, iport,
				 eport, lifetime);
	n = exchange(fd, req, sizeof(req), resp, sizeof(resp), o->timeout_ms);
	if (n < 0 || natpmp_parse_response(resp, (size_t)n, &r) < 0 || r.opcode != req[1]) {
		printf("result=NO_ANSWER protocol=natpmp\n");
		return EXIT_NO_ANSWER;
	}
	printf("result=%s protocol=natpmp internal=%u external_port=%u lifetime=%u\n",
	       natpmp_result_name(r.result), r.internal_port, r.external_port, r.lifetime);
	return r.result == NATPMP_SUCCESS ? 0 : EXIT_REFUSED;
}

static int external_address(int fd, const struct options *o)
{
	const uint8_t req[2] = { 0, NATPMP_OP_EXTERNAL_ADDRESS };
	uint8_t resp[64];
	char text[INET_ADDRSTRLEN];
	struct natpmp_response r;
	ssize_t n = exchange(fd, req, sizeof(req), resp, sizeof(resp), o->timeout_ms);

	if (n < 0 || natpmp_parse_response(resp, (size_t)n, &r) < 0 ||
	    r.opcode != NATPMP_OP_EXTERNAL_ADDRESS) {
		printf("result=NO_ANSWER\n");
		return EXIT_NO_ANSWER;
	}
	inet_ntop(AF_INET, &r.external, text, sizeof(text));
	printf("result=%s external=%s\n", natpmp_result_name(r.result), text);
	return r.result == NATPMP_SUCCESS ? 0 : EXIT_REFUSED;
}

/* tcp, udp, or (allow_all) "all" as 0. */
static bool parse_proto_or_all(const char *text, uint8_t *proto, bool allow_all)
{
	if (allow_all && strcmp(text, "all") == 0) {
		*proto = 0;
		return true;
	}
	return parse_proto(text, proto);
}

/* "203.0.113.0/24", "203.0.113.9:443", "[2001:db8::/32]:443". */
static bool parse_filter(const char *text, struct pcp_filter *f)
{
	char prefix[ADDR_STRLEN];
	const char *port = NULL;
	struct addr_prefix p;
	size_t len;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || (close[1] != '\0' && close[1] != ':'))
			return false;
		len = (size_t)(close - text - 1);
		text++;
		if (close[1] == ':')
			port = close + 2;
	} else {
		const char *colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;  /* a bare IPv6 prefix */
		len = colon ? (size_t)(colon - text) : strlen(text);
		if (colon)
			port = colon + 1;
	}
	if (len >= sizeof(prefix))
		return false;
	memcpy(prefix, text, len);
	prefix[len] = '\0';
	if (!addr_parse_prefix(prefix, &p))
		return false;
	*f = (struct pcp_filter){ .prefix_len = p.len, .remote_addr = p.net };
	return !port || parse_port_or_zero(port, &f->remote_port);
}

/* The gateway's address (IPv4, or IPv6 with an optional %zone). */
static bool resolve_gateway(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[ADDR_STRLEN];
	const char *zone = strchr(text, '%');
	size_t hostlen = zone ? (size_t)(zone - text) : strlen(text);

	memset(ss, 0, sizeof(*ss));
	if (hostlen >= sizeof(host))
		return false;
	memcpy(host, text, hostlen);
	host[hostlen] = '\0';
	if (!zone && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(PCP_SERVER_PORT);
		*len = sizeof(*sin);
		return true;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return false;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(PCP_SERVER_PORT);
	if (zone && (sin6->sin6_scope_id = if_nametoindex(zone + 1)) == 0)
		return false;
	*len = sizeof(*sin6);
	return true;
}

/* Our address as the gateway sees it, in the form PCP carries. */
static struct in6_addr own_address(const struct sockaddr_storage *self)
{
	if (self->ss_family == AF_INET)
		return addr_from_v4(((const struct sockaddr_in *)self)->sin_addr);
	return ((const struct sockaddr_in6 *)self)->sin6_addr;
}

static int pcp_command(struct options *o, int argc, char **argv)
{
	struct sockaddr_storage gw, self;
	socklen_t gwlen, selflen = sizeof(self);
	char gwtext[ADDR_STRLEN];
	struct pcp_request rq = { 0 };
	struct pcp_response resp;
	uint8_t wire[PCP_MAX_PACKET], answer[PCP_MAX_PACKET];
	const char *verb = argv[0];
	char text[ADDR_STRLEN];
	size_t len;
	ssize_t n;
	int fd;

	if (!o->gateway) {
		struct in_addr v4;
		if (!default_gateway(&v4)) {
			fprintf(stderr, "portleasectl: no default route; name the gateway with -g\n");
			return EXIT_USAGE;
		}
		inet_ntop(AF_INET, &v4, gwtext, sizeof(gwtext));
		o->gateway = gwtext;
	}
	if (!resolve_gateway(o->gateway, &gw, &gwlen)) {
		fprintf(stderr, "portleasectl: '%s' is not an IPv4 or IPv6 address\n", o->gateway);
		return EXIT_USAGE;
	}
	fd = socket(gw.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&gw, gwlen) < 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &selflen) < 0) {
		fprintf(stderr, "portleasectl: cannot reach %s: %s\n", o->gateway, strerror(errno));
		return EXIT_USAGE;
	}

	if (strcmp(verb, "external") == 0 && argc == 1)
		return external_address(fd, o);

	/* The header carries our own address as the gateway will see it. */
	rq.client_addr = own_address(&self);
	if (strcmp(verb, "announce") == 0 && argc == 1) {
		rq.opcode = PCP_OP_ANNOUNCE;
	} else if ((strcmp(verb, "map") == 0 && (argc == 3 || argc == 4)) ||
		   (strcmp(verb, "delete") == 0 && argc == 3)) {
		bool map = verb[0] == 'm';
		if (map && o->lifetime == 0) {
			fprintf(stderr, "portleasectl: a mapping lives 1 second or more "
					"(delete removes one)\n");
			return EXIT_USAGE;
		}
		rq.opcode = PCP_OP_MAP;
		rq.lifetime = map ? o->lifetime : 0;
		if (!parse_proto_or_all(argv[1], &rq.protocol, !map) ||
		    !parse_port_or_zero(argv[2], &rq.internal_port) ||
		    (argc == 4 && !parse_port_or_zero(argv[3], &rq.suggested_external_port))) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (!map && !o->have_nonce) {
			fprintf(stderr, "portleasectl: delete needs the mapping's nonce (-n)\n");
			return EXIT_USAGE;
		}
		if (gw.ss_family == AF_INET)
			rq.suggested_external_addr = addr_from_v4((struct in_addr){ 0 });
		memcpy(rq.nonce, o->nonce, PCP_NONCE_LEN);
		rq.prefer_failure = o->prefer_failure;
		if (o->third_party) {
			if (!parse_address(o->third_party, &rq.third_party_addr)) {
				fprintf(stderr, "portleasectl: '%s' is not an address\n",
					o->third_party);
				return EXIT_USAGE;
			}
			rq.has_third_party = true;
		}
		rq.filter_count = o->nfilters;
		memcpy(rq.filters, o->filters, sizeof(rq.filters));
		if (o->description) {
			rq.has_description = true;
			snprintf(rq.description, sizeof(rq.description), "%s", o->description);
		}
	} else if (strcmp(verb, "peer") == 0 && (argc == 5 || argc == 6)) {
		rq.opcode = PCP_OP_PEER;
		rq.lifetime = o->lifetime;
		if (!parse_proto(argv[1], &rq.protocol) ||
		    !parse_port_or_zero(argv[2], &rq.internal_port) ||
		    !parse_address(argv[3], &rq.remote_addr) ||
		    !parse_port_or_zero(argv[4], &rq.remote_port) ||
		    (argc == 6 && !parse_port_or_zero(argv[5], &rq.suggested_external_port))) {
			usage(stderr);
			return EXIT_USAGE;
		}
		if (gw.ss_family == AF_INET)
			rq.suggested_external_addr = addr_from_v4((struct in_addr){ 0 });
		memcpy(rq.nonce, o->nonce, PCP_NONCE_LEN);
	} else {
		usage(stderr);
		return EXIT_USAGE;
	}

	len = pcp_build_request(wire, sizeof(wire), &rq);
	n = exchange(fd, wire, len, answer, sizeof(answer), o->timeout_ms);
	if (n <= 0) {
		printf("result=NO_ANSWER\n");
		return EXIT_NO_ANSWER;
	}
	if (answer[0] == NATPMP_VERSION && n >= 4 && answer[3] == NATPMP_UNSUPP_VERSION) {
		if (rq.opcode != PCP_OP_MAP || rq.protocol == 0) {
			printf("result=UNSUPP_VERSION protocol=natpmp\n");
			return EXIT_REFUSED;
		}
		return natpmp_fallback(fd, o, rq.protocol, rq.internal_port,
				       rq.suggested_external_port, rq.lifetime);
	}
	/* RFC 6887 §11.4: an answer for another nonce is not ours. */
	if (pcp_parse_response(answer, (size_t)n, &resp) < 0 || resp.opcode != rq.opcode ||
	    (rq.opcode != PCP_OP_ANNOUNCE && memcmp(resp.nonce, rq.nonce, PCP_NONCE_LEN) != 0)) {
		printf("result=BAD_ANSWER\n");
		return EXIT_NO_ANSWER;
	}
	printf("result=%s lifetime=%u epoch=%u", pcp_result_name(resp.result), resp.lifetime,
	       resp.epoch);
	if (rq.opcode == PCP_OP_MAP || rq.opcode == PCP_OP_PEER) {
		bool v6 = !addr_is_v4(&resp.assigned_external_addr);
		printf(" internal=%u external=%s%s%s:%u", resp.internal_port, v6 ? "[" : "",
		       addr_format(&resp.assigned_external_addr, text), v6 ? "]" : "",
		       resp.assigned_external_port);
		print_nonce(resp.nonce);
	}
	printf("\n");
	close(fd);
	return resp.result == PCP_SUCCESS ? 0 : EXIT_REFUSED;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "gateway", required_argument, NULL, 'g' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "prefer-failure", no_argument, NULL, 'p' },
		{ "third-party", required_argument, NULL, 't' },
		{ "filter", required_argument, NULL, 'f' },
		{ "description", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { .timeout_ms = 3000, .lifetime = 7200 };
	int opt;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("portleasectl %s\n", PORTLEASED_VERSION);
		return 0;
	}
	if (argc >= 2 && control_is_command(argv[1]))
		return control_main(argc - 1, argv + 1, usage);
	/* -s SOCKET before the command */
	if (argc >= 4 && (strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "--socket") == 0) &&
	    control_is_command(argv[3])) {
		char *args[64];
		int n = 0;

		for (int i = 3; i < argc && n < 61; i++)
			args[n++] = argv[i];
		args[n++] = "-s";
		args[n++] = argv[2];
		args[n] = NULL;
		return control_main(n, args, usage);
	}
	if (argc < 2 || strcmp(argv[1], "pcp") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	while ((opt = getopt_long(argc, argv, "+g:l:n:pt:f:d:w:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'g': o.gateway = optarg; break;
		case 'l': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v > UINT32_MAX) {
				fprintf(stderr, "portleasectl: the lifetime is 0 to %u seconds\n",
					UINT32_MAX);
				return EXIT_USAGE;
			}
			o.lifetime = (uint32_t)v;
			break;
		}
		case 'n':
			if (!parse_nonce(optarg, o.nonce)) {
				fprintf(stderr, "portleasectl: the nonce is %d hex digits\n",
					2 * PCP_NONCE_LEN);
				return EXIT_USAGE;
			}
			o.have_nonce = true;
			break;
		case 'p': o.prefer_failure = true; break;
		case 't': o.third_party = optarg; break;
		case 'f':
			if (o.nfilters == PCP_MAX_FILTERS || !parse_filter(optarg, &o.filters[o.nfilters])) {
				fprintf(stderr, "portleasectl: '%s' is not PREFIX[:PORT] (at most %d)\n",
					optarg, PCP_MAX_FILTERS);
				return EXIT_USAGE;
			}
			o.nfilters++;
			break;
		case 'd': o.description = optarg; break;
		case 'w': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v == 0 || v > 600000) {
				fprintf(stderr, "portleasectl: the wait is 1 to 600000 ms\n");
				return EXIT_USAGE;
			}
			o.timeout_ms = (unsigned)v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!o.have_nonce && getrandom(o.nonce, sizeof(o.nonce), 0) != sizeof(o.nonce)) {
		fprintf(stderr, "portleasectl: no randomness for a nonce\n");
		return EXIT_USAGE;
	}
	return pcp_command(&o, argc - optind, argv + optind);
}
