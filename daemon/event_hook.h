/* SPDX-License-Identifier: GPL-2.0-or-later */
/* on_event: the operator's command, run for the events the config chose,
 * each event's fields in its environment (PORTLEASED_EVENT,
 * PORTLEASED_PROTOCOL, ...), so that a mapping can reach a chat message,
 * a mail or a push. Never in the way of answers: the command is spawned
 * (no shell) and not waited for; at most EVENT_HOOK_RUNNING run at once,
 * each killed after EVENT_HOOK_TIMEOUT_MS; runs beyond the config's
 * per_minute, or while all are busy, are counted, and said once a minute. */
#ifndef PORTLEASED_EVENT_HOOK_H
#define PORTLEASED_EVENT_HOOK_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "daemon/metrics.h"

#define EVENT_HOOK_RUNNING 8
#define EVENT_HOOK_TIMEOUT_MS 10000

struct audit_record;
struct event_hook;

/* Follows cfg's on_event (none: does nothing); counts into metrics. */
struct event_hook *event_hook_new(struct event_base *base, const struct config *cfg,
				  struct metrics_counters *metrics);
void event_hook_free(struct event_hook *h);
/* A reloaded configuration's on_event. */
void event_hook_configure(struct event_hook *h, const struct config *cfg);
/* An event (mapper_event_fn). */
void event_hook_on_event(void *arg, const struct audit_record *r);

/* The environment for r at now (Unix seconds): "KEY=value" strings into
 * env (at most max - 1, then NULL), their text in buf. Pure, for tests. */
size_t event_hook_environment(const struct audit_record *r, int64_t now, char *buf, size_t cap,
			      char **env, size_t max);

#endif
