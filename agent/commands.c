/* SPDX-License-Identifier: MIT */
/* The one-shot commands: sync, status and flush, each returning its exit status. */
#include <linux/capability.h>
#include <sys/syscall.h>

#include "api_fetch.h"
#include "commands.h"
#include "http.h"
#include "log.h"
#include "metadata_fetch.h"
#include "nl.h"
#include "reconcile.h"
#include "state.h"
#include "status.h"

static bool have_net_admin(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return true; /* cannot tell: let the kernel decide */
        return d[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN);
}

static int require_net_admin(const char *what) {
        if (have_net_admin())
                return 0;
        log_error("%s needs CAP_NET_ADMIN to change routes; run it as root (sudo vpc-peer-routes %s)", what, what);
        return -EPERM;
}

/* Where a one-shot command spends its time, for -v. */
struct timings {
        uint64_t start, fetched, parsed, linked, planned, applied;
};

static double ms_between(uint64_t a, uint64_t b) {
        return a && b > a ? (double) (b - a) / 1000.0 : 0.0;
}

static void log_timings(const struct timings *t) {
        log_debug("Timings: fetch %.2f ms, parse %.2f ms, interfaces %.2f ms, read kernel and plan %.2f ms, apply %.2f ms",
                  ms_between(t->start, t->fetched), ms_between(t->fetched, t->parsed), ms_between(t->parsed, t->linked),
                  ms_between(t->linked, t->planned), ms_between(t->planned, t->applied));
}

/* Fetch and parse the metadata, find the NIC, and with source = api ask the API for the peers
 * (into peers, which must outlive rc). Any failure here changes nothing. */
static int prepare(const struct config *c, struct nl_ctx *nl, struct reconcile *rc, struct api_peers *peers,
                   struct timings *t) {
        _cleanup_free_ char *body = NULL;
        char err[API_ROUND_ERR_MAX + 256];
        size_t size = 0;
        int r;

        t->start = now_usec_monotonic();
        r = metadata_fetch_blocking(c, &body, &size, NULL, err, sizeof err);
        if (r < 0)
                return reconcile_fail(rc, STAGE_FETCH, r, "metadata: %s", err);
        t->fetched = now_usec_monotonic();
        r = reconcile_parse(rc, c, body, size);
        if (r < 0)
                return r;
        t->parsed = now_usec_monotonic();
        r = reconcile_find_link(rc, nl, c);
        t->linked = now_usec_monotonic();
        if (r < 0 || c->source != SOURCE_API)
                return r;
        r = metadata_require_droplet_id(&rc->md, err, sizeof err);
        if (r < 0)
                return reconcile_fail(rc, STAGE_PARSE, r, "%s", err);
        r = api_round_blocking(c, rc->md.droplet_id, peers, err, sizeof err);
        if (r < 0)
                return reconcile_fail(rc, STAGE_FETCH, r, "%s", err);
        return reconcile_use_peers(rc, nl, c, peers, true);
}

/* sync: a down NIC is an error (nothing could work through it); a NIC without the private
 * address is worth a warning, and the kernel's own refusal says the rest. */
static int check_link(struct reconcile *rc) {
        char why[256];
        int r;

        r = reconcile_link_ready(rc, why, sizeof why);
        if (r == -ENETDOWN)
                return reconcile_fail(rc, STAGE_LINK, r, "%s; not routing through it", why);
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
        struct timings t = {};
        char summary[256];
        int r;

        r = nl_ctx_open(&nl);
        if (r < 0) {
                log_error_errno(r, "Could not open a netlink socket: %m");
                return EXIT_FAILED;
        }
        r = prepare(c, nl, &rc, &peers, &t);
        if (r >= 0)
                r = check_link(&rc);
        if (r < 0) {
                log_error("%s; nothing changed", rc.error_msg);
                return EXIT_FAILED;
        }
        char nic[RECONCILE_NIC_LINE_MAX];
        log_info("%s", reconcile_nic_line(&rc, c, nic, sizeof nic));
        if (c->source == SOURCE_API)
                log_info("API: VPC %s has %zu ACTIVE peering%s", peers.own_vpc, peers.n, peers.n == 1 ? "" : "s");

        /* What the last sync left installed: a converged state is then confirmed with lookups. */
        _cleanup_route_set_ struct route_set believed = {};
        char believed_file[PATH_MAX];
        bool have_belief = !dry_run && believed_read(believed_path(c->state_file, believed_file, sizeof believed_file),
                                                     &believed) >= 0;

        r = reconcile_plan(&rc, nl, c, dry_run ? NL_LIST_FULL : NL_LIST_FAST, have_belief ? &believed : NULL);
        if (r < 0) {
                log_error("%s; nothing changed", rc.error_msg);
                return EXIT_FAILED;
        }
        t.planned = now_usec_monotonic();
        if (dry_run) {
                status_print_plan(stdout, &rc.plan);
                return rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;
        }
        if (plan_has_changes(&rc.plan) && require_net_admin("sync") < 0)
                return EXIT_FAILED;
        if (hooks && hooks->before_apply)
                hooks->before_apply(hooks->userdata);

        r = reconcile_apply(&rc, nl, c, false);
        t.applied = now_usec_monotonic();
        /* Remember the result only when it is exactly the desired routes, all of them ours. */
        if (r >= 0 && rc.applied.failed == 0 && rc.applied.conflicts == 0 && rc.plan.count[PLAN_CONFLICT] == 0 &&
            rc.plan.count[PLAN_FOREIGN_EQUAL] == 0) {
                if (!have_belief || !route_set_equal(&believed, &rc.desired))
                        (void) believed_write(believed_file, &rc.desired);
        } else
                believed_forget(believed_file);
        log_timings(&t);
        reconcile_log_conflicts(&rc);
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return EXIT_FAILED;
        }
        reconcile_summary(&rc, summary, sizeof summary);
        if (rc.applied_any)
                log_info("Synced: %s (%zu added or changed, %zu deleted)", summary,
                         rc.plan.count[PLAN_ADD] + rc.plan.count[PLAN_REPLACE], rc.plan.count[PLAN_DELETE]);
        else
                log_info("In sync: %s; nothing to change", summary);
        return reconcile_exit_code(&rc) == 3 ? EXIT_CONFLICT : EXIT_OK;
}

int command_status(const struct config *c, bool json) {
        _cleanup_(api_peers_done) struct api_peers peers = {};
        _cleanup_reconcile_ struct reconcile rc = {};
        _cleanup_route_set_ struct route_set none = {}, foreign = {};
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        int r, ret;

        r = nl_ctx_open(&nl);
        if (r < 0) {
                log_error_errno(r, "Could not open a netlink socket: %m");
                return EXIT_FAILED;
        }
        struct timings t = {};
        r = prepare(c, nl, &rc, &peers, &t);
        if (r >= 0)
                r = reconcile_plan(&rc, nl, c, NL_LIST_FULL, NULL);
        if (r < 0) {
                /* Still show what is installed: that is what an operator needs most when the
                 * metadata service is down. */
                log_error("%s", rc.error_msg);
                (void) nl_list_routes(nl, NL_LIST_FAST, c->table, c->protocol, 0, &none, &rc.own, &foreign);
                rc.have_plan = false;
                ret = EXIT_FAILED;
        } else
                ret = plan_has_changes(&rc.plan) || rc.plan.count[PLAN_CONFLICT] > 0 ? EXIT_CONFLICT : EXIT_OK;

        /* What the running service published, when it runs (or ran). */
        struct state_summary daemon;
        char err[512];
        r = state_read(c->state_file, &daemon, err, sizeof err);
        if (r < 0 && r != -ENOENT)
                log_warning("Could not read the daemon's state: %s", err);

        if (json) {
                if (status_print_json(stdout, c, &rc, r >= 0 ? &daemon : NULL) < 0)
                        return log_oom(), EXIT_FAILED;
        } else
                status_print_text(stdout, c, &rc, r >= 0 ? &daemon : NULL);
        return ret;
}

int command_flush(const struct config *c) {
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        struct apply_result res = {};
        int r;

        r = nl_ctx_open(&nl);
        if (r < 0) {
                log_error_errno(r, "Could not open a netlink socket: %m");
                return EXIT_FAILED;
        }
        if (require_net_admin("flush") < 0)
                return EXIT_FAILED;
        {
                char believed_file[PATH_MAX];
                believed_forget(believed_path(c->state_file, believed_file, sizeof believed_file));
        }
        r = nl_flush(nl, c->table, c->protocol, &res);
        if (r < 0) {
                log_error_errno(r, "Could not flush routes of protocol %u: %m", c->protocol);
                return EXIT_FAILED;
        }
        log_info("Flushed %zu route%s of protocol %u%s", res.ok, res.ok == 1 ? "" : "s", c->protocol,
                 res.failed ? "; some could not be deleted" : "");
        return res.failed ? EXIT_FAILED : EXIT_OK;
}

