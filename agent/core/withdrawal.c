/* SPDX-License-Identifier: MIT */
#include "withdrawal.h"

/* A delete that withdraws a destination: no desired route goes there any more (in any table). */
static bool withdraws(const struct plan_action *a, const struct route_set *desired) {
        if (a->kind != PLAN_DELETE)
                return false;
        for (size_t i = 0; i < desired->n; i++)
                if (desired->routes[i].dst == a->have.dst && desired->routes[i].dst_len == a->have.dst_len)
                        return false;
        return true;
}

size_t withdrawal_count(const struct plan *p, const struct route_set *desired) {
        size_t going = 0;

        for (size_t i = 0; i < p->n; i++)
                going += withdraws(&p->actions[i], desired);
        return going;
}

enum withdrawal_news withdrawal_judge(struct withdrawal *w, size_t going, size_t own, uint64_t fingerprint, int answer,
                                      enum answer source, const uint64_t interval[static _ANSWER_MAX], uint64_t now) {
        bool was = w->pending;

        if (going == 0 || going * 2 <= own) {
                w->pending = false;
                return was ? WITHDRAWAL_DROPPED : WITHDRAWAL_NONE;
        }
        if (was && w->fingerprint == fingerprint && answer == (int) w->by && usec_until(now, w->since) >= interval[w->by]) {
                w->pending = false;
                return WITHDRAWAL_CONFIRMED;
        }
        w->routes = going;
        if (was && w->fingerprint == fingerprint)
                return WITHDRAWAL_HELD;
        *w = (struct withdrawal) {
                .pending = true,
                .fingerprint = fingerprint,
                .since = now,
                .by = answer >= 0 && answer < _ANSWER_MAX ? (enum answer) answer : source,
                .routes = going,
        };
        return WITHDRAWAL_HELD_NEW;
}

static bool not_a_withdrawal(const struct plan_action *a, void *userdata) {
        return !withdraws(a, userdata);
}

void withdrawal_strip(struct plan *p, const struct route_set *desired) {
        plan_filter(p, not_a_withdrawal, (void *) desired);
}
