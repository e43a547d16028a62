/* SPDX-License-Identifier: MIT */
/* Layer base (agent/base/): helpers, logging, the HTTP client on sd-event, the running-service
 * socket. Uses nothing of the agent's above it. */
/* Ownership helpers (_cleanup_, TAKE_PTR), small string and number helpers shared by every module. */
#pragma once

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
/* Arguments are evaluated twice: plain values only. */
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))

#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) *_pp = &(p);      \
                __typeof__(p) _p = *_pp;        \
                *_pp = NULL;                    \
                _p;                             \
        })
/* The same for a file descriptor under _cleanup_close_. */
#define TAKE_FD(fd)                             \
        ({                                      \
                int *_pfd = &(fd);              \
                int _fd = *_pfd;                \
                *_pfd = -1;                     \
                _fd;                            \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

/* The one way a secret (the API token) leaves memory: overwritten, then freed. NULL is fine. */
static inline void secret_free(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}
static inline void secret_freep(char **s) {
        secret_free(*s);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_secret_ _cleanup_(secret_freep)
#define _cleanup_close_ _cleanup_(closep)

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline const char *strna(const char *s) {
        return s ? s : "n/a";
}

/* errno is positive; our functions return it negated. Never let 0 slip through as "success". */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* Makes room for at least need elements in a heap array whose capacity is *cap, doubling as
 * it grows. Returns 0 or -ENOMEM (the array is unchanged then). */
int greedy_realloc(void **p, size_t *cap, size_t need, size_t elem_size);
#define GREEDY_REALLOC(array, cap, need) greedy_realloc((void **) &(array), &(cap), (need), sizeof((array)[0]))

/* Parse a whole unsigned decimal number in [min, max]; no sign, no spaces, no trailing bytes. */
int safe_atou64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Parse yes/no/true/false/on/off/1/0. Returns -EINVAL otherwise. */
int parse_boolean(const char *s, bool *ret);

/* Parse a duration: "2", "2s", "1.5s", "500ms", "1min". Result in microseconds. */
int parse_duration_usec(const char *s, uint64_t *ret);

/* Strips spaces, tabs, CR and LF from both ends of s, in place; returns the first kept byte. */
char *str_strip(char *s);

/* Render untrusted text for an error message: printable ASCII kept, the rest escaped,
 * cut at max_len bytes of input with "..." appended. Always NUL-terminates buf. */
const char *str_quote(const char *s, size_t len, size_t max_len, char *buf, size_t buf_size);
#define QUOTE_MAX 64
#define QUOTE_BUF (QUOTE_MAX * 4 + 8)

#define USEC_PER_SEC 1000000ULL
/* The one duration formatter. exact: as the config file writes it, nothing lost ("2s", "500ms",
 * "2min"); otherwise for people, rounded down ("12 s", "3 min", "2 h", "4 d"). */
#define FORMAT_TIMESPAN_MAX 32
const char *format_timespan(uint64_t usec, bool exact, char buf[static FORMAT_TIMESPAN_MAX]);
/* Wall-clock time t (Unix seconds, local time): "12:03:04" on now's day, else with the date. */
#define FORMAT_CLOCK_MAX 32
const char *format_clock(uint64_t t, uint64_t now, char buf[static FORMAT_CLOCK_MAX]);

/* Read a whole file, refusing anything that is not a regular file or is larger than max. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);

/* Who may have written a file the agent trusts (the config, a routes file, the API token). */
struct file_trust {
        unsigned forbidden_mode;    /* permission bits it must not have, e.g. 022 or 077 */
        uid_t other_owner;          /* an owner besides root that is fine; 0: root only */
};
struct stat;
/* read_full_file, with the checks of trust made on the opened descriptor (-EPERM when it fails
 * them). *ret_st (may be NULL) is what fstat said, for the message. */
int read_trusted_file(const char *path, size_t max, const struct file_trust *trust, char **ret, size_t *ret_size,
                      struct stat *ret_st);
/* "mode 0664" or "owner 1000": why st fails trust, for messages. */
const char *file_trust_failure(const struct file_trust *trust, const struct stat *st, char *buf, size_t size);

/* Creates the folder path is in (not its parents), mode 0755; fine when it exists. */
int mkdir_parent(const char *path);

/* Write data to path atomically (temporary file in the same directory, rename): a reader sees
 * the old or the new content, never a mix. Not durable (no fsync): every file the agent writes
 * describes the running state, lives in /run or a textfile collector's folder, and is rewritten
 * at the next poll. */
int write_file_atomic(const char *path, const char *data, size_t size, unsigned mode);

/* Monotonic and realtime clocks in microseconds. */
uint64_t now_usec_monotonic(void);
/* CPU time this process has used, in microseconds. */
uint64_t cpu_usec(void);
uint64_t now_usec_realtime(void);
/* How long from now until deadline (same clock), 0 when it has passed: never an underflow. */
static inline uint64_t usec_until(uint64_t deadline, uint64_t now) {
        return deadline > now ? deadline - now : 0;
}
