/* SPDX-License-Identifier: MIT */
/* The pacing rule alone (agent/core/api_pace.c, the very code the agent runs), for fleets too large to
 * start for real: simulated agents share one token whose API keeps DigitalOcean's sliding windows
 * (5,000 requests an hour, 250 a minute) and answers with ratelimit-* headers, as
 * tests/lib/fake_api.py does for bench/fleet. Time is simulated: a day takes a moment.
 *
 *   fleet-model N [START_SPREAD_S [LATE_N LATE_AT_S]]
 *
 * N agents start at random times within START_SPREAD_S (default 10 s: a fleet booted at once);
 * LATE_N more join at LATE_AT_S. Each runs rounds of two requests and plans the next one as the
 * daemon does (api_pace_next): api_pace_compute on the last answer's headers, ±10 % jitter
 * (±50 % after its first round), and after a 429, Retry-After plus up to 10 %. A peering turns
 * ACTIVE at PEERING_AT; an agent routes it at its first complete round after that.
 *
 * Figures count from STEADY_AT, two windows after the latest start. FLEET_MODEL_HOURS sets the
 * simulated duration (default 6); FLEET_MODEL_TRACE=1 prints the window every 10 minutes.
 * Prints one line of key=value figures. */
#include <math.h>

#include "api_pace.h"

#define LIMIT 5000
#define WINDOW 3600.0
#define MINUTE_LIMIT 250
#define MINUTE 60.0
#define API_INTERVAL 60.0
#define BUDGET 50
#define PER_ROUND 2

/* A sliding window of request times: the agent's ring (base/ring.h) as large as the limit. */
struct window {
        double *t;
        size_t cap;
        struct ring ring;
};

static void window_init(struct window *w, size_t cap) {
        *w = (struct window) { .t = calloc(cap, sizeof(double)), .cap = cap };
        if (!w->t)
                abort();
}

static double window_oldest(const struct window *w) {
        return w->t[ring_slot(&w->ring, w->cap, 0)];
}

static void window_expire(struct window *w, double now, double length) {
        while (w->ring.n > 0 && window_oldest(w) <= now - length)
                ring_drop_oldest(&w->ring, w->cap);
}

static void window_add(struct window *w, double now) {
        w->t[ring_push(&w->ring, w->cap)] = now;
}

struct agent {
        double next, interval;
        double routed_at;       /* first complete round after the peering turned ACTIVE, or -1 */
        unsigned rounds;
        struct api_pace_history history;
};

static uint64_t rng = 88172645463325252ULL;

static double uniform(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (double) (rng >> 11) / 9007199254740992.0;
}

static uint64_t usec(double s) {
        return s <= 0 ? 0 : (uint64_t) (s * 1e6);
}

int main(int argc, char *argv[]) {
        int n = argc > 1 ? atoi(argv[1]) : 100, late_n = argc > 4 ? atoi(argv[3]) : 0, total;
        double spread = argc > 2 ? atof(argv[2]) : 10.0, late_at = argc > 4 ? atof(argv[4]) : 0.0;
        double hours = getenv("FLEET_MODEL_HOURS") ? atof(getenv("FLEET_MODEL_HOURS")) : 6.0;
        double duration = hours * 3600.0, steady_at = late_at + spread + 2 * WINDOW;
        double peering_at = steady_at + 17.0, fair, max_window = 0, sum_window = 0, delay_max = 0, next_trace = 0;
        uint64_t requests = 0, limited = 0, limited_steady = 0, samples = 0;
        bool trace = getenv("FLEET_MODEL_TRACE") != NULL;
        struct window hour, minute;
        struct agent *a;

        if (n < 1 || late_n < 0 || spread < 0 || duration < peering_at + WINDOW) {
                fprintf(stderr, "usage: fleet-model N [START_SPREAD_S [LATE_N LATE_AT_S]] (FLEET_MODEL_HOURS long enough)\n");
                return 2;
        }
        total = n + late_n;
        a = calloc((size_t) total, sizeof *a);
        if (!a)
                abort();
        window_init(&hour, LIMIT);
        window_init(&minute, MINUTE_LIMIT);
        for (int i = 0; i < total; i++) {
                a[i].next = (i < n ? 0 : late_at) + uniform() * spread;
                a[i].routed_at = -1;
        }
        fair = fmax(API_INTERVAL, (double) total * PER_ROUND * WINDOW / (BUDGET / 100.0 * LIMIT));

        for (;;) {
                struct agent *g = &a[0];
                for (int i = 1; i < total; i++)
                        if (a[i].next < g->next)
                                g = &a[i];
                double now = g->next, retry = -1, reset = now;
                int64_t remaining = 0;
                if (now > duration)
                        break;
                if (trace && now >= next_trace) {
                        double mean = 0;
                        window_expire(&hour, now, WINDOW);
                        for (int i = 0; i < total; i++)
                                mean += a[i].interval / total;
                        fprintf(stderr, "t=%6.0f window=%4zu limited=%llu mean_interval=%.0f\n", now, hour.ring.n,
                                (unsigned long long) limited, mean);
                        next_trace += 600;
                }

                for (int r = 0; r < PER_ROUND; r++) {
                        double t = now + r * 0.001;
                        window_expire(&hour, t, WINDOW);
                        window_expire(&minute, t, MINUTE);
                        requests++;
                        if (hour.ring.n >= LIMIT || minute.ring.n >= MINUTE_LIMIT) {
                                double free_at = hour.ring.n >= LIMIT ? window_oldest(&hour) + WINDOW : window_oldest(&minute) + MINUTE;
                                retry = fmax(1.0, ceil(free_at - t));
                                limited++;
                                limited_steady += t >= steady_at;
                                break;
                        }
                        window_add(&hour, t);
                        window_add(&minute, t);
                        remaining = LIMIT - (int64_t) hour.ring.n;
                        reset = ceil(window_oldest(&hour) + WINDOW);
                        if (t >= steady_at) {
                                max_window = fmax(max_window, (double) hour.ring.n);
                                sum_window += (double) hour.ring.n;
                                samples++;
                        }
                }
                if (retry >= 0) {
                        g->next = now + retry + uniform() * retry / 10.0;
                        continue;
                }
                if (now >= peering_at && g->routed_at < 0) {
                        g->routed_at = now;
                        delay_max = fmax(delay_max, now - peering_at);
                }

                /* What api_pace_next does in the agent. */
                struct api_pace_in in = {
                        .limit = LIMIT,
                        .remaining = remaining,
                        .has_reset = true,
                        .reset_in = usec(reset - now),
                        .own_interval = api_pace_history_mean(&g->history, usec(now), usec(WINDOW)),
                        .per_round = PER_ROUND,
                        .window = API_PACE_WINDOW_USEC,
                        .interval_min = usec(API_INTERVAL),
                        .budget = BUDGET,
                };
                struct api_pace p;
                api_pace_compute(&in, &p);
                api_pace_history_add(&g->history, usec(now), p.interval);
                g->interval = (double) p.interval / 1e6;
                g->next = now + g->interval * (g->rounds++ == 0 ? 0.5 + uniform() : 0.9 + 0.2 * uniform());
        }

        double imin = INFINITY, imax = 0, isum = 0;
        int routed = 0;
        for (int i = 0; i < total; i++) {
                imin = fmin(imin, a[i].interval);
                imax = fmax(imax, a[i].interval);
                isum += a[i].interval;
                routed += a[i].routed_at >= 0;
        }
        printf("agents=%d fair_interval_s=%.0f interval_mean_s=%.0f interval_min_s=%.0f interval_max_s=%.0f "
               "window_max=%.0f window_mean=%.0f budget=%d limit=%d requests=%llu limited_total=%llu limited_steady=%llu "
               "routed=%d/%d delay_max_s=%.0f delay_over_fair=%.2f\n",
               total, fair, isum / total, imin, imax, max_window, samples ? sum_window / (double) samples : 0.0,
               BUDGET * LIMIT / 100, LIMIT, (unsigned long long) requests, (unsigned long long) limited,
               (unsigned long long) limited_steady, routed, total, delay_max, delay_max / fair);
        return 0;
}
