/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes flush`: every route of the agent's protocol in its table goes, nothing else. */
#include "commands.h"
#include "log.h"
#include "nl.h"

int command_flush(const struct config *c) {
        _cleanup_nl_ struct nl_ctx *nl = NULL;
        struct apply_result res = {};
        int r;

        if (command_open_netlink(&nl) < 0)
                return EXIT_FAILED;
        if (command_require_net_admin("flush") < 0)
                return EXIT_FAILED;
        r = nl_flush(nl, c->table, c->protocol, &res);
        if (r < 0) {
                log_error_errno(r, "Could not flush routes of protocol %u: %m", c->protocol);
                return EXIT_FAILED;
        }
        log_info("Flushed %zu route%s of protocol %u%s", res.ok, res.ok == 1 ? "" : "s", c->protocol,
                 res.failed ? "; some could not be deleted" : "");
        return res.failed ? EXIT_FAILED : EXIT_OK;
}
