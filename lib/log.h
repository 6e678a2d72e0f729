/* Small logging API: stderr in the foreground, syslog when daemonized. */
#ifndef PORTLEASED_LOG_H
#define PORTLEASED_LOG_H

#include <stdbool.h>

void log_init(const char *ident, bool to_stderr, bool verbose);
void log_fini(void);

/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
