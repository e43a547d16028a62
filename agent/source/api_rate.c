/* SPDX-License-Identifier: MIT */
#include <math.h>

#include "api_rate.h"
#include "backoff.h"
#include "log.h"

enum {
        H_RETRY_AFTER,
        H_LIMIT,
        H_REMAINING,
        H_RESET,
};

const char *const api_rate_headers[] = {
        [H_RETRY_AFTER] = "retry-after",
        [H_LIMIT] = "ratelimit-limit",
        [H_REMAINING] = "ratelimit-remaining",
        [H_RESET] = "ratelimit-reset",
        NULL,
};

/* After a 429 of the hour (ratelimit-remaining: 0), or any answer that says the hour is spent:
 * Retry-After (seconds or a date), else ratelimit-reset (Unix time). After a 429 with requests
 * left in the hour: the minute's limit (250 a minute), which no header reports: never sooner
 * than the minute has passed, whatever Retry-After says, and spread over the minute after it, so
 * that a fleet that met it together does not come back together. */
uint64_t api_rate_read(struct api_rate *r, const struct http_response *resp) {
        uint64_t now = now_usec_monotonic(), now_real = now_usec_realtime() / USEC_PER_SEC;
        uint64_t minute = 60 * USEC_PER_SEC / api_time_scale();
        const char *retry = resp->headers[H_RETRY_AFTER];
        int64_t limit = http_header_int(resp->headers[H_LIMIT]);
        int64_t remaining = http_header_int(resp->headers[H_REMAINING]);
        int64_t reset = http_header_int(resp->headers[H_RESET]);
        int64_t wait_sec = retry ? http_retry_after_parse(retry, strlen(retry), (int64_t) now_real) : -1;

        if (limit > 0 && remaining >= 0) {
                r->known = true;
                r->limit = limit;
                r->remaining = remaining;
                r->reset = reset;
        }
        if (resp->status == 429 && remaining != 0)
                return now + MAX(wait_sec > 0 ? (uint64_t) MIN(wait_sec, 3600) * USEC_PER_SEC : 0, minute) +
                       (uint64_t) (backoff_uniform() * (double) minute);
        /* ratelimit-reset is when the hour's oldest request expires. */
        if (wait_sec < 0 && reset > 0 && (uint64_t) reset > now_real)
                wait_sec = reset - (int64_t) now_real;
        if (resp->status == 429 && wait_sec < 0)
                wait_sec = 60;
        if (resp->status != 429 && remaining != 0)
                return 0;
        if (wait_sec < 0)
                return 0;
        return now + (uint64_t) MIN(wait_sec, 3600) * USEC_PER_SEC;
}

static char *fleet_hint_path(const struct config *c) {
        const char *slash;
        char *p;

        if (!c->track_owner || !c->owner_file || !(slash = strrchr(c->owner_file, '/')))
                return NULL;
        if (asprintf(&p, "%.*s/api-fleet", (int) (slash - c->owner_file), c->owner_file) < 0)
                return NULL;
        return p;
}

double api_fleet_hint_read(const struct config *c) {
        _cleanup_free_ char *path = fleet_hint_path(c), *text = NULL;
        unsigned v;
        char tail;

        /* One line, as owner_file's record is read. */
        if (!path || read_full_file(path, 64, &text, NULL) < 0 || sscanf(text, "fleet = %u %c", &v, &tail) != 1 ||
            v < 1 || v > 1000000)
                return 0;
        return (double) v;
}

void api_fleet_hint_save(const struct config *c, double fleet, double *kept) {
        _cleanup_free_ char *path = NULL;
        unsigned long v = (unsigned long) ceil(MAX(fleet, 1.0));
        char text[32];
        int n, r;

        if (*kept > 0 && (double) v <= *kept * 1.25 && (double) v * 1.25 >= *kept)
                return;
        path = fleet_hint_path(c);
        if (!path)
                return;
        n = snprintf(text, sizeof text, "fleet = %lu\n", v);
        r = mkdir_parent(path);
        if (r >= 0)
                r = write_file_atomic(path, text, (size_t) n, 0644);
        if (r < 0) {
                log_debug_errno(r, "Could not write %s: %m", path);
                return;
        }
        *kept = (double) v;
}

void api_rate_pace(struct api_rate *r, const struct config *c, bool first, unsigned own_requests, double arrived,
                   struct api_pace *ret) {
        uint64_t now = now_usec_monotonic(), now_real = now_usec_realtime(), reset;
        struct api_pace_in in = {
                .limit = r->known ? r->limit : -1,
                .remaining = r->known ? r->remaining : -1,
                .per_round = r->last_round_requests ? r->last_round_requests : 1,
                .window = API_PACE_WINDOW_USEC / api_time_scale(),
                .interval_min = api_interval(c),
                .budget = c->api_budget,
                .first = first,
                .own_requests = own_requests,
                .arrived = arrived,
        };

        in.own_interval = api_pace_history_mean(&r->history, now, in.window);
        in.last_interval = api_pace_history_last(&r->history);
        if (r->known && r->reset > 0) {
                reset = (uint64_t) r->reset * USEC_PER_SEC;
                in.has_reset = true;
                in.reset_in = reset > now_real ? reset - now_real : 0;
        }
        api_pace_compute(&in, ret);
        /* A wait for the window to drain says nothing of this agent's pace. */
        if (!ret->exhausted)
                api_pace_history_add(&r->history, now, api_pace_planned(ret, first));
}
