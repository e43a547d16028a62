/* SPDX-License-Identifier: MIT */
/* Logging: one line per event, to stderr or, under systemd, to the journal with structured fields.
 * The level and target are the only process-wide state outside daemon.c: every module logs. */
#pragma once

#include <syslog.h>

#include "util.h"

enum log_target {
        LOG_TARGET_AUTO,    /* journal when stderr is connected to it ($JOURNAL_STREAM), else stderr */
        LOG_TARGET_STDERR,
        LOG_TARGET_JOURNAL,
};

void log_setup(enum log_target target);
void log_set_max_level(int level);

/* Structured journal fields, "KEY=value" each; NULL-terminated. Ignored on stderr. */
int log_internal(int level, int error, const char *const *fields, const char *format, ...) _printf_(4, 5);

/* Returns -abs(error), or -EIO if error is 0, so callers can "return log_error_errno(r, ...)".
 * %m in the format prints strerror(error). */
#define log_full_errno(level, error, ...) log_internal((level), (error), NULL, __VA_ARGS__)
#define log_full(level, ...) (void) log_internal((level), 0, NULL, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

#define log_oom() log_error_errno(-ENOMEM, "Out of memory.")
