/* SPDX-License-Identifier: MIT */
#include "api_rate.h"

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

/* Honours Retry-After (seconds or a date) or ratelimit-reset (Unix time) after a 429, and an
 * exhausted ratelimit-remaining on any answer. */
uint64_t api_rate_read(struct api_rate *r, const struct http_response *resp) {
        uint64_t now = now_usec_monotonic(), now_real = now_usec_realtime() / USEC_PER_SEC;
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

void api_rate_pace(struct api_rate *r, const struct config *c, struct api_pace *ret) {
        uint64_t now = now_usec_monotonic(), now_real = now_usec_realtime(), reset;
        struct api_pace_in in = {
                .limit = r->known ? r->limit : -1,
                .remaining = r->known ? r->remaining : -1,
                .per_round = r->last_round_requests ? r->last_round_requests : 2,
                .window = API_PACE_WINDOW_USEC / api_time_scale(),
                .interval_min = api_interval(c),
                .budget = c->api_budget,
        };

        in.own_interval = api_pace_history_mean(&r->history, now, in.window);
        if (r->known && r->reset > 0) {
                reset = (uint64_t) r->reset * USEC_PER_SEC;
                in.has_reset = true;
                in.reset_in = reset > now_real ? reset - now_real : 0;
        }
        api_pace_compute(&in, ret);
        /* A wait for the window to drain says nothing of this agent's pace. */
        if (!ret->exhausted)
                api_pace_history_add(&r->history, now, ret->interval);
}
