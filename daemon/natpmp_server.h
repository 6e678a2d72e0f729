/* NAT-PMP on UDP 5351 of the LAN addresses: sockets and the glue from the
 * codec (natpmp.c) to the mapper. */
#ifndef PORTLEASED_NATPMP_SERVER_H
#define PORTLEASED_NATPMP_SERVER_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "mapper.h"

struct natpmp_server;

/* Binds one socket per IPv4 address of each LAN interface. NULL and a
 * message in err if no address could be bound. */
struct natpmp_server *natpmp_server_new(struct event_base *base, const struct config *cfg,
					struct mapper *mapper, char *err, size_t errlen);
void natpmp_server_free(struct natpmp_server *s);

/* One request in, one response out (length 0: send nothing). client is
 * the source address, already checked to be on a LAN link. */
size_t natpmp_answer(struct mapper *mapper, const struct in6_addr *client, const uint8_t *req,
		     size_t len, uint8_t *resp, size_t cap);

#endif
