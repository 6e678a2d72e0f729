/* SPDX-License-Identifier: GPL-2.0-or-later */
/* portleasectl's operator commands: one request line to the daemon's
 * control socket, its answer to standard output. */
#include "ctl/control_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/addr.h"
#include "config/config.h"
#include "config/static_file.h"
#include "lib/parse.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_ANSWER 3
#define ANSWER_MS 5000
#define REQUEST_MAX 256

static const char *const commands[] = { "list", "status", "metrics", "add", "delete", "flush",
					 "explain", "reload", "review", "pending", "approve", "reject", "monitor", NULL };

bool control_is_command(const char *word)
{
	for (size_t i = 0; commands[i]; i++)
		if (strcmp(word, commands[i]) == 0)
			return true;
	return false;
}

/* Arguments each command takes (after its name): min, max. */
static bool arity_ok(const char *command, int n)
{
	if (strcmp(command, "list") == 0 || strcmp(command, "status") == 0 ||
	    strcmp(command, "metrics") == 0 || strcmp(command, "reload") == 0 ||
	    strcmp(command, "review") == 0 || strcmp(command, "pending") == 0 ||
	    strcmp(command, "monitor") == 0)
		return n == 0;
	if (strcmp(command, "approve") == 0 || strcmp(command, "reject") == 0)
		return n == 1;
	if (strcmp(command, "delete") == 0)
		return n == 2 || n == 3;
	if (strcmp(command, "add") == 0)
		return n == 4 || n == 5;
	if (strcmp(command, "flush") == 0)
		return n <= 1;
	return n >= 3 && n <= 5;  /* explain */
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Sends request, reads the whole answer; prints its body, or its error. */
static int reach_error(const char *path)
{
	fprintf(stderr, "portleasectl: cannot reach portleased at %s: %s%s\n", path,
		strerror(errno),
		errno == EACCES ? " (the control socket is for root and the configured "
				  "control group)" :
		errno == ENOENT || errno == ECONNREFUSED ? " (is portleased running?)" : "");
	return EXIT_NO_ANSWER;
}

/* monitor: the events, a line each, as the daemon sends them, until it
 * goes (status 0) or the operator interrupts. Unbuffered, for pipes. */
static int follow(const char *path, const char *request)
{
	char buf[4096];
	bool answered = false;
	int fd = connect_socket(path);
	ssize_t n;

	if (fd < 0)
		return reach_error(path);
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		fprintf(stderr, "portleasectl: cannot send the request: %s\n", strerror(errno));
		close(fd);
		return EXIT_NO_ANSWER;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		const char *body = buf;

		if (n < 0)
			continue;
		if (!answered) {
			/* The status line comes first, whole: the daemon writes it
			 * before any event. */
			if (n < 3 || strncmp(buf, "ok\n", 3) != 0) {
				buf[n - (buf[n - 1] == '\n')] = '\0';
				fprintf(stderr, "portleasectl: %s\n", strncmp(buf, "error: ", 7) == 0 ?
										buf + 7 : buf);
				close(fd);
				return EXIT_REFUSED;
			}
			answered = true;
			body += 3;
			n -= 3;
		}
		if (n > 0 && (fwrite(body, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0))
			break;  /* the reader went: so do we */
	}
	close(fd);
	return answered ? 0 : EXIT_NO_ANSWER;
}

static int exchange(const char *path, const char *request)
{
	size_t cap = 65536, len = 0;
	char *answer = malloc(cap + 1), *body;
	int fd = connect_socket(path), rc;

	if (fd < 0) {
		free(answer);
		return reach_error(path);
	}
	if (!answer || write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		fprintf(stderr, "portleasectl: cannot send the request: %s\n", strerror(errno));
		close(fd);
		free(answer);
		return EXIT_NO_ANSWER;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, ANSWER_MS) <= 0) {
			fprintf(stderr, "portleasectl: no answer from portleased within %d ms\n",
				ANSWER_MS);
			close(fd);
			free(answer);
			return EXIT_NO_ANSWER;
		}
		if (len == cap) {
			char *bigger = realloc(answer, 2 * cap + 1);
			if (!bigger)
				break;
			answer = bigger;
			cap *= 2;
		}
		n = read(fd, answer + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	answer[len] = '\0';
	body = strchr(answer, '\n');
	if (!body) {
		fprintf(stderr, "portleasectl: a malformed answer from portleased\n");
		rc = EXIT_NO_ANSWER;
	} else if (strncmp(answer, "ok\n", 3) == 0) {
		fputs(body + 1, stdout);
		rc = 0;
	} else {
		*body = '\0';
		fprintf(stderr, "portleasectl: %s\n", strncmp(answer, "error: ", 7) == 0 ?
							 answer + 7 : answer);
		rc = EXIT_REFUSED;
	}
	free(answer);
	return rc;
}

/* The static file, locked against another portleasectl for as long as
 * this one edits it (its directory is locked: the file itself is replaced). */
struct static_edit {
	const char *path;
	int lock_fd;
	struct static_mapping *list;
	size_t n;
};

static int static_edit_open(struct static_edit *e, const char *path)
{
	char dir[CONFIG_STATIC_FILE_MAX + 1], err[CONFIG_ERROR_MAX];

	e->path = path;
	e->n = 0;
	e->list = malloc(CONFIG_MAX_STATIC * sizeof(*e->list));
	snprintf(dir, sizeof(dir), "%s", path);
	e->lock_fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!e->list || e->lock_fd < 0 || flock(e->lock_fd, LOCK_EX) < 0) {
		fprintf(stderr, "portleasectl: cannot lock %s's directory: %s\n", path,
			strerror(errno));
		goto fail;
	}
	if (static_file_read(path, e->list, CONFIG_MAX_STATIC, &e->n, err, sizeof(err)) < 0) {
		fprintf(stderr, "portleasectl: %s\n", err);
		goto fail;
	}
	return 0;
fail:
	if (e->lock_fd >= 0)
		close(e->lock_fd);
	free(e->list);
	return -1;
}

static int static_edit_save(const struct static_edit *e)
{
	char err[CONFIG_ERROR_MAX];

	if (static_file_write(e->path, e->list, e->n, err, sizeof(err)) < 0) {
		fprintf(stderr, "portleasectl: %s%s\n", err,
			errno == EACCES || errno == EPERM ?
				" (static mappings are root's: they are kept in this file)" : "");
		return -1;
	}
	return 0;
}

static void static_edit_close(struct static_edit *e)
{
	close(e->lock_fd);
	free(e->list);
}

/* add: the mapping goes into the static file first, where the daemon's
 * helper looks for it (it grants no permanent mapping the daemon alone
 * asks for); if portleased refuses it, the file is put back. */
/* What --owner, --purpose and --review-by gave add, in a static mapping's
 * fields (nothing else of it is set). */
struct inventory {
	bool given;
	struct static_mapping sm;
};

static int add_static(const char *socket_path, const char *static_path, const char *request,
		      char **args, int nargs, const struct inventory *inv)
{
	char line[STATIC_FILE_LINE_MAX + 1] = "";
	struct static_mapping sm;
	struct static_edit e;
	const char *why = NULL;
	bool present = false;
	int rc;

	for (int i = 0; i < nargs; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", i ? " " : "",
			 args[i]);
	if (static_file_parse_line(line, &sm, &why) <= 0) {
		fprintf(stderr, "portleasectl: add: %s\n", why ? why : "nothing to add");
		return EXIT_USAGE;
	}
	if (inv->given) {
		memcpy(sm.owner, inv->sm.owner, sizeof(sm.owner));
		memcpy(sm.purpose, inv->sm.purpose, sizeof(sm.purpose));
		sm.review_by = inv->sm.review_by;
	}
	if (static_edit_open(&e, static_path) < 0)
		return EXIT_REFUSED;
	for (size_t i = 0; i < e.n && !present; i++) {
		if (static_mappings_same(&e.list[i], &sm)) {
			present = true;
			/* Adding it again with --owner, --purpose or --review-by
			 * updates the inventory. */
			if (inv->given) {
				memcpy(e.list[i].owner, sm.owner, sizeof(sm.owner));
				memcpy(e.list[i].purpose, sm.purpose, sizeof(sm.purpose));
				e.list[i].review_by = sm.review_by;
				if (static_edit_save(&e) < 0) {
					static_edit_close(&e);
					return EXIT_REFUSED;
				}
			}
		} else if (static_mappings_clash(&e.list[i], &sm)) {
			fprintf(stderr, "portleasectl: another static mapping in %s holds that port "
				"or internal endpoint\n", static_path);
			static_edit_close(&e);
			return EXIT_REFUSED;
		}
	}
	if (!present) {
		if (e.n == CONFIG_MAX_STATIC) {
			fprintf(stderr, "portleasectl: %s holds %d static mappings, the most\n",
				static_path, CONFIG_MAX_STATIC);
			static_edit_close(&e);
			return EXIT_REFUSED;
		}
		e.list[e.n++] = sm;
		if (static_edit_save(&e) < 0) {
			static_edit_close(&e);
			return EXIT_REFUSED;
		}
	}
	rc = exchange(socket_path, request);
	if (rc != 0 && !present) {
		e.n--;
		if (static_edit_save(&e) == 0)
			fprintf(stderr, "portleasectl: %s is as it was\n", static_path);
	}
	static_edit_close(&e);
	return rc;
}

/* delete: a static mapping of the file leaves it first, or it would come
 * back at the next start or reload. */
static int delete_static(const char *socket_path, const char *static_path, const char *request,
			 char **args, int nargs)
{
	struct static_edit e;
	struct in6_addr addr = IN6ADDR_ANY_INIT;
	uint16_t port = 0;
	uint8_t proto = 0;
	size_t kept = 0;

	/* Not this file's to judge a malformed request: the daemon says. */
	if (!parse_proto(args[0], &proto) || !parse_port(args[nargs - 1], &port) ||
	    (nargs == 3 && !parse_address(args[1], &addr)) || access(static_path, F_OK) < 0)
		return exchange(socket_path, request);
	if (static_edit_open(&e, static_path) < 0)
		return EXIT_REFUSED;
	for (size_t i = 0; i < e.n; i++) {
		const struct static_mapping *s = &e.list[i];
		bool match = s->proto == proto &&
			     (nargs == 2 ? addr_is_v4(&s->internal_addr) && s->external_port == port :
					   addr_equal(&s->internal_addr, &addr) &&
						   s->internal_port == port);

		if (!match)
			e.list[kept++] = *s;
	}
	if (kept != e.n) {
		e.n = kept;
		if (static_edit_save(&e) < 0) {
			static_edit_close(&e);
			return EXIT_REFUSED;
		}
	}
	static_edit_close(&e);
	return exchange(socket_path, request);
}

/* --owner, --purpose, --review-by: add's only. */
static bool inventory_option(struct inventory *inv, int opt, const char *value)
{
	size_t max = opt == 'O' ? CONFIG_OWNER_MAX : CONFIG_DESCRIPTION_MAX;

	inv->given = true;
	if (opt == 'R') {
		if (parse_date(value, &inv->sm.review_by))
			return true;
		fprintf(stderr, "portleasectl: --review-by is a date YYYY-MM-DD\n");
		return false;
	}
	bool control = false;

	for (const char *c = value; *c; c++)
		control |= (unsigned char)*c < 0x20 || *c == 0x7f;
	if (strlen(value) > max || control) {
		fprintf(stderr, "portleasectl: --%s is text of at most %zu bytes, on one line\n",
			opt == 'O' ? "owner" : "purpose", max);
		return false;
	}
	snprintf(opt == 'O' ? inv->sm.owner : inv->sm.purpose, max + 1, "%s", value);
	return true;
}

int control_main(int argc, char **argv, void (*usage)(FILE *out))
{
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "static-file", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "idle", required_argument, NULL, 'i' },
		{ "for", required_argument, NULL, 'f' },
		{ "owner", required_argument, NULL, 'O' },
		{ "purpose", required_argument, NULL, 'P' },
		{ "review-by", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_CONTROL_SOCKET, *command = argv[0];
	unsigned long idle = 0, approve_for = 0;
	struct inventory inv;
	const char *static_path = CONFIG_DEFAULT_STATIC_FILE;
	char request[REQUEST_MAX] = "";
	bool json = false;
	int opt;

	memset(&inv, 0, sizeof(inv));
	while ((opt = getopt_long(argc, argv, "s:F:ji:f:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'F': static_path = optarg; break;
		case 'j': json = true; break;
		case 'i':
			if (strcmp(command, "review") != 0 ||
			    !parse_duration(optarg, UINT32_MAX, &idle) || idle == 0) {
				fprintf(stderr, "portleasectl: --idle is review's, a duration such as "
					"\"12h\" or \"30d\"\n");
				return EXIT_USAGE;
			}
			break;
		case 'f':
			if (strcmp(command, "approve") != 0 ||
			    !parse_duration(optarg, CONFIG_IDLE_TIMEOUT_MAX, &approve_for) ||
			    approve_for == 0) {
				fprintf(stderr, "portleasectl: --for is approve's, a duration from 1 s "
					"to 366 days such as \"2h\" or \"30d\"\n");
				return EXIT_USAGE;
			}
			break;
		case 'O':
		case 'P':
		case 'R':
			if (strcmp(command, "add") != 0 || !inventory_option(&inv, opt, optarg))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!arity_ok(command, argc - optind)) {
		fprintf(stderr, "portleasectl: wrong arguments for %s\n", command);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (json && (strcmp(command, "delete") == 0 || strcmp(command, "flush") == 0 ||
		     strcmp(command, "metrics") == 0 || strcmp(command, "add") == 0 ||
		     strcmp(command, "reload") == 0 || strcmp(command, "approve") == 0 ||
		     strcmp(command, "reject") == 0)) {
		fprintf(stderr, "portleasectl: %s has no --json\n", command);
		return EXIT_USAGE;
	}
	snprintf(request, sizeof(request), "%s", command);
	if (idle)
		snprintf(request + strlen(request), sizeof(request) - strlen(request), " %lu", idle);
	for (int i = optind; i < argc; i++) {
		size_t used = strlen(request);
		/* add's description, last, is the one argument with spaces. */
		bool description = strcmp(command, "add") == 0 && i == optind + 4;

		if (!argv[i][0] || strpbrk(argv[i], description ? "\t\r\n" : " \t\r\n") ||
		    used + 1 + strlen(argv[i]) + sizeof(" json\n") > sizeof(request)) {
			fprintf(stderr, "portleasectl: bad argument '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
		snprintf(request + used, sizeof(request) - used, " %s", argv[i]);
	}
	if (approve_for)
		snprintf(request + strlen(request), sizeof(request) - strlen(request), " %lu",
			 approve_for);
	snprintf(request + strlen(request), sizeof(request) - strlen(request), "%s\n",
		 json ? " json" : "");
	if (strcmp(command, "add") == 0)
		return add_static(path, static_path, request, argv + optind, argc - optind, &inv);
	if (strcmp(command, "delete") == 0)
		return delete_static(path, static_path, request, argv + optind, argc - optind);
	if (strcmp(command, "monitor") == 0)
		return follow(path, request);
	return exchange(path, request);
}
