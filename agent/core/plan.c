/* SPDX-License-Identifier: MIT */
/* Computes the actions that bring the kernel to the desired routes, touching only own routes.
 * A sorted merge by destination, as wireguard-tools merges peers in setconf.c. */
#include "plan.h"

static bool is_sorted(const struct route_set *s) {
        if (s->n > 0 && !s->routes)
                return false; /* not a set: n routes, no array */
        for (size_t i = 1; i < s->n; i++)
                if (route_compare(&s->routes[i - 1], &s->routes[i]) > 0)
                        return false;
        return true;
}

/* An own route we may keep: identical in everything we set (an own route of an earlier protocol
 * number is moved to the current one). */
static bool own_equal(const struct route *have, const struct route *want) {
        return !have->multipath && route_is_unicast(have) && have->gateway == want->gateway && have->ifindex == want->ifindex &&
               have->metric == want->metric && have->mtu == want->mtu && have->protocol == want->protocol &&
               route_same_prefix(have, want);
}

/* A foreign route that does our job: same destination, gateway, device and metric (its mtu is
 * its owner's business — DigitalOcean's own image routes are such routes). */
static bool foreign_equal(const struct route *have, const struct route *want) {
        return !have->multipath && route_is_unicast(have) && have->gateway == want->gateway && have->ifindex == want->ifindex &&
               route_same_key(have, want);
}

static int plan_push(struct plan *p, enum plan_kind kind, const struct route *want, const struct route *have) {
        struct plan_action *a;

        if (GREEDY_REALLOC(p->actions, p->cap, p->n + 1) < 0)
                return -ENOMEM;
        a = &p->actions[p->n++];
        *a = (struct plan_action) { .kind = kind };
        if (want)
                a->want = *want;
        if (have)
                a->have = *have;
        p->count[kind]++;
        return 0;
}

/* Compares destination prefixes only (dst, len, table): the unit the merge walks. */
static int prefix_cmp(const struct route *a, const struct route *b) {
        if (a->dst != b->dst)
                return a->dst < b->dst ? -1 : 1;
        if (a->dst_len != b->dst_len)
                return a->dst_len < b->dst_len ? -1 : 1;
        if (a->table != b->table)
                return a->table < b->table ? -1 : 1;
        return 0;
}

/* Plans one destination. d may be NULL (not desired); own[0..n_own) and foreign[0..n_foreign)
 * all share the destination. */
static int plan_prefix(struct plan *p, const struct route *d, const struct route *own, size_t n_own,
                       const struct route *foreign, size_t n_foreign) {
        const struct route *fe = NULL, *fc = NULL, *at_key = NULL;
        int r;

        if (!d) {
                for (size_t i = 0; i < n_own; i++)
                        if ((r = plan_push(p, PLAN_DELETE, NULL, &own[i])) < 0)
                                return r;
                return 0;
        }

        for (size_t i = 0; i < n_foreign; i++) {
                if (foreign[i].metric != d->metric)
                        continue;
                if (!fe && foreign_equal(&foreign[i], d))
                        fe = &foreign[i];
                else if (!fc && !foreign_equal(&foreign[i], d))
                        fc = &foreign[i];
        }
        for (size_t i = 0; i < n_own; i++)
                if (!at_key && own[i].metric == d->metric)
                        at_key = &own[i];

        if (fe) {
                /* Someone else already routes this destination exactly as we would (a network
                 * manager that appended its route beside ours): one route per destination, so
                 * ours go. Traffic takes the same path; ours come back if theirs leaves. */
                if ((r = plan_push(p, PLAN_FOREIGN_EQUAL, d, fe)) < 0)
                        return r;
                for (size_t i = 0; i < n_own; i++)
                        if ((r = plan_push(p, PLAN_DELETE, NULL, &own[i])) < 0)
                                return r;
                return 0;
        }

        if (fc) {
                /* The slot is taken by a route pointing elsewhere: install nothing and touch
                 * nothing in that slot. Own routes at other metrics are simply not desired. */
                if ((r = plan_push(p, PLAN_CONFLICT, d, fc)) < 0)
                        return r;
                for (size_t i = 0; i < n_own; i++)
                        if (own[i].metric != d->metric && (r = plan_push(p, PLAN_DELETE, NULL, &own[i])) < 0)
                                return r;
                return 0;
        }

        /* No foreign route in the slot. Reuse an own route: one already as desired, else the one
         * at the desired metric, else the first (a metric change); delete the rest. Two own
         * routes can share the slot (an interrupted run, a protocol move): replacing the stale
         * one would collide with the right one. */
        const struct route *base = at_key ? at_key : (n_own > 0 ? &own[0] : NULL);
        for (size_t i = 0; i < n_own; i++)
                if (own_equal(&own[i], d)) {
                        base = &own[i];
                        break;
                }
        if (!base)
                return plan_push(p, PLAN_ADD, d, NULL);
        if ((r = plan_push(p, own_equal(base, d) ? PLAN_KEEP : PLAN_REPLACE, d, base)) < 0)
                return r;
        for (size_t i = 0; i < n_own; i++)
                if (&own[i] != base && (r = plan_push(p, PLAN_DELETE, NULL, &own[i])) < 0)
                        return r;
        return 0;
}

int plan_compute(const struct route_set *desired, const struct route_set *own, const struct route_set *foreign,
                 uint8_t protocol, struct plan *ret) {
        _cleanup_plan_ struct plan p = {};
        size_t id = 0, io = 0, iff = 0;
        int r;

        if (!is_sorted(desired) || !is_sorted(own) || !is_sorted(foreign))
                return -EINVAL;
        for (size_t i = 0; i < desired->n; i++) {
                if (desired->routes[i].protocol != protocol)
                        return -EINVAL;
                if (i > 0 && prefix_cmp(&desired->routes[i - 1], &desired->routes[i]) == 0)
                        return -EINVAL;
        }

        while (id < desired->n || io < own->n) {
                const struct route *d = id < desired->n ? &desired->routes[id] : NULL;
                const struct route *o = io < own->n ? &own->routes[io] : NULL;
                const struct route *cur;
                size_t no = 0, nf = 0;

                /* The smallest destination among the two heads is the one to plan now. */
                if (d && o)
                        cur = prefix_cmp(d, o) <= 0 ? d : o;
                else
                        cur = d ? d : o;
                if (!cur)
                        break; /* cannot happen: the loop runs while either set has a head */
                if (d && prefix_cmp(d, cur) != 0)
                        d = NULL;

                while (io + no < own->n && prefix_cmp(&own->routes[io + no], cur) == 0)
                        no++;
                while (iff < foreign->n && prefix_cmp(&foreign->routes[iff], cur) < 0)
                        iff++;
                while (iff + nf < foreign->n && prefix_cmp(&foreign->routes[iff + nf], cur) == 0)
                        nf++;

                r = plan_prefix(&p, d, own->routes + io, no, foreign->routes + iff, nf);
                if (r < 0)
                        return r;
                io += no;
                iff += nf;
                if (d)
                        id++;
        }

        plan_move(ret, &p);
        return 0;
}

void plan_done(struct plan *p) {
        free(p->actions);
        *p = (struct plan) {};
}

static bool action_equal(const struct plan_action *a, const struct plan_action *b) {
        return a->kind == b->kind && route_compare(&a->want, &b->want) == 0 && route_compare(&a->have, &b->have) == 0;
}

bool plan_equal(const struct plan *a, const struct plan *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!action_equal(&a->actions[i], &b->actions[i]))
                        return false;
        return true;
}

bool plan_conflicts_equal(const struct plan *a, const struct plan *b) {
        size_t i = 0, k = 0;

        for (;;) {
                while (i < a->n && a->actions[i].kind != PLAN_CONFLICT)
                        i++;
                while (k < b->n && b->actions[k].kind != PLAN_CONFLICT)
                        k++;
                if (i == a->n || k == b->n)
                        return i == a->n && k == b->n;
                if (!action_equal(&a->actions[i++], &b->actions[k++]))
                        return false;
        }
}

void plan_move(struct plan *dst, struct plan *src) {
        plan_done(dst);
        *dst = *src;
        *src = (struct plan) {};
}

void plan_filter(struct plan *p, bool (*keep)(const struct plan_action *a, void *userdata), void *userdata) {
        size_t kept = 0;

        for (size_t i = 0; i < p->n; i++) {
                if (keep(&p->actions[i], userdata))
                        p->actions[kept++] = p->actions[i];
                else
                        p->count[p->actions[i].kind]--;
        }
        p->n = kept;
}

bool plan_has_changes(const struct plan *p) {
        return p->count[PLAN_ADD] + p->count[PLAN_REPLACE] + p->count[PLAN_DELETE] > 0;
}

const char *plan_kind_to_string(enum plan_kind k) {
        static const char *const names[_PLAN_KIND_MAX] = {
                [PLAN_KEEP] = "keep",       [PLAN_ADD] = "add",
                [PLAN_REPLACE] = "replace", [PLAN_DELETE] = "delete",
                [PLAN_FOREIGN_EQUAL] = "present", [PLAN_CONFLICT] = "conflict",
        };
        return k < _PLAN_KIND_MAX ? names[k] : "?";
}

const char *plan_action_to_string(const struct plan_action *a, char *buf, size_t size) {
        char w[ROUTE_STRLEN], h[ROUTE_STRLEN], proto[8];
        const char *pname;

        switch (a->kind) {
        case PLAN_KEEP:
                snprintf(buf, size, "keep %s", route_to_string(&a->want, w));
                break;
        case PLAN_ADD:
                snprintf(buf, size, "add %s", route_to_string(&a->want, w));
                break;
        case PLAN_REPLACE:
                snprintf(buf, size, "replace %s (was %s)", route_to_string(&a->want, w), route_to_string(&a->have, h));
                break;
        case PLAN_DELETE:
                snprintf(buf, size, "delete %s", route_to_string(&a->have, h));
                break;
        case PLAN_FOREIGN_EQUAL:
                pname = route_protocol_name(a->have.protocol);
                if (!pname) {
                        snprintf(proto, sizeof proto, "%u", a->have.protocol);
                        pname = proto;
                }
                snprintf(buf, size, "present %s (owned by proto %s, left alone)", route_to_string(&a->have, h), pname);
                break;
        case PLAN_CONFLICT:
                snprintf(buf, size, "conflict: want %s, but %s holds that destination and metric; not installing",
                         route_to_string(&a->want, w), route_to_string(&a->have, h));
                break;
        default:
                snprintf(buf, size, "?");
        }
        return buf;
}
