/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCP requests answered through the mapper: the glue between the codec
 * (pcp.c) and the lease table. */
#ifndef PORTLEASED_PCP_ANSWER_H
#define PORTLEASED_PCP_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "daemon/mapper.h"

/* One request in, one response out (length 0: send nothing). source is the
 * packet's source address, already checked to be on the LAN link lan; a
 * THIRD_PARTY address must be on that link too. */
size_t pcp_answer(struct mapper *mapper, const struct in6_addr *source,
		  const struct addr_prefix *lan, const uint8_t *req, size_t len, uint8_t *resp,
		  size_t cap);

#endif
