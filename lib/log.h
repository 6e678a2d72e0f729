/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small logging API: syslog when daemonized, stderr in the foreground. */
#ifndef PORTLEASED_LOG_H
#define PORTLEASED_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Where lines go: syslog; or stderr as a person reads it (time, process,
 * level, text); or stderr as the systemd journal reads it ("<N>" and the
 * text: the journal stamps each line and files it at priority N, so an
 * operator can filter with journalctl -p). */
enum log_output { LOG_TO_SYSLOG, LOG_TO_TERMINAL, LOG_TO_JOURNAL };

void log_init(const char *ident, enum log_output output, bool verbose);
void log_fini(void);
/* For the foreground: LOG_TO_JOURNAL if stderr is the journal's stream
 * (JOURNAL_STREAM names its device and inode), else LOG_TO_TERMINAL. */
enum log_output log_stderr_output(void);
/* The line for stderr (without its newline), as log_* writes it; returns
 * what snprintf does. */
int log_format(char *out, size_t len, enum log_output output, int priority, const char *ident,
	       const struct timespec *now, const char *msg, const char *errtext);

/* Priorities: log_err for what stops portleased or one of its functions,
 * log_warn(x) for what it works around, log_notice for the audit trail
 * (every mapping granted, refreshed, refused or removed), log_info for the
 * rest (summaries, start and stop), log_debug with -v only. log_warn
 * appends strerror(errno); the others do not. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
