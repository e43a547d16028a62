/* SPDX-License-Identifier: MIT */
/* The request budget of one API token: DigitalOcean allows 250 requests a minute and 5,000 an
 * hour per token. Sliding windows of the times of this process's own requests. */
#pragma once

#include "ring.h"
#include "util.h"

#define API_BUDGET_MINUTE 250
#define API_BUDGET_HOUR 5000

/* Timestamps of recent requests, for one sliding window. */
struct rate_log {
        uint64_t *times;
        size_t cap;     /* the budget */
        struct ring ring;
        uint64_t window;
};

struct api_budget {
        struct rate_log minute;
        struct rate_log hour;
};

/* scale: api_time_scale(), dividing both windows. */
int api_budget_init(struct api_budget *b, unsigned scale);
void api_budget_done(struct api_budget *b);
/* 0 when a request may go at now (CLOCK_MONOTONIC usec), else the time at which one may. */
uint64_t api_budget_next_slot(struct api_budget *b, uint64_t now);
/* This process's requests in the last hour (the window its token's count covers). */
unsigned api_budget_hour_count(struct api_budget *b, uint64_t now);
/* Counts a request sent at now. */
void api_budget_spend(struct api_budget *b, uint64_t now);

