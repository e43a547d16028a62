/* SPDX-License-Identifier: MIT */
/* When to ask again: exponential backoff after failures, jitter on regular intervals. */
#pragma once

#include "util.h"

/* The delay before the next attempt after failures failed ones in a row (0 for the first retry
 * after one failure): min, 2 min, 4 min, ... never more than max. */
uint64_t backoff_delay(unsigned failures, uint64_t min, uint64_t max);

/* A uniform draw in [0, 1). */
double backoff_uniform(void);
/* interval ±10 %, so that a fleet started together does not ask together. */
uint64_t backoff_jitter(uint64_t interval);
/* delay plus up to 10 %: never sooner, for waits the server named (Retry-After). */
uint64_t backoff_spread(uint64_t delay);
