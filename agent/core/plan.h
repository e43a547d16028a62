/* SPDX-License-Identifier: MIT */
/* The plan: desired routes + own installed routes + foreign routes → actions. Pure: no I/O. */
#pragma once

#include "route.h"

enum plan_kind {
        PLAN_KEEP,          /* an own route is already exactly as desired */
        PLAN_ADD,           /* nothing holds the destination: install it */
        PLAN_REPLACE,       /* an own route differs in gateway, device, metric or mtu */
        PLAN_DELETE,        /* an own route is no longer desired */
        PLAN_FOREIGN_EQUAL, /* a route of another protocol already does the job: leave it alone */
        PLAN_CONFLICT,      /* a route of another protocol holds destination+metric and points elsewhere */
        _PLAN_KIND_MAX,
};

struct plan_action {
        enum plan_kind kind;
        struct route want;  /* KEEP, ADD, REPLACE, FOREIGN_EQUAL, CONFLICT */
        struct route have;  /* KEEP, REPLACE, DELETE (own), FOREIGN_EQUAL, CONFLICT (foreign) */
};

struct plan {
        struct plan_action *actions;
        size_t n;
        size_t cap;
        size_t count[_PLAN_KIND_MAX];
};

/* All three sets must be sorted with route_set_sort(). foreign may hold any routes of other
 * protocols; only those with a desired destination, table and metric matter. desired holds one
 * route per destination. Returns -EINVAL for unsorted input or a desired route of a protocol that
 * is not ours. */
int plan_compute(const struct route_set *desired, const struct route_set *own, const struct route_set *foreign,
                 uint8_t protocol, struct plan *ret);

void plan_done(struct plan *p);
static inline void plan_donep(struct plan *p) {
        plan_done(p);
}
#define _cleanup_plan_ _cleanup_(plan_donep)

/* Same actions in the same order: the daemon uses it to log a repeated failure only once. */
bool plan_equal(const struct plan *a, const struct plan *b);
/* Same conflicts (desired route and the route in the way). */
bool plan_conflicts_equal(const struct plan *a, const struct plan *b);
/* Frees dst, moves src into it and leaves src empty. */
void plan_move(struct plan *dst, struct plan *src);

/* Keeps the actions for which keep says true, and the counts right. */
void plan_filter(struct plan *p, bool (*keep)(const struct plan_action *a, void *userdata), void *userdata);

/* Does the plan change the kernel? */
bool plan_has_changes(const struct plan *p);

const char *plan_kind_to_string(enum plan_kind k);
/* One human line: "add 10.0.0.0/8 via …", "conflict: …". */
const char *plan_action_to_string(const struct plan_action *a, char *buf, size_t size);
#define PLAN_ACTION_STRLEN (2 * ROUTE_STRLEN + 96)
