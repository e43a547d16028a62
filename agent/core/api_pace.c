/* SPDX-License-Identifier: MIT */
#include "api_pace.h"

void api_pace_compute(const struct api_pace_in *in, struct api_pace *ret) {
        uint64_t own_interval = in->own_interval ? in->own_interval : MAX(in->interval_min, 1u), token_span;
        unsigned per_round = MAX(in->per_round, 1u);
        double rate_token, rate_own, paced, budget;

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
        /* At most the window (the fleet's share cannot need longer), never under api_interval,
         * which the user may set longer than the window. */
        ret->interval = MAX(paced >= (double) in->window ? in->window : (uint64_t) paced, in->interval_min);

        /* Too little left for a round: the next one waits for the oldest requests to expire.
         * ratelimit-reset is read against the droplet's clock, which may be hours off: no
         * oldest request expires later than a window from now. */
        if (in->remaining < (int64_t) per_round) {
                ret->exhausted = true;
                ret->interval = MAX(ret->interval, in->has_reset ? MIN(in->reset_in, in->window) + 1000000ULL : in->window / 60);
        }
}

void api_pace_history_add(struct api_pace_history *h, uint64_t at, uint64_t planned) {
        size_t i = ring_push(&h->ring, API_PACE_HISTORY);

        h->at[i] = at;
        h->planned[i] = planned;
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
