/* SPDX-License-Identifier: MIT */
/* Backoff and jitter for the daemon's polls and API rounds. */
#include <sys/random.h>

#include "backoff.h"

uint64_t backoff_delay(unsigned failures, uint64_t min, uint64_t max) {
        uint64_t d = min << (failures < 16 ? failures : 16);
        return d > max ? max : d;
}

static uint64_t random_u64(void) {
        uint64_t v;
        if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
                v = now_usec_monotonic() ^ ((uint64_t) getpid() << 32);
        return v;
}

double backoff_uniform(void) {
        return (double) (random_u64() >> 11) / 9007199254740992.0;
}

uint64_t backoff_jitter(uint64_t interval) {
        return interval - interval / 10 + random_u64() % (interval / 5 + 1);
}

uint64_t backoff_spread(uint64_t delay) {
        return delay + random_u64() % (delay / 10 + 1);
}
