/* SPDX-License-Identifier: MIT */
/* Small helpers: strict number, boolean and duration parsing, quoting, file I/O, clocks. */
#include <ctype.h>
#include <stdarg.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "util.h"

void error_set(struct error *e, const char *fmt, ...) {
        va_list ap;

        if (!e)
                return;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
}

int greedy_realloc(void **p, size_t *cap, size_t need, size_t elem_size) {
        size_t ncap;
        void *n;

        if (need <= *cap)
                return 0;
        ncap = *cap ? *cap : 8;
        while (ncap < need) {
                if (ncap > SIZE_MAX / 2 / elem_size)
                        return -ENOMEM;
                ncap *= 2;
        }
        n = reallocarray(*p, ncap, elem_size);
        if (!n)
                return -ENOMEM;
        *p = n;
        *cap = ncap;
        return 0;
}

int safe_atou64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || !*s)
                return -EINVAL;
        /* A leading zero is only allowed for "0" itself: "010" reads as octal to some humans. */
        if (s[0] == '0' && s[1] != '\0')
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

char *str_strip(char *s) {
        char *e;

        s += strspn(s, " \t\r\n");
        e = s + strlen(s);
        while (e > s && strchr(" \t\r\n", e[-1]))
                *--e = '\0';
        return s;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration_usec(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                { "ms", 1000ULL },
                { "s", 1000000ULL },
                { "sec", 1000000ULL },
                { "m", 60000000ULL },
                { "min", 60000000ULL },
                { "h", 3600000000ULL },
        };
        uint64_t whole = 0, frac = 0, frac_div = 1, mult = 1000000ULL;
        const char *p = s;

        if (!s || !isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > 100000000ULL)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++)
                        if (frac_div < 1000000ULL) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                frac_div *= 10;
                        }
        }
        if (*p) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (streq(p, units[i].suffix)) {
                                mult = units[i].usec;
                                found = true;
                                break;
                        }
                if (!found)
                        return -EINVAL;
        }
        *ret = whole * mult + frac * mult / frac_div;
        return 0;
}

const char *str_quote(const char *s, size_t len, size_t max_len, char *buf, size_t buf_size) {
        size_t o = 0;

        if (buf_size < 8) {
                if (buf_size > 0)
                        buf[0] = '\0';
                return buf;
        }
        for (size_t i = 0; i < len && i < max_len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (o + 8 >= buf_size)
                        break;
                if (c == '"' || c == '\\')
                        o += (size_t) snprintf(buf + o, buf_size - o, "\\%c", c);
                else if (c >= 0x20 && c < 0x7f)
                        buf[o++] = (char) c;
                else
                        o += (size_t) snprintf(buf + o, buf_size - o, "\\x%02x", c);
        }
        if (len > max_len && o + 4 < buf_size) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
        return buf;
}

const char *format_timespan(uint64_t usec, bool exact, char buf[static FORMAT_TIMESPAN_MAX]) {
        static const struct {
                uint64_t usec;
                const char *exact, *human; /* NULL: not used in that style */
        } units[] = {
                { 86400 * USEC_PER_SEC, NULL, " d" },
                { 3600 * USEC_PER_SEC, NULL, " h" },
                { 60 * USEC_PER_SEC, "min", " min" },
                { USEC_PER_SEC, "s", " s" },
                { 1000, "ms", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                uint64_t u = units[i].usec;
                bool fits = exact ? units[i].exact && usec >= u && usec % u == 0
                                  : units[i].human && (usec >= 2 * u || u == USEC_PER_SEC);
                if (fits || (exact && u == 1000)) {
                        snprintf(buf, FORMAT_TIMESPAN_MAX, "%llu%s", (unsigned long long) (usec / u),
                                 exact ? units[i].exact : units[i].human);
                        return buf;
                }
        }
        return buf; /* not reached: the last unit of each style always fits */
}

const char *format_clock(uint64_t t, uint64_t now, char buf[static FORMAT_CLOCK_MAX]) {
        time_t a = (time_t) t, b = (time_t) now;
        struct tm then, today;

        buf[0] = '\0';
        if (!localtime_r(&a, &then) || !localtime_r(&b, &today))
                return buf;
        strftime(buf, FORMAT_CLOCK_MAX,
                 then.tm_year == today.tm_year && then.tm_yday == today.tm_yday ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &then);
        return buf;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        return read_trusted_file(path, max, NULL, ret, ret_size, NULL);
}

int read_trusted_file(const char *path, size_t max, const struct file_trust *trust, char **ret, size_t *ret_size,
                      struct stat *ret_st) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        /* What is checked is the file that was opened, not whatever the path names a moment later. */
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (ret_st)
                *ret_st = st;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
                /* /dev/null: the usual way to say "nothing here" (--config /dev/null: the defaults).
                 * Any other device, a FIFO or a socket stays refused. */
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
                *ret = TAKE_PTR(buf);
                if (ret_size)
                        *ret_size = 0;
                return 0;
        }
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (trust && ((st.st_mode & trust->forbidden_mode) ||
                      (st.st_uid != 0 && (trust->other_owner == 0 || st.st_uid != trust->other_owner))))
                return -EPERM;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        /* st_size is a hint only (procfs, files growing under us): read until EOF, never past max. */
        size_t cap = (size_t) st.st_size + 4096;
        if (cap > max + 1)
                cap = max + 1;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;
                if (n == cap) {
                        /* The file grew while we read it. */
                        if (cap > max)
                                return -EFBIG;
                        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        char *nb = realloc(buf, ncap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                k = read(fd, buf + n, cap - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max)
                        return -EFBIG;
        }
        char *nb = realloc(buf, n + 1);
        if (!nb)
                return -ENOMEM;
        buf = nb;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

const char *file_trust_failure(const struct file_trust *trust, const struct stat *st, char *buf, size_t size) {
        if (st->st_mode & trust->forbidden_mode)
                snprintf(buf, size, "is %s by group or others (mode %04o)",
                         trust->forbidden_mode & 044 ? "readable or writable" : "writable", (unsigned) (st->st_mode & 07777));
        else
                snprintf(buf, size, "belongs to uid %u, not to root%s", (unsigned) st->st_uid,
                         trust->other_owner ? " or to the user running this" : "");
        return buf;
}

int mkdir_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);

        if (!copy)
                return -ENOMEM;
        if (mkdir(dirname(copy), 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t size, unsigned mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t done = 0;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        while (done < size) {
                ssize_t k = write(fd, data + done, size - done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        goto fail;
                }
                done += (size_t) k;
        }
        if (fchmod(fd, mode) < 0) {
                r = negative_errno();
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = negative_errno();
                goto fail;
        }
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}

static uint64_t clock_usec(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

uint64_t now_usec_monotonic(void) {
        return clock_usec(CLOCK_MONOTONIC);
}

uint64_t cpu_usec(void) {
        return clock_usec(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t now_usec_realtime(void) {
        return clock_usec(CLOCK_REALTIME);
}
