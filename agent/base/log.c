/* SPDX-License-Identifier: MIT */
/* Logging to stderr or the journal (sd_journal_sendv with PRIORITY=, MESSAGE= and caller fields). */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool use_journal = false;

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_setup(enum log_target target) {
        switch (target) {
        case LOG_TARGET_STDERR:
                use_journal = false;
                break;
        case LOG_TARGET_JOURNAL:
                use_journal = true;
                break;
        case LOG_TARGET_AUTO:
        default:
                use_journal = stderr_is_journal();
                break;
        }
}

void log_set_max_level(int level) {
        max_level = level;
}

static const char *level_prefix(int level) {
        switch (level) {
        case LOG_EMERG:
        case LOG_ALERT:
        case LOG_CRIT:
        case LOG_ERR:
                return "error: ";
        case LOG_WARNING:
                return "warning: ";
        case LOG_DEBUG:
                return "debug: ";
        default:
                return "";
        }
}

int log_internal(int level, int error, const char *const *fields, const char *format, ...) {
        char msg[2048];
        int saved_errno = errno;
        int ret = error < 0 ? error : (error > 0 ? -error : -EIO);
        va_list ap;

        if (level > max_level) {
                errno = saved_errno;
                return ret;
        }

        errno = error < 0 ? -error : error;
        va_start(ap, format);
        vsnprintf(msg, sizeof msg, format, ap);
        va_end(ap);

        if (use_journal) {
                struct iovec iov[16];
                char prio[sizeof "PRIORITY=" + 4];
                char errnofield[sizeof "ERRNO=" + 12];
                _cleanup_free_ char *m = NULL;
                size_t n = 0;

                snprintf(prio, sizeof prio, "PRIORITY=%d", level);
                iov[n++] = (struct iovec) { .iov_base = prio, .iov_len = strlen(prio) };
                if (asprintf(&m, "MESSAGE=%s", msg) < 0)
                        m = NULL;
                if (m)
                        iov[n++] = (struct iovec) { .iov_base = m, .iov_len = strlen(m) };
                if (error != 0) {
                        snprintf(errnofield, sizeof errnofield, "ERRNO=%d", -ret);
                        iov[n++] = (struct iovec) { .iov_base = errnofield, .iov_len = strlen(errnofield) };
                }
                for (size_t i = 0; fields && fields[i] && n < ELEMENTSOF(iov); i++)
                        iov[n++] = (struct iovec) { .iov_base = (char *) fields[i], .iov_len = strlen(fields[i]) };
                if (m && sd_journal_sendv(iov, (int) n) >= 0) {
                        errno = saved_errno;
                        return ret;
                }
                /* Fall through to stderr if the journal is gone. */
        }

        fprintf(stderr, "%s%s\n", level_prefix(level), msg);
        errno = saved_errno;
        return ret;
}
