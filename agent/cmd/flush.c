/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes flush`: every route of the agent's protocol in its table goes, and those
 * under the protocol and table owner_file says own routes carried before; nothing else. */
#include "commands.h"
#include "instance.h"
#include "log.h"
#include "kernel.h"
#include "owner.h"
#include "reconcile.h"

static int flush_one(struct kernel_ctx *nl, uint8_t protocol, uint32_t table, struct apply_result *res) {
        struct apply_result one = {};
        char t[12];
        int r;

        r = kernel_flush(nl, table, protocol, &one);
        if (r < 0)
                return log_error_errno(r, "Could not flush routes of protocol %u: %m", protocol);
        log_info("Flushed %zu route%s of protocol %u in table %s%s", one.ok, one.ok == 1 ? "" : "s", protocol,
                 table_to_string(table, t), one.failed ? "; some could not be deleted" : "");
        res->ok += one.ok;
        res->failed += one.failed;
        return 0;
}

/* Egress first (its rule that switches it), so that the droplet never loses its way out. */
static int flush_egress(struct kernel_ctx *nl, uint8_t protocol, struct apply_result *res) {
        size_t removed = 0;
        int r;

        r = reconcile_egress_remove(nl, protocol, &removed);
        if (removed > 0 || r < 0)
                log_info("Flushed %zu egress rule%s and route%s of protocol %u%s", removed, removed == 1 ? "" : "s",
                         removed == 1 ? "" : "s", protocol, r < 0 ? "; some could not be deleted" : "");
        res->ok += removed;
        res->failed += r < 0;
        return r == -EIO ? 0 : r;
}

int command_flush(const struct config *c) {
        _cleanup_kernel_ struct kernel_ctx *nl = NULL;
        struct apply_result res = {};
        _cleanup_reconcile_ struct reconcile rc = {};
        struct owner now = { .protocol = c->protocol, .table = c->table };
        struct instance svc;
        int r;

        /* A running service heals what this deletes within milliseconds: a "Flushed 3 routes"
         * would be a lie a second later. */
        if (instance_query(&svc) > 0) {
                log_error("The vpc-peer-routes service (PID %d) runs in this network namespace and would put the routes "
                          "back at once; stop it first: systemctl stop vpc-peer-routes (add disable to keep them away "
                          "after a reboot), then run flush again",
                          (int) svc.pid);
                return EXIT_USAGE;
        }
        if (command_open_netlink(&nl) < 0)
                return EXIT_FAILED;
        if (command_require_net_admin("flush") < 0)
                return EXIT_FAILED;
        r = flush_egress(nl, c->protocol, &res);
        if (r >= 0)
                r = flush_one(nl, c->protocol, c->table, &res);
        /* Routes still under the protocol or table own routes carried before a config change. */
        (void) reconcile_load_owner(&rc, c, true);
        if (r >= 0 && rc.have_previous && !owner_equal(&rc.previous, &now))
                r = flush_one(nl, rc.previous.protocol, rc.previous.table, &res);
        if (r < 0)
                return EXIT_FAILED;
        if (c->track_owner && res.failed == 0 && unlink(c->owner_file) < 0 && errno != ENOENT)
                log_warning("Could not remove %s: %m", c->owner_file);
        return res.failed ? EXIT_FAILED : EXIT_OK;
}
