/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes flush`: every route of the agent's protocol in its table goes, and those
 * under the protocol and table owner_file says own routes carried before; nothing else. */
#include "commands.h"
#include "log.h"
#include "nl.h"
#include "owner.h"

static int flush_one(struct nl_ctx *nl, uint8_t protocol, uint32_t table, struct apply_result *res) {
        struct apply_result one = {};
        char t[12];
        int r;

        r = nl_flush(nl, table, protocol, &one);
        if (r < 0)
                return log_error_errno(r, "Could not flush routes of protocol %u: %m", protocol);
        log_info("Flushed %zu route%s of protocol %u in table %s%s", one.ok, one.ok == 1 ? "" : "s", protocol,
                 table_to_string(table, t), one.failed ? "; some could not be deleted" : "");
        res->ok += one.ok;
        res->failed += one.failed;
        return 0;
}

int command_flush(const struct config *c) {
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        struct apply_result res = {};
        struct owner previous, now = { .protocol = c->protocol, .table = c->table };
        int r, r2;

        if (command_open_netlink(&nl) < 0)
                return EXIT_FAILED;
        if (command_require_net_admin("flush") < 0)
                return EXIT_FAILED;
        r = flush_one(nl, c->protocol, c->table, &res);
        /* Routes still under the protocol or table own routes carried before a config change. */
        r2 = c->track_owner ? owner_read(c->owner_file, &previous) : -ENOENT;
        if (r >= 0 && r2 >= 0 && !owner_equal(&previous, &now))
                r = flush_one(nl, previous.protocol, previous.table, &res);
        if (r < 0)
                return EXIT_FAILED;
        if (c->track_owner && res.failed == 0 && unlink(c->owner_file) < 0 && errno != ENOENT)
                log_warning("Could not remove %s: %m", c->owner_file);
        return res.failed ? EXIT_FAILED : EXIT_OK;
}
