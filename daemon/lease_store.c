/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/lease_store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/leasefile.h"
#include "lib/log.h"

#define WRITE_DELAY_MS 1000   /* a burst of requests is one write */
#define CHILD_POLL_MS 50

struct lease_store {
	struct mapper *mapper;
	char path[4096];
	struct event *write_timer, *child_timer;
	pid_t child;     /* the writer at work, 0 for none */
	bool dirty;      /* changed since the writer started */
};

static struct leasefile_record record_of(const struct mapper *m, const struct lease *l)
{
	struct leasefile_record r = {
		.proto = l->proto, .origin = l->origin, .has_client = l->origin != LEASE_ORIGIN_STATIC,
		.client = l->client, .internal_addr = l->internal_addr,
		.internal_port = l->internal_port, .external_port = l->external_port,
		.created = mapper_wall_time(m, l->created_ms),
		.expires = l->expires_ms == LEASE_NEVER ? LEASEFILE_NEVER :
							   mapper_wall_time(m, l->expires_ms),
		.has_nonce = l->has_nonce, .nfilters = l->nfilters, .peer = l->peer,
	};

	memcpy(r.nonce, l->nonce, sizeof(r.nonce));
	if (l->nfilters)
		memcpy(r.filters, l->filters, l->nfilters * sizeof(*r.filters));
	snprintf(r.description, sizeof(r.description), "%s", l->description);
	struct lan_device device = mapper_device_held(m, l);
	r.has_mac = device.has_mac;
	memcpy(r.mac, device.mac, sizeof(r.mac));
	if (device.name)
		snprintf(r.device, sizeof(r.device), "%s", device.name);
	return r;
}

/* Temporary file, fsync, rename, fsync of the directory: after a crash the
 * file is the old one or the new one, whole. */
static int write_file(const char *path, const struct mapper *m, bool clean)
{
	char tmp[4096 + 8], dir[4096], line[LEASEFILE_LINE_MAX];
	struct leasefile_header h = { .epoch_start = mapper_epoch_start(m), .clean = clean };
	FILE *f;
	int fd, dfd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	if (leasefile_format_header(line, sizeof(line), &h))
		fputs(line, f);
	for (const struct lease *l = lease_first(mapper_leases(m)); l; l = lease_next(l)) {
		struct leasefile_record r;

		/* The config file holds the declared ones. */
		if (l->origin == LEASE_ORIGIN_STATIC && l->declared)
			continue;
		r = record_of(m, l);
		if (leasefile_format(line, sizeof(line), &r))
			fputs(line, f);
	}
	if (fflush(f) != 0 || fsync(fd) < 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void arm(struct event *ev, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static void write_fired(evutil_socket_t fd, short what, void *arg)
{
	struct lease_store *s = arg;
	pid_t pid;

	(void)fd;
	(void)what;
	if (s->child) {
		s->dirty = true;  /* again once this writer is done */
		return;
	}
	s->dirty = false;
	pid = fork();
	if (pid == 0)
		_exit(write_file(s->path, s->mapper, false) == 0 ? 0 : 1);
	if (pid < 0) {
		mapper_metrics(s->mapper)->lease_file_errors++;
		log_warn("lease file: fork");
		s->dirty = true;
		arm(s->write_timer, WRITE_DELAY_MS);
		return;
	}
	s->child = pid;
	arm(s->child_timer, CHILD_POLL_MS);
}

static void child_poll(evutil_socket_t fd, short what, void *arg)
{
	struct lease_store *s = arg;
	int status;
	pid_t done;

	(void)fd;
	(void)what;
	done = waitpid(s->child, &status, WNOHANG);
	if (done == 0) {
		arm(s->child_timer, CHILD_POLL_MS);
		return;
	}
	if (done < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		mapper_metrics(s->mapper)->lease_file_errors++;
		log_warnx("lease file %s: cannot write it; the mappings live on, but a restart "
			  "would not restore the latest", s->path);
	}
	s->child = 0;
	if (s->dirty && !evtimer_pending(s->write_timer, NULL))
		arm(s->write_timer, WRITE_DELAY_MS);
}

static void changed(void *arg)
{
	struct lease_store *s = arg;

	if (!evtimer_pending(s->write_timer, NULL))
		arm(s->write_timer, WRITE_DELAY_MS);
}

/* Restores what the file holds; returns whether it was closed cleanly. */
static bool load(struct lease_store *s, int64_t *epoch_start)
{
	FILE *f = fopen(s->path, "re");
	char line[LEASEFILE_LINE_MAX + 2];
	struct leasefile_header h;
	size_t restored = 0, expired = 0, bad = 0, refused = 0;
	bool first = true, header_ok = false;

	if (!f) {
		if (errno != ENOENT)
			log_warn("lease file %s: cannot read it; starting with no mappings", s->path);
		return false;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		struct leasefile_record r;
		enum map_status st;

		if (len == 0 || line[len - 1] != '\n') {
			int c;

			/* Too long, or cut off by a crash: skip the rest of it. */
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			bad++;
			first = false;
			continue;
		}
		line[len - 1] = '\0';
		if (first) {
			first = false;
			header_ok = leasefile_parse_header(line, &h) == 0;
			if (!header_ok) {
				log_warnx("lease file %s: not a portleased lease file (version 1); "
					  "starting with no mappings", s->path);
				break;
			}
			continue;
		}
		if (leasefile_parse(line, &r) < 0) {
			bad++;
			continue;
		}
		st = mapper_restore(s->mapper, &r);
		restored += st == MAP_OK;
		expired += st == MAP_NO_FLOW;
		refused += st != MAP_OK && st != MAP_NO_FLOW;
	}
	fclose(f);
	if (!header_ok)
		return false;
	log_info("lease file %s: %zu mappings restored, %zu expired meanwhile%s", s->path, restored,
		 expired, h.clean ? "" : " (not closed cleanly: a new epoch tells clients to renew)");
	if (bad || refused)
		log_warnx("lease file %s: %zu unreadable lines, %zu leases that no longer fit", s->path,
			  bad, refused);
	*epoch_start = h.epoch_start;
	return h.clean;
}

/* Whether owner, with no supplementary group (privdrop's), may make files
 * in the directory st describes. */
static bool writable_by(const struct stat *st, const struct lease_owner *owner)
{
	if (st->st_uid == owner->uid)
		return (st->st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR);
	if (st->st_gid == owner->gid)
		return (st->st_mode & (S_IWGRP | S_IXGRP)) == (S_IWGRP | S_IXGRP);
	return (st->st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

/* /var/lib/portleased when no service manager made it; one level only.
 * The file is rewritten by a new file renamed over it, so it is the
 * directory that owner must be able to write: one made here is owner's;
 * one that was there is checked, never changed (it may be shared). */
static int prepare_directory(const char *path, const struct lease_owner *owner, char *err,
			     size_t errlen)
{
	char copy[4096], *dir;
	struct stat st;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (mkdir(dir, 0700) == 0) {
		if (owner && chown(dir, owner->uid, owner->gid) < 0) {
			snprintf(err, errlen, "lease file %s: cannot give %s to user '%s': %s", path,
				 dir, owner->name, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST || stat(dir, &st) < 0) {
		snprintf(err, errlen, "lease file %s: cannot make %s: %s", path, dir,
			 strerror(errno));
		return -1;
	}
	if (owner && !writable_by(&st, owner)) {
		snprintf(err, errlen, "lease file %s: user '%s' (config 'user') cannot write in %s, "
			 "so the file would not be kept after start: give it that user "
			 "(chown %s %s) or set lease_file elsewhere", path, owner->name, dir,
			 owner->name, dir);
		return -1;
	}
	return 0;
}

struct lease_store *lease_store_open(struct event_base *base, const char *path,
				     struct mapper *mapper, const struct lease_owner *owner,
				     char *err, size_t errlen)
{
	struct lease_store *s = calloc(1, sizeof(*s));
	int64_t epoch_start;
	int rc;

	if (!s) {
		snprintf(err, errlen, "lease file: out of memory");
		return NULL;
	}
	s->mapper = mapper;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->write_timer = evtimer_new(base, write_fired, s);
	s->child_timer = evtimer_new(base, child_poll, s);
	if (!s->write_timer || !s->child_timer) {
		snprintf(err, errlen, "lease file: out of memory");
		lease_store_close(s, false);
		return NULL;
	}
	if (prepare_directory(path, owner, err, errlen) < 0) {
		lease_store_close(s, false);
		return NULL;
	}
	if (load(s, &epoch_start))
		mapper_continue_epoch(mapper, epoch_start);
	/* At once, and marked unclean: a crash from now on must not pass for
	 * an orderly stop. */
	if ((rc = write_file(s->path, mapper, false)) < 0) {
		snprintf(err, errlen, "lease file %s: %s", path, strerror(-rc));
		lease_store_close(s, false);
		return NULL;
	}
	/* Written by root this once: the user's from the start, as later. */
	if (owner && chown(s->path, owner->uid, owner->gid) < 0) {
		snprintf(err, errlen, "lease file %s: cannot give it to user '%s': %s", path,
			 owner->name, strerror(errno));
		lease_store_close(s, false);
		return NULL;
	}
	mapper_set_persistence(mapper, changed, s);
	return s;
}

void lease_store_close(struct lease_store *s, bool clean)
{
	int rc;

	if (!s)
		return;
	if (s->child)
		waitpid(s->child, NULL, 0);
	if (clean && (rc = write_file(s->path, s->mapper, true)) < 0)
		log_warnx("lease file %s: cannot write it: %s", s->path, strerror(-rc));
	mapper_set_persistence(s->mapper, NULL, NULL);
	if (s->write_timer)
		event_free(s->write_timer);
	if (s->child_timer)
		event_free(s->child_timer);
	free(s);
}
