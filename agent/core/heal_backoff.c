/* SPDX-License-Identifier: MIT */
/* The heal backoff's table of fights: one entry per destination another program removed. */
#include "heal_backoff.h"

void heal_backoff_done(struct heal_backoff *f) {
        free(f->list);
        *f = (struct heal_backoff) {};
}

static struct fight *find(const struct heal_backoff *f, const struct route *r) {
        for (size_t i = 0; i < f->n; i++)
                if (route_same_prefix(&f->list[i].key, r))
                        return &f->list[i];
        return NULL;
}

static uint64_t quiet_after(const struct fight *x) {
        return x->pause * 2 > FIGHT_QUIET_USEC ? x->pause * 2 : FIGHT_QUIET_USEC;
}

enum fight_news heal_backoff_removed(struct heal_backoff *f, const struct route *r, uint64_t now, const struct fight **ret) {
        struct fight *x = find(f, r);
        enum fight_news news = FIGHT_NONE;

        if (!x) {
                if (GREEDY_REALLOC(f->list, f->cap, f->n + 1) < 0)
                        return FIGHT_NONE; /* no memory for bookkeeping: heal as if it were the first time */
                x = &f->list[f->n++];
                *x = (struct fight) { .key = *r };
        }
        if (x->removals > 0 && usec_until(now, x->readded) >= quiet_after(x)) {
                /* It had stayed: whatever removed it now is a new event, not the old fight. */
                news = x->warned ? FIGHT_ENDED : FIGHT_NONE;
                *x = (struct fight) { .key = *r };
        }
        if (x->removals == 0)
                x->started = now;
        x->removals++;
        /* The first removal is healed at once; each one after, soon after our re-add, waits
         * twice as long as the last. */
        x->pause = x->removals == 1 ? 0 : x->pause == 0 ? FIGHT_FIRST_PAUSE_USEC : x->pause * 2;
        if (x->pause > FIGHT_MAX_PAUSE_USEC)
                x->pause = FIGHT_MAX_PAUSE_USEC;
        x->not_before = now + x->pause;
        if (x->removals >= FIGHT_WARN_REMOVALS && !x->warned) {
                x->warned = true;
                news = FIGHT_STARTS;
        }
        if (ret)
                *ret = x;
        return news;
}

bool heal_backoff_defer(const struct heal_backoff *f, const struct route *r, uint64_t now, uint64_t *ret_not_before) {
        const struct fight *x = find(f, r);

        if (!x || x->not_before <= now)
                return false;
        *ret_not_before = x->not_before;
        return true;
}

void heal_backoff_readded(struct heal_backoff *f, const struct route *r, uint64_t now) {
        struct fight *x = find(f, r);

        if (x)
                x->readded = now;
}

bool heal_fight_ongoing(const struct fight *x, uint64_t now) {
        return x->removals > 1 && (x->not_before > now || usec_until(now, x->readded) < quiet_after(x));
}
