/* SPDX-License-Identifier: MIT */
/* Writing to the kernel: route add and delete requests, pipelined in windows (send many, then
 * collect the acknowledgements), and flush. No request can touch another program's route: a
 * new route is added with NLM_F_EXCL (a slot someone holds refuses it), a route that replaces
 * one of ours in its slot is appended beside it and the old one deleted after, and every
 * delete names our protocol, gateway and device. NLM_F_REPLACE is never sent: for IPv4 it
 * replaces the first route of the slot, whoever owns it. */
#include <arpa/inet.h>

#include "log.h"
#include "kernel_internal.h"

/* Requests in flight before we read acknowledgements. An ack is 36 bytes of payload but costs
 * about a kilobyte of the socket's receive buffer (skb overhead); a window must fit in it, or the
 * kernel drops acks (ENOBUFS). kernel_ctx_open sets the buffer to 1 MiB where the limits allow;
 * 128 acks fit even in the default 208 KiB. */
#define WINDOW 128

enum op_kind {
        OP_ADD,     /* a slot nobody holds: NLM_F_CREATE | NLM_F_EXCL */
        OP_APPEND,  /* beside an own route it replaces in the same slot: NLM_F_CREATE | NLM_F_APPEND */
        OP_DELETE,
};

struct kernel_op {
        enum op_kind kind;
        struct route route;
        const struct route *was;   /* ADD, APPEND: the own route this one replaces, deleted after */
        /* 0 only once the kernel acknowledged the request; -ECANCELED when it was never sent. */
        int error;
        char ext_msg[128];
        bool acked;
};

static int build_msg(const struct kernel_op *op, struct nl_msg **ret) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        const struct route *r = &op->route;
        int type = op->kind == OP_DELETE ? RTM_DELROUTE : RTM_NEWROUTE;
        int flags = op->kind == OP_ADD ? NLM_F_CREATE | NLM_F_EXCL : op->kind == OP_APPEND ? NLM_F_CREATE | NLM_F_APPEND : 0;
        struct rtmsg rtm = {
                .rtm_family = AF_INET,
                .rtm_dst_len = r->dst_len,
                .rtm_table = r->table < 256 ? (uint8_t) r->table : RT_TABLE_UNSPEC,
                .rtm_protocol = r->protocol,
                /* On delete, NOWHERE means "any scope": match on the rest. */
                .rtm_scope = op->kind == OP_DELETE ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE,
                .rtm_type = RTN_UNICAST,
        };
        uint32_t dst = htonl(r->dst), gw = htonl(r->gateway);

        msg = nlmsg_alloc_simple(type, flags);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 || nla_put_u32(msg, RTA_TABLE, r->table) < 0 ||
            nla_put(msg, RTA_DST, 4, &dst) < 0 || nla_put_u32(msg, RTA_PRIORITY, r->metric) < 0)
                return -ENOMEM;
        if (r->gateway && nla_put(msg, RTA_GATEWAY, 4, &gw) < 0)
                return -ENOMEM;
        if (r->ifindex > 0 && nla_put_u32(msg, RTA_OIF, (uint32_t) r->ifindex) < 0)
                return -ENOMEM;
        /* On delete too: with an own route appended beside the one it replaces, the mtu is what
         * tells them apart (kernels that ignore it take the first match, the old one). */
        if (r->mtu) {
                struct nlattr *metrics = nla_nest_start(msg, RTA_METRICS);
                if (!metrics || nla_put_u32(msg, RTAX_MTU, r->mtu) < 0)
                        return -ENOMEM;
                nla_nest_end(msg, metrics);
        }
        *ret = TAKE_PTR(msg);
        return 0;
}

struct window {
        struct kernel_op *ops;
};

static void ack_cb(size_t index, const struct kernel_ack *ack, void *userdata) {
        struct window *w = userdata;
        w->ops[index].error = ack->error;
        snprintf(w->ops[index].ext_msg, sizeof w->ops[index].ext_msg, "%s", ack->ext_msg);
        w->ops[index].acked = true;
}

/* Runs ops in order. Only an acknowledged request is done: every op starts "not sent"
 * (-ECANCELED), gets its own error when building or sending it fails, and the kernel's answer
 * when that arrives. The first failure to build or send stops the run: what follows stays not
 * sent, and the error is returned (as is a socket that broke while reading acks). */
static int run_ops(struct kernel_ctx *nl, struct kernel_op *ops, size_t n) {
        for (size_t i = 0; i < n; i++) {
                ops[i].error = -ECANCELED;
                ops[i].acked = false;
        }
        for (size_t start = 0; start < n; start += WINDOW) {
                size_t count = n - start < WINDOW ? n - start : WINDOW, sent = 0;
                uint32_t first = 0, seq = 0;
                int r = 0;

                /* cppcheck-suppress knownConditionTrueFalse ; count >= 1: start < n in the outer loop */
                for (size_t i = 0; i < count; i++) {
                        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
                        struct kernel_op *op = &ops[start + i];

                        r = build_msg(op, &msg);
                        if (r >= 0)
                                r = kernel_send_request(nl, msg, &seq);
                        if (r >= 0 && sent > 0 && seq != first + sent)
                                r = -EILSEQ; /* sent, but its ack cannot be told apart: count it failed */
                        if (r < 0) {
                                op->error = r;
                                break;
                        }
                        if (sent == 0)
                                first = seq;
                        sent++;
                }
                if (sent > 0) {
                        struct window w = { .ops = ops + start };
                        int k = kernel_collect_acks(nl, first, first + (uint32_t) sent - 1, ack_cb, &w);
                        if (k < 0) {
                                for (size_t i = 0; i < sent; i++)
                                        if (!ops[start + i].acked)
                                                ops[start + i].error = k;
                                return k;
                        }
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What an op does, in the words of the log: a new route that takes an own route's place is
 * "replaced", whichever way it is sent. */
static const char *op_verb(const struct kernel_op *op, bool past) {
        if (op->kind == OP_DELETE)
                return past ? "deleted" : "delete";
        if (op->was)
                return past ? "replaced" : "replace";
        return past ? "added" : "add";
}

static void log_op(const struct kernel_op *op, bool quiet_failures) {
        char rs[ROUTE_STRLEN], was[ROUTE_STRLEN + 8] = "", dst[CIDR_STRLEN], gw[IPV4_STRLEN];
        char f_route[CIDR_STRLEN + 8], f_action[24], f_iface[IF_NAMESIZE + 8], f_gw[IPV4_STRLEN + 10];
        struct cidr c = { op->route.dst, op->route.dst_len };
        const char *fields[5];
        int error = op->error;
        int fail_level = quiet_failures ? LOG_DEBUG : LOG_ERR;

        snprintf(f_route, sizeof f_route, "ROUTE=%s", cidr_to_string(&c, dst));
        snprintf(f_action, sizeof f_action, "ACTION=%s", op_verb(op, false));
        snprintf(f_iface, sizeof f_iface, "IFACE=%s", op->route.ifname);
        snprintf(f_gw, sizeof f_gw, "GATEWAY=%s", ipv4_to_string(op->route.gateway, gw));
        fields[0] = f_route;
        fields[1] = f_action;
        fields[2] = f_iface;
        fields[3] = f_gw;
        fields[4] = NULL;

        route_to_string(&op->route, rs);
        if (op->kind != OP_DELETE && op->was) {
                char w[ROUTE_STRLEN];
                snprintf(was, sizeof was, " (was %s)", route_to_string(op->was, w));
        }

        if (error == 0) {
                log_internal(LOG_INFO, 0, fields, "%s %s%s", op_verb(op, true), rs, was);
                return;
        }
        if (error == -ECANCELED) {
                log_internal(fail_level, 0, fields, "Could not %s %s: not sent, an earlier request of the batch failed",
                             op_verb(op, false), rs);
                return;
        }
        if (op->kind == OP_ADD && error == -EEXIST) {
                log_internal(quiet_failures ? LOG_DEBUG : LOG_WARNING, 0, fields,
                             "Could not add %s: the kernel already holds a route to %s with metric %u in that table "
                             "(another program's); leaving it alone",
                             rs, dst, op->route.metric);
                return;
        }
        if (error == -EPERM || error == -EACCES) {
                log_internal(fail_level, error, fields, "Could not %s %s: %m (the agent needs CAP_NET_ADMIN; run it as root)",
                             op_verb(op, false), rs);
                return;
        }
        log_internal(fail_level, error, fields, "Could not %s %s: %m%s%s%s", op_verb(op, false), rs,
                     op->ext_msg[0] ? " (kernel: " : "", op->ext_msg, op->ext_msg[0] ? ")" : "");
}

static int ops_push(struct kernel_op **ops, size_t *n, size_t *cap, enum op_kind kind, const struct route *r,
                    const struct route *was) {
        if (GREEDY_REALLOC(*ops, *cap, *n + 1) < 0)
                return -ENOMEM;
        (*ops)[(*n)++] = (struct kernel_op) { .kind = kind, .route = *r, .was = was };
        return 0;
}

static void tally(const struct kernel_op *op, struct apply_result *res) {
        if (op->error == 0)
                res->ok++;
        else if (op->kind == OP_ADD && op->error == -EEXIST)
                res->conflicts++;
        else
                res->failed++;
}

int kernel_apply_plan(struct kernel_ctx *nl, const struct plan *p, bool quiet_failures, struct apply_result *ret) {
        _cleanup_free_ struct kernel_op *installs = NULL, *removals = NULL;
        size_t n_installs = 0, cap_installs = 0, n_removals = 0, cap_removals = 0;
        struct apply_result res = {};
        int r, k;

        /* Phase 1, installs: new routes, and the new half of each replacement: appended beside
         * the own route it replaces when the slot (metric) stays, added to its own slot when the
         * metric changes. The old half goes in phase 2, and only if the new one is in. */
        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                if (a->kind == PLAN_ADD)
                        r = ops_push(&installs, &n_installs, &cap_installs, OP_ADD, &a->want, NULL);
                else if (a->kind == PLAN_REPLACE)
                        r = ops_push(&installs, &n_installs, &cap_installs, a->want.metric == a->have.metric ? OP_APPEND : OP_ADD,
                                     &a->want, &a->have);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        r = run_ops(nl, installs, n_installs);
        for (size_t i = 0; i < n_installs; i++) {
                log_op(&installs[i], quiet_failures);
                tally(&installs[i], &res);
        }
        if (r < 0) {
                /* The batch broke off: nothing is deleted, not even what is no longer wanted. */
                res.failed += (size_t) p->count[PLAN_DELETE];
                *ret = res;
                return r;
        }

        /* Phase 2, removals: the old half of replacements whose new half is in place, then own
         * routes that are no longer wanted. */
        for (size_t i = 0; i < n_installs; i++) {
                const struct kernel_op *installed = &installs[i];
                if (!installed->was)
                        continue;
                if (installed->error != 0) {
                        char rs[ROUTE_STRLEN];
                        log_warning("Keeping %s because its replacement could not be added", route_to_string(installed->was, rs));
                        continue;
                }
                if ((r = ops_push(&removals, &n_removals, &cap_removals, OP_DELETE, installed->was, installed->was)) < 0)
                        return r;
        }
        for (size_t i = 0; i < p->n; i++)
                if (p->actions[i].kind == PLAN_DELETE &&
                    (r = ops_push(&removals, &n_removals, &cap_removals, OP_DELETE, &p->actions[i].have, NULL)) < 0)
                        return r;
        k = run_ops(nl, removals, n_removals);
        for (size_t i = 0; i < n_removals; i++) {
                /* Gone already (someone else deleted it meanwhile): that is what we wanted. */
                if (removals[i].error == -ESRCH) {
                        removals[i].error = 0;
                        log_debug("Route was already gone");
                }
                /* The old half of a replacement was announced with it ("replaced … (was …)"). */
                if (removals[i].was && removals[i].error == 0) {
                        char rs[ROUTE_STRLEN];
                        log_debug("Deleted the replaced %s", route_to_string(&removals[i].route, rs));
                } else
                        log_op(&removals[i], quiet_failures);
                tally(&removals[i], &res);
        }
        *ret = res;
        return k < 0 ? k : 0;
}

int kernel_flush(struct kernel_ctx *nl, uint32_t table, uint8_t protocol, struct apply_result *ret) {
        _cleanup_route_set_ struct route_set own = {}, foreign = {}, none = {};
        _cleanup_free_ struct kernel_op *ops = NULL;
        size_t n = 0, cap = 0;
        struct apply_result res = {};
        int r;

        r = kernel_route_list(nl, KERNEL_LIST_FAST, table, protocol, 0, &none, &own, &foreign);
        if (r < 0)
                return r;
        for (size_t i = 0; i < own.n; i++)
                if ((r = ops_push(&ops, &n, &cap, OP_DELETE, &own.routes[i], NULL)) < 0)
                        return r;
        r = run_ops(nl, ops, n);
        for (size_t i = 0; i < n; i++) {
                if (ops[i].error == -ESRCH)
                        ops[i].error = 0;
                log_op(&ops[i], false);
                tally(&ops[i], &res);
        }
        *ret = res;
        return r;
}
