/* SPDX-License-Identifier: MIT */
#include "api_pace.h"

/* A fleet's first rounds all sit in the token's window (young: its oldest request is younger
 * than the window): u of them, over the span s. Its next rounds, spread over one interval at the
 * aim's pace (aim / window), must not push the window over the aim before enough of those first
 * requests expire: the earliest the next rounds may begin. */
static uint64_t first_round_guard(const struct api_pace_in *in, double u, double aim) {
        double s, w = (double) in->window, g;

        if (!in->has_reset || in->reset_in > in->window || u <= 0)
                return 0;
        s = w - (double) in->reset_in;
        if (s >= w)
                return 0;
        if (u <= aim)
                /* Room for aim - u more before the first requests expire at w - s from now. */
                g = w - s - (aim - u) * w / aim;
        else
                /* Over the aim already: until u - aim of them have expired. */
                g = w - s + s * (u - aim) / u;
        return g > 0 ? (uint64_t) g : 0;
}

void api_pace_compute(const struct api_pace_in *in, struct api_pace *ret) {
        uint64_t own_interval = in->own_interval ? in->own_interval : MAX(in->interval_min, 1u), token_span;
        unsigned per_round = MAX(in->per_round, 1u);
        double rate_token, rate_own, paced, budget;
        double arrived = in->arrived > 0 && in->arrived < 1.0 ? MAX(in->arrived, 0.05) : 1.0;

        *ret = (struct api_pace) { .interval = in->interval_min, .fleet = 1.0 };
        if (in->limit <= 0 || in->remaining < 0 || in->window == 0)
                return;
        ret->limit = in->limit;
        ret->used = in->remaining < in->limit ? (uint64_t) (in->limit - in->remaining) : 0;

        /* The oldest request of the window expires at ratelimit-reset: the window holds requests
         * for window - reset_in. Without the header, or with one that makes no sense, the whole
         * window. */
        token_span = in->has_reset && in->reset_in <= in->window ? in->window - in->reset_in : in->window;
        token_span = MIN(token_span + own_interval, in->window);
        rate_token = (double) ret->used / (double) token_span;
        rate_own = (double) per_round / (double) own_interval;
        ret->fleet = MAX(rate_token / rate_own, 1.0);
        /* After the first round, this agent has no pace of its own yet, and a fleet that booted
         * together is in the middle of its start spread: all came to ask the same few requests,
         * so the token's count over this agent's own is how many have asked so far, and over the
         * part of the spread gone by, how many will have. (Later, a count of one or two own
         * requests in the window is too coarse: the rates above.) */
        if (in->first && in->own_requests > 0) {
                double seen = (double) ret->used / (double) in->own_requests;
                /* A handful of requests says nothing of a fleet yet: projected, one droplet would
                 * read as twenty. Nor does a token whose window is full (its oldest request expires
                 * within a minute): this agent joins a fleet that started long ago, and the count
                 * is all of it. */
                if (seen < API_PACE_FLEET_SEEN || !in->has_reset || in->reset_in < in->window / 60)
                        arrived = 1.0;
                ret->fleet = MAX(seen / arrived, 1.0);
        }

        /* Aim a little under the budget: the window's count wanders a few percent around the
         * aim as the fleet's rounds come and go. */
        budget = (double) CLAMP(in->budget, 1u, 100u) / 100.0 * API_PACE_AIM;
        paced = (double) per_round * ret->fleet * (double) in->window / (budget * (double) in->limit);
        /* Above the aim already (a fleet that just started, another program on the token):
         * slower still, until the window drains, so that the hard limit stays out of reach. */
        if ((double) ret->used > budget * (double) in->limit) {
                double over = (double) ret->used / (budget * (double) in->limit);
                paced *= over * over;
        }
        /* Faster by at most a tenth a round while the token is busy (a quarter of the aim or
         * more): its count lags the fleet's pace by up to a window, and a fleet that all speed up
         * at once on a count that has not caught up yet overshoots the aim an hour later
         * (bench/RESULTS.md, 2026-11-30). Slower at once; and at once back to api_interval when
         * the others left. */
        if (!in->first && in->last_interval > 0 && (double) ret->used >= budget * (double) in->limit / 4)
                paced = MAX(paced, (double) in->last_interval * API_PACE_SPEEDUP);
        /* At most the window (the fleet's share cannot need longer), never under api_interval,
         * which the user may set longer than the window. */
        ret->interval = MAX(paced >= (double) in->window ? in->window : (uint64_t) paced, in->interval_min);
        if (in->first)
                ret->not_before = first_round_guard(in, (double) ret->used / arrived, budget * (double) in->limit);

        /* Too little left for a round: the next one waits for the oldest requests to expire.
         * ratelimit-reset is read against the droplet's clock, which may be hours off: no
         * oldest request expires later than a window from now. */
        if (in->remaining < (int64_t) per_round) {
                ret->exhausted = true;
                ret->interval = MAX(ret->interval, in->has_reset ? MIN(in->reset_in, in->window) + 1000000ULL : in->window / 60);
        }
}

uint64_t api_pace_start_spread(double fleet, uint64_t minute) {
        double spread;

        if (fleet <= 0)
                return API_PACE_START_SPREAD_MAX * minute;
        /* Each agent's first round asks the droplet and its peerings: two requests. */
        spread = MAX(fleet, 1.0) * 2.0 / (API_PACE_MINUTE_AIM * API_PACE_MINUTE_LIMIT) * (double) minute;
        return MIN((uint64_t) spread, API_PACE_START_SPREAD_MAX * minute);
}

uint64_t api_pace_delay(const struct api_pace *p, bool first, uint64_t start_left, double u) {
        u = u < 0 ? 0 : u > 1 ? 1 : u;
        if (first)
                /* Once the whole fleet has asked and its first requests leave room: spread over one
                 * interval, so that the fleet's later rounds are spread as evenly. */
                return MAX(p->not_before, start_left) + (uint64_t) ((double) p->interval * u);
        return MAX(p->not_before, p->interval - p->interval / 10 + (uint64_t) ((double) p->interval / 5.0 * u));
}

void api_pace_history_add(struct api_pace_history *h, uint64_t at, uint64_t planned) {
        size_t i = ring_push(&h->ring, API_PACE_HISTORY);

        h->at[i] = at;
        h->planned[i] = planned;
}

uint64_t api_pace_history_last(const struct api_pace_history *h) {
        return h->ring.n ? h->planned[ring_slot(&h->ring, API_PACE_HISTORY, h->ring.n - 1)] : 0;
}

uint64_t api_pace_planned(const struct api_pace *p, bool first) {
        /* A first round's wait for the rest of the start spread is no pace of this agent's; of the
         * wait for the fleet's first requests to leave room, a fifth counts, since the token's
         * count holds them that much longer. A fifth is what bench/fleet-model found best: none
         * let the fleet overshoot the aim the hour after, all of it kept the intervals long. */
        return first ? p->interval + p->not_before / 5 : p->interval;
}

uint64_t api_pace_history_mean(const struct api_pace_history *h, uint64_t now, uint64_t window) {
        uint64_t sum = 0;
        size_t k = 0;

        /* Newest first: all of the window, and at least the latest. */
        for (size_t i = h->ring.n; i-- > 0;) {
                size_t j = ring_slot(&h->ring, API_PACE_HISTORY, i);
                if (k > 0 && now - h->at[j] >= window)
                        break;
                sum += h->planned[j];
                k++;
        }
        return k ? sum / k : 0;
}

unsigned api_time_scale(void) {
        static unsigned scale;
        const char *e;
        unsigned long v;
        char *end;

        if (scale)
                return scale;
        scale = 1;
        e = getenv("VPR_BENCH_API_SCALE");
        if (e && *e) {
                errno = 0;
                v = strtoul(e, &end, 10);
                if (errno == 0 && !*end && v >= 1 && v <= 3600)
                        scale = (unsigned) v;
        }
        return scale;
}
