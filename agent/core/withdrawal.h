/* SPDX-License-Identifier: MIT */
/* The withdrawal guard. One answer that would remove more than half of the own routes at once (a
 * metadata document saying vpc_peering_enabled: false, an API round that lost its peerings) is
 * not enough: the same answer must come again, at least an interval later. Until then the plan
 * deletes no route whose destination the answer withdraws (a route that moves to another table
 * or protocol is no withdrawal). Pure: the caller gives the time (CLOCK_MONOTONIC usec), asks
 * for the confirming answer and does the logging. */
#pragma once

#include "plan.h"

/* The kinds of answer that decide the desired routes. */
enum answer {
        ANSWER_METADATA,
        ANSWER_API,
        _ANSWER_MAX,
};

struct withdrawal {
        bool pending;
        uint64_t fingerprint;       /* of the desired routes that answer asks for */
        uint64_t since;             /* the first answer */
        enum answer by;             /* the kind of answer that must come again */
        size_t routes;              /* how many routes it would remove */
};

enum withdrawal_news {
        WITHDRAWAL_NONE,            /* nothing to hold */
        WITHDRAWAL_DROPPED,         /* the answer changed: what a pending one held stays */
        WITHDRAWAL_CONFIRMED,       /* a second answer an interval later says the same: go ahead */
        WITHDRAWAL_HELD_NEW,        /* held from now: the caller asks again in interval[by] */
        WITHDRAWAL_HELD,            /* still held */
};

/* How many deletes of the plan withdraw a destination. */
size_t withdrawal_count(const struct plan *p, const struct route_set *desired);

/* Judges a plan that withdraws going of the own routes, for desired routes of fingerprint, on an
 * answer of kind answer (-1: no answer, a kernel event or a retry; then source names the kind
 * that must confirm). interval[] is each kind's interval. On HELD and HELD_NEW the caller takes
 * the withdrawing deletes out of the plan (withdrawal_strip). */
enum withdrawal_news withdrawal_judge(struct withdrawal *w, size_t going, size_t own, uint64_t fingerprint, int answer,
                                      enum answer source, const uint64_t interval[static _ANSWER_MAX], uint64_t now);

/* Takes the withdrawing deletes out of the plan. */
void withdrawal_strip(struct plan *p, const struct route_set *desired);
