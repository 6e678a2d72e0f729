/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/metrics.h"

#include <inttypes.h>

void metrics_count_request(struct metrics_counters *c, enum metrics_protocol p, bool answered,
			   bool success)
{
	c->requests[p]++;
	if (answered && success)
		c->successes[p]++;
	else if (answered)
		c->errors[p]++;
}

const char *metrics_protocol_name(enum metrics_protocol p)
{
	static const char *const names[] = { "natpmp", "pcp", "upnp" };

	return (size_t)p < METRICS_PROTOCOLS ? names[p] : "?";
}

const char *metrics_event_name(enum metrics_event e)
{
	static const char *const names[] = { "granted", "refreshed", "refused", "expired",
					     "deleted" };

	return (size_t)e < METRICS_EVENTS ? names[e] : "?";
}

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The mapping service beyond our external interface (double NAT): its
 * state, protocol, address and ours there, and its epoch. */
static void format_upstream(struct evbuffer *out, const struct upstream_status *u)
{
	char server[ADDR_STRLEN] = "", ext[ADDR_STRLEN] = "";
	struct in6_addr a;

	family(out, "portleased_upstream_info", "gauge",
	       "The mapping service upstream (behind another NAT): state off, searching, found "
	       "or none; when found, its protocol and the external address it maps us to.");
	if (u->has_server) {
		a = addr_from_v4(u->server);
		addr_format(&a, server);
	}
	if (u->state == UPSTREAM_FOUND && u->has_external) {
		a = addr_from_v4(u->external);
		addr_format(&a, ext);
	}
	evbuffer_add_printf(out, "portleased_upstream_info{state=\"%s\",protocol=\"%s\","
			    "server=\"%s\",external_address=\"%s\"} 1\n",
			    upstream_state_name(u->state),
			    u->state == UPSTREAM_FOUND ? upstream_protocol_name(u->protocol) : "",
			    server, ext);
	family(out, "portleased_upstream_epoch_seconds", "gauge",
	       "The upstream's NAT-PMP/PCP epoch, as it last said (absent: none found, or a "
	       "UPnP IGD, which has none).");
	if (u->state == UPSTREAM_FOUND && u->has_epoch)
		evbuffer_add_printf(out, "portleased_upstream_epoch_seconds %u\n", u->epoch);
}

void metrics_format(struct evbuffer *out, const struct daemon_status *st)
{
	const struct metrics_counters *c = &st->counters;
	char ext[ADDR_STRLEN];

	family(out, "portleased_build_info", "gauge", "The running portleased's version.");
	/* Our own version string: digits and dots, nothing to escape. */
	evbuffer_add_printf(out, "portleased_build_info{version=\"%s\"} 1\n", st->version);
	/* Start times, not ages: Prometheus computes ages itself, and a
	 * restart shows as a step. */
	family(out, "portleased_start_time_seconds", "gauge",
	       "When portleased started, in seconds since 1970.");
	evbuffer_add_printf(out, "portleased_start_time_seconds %" PRId64 "\n", st->start_time);
	family(out, "portleased_epoch_start_time_seconds", "gauge",
	       "When the NAT-PMP/PCP epoch began, in seconds since 1970 (carried across a clean "
	       "restart).");
	evbuffer_add_printf(out, "portleased_epoch_start_time_seconds %" PRId64 "\n",
			    st->epoch_start_time);
	family(out, "portleased_external_address_info", "gauge",
	       "The external IPv4 address mappings are reached on (absent: none known).");
	if (st->has_external_address)
		evbuffer_add_printf(out, "portleased_external_address_info{address=\"%s\"} 1\n",
				    addr_format(&st->external_address, ext));
	format_upstream(out, &st->upstream);

	family(out, "portleased_leases", "gauge",
	       "Mappings held, by the protocol or operator that made them.");
	for (size_t o = 0; o < LEASE_ORIGINS; o++)
		evbuffer_add_printf(out, "portleased_leases{origin=\"%s\"} %zu\n",
				    lease_origin_name((enum lease_origin)o), st->by_origin[o]);
	family(out, "portleased_leases_max", "gauge", "The lease table's size (max_leases).");
	evbuffer_add_printf(out, "portleased_leases_max %zu\n", st->capacity);
	family(out, "portleased_pinholes", "gauge", "IPv6 firewall pinholes among the leases.");
	evbuffer_add_printf(out, "portleased_pinholes %zu\n", st->pinholes);
	family(out, "portleased_pending_requests", "gauge",
	       "Requests waiting for the operator's approval.");
	evbuffer_add_printf(out, "portleased_pending_requests %zu\n", st->pending);

	family(out, "portleased_requests_total", "counter",
	       "Requests received from LAN hosts (UPnP: SOAP control requests).");
	for (size_t p = 0; p < METRICS_PROTOCOLS; p++)
		evbuffer_add_printf(out, "portleased_requests_total{protocol=\"%s\"} %" PRIu64 "\n",
				    metrics_protocol_name((enum metrics_protocol)p), c->requests[p]);
	family(out, "portleased_responses_total", "counter",
	       "Requests answered, by result; the rest were dropped unanswered.");
	for (size_t p = 0; p < METRICS_PROTOCOLS; p++) {
		const char *name = metrics_protocol_name((enum metrics_protocol)p);

		evbuffer_add_printf(out,
				    "portleased_responses_total{protocol=\"%s\",result=\"success\"} %" PRIu64
				    "\n"
				    "portleased_responses_total{protocol=\"%s\",result=\"error\"} %" PRIu64
				    "\n",
				    name, c->successes[p], name, c->errors[p]);
	}
	family(out, "portleased_mapping_events_total", "counter",
	       "Decisions about mappings, as in the audit log, by the origin of the request.");
	for (size_t e = 0; e < METRICS_EVENTS; e++)
		for (size_t o = 0; o < LEASE_ORIGINS; o++)
			evbuffer_add_printf(out,
					    "portleased_mapping_events_total{event=\"%s\",origin=\"%s\"} %" PRIu64
					    "\n",
					    metrics_event_name((enum metrics_event)e),
					    lease_origin_name((enum lease_origin)o), c->events[e][o]);
	family(out, "portleased_rate_limited_total", "counter",
	       "Requests refused because their host asked faster than client_request_rate.");
	evbuffer_add_printf(out, "portleased_rate_limited_total %" PRIu64 "\n", c->rate_limited);
	family(out, "portleased_receive_dropped_total", "counter",
	       "NAT-PMP and PCP datagrams the kernel dropped unread: their socket's queue was full.");
	evbuffer_add_printf(out, "portleased_receive_dropped_total %" PRIu64 "\n",
			    c->receive_dropped);
	family(out, "portleased_reloads_total", "counter",
	       "Configuration reloads (SIGHUP, portleasectl reload), by outcome.");
	evbuffer_add_printf(out,
			    "portleased_reloads_total{result=\"applied\"} %" PRIu64 "\n"
			    "portleased_reloads_total{result=\"refused\"} %" PRIu64 "\n",
			    c->reloads[0], c->reloads[1]);
	family(out, "portleased_nftables_errors_total", "counter",
	       "Changes to nftables the kernel refused (each also logged).");
	evbuffer_add_printf(out, "portleased_nftables_errors_total %" PRIu64 "\n",
			    c->nftables_errors);
	family(out, "portleased_lease_file_errors_total", "counter",
	       "Writes of the lease file that failed (each also logged).");
	evbuffer_add_printf(out, "portleased_lease_file_errors_total %" PRIu64 "\n",
			    c->lease_file_errors);
	family(out, "portleased_idle_expired_total", "counter",
	       "Mappings removed because no inbound connection used them for their rule's "
	       "idle_timeout (also in expired).");
	evbuffer_add_printf(out, "portleased_idle_expired_total %" PRIu64 "\n", c->idle_expired);
	family(out, "portleased_inbound_limited_total", "counter",
	       "New inbound connections the policy's inbound limits dropped, counted by the "
	       "kernel since portleased made its table.");
	evbuffer_add_printf(out, "portleased_inbound_limited_total %" PRIu64 "\n",
			    st->inbound_limited);
	family(out, "portleased_pending_requests_total", "counter",
	       "Requests an \"ask\" rule left pending for the operator.");
	evbuffer_add_printf(out, "portleased_pending_requests_total %" PRIu64 "\n",
			    c->pending_requests);
	family(out, "portleased_approvals_total", "counter",
	       "The operator's answers to pending requests.");
	evbuffer_add_printf(out,
			    "portleased_approvals_total{decision=\"approved\"} %" PRIu64 "\n"
			    "portleased_approvals_total{decision=\"rejected\"} %" PRIu64 "\n",
			    c->approved, c->rejected);
	family(out, "portleased_on_event_runs_total", "counter",
	       "Runs of on_event's command, by outcome; \"not_run\": events over its "
	       "per_minute or while it was busy.");
	evbuffer_add_printf(out,
			    "portleased_on_event_runs_total{outcome=\"started\"} %" PRIu64 "\n"
			    "portleased_on_event_runs_total{outcome=\"failed\"} %" PRIu64 "\n"
			    "portleased_on_event_runs_total{outcome=\"not_run\"} %" PRIu64 "\n",
			    c->on_event_runs, c->on_event_failures, c->on_event_dropped);
}
