/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/event_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/audit.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/text.h"

#define POLL_MS 25  /* while commands run: a slot comes free soon after */
#define ENV_MAX 24
#define ENV_BYTES 2048

struct child {
	pid_t pid;       /* 0: a free slot */
	uint64_t started_ms;
};

struct event_hook {
	struct event *poll_timer;
	struct event *tell_timer;  /* once a minute: what was not run */
	struct metrics_counters *metrics;
	char command[CONFIG_COMMAND_MAX + 1];
	uint32_t mask, per_minute;
	double tokens;
	uint64_t refilled_ms;
	uint64_t not_run;          /* since it was last said */
	struct child running[EVENT_HOOK_RUNNING];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void arm(struct event *ev, unsigned ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

struct env_writer {
	char *buf;
	size_t cap, used;
	char **env;
	size_t max, n;
};

static void put(struct env_writer *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put(struct env_writer *w, const char *key, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (w->n + 1 >= w->max || w->used >= w->cap)
		return;
	len = snprintf(w->buf + w->used, w->cap - w->used, "PORTLEASED_%s=", key);
	if (len < 0 || (size_t)len >= w->cap - w->used)
		return;
	va_start(ap, fmt);
	int vlen = vsnprintf(w->buf + w->used + len, w->cap - w->used - (size_t)len, fmt, ap);
	va_end(ap);
	if (vlen < 0 || (size_t)(len + vlen) >= w->cap - w->used)
		return;  /* cut: left out rather than half there */
	w->env[w->n++] = w->buf + w->used;
	w->used += (size_t)(len + vlen) + 1;
}

size_t event_hook_environment(const struct audit_record *r, int64_t now, char *buf, size_t cap,
			      char **env, size_t max)
{
	struct env_writer w = { buf, cap, 0, env, max, 0 };
	char addr[ADDR_STRLEN], mac[HOST_ID_STRLEN];
	char text[TEXT_ESCAPED_MAX(LEASE_DESCRIPTION_MAX)];

	put(&w, "EVENT", "%s", r->event);
	put(&w, "TIME", "%lld", (long long)now);
	if (r->origin)
		put(&w, "ORIGIN", "%s", r->origin);
	put(&w, "PROTOCOL", "%s", proto_name(r->proto));
	if (!IN6_IS_ADDR_UNSPECIFIED(&r->client))
		put(&w, "CLIENT", "%s", addr_format(&r->client, addr));
	put(&w, "INTERNAL_ADDRESS", "%s", addr_format(&r->internal_addr, addr));
	put(&w, "INTERNAL_PORT", "%u", r->internal_port);
	if (r->has_external_port)
		put(&w, "EXTERNAL_PORT", "%u", r->external_port);
	if (r->lifetime)
		put(&w, "LIFETIME", "%u", r->lifetime);
	if (r->rule_line)
		put(&w, "RULE_LINE", "%u", r->rule_line);
	if (r->approval_id)
		put(&w, "ID", "%u", r->approval_id);
	if (r->by)
		put(&w, "BY", "%s", r->by);
	if (r->reason)
		put(&w, "REASON", "%s", r->reason);
	if (r->result)
		put(&w, "RESULT", "%s", r->result);
	if (r->device.has_mac)
		put(&w, "MAC", "%s", mac_format(r->device.mac, mac));
	if (r->device.name)
		put(&w, "DEVICE", "%s", r->device.name);
	if (r->description && *r->description) {
		/* The client's words: no control character reaches the command. */
		text_escape(text, sizeof(text), r->description, false);
		put(&w, "DESCRIPTION", "%s", text);
	}
	/* Enough to run a command found by its absolute path. */
	if (w.n + 1 < w.max && w.used + sizeof("PATH=/usr/sbin:/usr/bin:/sbin:/bin") <= w.cap) {
		w.env[w.n++] = strcpy(w.buf + w.used, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
		w.used += sizeof("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	}
	w.env[w.n] = NULL;
	return w.n;
}

/* Finished children reaped (each by its pid: the lease file's writer is
 * another's to wait for), hung ones killed. */
static void poll_children(evutil_socket_t fd, short what, void *arg)
{
	struct event_hook *h = arg;
	uint64_t now = now_ms();
	bool any = false;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < EVENT_HOOK_RUNNING; i++) {
		struct child *c = &h->running[i];
		int status;
		pid_t done;

		if (!c->pid)
			continue;
		done = waitpid(c->pid, &status, WNOHANG);
		if (done == c->pid || (done < 0 && errno == ECHILD)) {
			if (done == c->pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
				h->metrics->on_event_failures++;
				log_warnx("on_event: %s %s %d", h->command,
					  WIFEXITED(status) ? "exited with status" : "killed by signal",
					  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			}
			c->pid = 0;
			continue;
		}
		if (now - c->started_ms >= EVENT_HOOK_TIMEOUT_MS) {
			kill(c->pid, SIGKILL);
			log_warnx("on_event: %s ran for %d s: killed", h->command,
				  EVENT_HOOK_TIMEOUT_MS / 1000);
			/* Reaped at the next poll, counted then as a failure. */
		}
		any = true;
	}
	if (any)
		arm(h->poll_timer, POLL_MS);
}

static void tell_not_run(evutil_socket_t fd, short what, void *arg)
{
	struct event_hook *h = arg;

	(void)fd;
	(void)what;
	if (!h->not_run)
		return;
	log_warnx("on_event: %llu event(s) in the last minute not passed to %s (per_minute %u, "
		  "at most %d at once)", (unsigned long long)h->not_run, h->command, h->per_minute,
		  EVENT_HOOK_RUNNING);
	h->not_run = 0;
}

static void not_run(struct event_hook *h)
{
	h->metrics->on_event_dropped++;
	if (h->not_run++ == 0)
		arm(h->tell_timer, 60000);
}

static bool take_token(struct event_hook *h, uint64_t now)
{
	h->tokens += (double)(now - h->refilled_ms) * h->per_minute / 60000.0;
	if (h->tokens > h->per_minute)
		h->tokens = h->per_minute;
	h->refilled_ms = now;
	if (h->tokens < 1)
		return false;
	h->tokens -= 1;
	return true;
}

void event_hook_on_event(void *arg, const struct audit_record *r)
{
	struct event_hook *h = arg;
	char buf[ENV_BYTES], *env[ENV_MAX];
	char *argv[] = { h->command, NULL };
	posix_spawn_file_actions_t actions;
	struct child *slot = NULL;
	uint64_t now = now_ms();
	int ev = config_event_of(r->event), rc;
	pid_t pid;

	if (!h->command[0] || ev < 0 || !(h->mask & (1u << ev)))
		return;
	for (size_t i = 0; i < EVENT_HOOK_RUNNING && !slot; i++)
		if (!h->running[i].pid)
			slot = &h->running[i];
	if (!slot || !take_token(h, now)) {
		not_run(h);
		return;
	}
	event_hook_environment(r, (int64_t)time(NULL), buf, sizeof(buf), env, ENV_MAX);
	if (posix_spawn_file_actions_init(&actions) != 0) {
		not_run(h);
		return;
	}
	/* Nothing to read: the command gets no stdin of ours. */
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	rc = posix_spawn(&pid, h->command, &actions, NULL, argv, env);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		h->metrics->on_event_failures++;
		log_warnx("on_event: cannot run %s: %s", h->command, strerror(rc));
		return;
	}
	h->metrics->on_event_runs++;
	*slot = (struct child){ .pid = pid, .started_ms = now };
	if (!evtimer_pending(h->poll_timer, NULL))
		arm(h->poll_timer, POLL_MS);
}

void event_hook_configure(struct event_hook *h, const struct config *cfg)
{
	snprintf(h->command, sizeof(h->command), "%s", cfg->on_event_command);
	h->mask = cfg->on_event_mask;
	h->per_minute = cfg->on_event_per_minute;
	h->tokens = h->per_minute;
	h->refilled_ms = now_ms();
}

struct event_hook *event_hook_new(struct event_base *base, const struct config *cfg,
				  struct metrics_counters *metrics)
{
	struct event_hook *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->metrics = metrics;
	h->poll_timer = evtimer_new(base, poll_children, h);
	h->tell_timer = evtimer_new(base, tell_not_run, h);
	if (!h->poll_timer || !h->tell_timer) {
		event_hook_free(h);
		return NULL;
	}
	event_hook_configure(h, cfg);
	return h;
}

void event_hook_free(struct event_hook *h)
{
	if (!h)
		return;
	/* A command still running finishes on its own; it is no zombie of
	 * ours for long, as we exit. */
	if (h->poll_timer)
		event_free(h->poll_timer);
	if (h->tell_timer)
		event_free(h->tell_timer);
	free(h);
}
