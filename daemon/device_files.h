/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The DHCP servers' lease files that name the LAN's devices
 * (device_names.h), followed: a timer looks at them every
 * DEVICE_FILES_CHECK_MS and reads them all again when one has changed
 * (a server rewrites its file by rename, or appends to it). Names are
 * looked up between two checks, so a name a lookup returned stays valid
 * until the callback that asked for it returns. */
#ifndef PORTLEASED_DEVICE_FILES_H
#define PORTLEASED_DEVICE_FILES_H

#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/host.h"

#define DEVICE_FILES_CHECK_MS 2000
/* A lease file is read up to this size (a warning says when it is cut). */
#define DEVICE_FILE_MAX_BYTES (4u << 20)

struct device_files;

/* Reads the files cfg names at once. NULL when memory is short. */
struct device_files *device_files_new(struct event_base *base, const struct config *cfg);
void device_files_free(struct device_files *f);
/* The files of a reloaded configuration, read at once. */
void device_files_configure(struct device_files *f, const struct config *cfg);

/* The name of the device with this link-layer address (if mac is not
 * NULL) or, failing that, with this address; NULL when no lease names it. */
const char *device_files_name(const struct device_files *f, const uint8_t *mac,
			      const struct in6_addr *addr);

#endif
