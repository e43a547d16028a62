/* SPDX-License-Identifier: MIT */
#include "egress.h"

int egress_desired(const struct egress_input *in, struct egress_state *ret) {
        struct egress_state s = { .protocol = in->protocol };
        struct route metadata = {
                .dst = METADATA_ADDRESS, .dst_len = 32, .gateway = in->public_gateway, .ifindex = in->public_ifindex,
                .table = EGRESS_TABLE, .protocol = in->protocol,
        };
        struct route nat = {
                .dst = 0, .dst_len = 0, .gateway = in->nat_gateway, .ifindex = in->private_ifindex,
                .table = EGRESS_TABLE, .protocol = in->protocol,
        };
        int r;

        memcpy(metadata.ifname, in->public_ifname, IF_NAMESIZE);
        memcpy(nat.ifname, in->private_ifname, IF_NAMESIZE);
        if (!in->nat_gateway || in->public_ifindex <= 0 || in->private_ifindex <= 0 || !in->public_address) {
                *ret = s;
                return 0;
        }
        s.rules[s.n_rules++] = (struct egress_rule) { .priority = EGRESS_RULE_PRIORITY, .table = ROUTE_TABLE_MAIN,
                                                     .suppress_prefixlen = 0, .protocol = in->protocol };
        s.rules[s.n_rules++] = (struct egress_rule) { .priority = EGRESS_RULE_PRIORITY + 1, .src = in->public_address,
                                                     .src_len = 32, .table = ROUTE_TABLE_MAIN, .suppress_prefixlen = -1,
                                                     .protocol = in->protocol };
        if (in->anchor_address)
                s.rules[s.n_rules++] = (struct egress_rule) { .priority = EGRESS_RULE_PRIORITY + 2,
                                                             .src = in->anchor_address, .src_len = 32,
                                                             .table = ROUTE_TABLE_MAIN, .suppress_prefixlen = -1,
                                                             .protocol = in->protocol };
        s.rules[s.n_rules++] = (struct egress_rule) { .priority = EGRESS_RULE_PRIORITY + 3, .table = EGRESS_TABLE,
                                                     .suppress_prefixlen = -1, .protocol = in->protocol };
        if ((r = route_set_add(&s.routes, &metadata)) < 0 || (r = route_set_add(&s.routes, &nat)) < 0) {
                egress_state_done(&s);
                return r;
        }
        route_set_sort(&s.routes);
        *ret = s;
        return 0;
}

void egress_state_done(struct egress_state *s) {
        route_set_done(&s->routes);
        s->n_rules = 0;
}

bool egress_rule_equal(const struct egress_rule *a, const struct egress_rule *b) {
        return a->priority == b->priority && a->src == b->src && a->src_len == b->src_len && a->table == b->table &&
               a->suppress_prefixlen == b->suppress_prefixlen;
}

static bool rule_in(const struct egress_rule *r, const struct egress_rule *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (egress_rule_equal(r, &list[i]))
                        return true;
        return false;
}

static int push(struct egress_plan *p, const struct egress_op *op) {
        if (GREEDY_REALLOC(p->ops, p->cap, p->n + 1) < 0)
                return -ENOMEM;
        p->ops[p->n++] = *op;
        if (op->kind != EGRESS_KEEP_RULE && !(op->kind == EGRESS_ROUTE && op->route.kind == PLAN_KEEP))
                p->changes = true;
        return 0;
}

static int cmp_priority_desc(const void *a, const void *b) {
        const struct egress_rule *x = a, *y = b;
        return x->priority < y->priority ? 1 : x->priority > y->priority ? -1 : 0;
}

/* Route actions of one kind set, more specific destinations first (or last). */
static int push_routes(struct egress_plan *p, const struct plan *rp, bool (*want)(enum plan_kind), bool specific_first) {
        for (int len = specific_first ? 32 : 0; specific_first ? len >= 0 : len <= 32; len += specific_first ? -1 : 1)
                for (size_t i = 0; i < rp->n; i++) {
                        const struct plan_action *a = &rp->actions[i];
                        const struct route *r = a->kind == PLAN_DELETE ? &a->have : &a->want;
                        if (r->dst_len != len || !want(a->kind))
                                continue;
                        if (push(p, &(struct egress_op) { .kind = EGRESS_ROUTE, .route = *a }) < 0)
                                return -ENOMEM;
                }
        return 0;
}

static bool is_delete(enum plan_kind k) {
        return k == PLAN_DELETE;
}

static bool is_not_delete(enum plan_kind k) {
        return k != PLAN_DELETE;
}

int egress_plan_compute(const struct egress_state *desired, const struct egress_rule *rules, size_t n_rules,
                        const struct route_set *routes, struct egress_plan *ret) {
        _cleanup_plan_ struct plan rp = {};
        const struct route_set none = {};
        struct egress_plan p = {};
        _cleanup_free_ struct egress_rule *going = NULL;
        size_t n_going = 0;
        int r;

        r = plan_compute(&desired->routes, routes, &none, desired->protocol, &rp);
        if (r < 0)
                return r;
        going = calloc(MAX(n_rules, 1u), sizeof *going);
        if (!going)
                return -ENOMEM;
        for (size_t i = 0; i < n_rules; i++)
                if (!rule_in(&rules[i], desired->rules, desired->n_rules))
                        going[n_going++] = rules[i];
        /* 1. Rules that go, the switch (the highest priority number) first. */
        qsort(going, n_going, sizeof *going, cmp_priority_desc);
        for (size_t i = 0; i < n_going; i++)
                if ((r = push(&p, &(struct egress_op) { .kind = EGRESS_DELETE_RULE, .rule = going[i] })) < 0)
                        goto fail;
        /* 2. Routes of the table, the metadata route before the default. */
        if ((r = push_routes(&p, &rp, is_not_delete, true)) < 0)
                goto fail;
        /* 3. Rules that come, the switch last (desired->rules are in priority order). */
        for (size_t i = 0; i < desired->n_rules; i++) {
                bool have = rule_in(&desired->rules[i], rules, n_rules);
                r = push(&p, &(struct egress_op) { .kind = have ? EGRESS_KEEP_RULE : EGRESS_ADD_RULE,
                                                   .rule = desired->rules[i] });
                if (r < 0)
                        goto fail;
        }
        /* 4. Routes that go, the default before the metadata route. */
        if ((r = push_routes(&p, &rp, is_delete, false)) < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        egress_plan_done(&p);
        return r;
}

void egress_plan_done(struct egress_plan *p) {
        free(p->ops);
        *p = (struct egress_plan) {};
}

const char *egress_rule_to_string(const struct egress_rule *r, char buf[static EGRESS_RULE_STRLEN]) {
        char src[CIDR_STRLEN], table[12], suppress[40] = "";
        const struct cidr from = { r->src, r->src_len };

        if (r->suppress_prefixlen >= 0)
                snprintf(suppress, sizeof suppress, " suppress_prefixlength %d", r->suppress_prefixlen);
        if (r->table == ROUTE_TABLE_MAIN)
                snprintf(table, sizeof table, "main");
        else
                snprintf(table, sizeof table, "%u", r->table);
        snprintf(buf, EGRESS_RULE_STRLEN, "%u: from %s lookup %s%s proto %u", r->priority,
                 r->src_len ? cidr_to_string(&from, src) : "all", table, suppress, r->protocol);
        return buf;
}

/* One line an egress step, in the order it would be taken: "add rule 32703: from all lookup 241
 * proto 241", "add 0.0.0.0/0 via 10.116.0.1 dev ens4 table 241 proto 241". */
const char *egress_op_to_string(const struct egress_op *op, char *buf, size_t size) {
        char rule[EGRESS_RULE_STRLEN];

        if (op->kind == EGRESS_ROUTE)
                return plan_action_to_string(&op->route, buf, size);
        snprintf(buf, size, "%s rule %s", op->kind == EGRESS_ADD_RULE ? "add" : op->kind == EGRESS_DELETE_RULE ? "delete" : "keep",
                 egress_rule_to_string(&op->rule, rule));
        return buf;
}
