/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Prometheus metrics over HTTP: GET /metrics on the address and port of the
 * config's metrics.listen, for hosts of the router itself or of its LAN
 * links only. */
#ifndef PORTLEASED_METRICS_SERVER_H
#define PORTLEASED_METRICS_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "config/config.h"
#include "daemon/mapper.h"

struct metrics_server;

/* NULL and a message in err when the address is neither loopback nor one of
 * a LAN interface's, or cannot be bound. */
struct metrics_server *metrics_server_new(struct event_base *base, const struct config *cfg,
					  struct mapper *mapper, char *err, size_t errlen);
void metrics_server_free(struct metrics_server *s);

#endif
