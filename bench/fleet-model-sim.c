/* SPDX-License-Identifier: MIT */
/* The pacing rule alone (agent/core/api_pace.c, the very code the agent runs), for fleets too large to
 * start for real: simulated agents share one token whose API keeps DigitalOcean's sliding windows
 * (5,000 requests an hour, 250 a minute) and answers with ratelimit-* headers and, when spent, 429
 * with Retry-After, as tests/lib/fake_api.py does for bench/fleet. Time is simulated: a day takes a
 * moment.
 *
 *   fleet-model N [START_SPREAD_S [LATE_N LATE_AT_S]]
 *
 * N new droplets boot at random times within START_SPREAD_S (default 10 s: a fleet booted at once);
 * LATE_N more join at LATE_AT_S. Each runs the service's API rounds as the daemon does: the first
 * after a draw from api_pace_start_spread (nothing known of the fleet), then api_pace_compute on
 * the last answer's headers and api_pace_delay. A round reads the droplet (its first, and again
 * after 6 to 12 hours) and then the peerings: two requests, one in steady state. After a 429 of
 * the minute, a minute at least and up to a minute more; of the hour, its Retry-After. A peering turns ACTIVE at PEERING_AT; an agent routes it at its
 * first complete round after that.
 *
 * Figures count from STEADY_AT, two windows after the latest start, except window_max_all (the
 * busiest window of the whole run, the cold start included) and limited_total (every 429).
 * FLEET_MODEL_HOURS sets the simulated duration (default 6); FLEET_MODEL_SEED another draw of the
 * random numbers; FLEET_MODEL_TRACE=1 prints the window every 10 minutes. Prints one line of
 * key=value figures. */
#include <math.h>

#include "api_pace.h"

#define LIMIT 5000
#define WINDOW 3600.0
#define MINUTE_LIMIT API_PACE_MINUTE_LIMIT
#define MINUTE 60.0
#define API_INTERVAL 60.0
#define BUDGET 50
#define REFRESH (6 * 3600.0) /* the droplet again after 6 to 12 hours, as api_round.c */
#define OWN_LOG 64

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
        double start_end;       /* when the fleet's start spread is over, as this agent sees it */
        double spread;
        double droplet_at, refresh;
        double routed_at;       /* first complete round after the peering turned ACTIVE, or -1 */
        unsigned rounds;
        struct api_pace_history history;
        struct window own;      /* its own requests, as its request budget counts them */
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
        double peering_at = steady_at + 17.0, fair, max_window = 0, max_window_all = 0, sum_window = 0, delay_max = 0;
        double first_max = 0, next_trace = 0;
        uint64_t requests = 0, limited = 0, limited_steady = 0, samples = 0;
        bool trace = getenv("FLEET_MODEL_TRACE") != NULL;
        struct window hour, minute;
        struct agent *a;

        if (getenv("FLEET_MODEL_SEED"))
                rng ^= strtoull(getenv("FLEET_MODEL_SEED"), NULL, 10) * 0x9E3779B97F4A7C15ULL;
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
                double boot = (i < n ? 0 : late_at) + uniform() * spread;
                a[i].spread = (double) api_pace_start_spread(0, usec(MINUTE)) / 1e6;
                a[i].next = boot + uniform() * a[i].spread;
                a[i].start_end = boot + a[i].spread;
                a[i].droplet_at = -1;
                a[i].routed_at = -1;
                window_init(&a[i].own, OWN_LOG);
        }
        /* One request a steady round, and the droplet every 6 to 12 hours. */
        fair = fmax(API_INTERVAL, (double) total * WINDOW / (BUDGET / 100.0 * LIMIT));

        for (;;) {
                struct agent *g = &a[0];
                for (int i = 1; i < total; i++)
                        if (a[i].next < g->next)
                                g = &a[i];
                double now = g->next, reset;
                int64_t remaining;
                bool droplet = g->droplet_at < 0 || now - g->droplet_at >= g->refresh;
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

                window_expire(&hour, now, WINDOW);
                window_expire(&minute, now, MINUTE);
                window_expire(&g->own, now, WINDOW);
                requests++;
                if (hour.ring.n >= LIMIT || minute.ring.n >= MINUTE_LIMIT) {
                        double free_at = hour.ring.n >= LIMIT ? window_oldest(&hour) + WINDOW : window_oldest(&minute) + MINUTE;
                        /* What api_rate_read and daemon_schedule_api do with a 429: of the
                         * hour, its Retry-After and up to a tenth more; of the minute (the hour
                         * has requests left), at least a minute and up to a minute more. */
                        double retry = fmax(1.0, ceil(free_at - now));
                        limited++;
                        limited_steady += now >= steady_at;
                        if (hour.ring.n >= LIMIT)
                                g->next = now + retry + uniform() * retry / 10.0;
                        else
                                g->next = now + fmax(retry, MINUTE) + uniform() * MINUTE;
                        continue;
                }
                window_add(&hour, now);
                window_add(&minute, now);
                window_add(&g->own, now);
                max_window_all = fmax(max_window_all, (double) hour.ring.n);
                if (now >= steady_at) {
                        max_window = fmax(max_window, (double) hour.ring.n);
                        sum_window += (double) hour.ring.n;
                        samples++;
                }
                remaining = LIMIT - (int64_t) hour.ring.n;
                reset = ceil(window_oldest(&hour) + WINDOW);
                if (droplet) {
                        /* The droplet answered: its peerings next, at once. */
                        g->droplet_at = now;
                        g->refresh = REFRESH * (1.0 + uniform());
                        g->next = now + 0.001;
                        continue;
                }
                if (g->rounds == 0)
                        first_max = fmax(first_max, now);
                if (now >= peering_at && g->routed_at < 0) {
                        g->routed_at = now;
                        delay_max = fmax(delay_max, now - peering_at);
                }

                /* What api_rate_pace and on_api_done do in the agent. */
                bool first = g->rounds++ == 0;
                struct api_pace_in in = {
                        .limit = LIMIT,
                        .remaining = remaining,
                        .has_reset = true,
                        .reset_in = usec(reset - now),
                        .own_interval = api_pace_history_mean(&g->history, usec(now), usec(WINDOW)),
                        .last_interval = api_pace_history_last(&g->history),
                        .per_round = 1, /* the peerings: the droplet's read is no steady cost */
                        .window = API_PACE_WINDOW_USEC,
                        .interval_min = usec(API_INTERVAL),
                        .budget = BUDGET,
                        .first = first,
                        .own_requests = (unsigned) g->own.ring.n,
                        .arrived = g->spread > 0 ? 1.0 - fmax(0.0, g->start_end - now) / g->spread : 1.0,
                };
                struct api_pace p;
                api_pace_compute(&in, &p);
                uint64_t delay = api_pace_delay(&p, first, usec(g->start_end - now), uniform());
                api_pace_history_add(&g->history, usec(now), api_pace_planned(&p, first));
                g->interval = (double) p.interval / 1e6;
                g->next = now + (double) delay / 1e6;
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
               "window_max=%.0f window_max_all=%.0f window_mean=%.0f budget=%d limit=%d requests=%llu limited_total=%llu "
               "limited_steady=%llu first_routes_max_s=%.0f routed=%d/%d delay_max_s=%.0f delay_over_fair=%.2f\n",
               total, fair, isum / total, imin, imax, max_window, max_window_all, samples ? sum_window / (double) samples : 0.0,
               BUDGET * LIMIT / 100, LIMIT, (unsigned long long) requests, (unsigned long long) limited,
               (unsigned long long) limited_steady, first_max, routed, total, delay_max, delay_max / fair);
        return 0;
}
