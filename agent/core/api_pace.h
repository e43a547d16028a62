/* SPDX-License-Identifier: MIT */
/* Pacing API rounds when a fleet of droplets shares one token.
 *
 * DigitalOcean counts a token's requests in a sliding hour and answers each request with
 * ratelimit-limit (5,000), ratelimit-remaining and ratelimit-reset (when the oldest request of
 * the hour expires). limit - remaining is what the whole fleet spent in the window, and from
 * ratelimit-reset, over how long. The agent knows its own pace: the interval between its rounds.
 * The ratio of the two rates is how many agents like this one share the token (the "fleet"),
 * and this agent's fair share of 95 % of budget percent of the limit gives its interval:
 *
 *     fleet    = (used / token_span) / (per_round / own_interval)
 *     interval = per_round * fleet * window / (0.95 * budget * limit),  at least api_interval,
 *                at most the window, and longer by (used / aim)^2 while the token is above it
 *
 * token_span is how long the window holds requests for: the whole window once the token has
 * been in use that long, else since its oldest request plus one of this agent's intervals (a
 * fleet that started together has made k rounds in k - 1 intervals). own_interval is the mean
 * of the intervals this agent planned (before jitter) after its rounds of the last window, or
 * the latest one when the window holds none: the same hour as the token's count, so that both
 * rates describe the same requests, and jitter does not feed back into it. (A mean over more
 * rounds than the window holds mixes in a pace the token's count has forgotten; when a round
 * takes most of an hour, that lag made the whole fleet's count swing up to 44 % above the aim
 * for hours: bench/RESULTS.md, 2026-11-28.) A droplet alone with its token reads fleet = 1 and
 * keeps api_interval.
 *
 * The start of a fleet booted at once (issue 21) has rules of its own. The service's first round
 * waits a draw from api_pace_start_spread, which keeps the fleet's first rounds under the
 * minute's limit. After it, the agent has no pace of its own yet: the fleet is the token's count
 * over this agent's requests in the window (all asked the same few), projected over the rest of
 * the start spread while the token's window is young; not_before holds the next rounds until
 * the fleet's first requests leave room under the aim, and api_pace_delay spreads them over one
 * interval from there. Later, while the token is busy, an interval is at most a tenth shorter
 * than the one before: the token's count lags the fleet's pace, and a fleet that speeds up all at
 * once overshoots an hour later.
 *
 * What it does for fleets of 10 to 1,000 is measured by bench/fleet (real agents) and
 * bench/fleet-model (this function alone); see bench/RESULTS.md.
 *
 * Pure: numbers in, numbers out (unit tests and bench/fleet-model drive it directly). */
#pragma once

#include "ring.h"
#include "util.h"

#define API_PACE_WINDOW_USEC (3600 * 1000000ULL) /* the hour ratelimit-limit counts */
#define API_PACE_AIM 0.95 /* of api_budget */
#define API_PACE_SPEEDUP 0.9 /* the shortest next interval, of the last ones */
/* DigitalOcean's other limit: 250 requests a minute per token. No header reports it; the start
 * spread keeps a fleet's first rounds under 80 % of it. */
#define API_PACE_MINUTE_LIMIT 250
#define API_PACE_MINUTE_AIM 0.8
/* The start spread when nothing is known of the fleet (a new droplet): long enough for the first
 * rounds of 1,000 droplets booted at once, 2,000 requests at 222 a minute, under the limit
 * (bench/fleet-model: 10 minutes meet no 429, 8 meet about 150, 9 about 20). */
#define API_PACE_START_SPREAD_MAX 9 /* minutes */
/* The token's count over this agent's own from which a first round projects it over the rest of
 * the start spread. */
#define API_PACE_FLEET_SEEN 4

struct api_pace_in {
        /* The last answer's headers: limit <= 0 or remaining < 0 when the API said nothing. */
        int64_t limit;
        int64_t remaining;
        bool has_reset;
        uint64_t reset_in;      /* until ratelimit-reset */
        /* The mean interval this agent planned after its recent rounds, and the latest; 0 before
         * the first. */
        uint64_t own_interval;
        uint64_t last_interval;
        unsigned per_round;     /* requests a steady round takes */
        /* The round just made was this agent's first: own_requests (its requests in the window)
         * and arrived (the part of the start spread gone by, 0 < arrived <= 1; 0 for all) tell
         * the fleet, and not_before keeps the window under the aim while its first requests
         * expire. */
        bool first;
        unsigned own_requests;
        double arrived;
        uint64_t window;        /* API_PACE_WINDOW_USEC, divided in benchmarks */
        uint64_t interval_min;  /* api_interval */
        unsigned budget;        /* api_budget, percent of the limit (1 to 100) */
};

struct api_pace {
        uint64_t interval;      /* until the next round, before jitter */
        int64_t limit;          /* the token's limit in the window, 0 when the API said nothing */
        double fleet;           /* agents like this one on the token; 1 alone or when unknown */
        uint64_t used;          /* the token's requests in the window, as the API counts them */
        bool exhausted;         /* remaining cannot carry another round: wait for the reset */
        uint64_t not_before;    /* after a first round: the next not sooner than this */
};

void api_pace_compute(const struct api_pace_in *in, struct api_pace *ret);

/* The delay of the next round: after a first round, not before not_before nor the rest of the
 * start spread (start_left), then spread over one interval; else the interval ±10 %. u is a
 * uniform draw in [0, 1]. */
uint64_t api_pace_delay(const struct api_pace *p, bool first, uint64_t start_left, double u);

/* The spread of the service's first round over which a fleet of that many agents booted at once
 * keeps its first rounds (two requests each) under 80 % of the minute limit, at most
 * API_PACE_START_SPREAD_MAX minutes, over which a fleet spreads when it is not known (fleet <= 0:
 * a new droplet). minute: how long a minute is (divided in benchmarks). A draw in [0, spread) is
 * the delay of the first round. */
uint64_t api_pace_start_spread(double fleet, uint64_t minute);

/* The intervals an agent planned after its rounds, for own_interval. */
#define API_PACE_HISTORY 64
struct api_pace_history {
        uint64_t at[API_PACE_HISTORY];      /* when the round was (any clock, the same for now) */
        uint64_t planned[API_PACE_HISTORY]; /* the interval planned after it */
        struct ring ring;
};

void api_pace_history_add(struct api_pace_history *h, uint64_t at, uint64_t planned);
/* The mean planned interval of the rounds after now - window, or the latest one when there is
 * none in it; 0 before the first round. */
uint64_t api_pace_history_mean(const struct api_pace_history *h, uint64_t now, uint64_t window);
/* The latest interval planned; 0 before the first round. */
uint64_t api_pace_history_last(const struct api_pace_history *h);
/* What the history records of a pace: the interval, and after a first round a fifth of not_before
 * besides (never the rest of the start spread). */
uint64_t api_pace_planned(const struct api_pace *p, bool first);

/* VPR_BENCH_API_SCALE=S (benchmarks only): API time runs S times faster. The pacing window, the
 * agent's own request budgets and api_interval as applied (api_interval(), source/api_rate.h)
 * are divided by S; counts are not, and the config accepted is the same. 1 when unset or
 * invalid. */
unsigned api_time_scale(void);
