/* portleasectl's operator commands: one request line to the daemon's
 * control socket, its answer to standard output. */
#include "control_client.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_NO_ANSWER 3
#define ANSWER_MS 5000
#define REQUEST_MAX 256

static const char *const commands[] = { "list", "status", "metrics", "add", "delete", "flush",
					 "explain", NULL };

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
	    strcmp(command, "metrics") == 0)
		return n == 0;
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
static int exchange(const char *path, const char *request)
{
	size_t cap = 65536, len = 0;
	char *answer = malloc(cap + 1), *body;
	int fd = connect_socket(path), rc;

	if (fd < 0) {
		fprintf(stderr, "portleasectl: cannot reach portleased at %s: %s%s\n", path,
			strerror(errno),
			errno == EACCES ? " (the control socket is for root and the configured "
					  "control group)" :
			errno == ENOENT || errno == ECONNREFUSED ? " (is portleased running?)" : "");
		free(answer);
		return EXIT_NO_ANSWER;
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

int control_main(int argc, char **argv, void (*usage)(FILE *out))
{
	static const struct option long_options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_CONTROL_SOCKET, *command = argv[0];
	char request[REQUEST_MAX] = "";
	bool json = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:jh", long_options, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
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
		     strcmp(command, "metrics") == 0 || strcmp(command, "add") == 0)) {
		fprintf(stderr, "portleasectl: %s has no --json\n", command);
		return EXIT_USAGE;
	}
	snprintf(request, sizeof(request), "%s", command);
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
	snprintf(request + strlen(request), sizeof(request) - strlen(request), "%s\n",
		 json ? " json" : "");
	return exchange(path, request);
}
