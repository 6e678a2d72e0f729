/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operators' unix socket: portleasectl's requests (control.h) carried
 * out on the mapper. */
#ifndef PORTLEASED_CONTROL_SERVER_H
#define PORTLEASED_CONTROL_SERVER_H

#include <event2/event.h>

#include "config/config.h"
#include "daemon/mapper.h"

struct control_server;

/* Listens on cfg->control_socket, replacing a stale socket file. NULL and a
 * message in err on failure. */
struct control_server *control_server_new(struct event_base *base, const struct config *cfg,
					  struct mapper *mapper, char *err, size_t errlen);
/* The daemon's reload (SIGHUP's): 0 with what it changed in msg, or -1
 * with why the running configuration stays. */
typedef int (*control_reload_fn)(void *arg, char *msg, size_t len);
void control_server_set_reload(struct control_server *s, control_reload_fn reload, void *arg);
/* Closes the socket and removes its file. */
void control_server_free(struct control_server *s);

#endif
