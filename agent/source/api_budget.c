/* SPDX-License-Identifier: MIT */
/* Sliding-window request budgets: a ring of the times of the last requests, as many as the
 * window allows. */
#include "api_budget.h"

static int rate_log_init(struct rate_log *l, size_t budget, uint64_t window) {
        l->times = calloc(budget, sizeof *l->times);
        if (!l->times)
                return -ENOMEM;
        l->cap = budget;
        l->window = window;
        return 0;
}

static void rate_log_expire(struct rate_log *l, uint64_t now) {
        while (l->ring.n > 0 && now - l->times[ring_slot(&l->ring, l->cap, 0)] >= l->window)
                ring_drop_oldest(&l->ring, l->cap);
}

static uint64_t rate_log_next_slot(struct rate_log *l, uint64_t now) {
        rate_log_expire(l, now);
        return l->ring.n < l->cap ? 0 : l->times[ring_slot(&l->ring, l->cap, 0)] + l->window;
}

static void rate_log_add(struct rate_log *l, uint64_t now) {
        l->times[ring_push(&l->ring, l->cap)] = now;
}

int api_budget_init(struct api_budget *b, unsigned scale) {
        scale = scale ? scale : 1;
        *b = (struct api_budget) {};
        if (rate_log_init(&b->minute, API_BUDGET_MINUTE, 60 * 1000000ULL / scale) < 0 ||
            rate_log_init(&b->hour, API_BUDGET_HOUR, 3600 * 1000000ULL / scale) < 0) {
                api_budget_done(b);
                return -ENOMEM;
        }
        return 0;
}

void api_budget_done(struct api_budget *b) {
        free(b->minute.times);
        free(b->hour.times);
        *b = (struct api_budget) {};
}

uint64_t api_budget_next_slot(struct api_budget *b, uint64_t now) {
        uint64_t slot = rate_log_next_slot(&b->minute, now);
        return slot ? slot : rate_log_next_slot(&b->hour, now);
}

unsigned api_budget_hour_count(struct api_budget *b, uint64_t now) {
        rate_log_expire(&b->hour, now);
        return (unsigned) b->hour.ring.n;
}

void api_budget_spend(struct api_budget *b, uint64_t now) {
        rate_log_add(&b->minute, now);
        rate_log_add(&b->hour, now);
}
