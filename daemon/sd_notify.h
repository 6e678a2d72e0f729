/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Telling systemd how we are (Type=notify), without libsystemd: one
 * datagram to $NOTIFY_SOCKET. Nothing happens when it is not set. */
#ifndef PORTLEASED_SD_NOTIFY_H
#define PORTLEASED_SD_NOTIFY_H

/* state: "READY=1", "RELOADING=1", "STOPPING=1", "STATUS=..." */
void sd_notify_state(const char *state);

#endif
