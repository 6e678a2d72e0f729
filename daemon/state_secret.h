/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Random bytes made once and kept beside the lease file, the state
 * portleased keeps across restarts anyway: identities and secrets that
 * must survive a restart (the UPnP device's identity, the PCP nonces of
 * mappings upstream). Readable by portleased's user only. */
#ifndef PORTLEASED_STATE_SECRET_H
#define PORTLEASED_STATE_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Fills out[n] (n at most 64) with the bytes kept in the file name beside
 * cfg->lease_file, one line of hexadecimal; made at random and kept if it
 * is missing or not that. Returns false when they cannot be kept (no
 * lease file, or the write failed; logged): new for this run only. */
bool state_secret(const struct config *cfg, const char *name, uint8_t *out, size_t n);

#endif
