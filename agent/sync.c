/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes sync [--dry-run]`: one reconcile, from the metadata to the kernel. */
#include <linux/capability.h>
#include <sys/syscall.h>

#include "commands.h"
#include "log.h"
#include "reconcile.h"

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

int command_open_netlink(struct nl_ctx **ret) {
        int r = nl_ctx_open(ret);
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

static void print_plan(FILE *f, const struct plan *p) {
        char buf[PLAN_ACTION_STRLEN];

        for (size_t i = 0; i < p->n; i++)
                fprintf(f, "%s\n", plan_action_to_string(&p->actions[i], buf, sizeof buf));
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

int command_sync(const struct config *c, bool dry_run, const struct command_hooks *hooks) {
        _cleanup_(api_peers_done) struct api_peers peers = {};
        _cleanup_reconcile_ struct reconcile rc = {};
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        char summary[256], nic[RECONCILE_NIC_LINE_MAX];
        int r;

        if (command_open_netlink(&nl) < 0)
                return EXIT_FAILED;
        r = reconcile_prepare_blocking(&rc, nl, c, &peers);
        if (r >= 0)
                r = check_link(&rc);
        if (r < 0) {
                log_error("%s; nothing changed", rc.error_msg);
                return EXIT_FAILED;
        }
        log_info("%s", reconcile_nic_line(&rc, c, nic, sizeof nic));
        if (c->source == SOURCE_API)
                log_info("API: VPC %s has %zu ACTIVE peering%s", peers.own_vpc, peers.n, peers.n == 1 ? "" : "s");

        r = reconcile_plan(&rc, nl, c, dry_run ? NL_LIST_FULL : NL_LIST_FAST);
        if (r < 0) {
                log_error("%s; nothing changed", rc.error_msg);
                return EXIT_FAILED;
        }
        if (dry_run) {
                print_plan(stdout, &rc.plan);
                return rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;
        }
        if (plan_has_changes(&rc.plan) && command_require_net_admin("sync") < 0)
                return EXIT_FAILED;
        if (hooks && hooks->before_apply)
                hooks->before_apply(nl, hooks->userdata);

        r = reconcile_apply(&rc, nl, c, false);
        if (r >= 0)
                reconcile_save_owner(&rc, c);
        log_timings(&rc);
        reconcile_log_conflicts(&rc);
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return EXIT_FAILED;
        }
        reconcile_routes_summary(&rc.plan, rc.desired.n, &rc.md, c, rc.link.ifname, summary, sizeof summary);
        if (rc.applied_any)
                log_info("Synced: %s (%zu added or changed, %zu deleted)", summary,
                         rc.plan.count[PLAN_ADD] + rc.plan.count[PLAN_REPLACE], rc.plan.count[PLAN_DELETE]);
        else
                log_info("In sync: %s; nothing to change", summary);
        return reconcile_exit_code(&rc) == 3 ? EXIT_CONFLICT : EXIT_OK;
}
