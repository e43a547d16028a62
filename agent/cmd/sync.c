/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes sync [--dry-run [--json]] [--wait[=TIME]]`: one reconcile, from the metadata
 * to the kernel; with --wait and source = api, again until no peering is PROVISIONING. */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <time.h>

#include "api_round.h"
#include "backoff.h"
#include "commands.h"
#include "instance.h"
#include "json.h"
#include "log.h"
#include "reconcile.h"

/* How often sync --wait asks while a peering is PROVISIONING: the metadata and one request of
 * the API (the peerings of the VPC the first pass found; a new peer's VPC once), far inside the
 * API's 250 a minute. */
#define WAIT_POLL_USEC (10 * 1000000ULL)

static bool have_net_admin(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return true; /* cannot tell: let the kernel decide */
        return d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN);
}

int command_require_net_admin(const char *what) {
        if (have_net_admin())
                return 0;
        log_error("%s needs CAP_NET_ADMIN to change routes; run it as root (sudo vpc-peer-routes %s)", what, what);
        return -EPERM;
}

int command_open_netlink(struct kernel_ctx **ret) {
        int r = kernel_ctx_open(ret);
        if (r < 0)
                return log_error_errno(r, "Could not open a netlink socket: %m");
        return 0;
}

static double ms_between(uint64_t a, uint64_t b) {
        return a && b > a ? (double) (b - a) / 1000.0 : 0.0;
}

static void log_timings(const struct reconcile *rc) {
        log_debug("Timings: fetch %.2f ms, parse %.2f ms, interfaces %.2f ms, read kernel and plan %.2f ms, apply %.2f ms",
                  ms_between(rc->times.start, rc->times.fetched), ms_between(rc->times.fetched, rc->times.parsed),
                  ms_between(rc->times.parsed, rc->times.linked), ms_between(rc->times.linked, rc->times.planned),
                  ms_between(rc->times.planned, rc->times.applied));
}

/* The plan as JSON, for automation: each action with its route (and the route it replaces or
 * that is in the way), the peering it serves with source = api, and the counts. */
static int print_plan_json(FILE *f, const struct config *c, const struct reconcile *rc, const struct api_peers *peers) {
        cJSON *root = cJSON_CreateObject(), *actions, *counts;
        char gw[IPV4_STRLEN];

        if (!root)
                return -ENOMEM;
        cJSON_AddNumberToObject(root, "version", 1);
        cJSON_AddStringToObject(root, "source", route_source_to_string(c->source));
        cJSON_AddStringToObject(root, "interface", rc->link.ifname);
        cJSON_AddStringToObject(root, "gateway", ipv4_to_string(rc->md.gateway, gw));
        actions = cJSON_AddArrayToObject(root, "actions");
        for (size_t i = 0; actions && i < rc->plan.n; i++) {
                const struct plan_action *a = &rc->plan.actions[i];
                const struct route *r = a->kind == PLAN_DELETE ? &a->have : &a->want;
                struct cidr dst = { r->dst, r->dst_len };
                const struct api_peer *p = c->source == SOURCE_API ? api_peers_find(peers, &dst) : NULL;
                cJSON *o = cJSON_CreateObject();

                if (!o)
                        break;
                cJSON_AddItemToArray(actions, o);
                cJSON_AddStringToObject(o, "action", plan_kind_to_string(a->kind));
                cJSON_AddItemToObject(o, "route", json_from_route(r));
                if (a->kind == PLAN_REPLACE)
                        cJSON_AddItemToObject(o, "was", json_from_route(&a->have));
                else if (a->kind == PLAN_CONFLICT || a->kind == PLAN_FOREIGN_EQUAL)
                        cJSON_AddItemToObject(o, "held_by", json_from_route(&a->have));
                if (c->source == SOURCE_API) {
                        if (p)
                                cJSON_AddItemToObject(o, "peering", api_peer_to_json(p));
                        else
                                cJSON_AddNullToObject(o, "peering");
                }
        }
        if (rc->egress_plan.n > 0 || (rc->egress_off_reason && !streq(rc->egress_off_reason, "nat_gateway = off"))) {
                cJSON *e = cJSON_AddObjectToObject(root, "egress"), *steps = e ? cJSON_AddArrayToObject(e, "actions") : NULL;
                char rule[EGRESS_RULE_STRLEN];
                if (e)
                        cJSON_AddStringToObject(e, "summary", rc->egress_off_reason ? rc->egress_off_reason : "via the NAT gateway");
                for (size_t i = 0; steps && i < rc->egress_plan.n; i++) {
                        const struct egress_op *op = &rc->egress_plan.ops[i];
                        cJSON *o = cJSON_CreateObject();
                        if (!o)
                                break;
                        cJSON_AddItemToArray(steps, o);
                        if (op->kind == EGRESS_ROUTE) {
                                const struct route *r = op->route.kind == PLAN_DELETE ? &op->route.have : &op->route.want;
                                cJSON_AddStringToObject(o, "action", plan_kind_to_string(op->route.kind));
                                cJSON_AddItemToObject(o, "route", json_from_route(r));
                        } else {
                                cJSON_AddStringToObject(o, "action", op->kind == EGRESS_ADD_RULE      ? "add"
                                                                     : op->kind == EGRESS_DELETE_RULE ? "delete"
                                                                                                      : "keep");
                                cJSON_AddStringToObject(o, "rule", egress_rule_to_string(&op->rule, rule));
                        }
                }
        } else
                cJSON_AddNullToObject(root, "egress");
        counts = cJSON_AddObjectToObject(root, "counts");
        for (int k = 0; counts && k < _PLAN_KIND_MAX; k++)
                cJSON_AddNumberToObject(counts, plan_kind_to_string((enum plan_kind) k), (double) rc->plan.count[k]);
        if (c->source == SOURCE_API) {
                cJSON *api = cJSON_AddObjectToObject(root, "api");
                if (api) {
                        cJSON_AddStringToObject(api, "vpc_id", peers->own_vpc);
                        cJSON_AddNumberToObject(api, "active_peerings", (double) peers->n);
                        cJSON_AddItemToObject(api, "provisioning", api_waiting_to_json(peers));
                }
        }
        return json_print_free(f, root);
}

static void print_plan(FILE *f, const struct plan *p, const struct reconcile *rc) {
        char buf[PLAN_ACTION_STRLEN];

        for (size_t i = 0; i < p->n; i++)
                fprintf(f, "%s\n", plan_action_to_string(&p->actions[i], buf, sizeof buf));
        if (rc->egress_plan.n > 0 || !rc->egress_off_reason || !streq(rc->egress_off_reason, "nat_gateway = off")) {
                fprintf(f, "egress: %s\n", rc->egress_off_reason ? rc->egress_off_reason : "via the NAT gateway");
                for (size_t i = 0; i < rc->egress_plan.n; i++)
                        fprintf(f, "%s\n", egress_op_to_string(&rc->egress_plan.ops[i], buf, sizeof buf));
        }
        fprintf(f, "%zu to add, %zu to replace, %zu to delete, %zu unchanged, %zu present (other owner), %zu conflict%s\n",
                p->count[PLAN_ADD], p->count[PLAN_REPLACE], p->count[PLAN_DELETE], p->count[PLAN_KEEP],
                p->count[PLAN_FOREIGN_EQUAL], p->count[PLAN_CONFLICT], p->count[PLAN_CONFLICT] == 1 ? "" : "s");
}

/* A down NIC is an error (nothing could work through it); a NIC without the private address is
 * worth a warning, and the kernel's own refusal says the rest. */
static int check_link(struct reconcile *rc) {
        char why[256];
        int r;

        r = reconcile_link_ready(rc, why, sizeof why);
        if (r == -ENETDOWN)
                return reconcile_fail(rc, r, "%s; not routing through it", why);
        if (r < 0) {
                char gw[IPV4_STRLEN];
                log_warning("%s; the kernel may refuse routes via %s", why, ipv4_to_string(rc->md.gateway, gw));
        }
        return 0;
}

/* How one pass went, for sync --wait to decide whether to ask again. */
struct pass {
        int exit;               /* EXIT_* */
        bool api_transient;     /* the API round failed in a way that may pass by itself */
        uint64_t retry_after;   /* CLOCK_MONOTONIC; 0: no word from the API */
        struct error error;     /* why the pass failed before changing anything, not logged yet */
};

/* One sync: metadata, the API with source = api, plan, apply or print. */
static void sync_pass(const struct config *c, const struct sync_options *o, const struct command_hooks *hooks,
                      struct api_peers *peers, struct pass *ret) {
        _cleanup_reconcile_ struct reconcile rc = {};
        _cleanup_kernel_ struct kernel_ctx *nl = NULL;
        char summary[256], nic[RECONCILE_NIC_LINE_MAX], names[256];
        int r;

        *ret = (struct pass) { .exit = EXIT_FAILED };
        if (command_open_netlink(&nl) < 0)
                return;
        r = reconcile_prepare_blocking(&rc, nl, c, peers);
        if (r >= 0)
                r = check_link(&rc);
        if (r < 0) {
                ret->api_transient = rc.api_failed && api_error_is_transient(r);
                ret->retry_after = rc.api_retry_after;
                error_set(&ret->error, "%.*s; nothing changed", ERROR_MAX - 20, rc.err.msg);
                return;
        }
        log_info("%s", reconcile_nic_line(&rc, c, nic, sizeof nic));
        if (c->source == SOURCE_API) {
                if (peers->n_waiting)
                        log_info("API: VPC %s has %zu ACTIVE peering%s and %zu PROVISIONING (%s)", peers->own_vpc, peers->n,
                                 peers->n == 1 ? "" : "s", peers->n_waiting, api_waiting_names(peers, names, sizeof names));
                else
                        log_info("API: VPC %s has %zu ACTIVE peering%s", peers->own_vpc, peers->n, peers->n == 1 ? "" : "s");
        }

        r = reconcile_plan(&rc, nl, c, o->dry_run ? KERNEL_LIST_FULL : KERNEL_LIST_FAST);
        if (r < 0) {
                log_error("%s; nothing changed", rc.err.msg);
                if (rc.usage_error)
                        ret->exit = EXIT_USAGE;
                return;
        }
        if (o->dry_run) {
                if (!o->json)
                        print_plan(stdout, &rc.plan, &rc);
                else if (print_plan_json(stdout, c, &rc, peers) < 0) {
                        log_oom();
                        return;
                }
                ret->exit = rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;
                return;
        }
        if ((plan_has_changes(&rc.plan) || rc.egress_plan.changes) && command_require_net_admin("sync") < 0)
                return;
        if (hooks && hooks->before_apply)
                hooks->before_apply(nl, hooks->userdata);

        r = reconcile_apply(&rc, nl, c, false);
        if (r >= 0)
                reconcile_save_owner(&rc, c);
        log_timings(&rc);
        reconcile_log_conflicts(&rc);
        if (r < 0) {
                log_error("%s", rc.err.msg);
                return;
        }
        reconcile_routes_summary(&rc.plan, rc.desired.n, &rc.md, c, rc.link.ifname, summary, sizeof summary);
        if (rc.applied_any)
                log_info("Synced: %s (%zu added or changed, %zu deleted)", summary,
                         rc.plan.count[PLAN_ADD] + rc.plan.count[PLAN_REPLACE], rc.plan.count[PLAN_DELETE]);
        else
                log_info("In sync: %s; nothing to change", summary);
        {
                char egress[192];
                bool active;
                const char *e = reconcile_egress_summary(&rc, c, &active, egress, sizeof egress);
                if (e)
                        reconcile_egress_log(&rc, e);
        }
        ret->exit = reconcile_exit_code(&rc) == 3 ? EXIT_CONFLICT : EXIT_OK;
}

static void sleep_until(uint64_t when) {
        struct timespec ts = { .tv_sec = (time_t) (when / 1000000ULL), .tv_nsec = (long) (when % 1000000ULL) * 1000L };

        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
}

/* A service with another configuration puts its own routes back right after this sync. */
static void warn_other_service(const struct config *c) {
        struct instance svc;

        if (instance_query(&svc) <= 0 || !svc.have_fingerprint || svc.fingerprint == config_fingerprint(c))
                return;
        log_warning("The vpc-peer-routes service (PID %d) runs with another configuration and will put its own routes "
                    "back; to change them for good, edit its configuration and run: systemctl reload vpc-peer-routes",
                    (int) svc.pid);
}

int command_sync(const struct config *c, const struct sync_options *o, const struct command_hooks *hooks) {
        bool wait = o->wait_usec > 0 && c->source == SOURCE_API;
        uint64_t start = now_usec_monotonic(), deadline = start + o->wait_usec;
        char names[256], took[32], vpc[UUID_STRLEN] = "";
        struct pass pass;

        warn_other_service(c);
        if (o->wait_usec > 0 && !wait)
                log_debug("source = metadata: no peering to wait for; syncing once");
        for (unsigned n = 1;; n++) {
                _cleanup_(api_peers_done) struct api_peers peers = {};
                uint64_t now, next;

                memcpy(peers.own_vpc, vpc, sizeof vpc);
                sync_pass(c, o, hooks, &peers, &pass);
                if (peers.own_vpc[0])
                        memcpy(vpc, peers.own_vpc, sizeof vpc);
                now = now_usec_monotonic();
                if (pass.exit == EXIT_FAILED && !(wait && pass.api_transient)) {
                        if (pass.error.msg[0])
                                log_error("%s", pass.error.msg);
                        return pass.exit;
                }
                if (!wait || (pass.exit != EXIT_FAILED && peers.n_waiting == 0)) {
                        if (wait && n > 1)
                                log_info("No peering is PROVISIONING any more, after %s",
                                         format_timespan(usec_until(now, start), false, took));
                        return pass.exit;
                }
                next = now + WAIT_POLL_USEC;
                /* Rate limited: not before the API said, and a fleet's syncs not all at once. */
                if (pass.retry_after > next)
                        next = now + backoff_spread(pass.retry_after - now);
                if (now >= deadline || pass.retry_after > deadline) {
                        format_timespan(o->wait_usec, false, took);
                        if (pass.exit == EXIT_FAILED)
                                log_error("%s; gave up after waiting %s%s", pass.error.msg, took,
                                          pass.retry_after > deadline ? " (the API asks to wait longer than that)" : "");
                        else
                                log_error("Still PROVISIONING after %s: %s; their routes come once they are ACTIVE (sync "
                                          "again, or let the service add them)",
                                          took, api_waiting_names(&peers, names, sizeof names));
                        return EXIT_FAILED;
                }
                if (next > deadline)
                        next = deadline; /* a last look when the time runs out */
                if (pass.exit == EXIT_FAILED)
                        log_warning("%s; asking again in %llu s", pass.error.msg,
                                    (unsigned long long) (usec_until(next, now) / 1000000ULL));
                else
                        log_info("Waiting for %s to become ACTIVE; asking again in %llu s",
                                 api_waiting_names(&peers, names, sizeof names),
                                 (unsigned long long) (usec_until(next, now) / 1000000ULL));
                sleep_until(next);
        }
}
