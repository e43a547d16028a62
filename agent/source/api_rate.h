/* SPDX-License-Identifier: MIT */
/* DigitalOcean's rate limits as its API reports them, and what the agent does with them: the
 * headers it reads (Retry-After, ratelimit-limit, -remaining, -reset), how long it waits after a
 * 429 or an exhausted window, and the pace of the next round (the arithmetic is core/api_pace.h;
 * this is the glue that feeds it). The request budget of this process is api_budget.h. */
#pragma once

#include "api_pace.h"
#include "config.h"
#include "http.h"

/* The response headers an API request asks http.c for, in the order of http_response.headers. */
extern const char *const api_rate_headers[];

struct api_rate {
        /* The rate-limit headers of the last answer that had them. */
        bool known;
        int64_t limit, remaining;
        int64_t reset;                  /* Unix time, -1 when absent */
        unsigned last_round_requests;   /* what the last whole round took, but the droplet's read */
        struct api_pace_history history;
};

/* Records resp's rate-limit headers; returns the CLOCK_MONOTONIC time before which the API must
 * not be asked again (after a 429, or when ratelimit-remaining is 0), else 0. */
uint64_t api_rate_read(struct api_rate *r, const struct http_response *resp);

/* The interval until the next round (api_pace.h), from the last headers and the intervals
 * planned before; records the interval planned. first: after this agent's first round, which
 * own_requests (its requests in the window) and arrived (the part of the start spread gone by)
 * help read. */
void api_rate_pace(struct api_rate *r, const struct config *c, bool first, unsigned own_requests, double arrived,
                   struct api_pace *ret);

/* The fleet estimate of the last run, kept across boots in the folder of owner_file (file
 * "api-fleet", "fleet = N"), so that the service's first round after a boot spreads over what
 * that fleet needs (api_pace_start_spread): a droplet alone asks at once. 0 when there is none
 * (a new droplet, owner_file = none, a file that does not read as one). */
double api_fleet_hint_read(const struct config *c);
/* Keeps fleet (rounded up) when it differs from the kept one by more than a quarter; *kept is the
 * kept one, 0 before. */
void api_fleet_hint_save(const struct config *c, double fleet, double *kept);

/* api_interval as the agent applies it: VPR_BENCH_API_SCALE runs API time faster in benchmarks,
 * without changing which config files are accepted. */
static inline uint64_t api_interval(const struct config *c) {
        return c->api_interval_usec / api_time_scale();
}
