/* SPDX-License-Identifier: GPL-2.0-or-later */
/* NAT-PMP requests answered through the mapper: the glue between the codec
 * (natpmp.c) and the lease table. */
#ifndef PORTLEASED_NATPMP_ANSWER_H
#define PORTLEASED_NATPMP_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/mapper.h"

/* One request in, one response out (length 0: send nothing). client is
 * the source address, already checked to be on a LAN link. */
size_t natpmp_answer(struct mapper *mapper, const struct in6_addr *client, const uint8_t *req,
		     size_t len, uint8_t *resp, size_t cap);

#endif
