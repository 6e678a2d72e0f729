/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Telling systemd how we are (Type=notify), without libsystemd: one
 * datagram to $NOTIFY_SOCKET. Nothing happens when it is not set. */
#ifndef PORTLEASED_SD_NOTIFY_H
#define PORTLEASED_SD_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

/* state: "READY=1", "RELOADING=1", "STOPPING=1", "WATCHDOG=1",
 * "STATUS=..." */
void sd_notify_state(const char *state);
/* Whether there is a service manager to tell. */
bool sd_notify_wanted(void);
/* The watchdog interval the service manager asks of this process
 * (WatchdogSec=, through WATCHDOG_USEC and WATCHDOG_PID), in
 * microseconds; 0 for none. */
uint64_t sd_watchdog_usec(void);

#endif
