/* SPDX-License-Identifier: MIT */
/* One reconcile: metadata body → private NIC → desired routes → kernel state → plan → apply.
 * The same steps serve sync, status, and every round of the daemon. */
#pragma once

#include "config.h"
#include "metadata_parse.h"
#include "nl.h"
#include "plan.h"

enum reconcile_stage {
        STAGE_NONE,
        STAGE_FETCH,
        STAGE_PARSE,
        STAGE_LINK,
        STAGE_PLAN,
        STAGE_APPLY,
};

struct reconcile {
        /* Inputs set before reconcile_plan: the networks to route (when have_nets; else the
         * config's routes) and, for source = api, the peers they come from. */
        bool have_nets;
        struct cidr *nets;
        size_t n_nets;
        const struct api_peers *peers;

        struct metadata md;
        bool have_metadata;
        struct link_info link;
        bool have_link;
        struct route_set desired;
        struct route_set own;
        struct route_set foreign;
        struct plan plan;
        bool have_plan;
        struct apply_result applied;
        bool applied_any;

        enum reconcile_stage failed_stage;
        int error;
        char error_msg[512];
};

void reconcile_done(struct reconcile *rc);
static inline void reconcile_donep(struct reconcile *rc) {
        reconcile_done(rc);
}
#define _cleanup_reconcile_ _cleanup_(reconcile_donep)

/* Records a failure of a stage (the message is logged by the caller's choice). */
int reconcile_fail(struct reconcile *rc, enum reconcile_stage stage, int error, const char *fmt, ...) _printf_(4, 5);

/* Parses the metadata and chooses the gateway (the config's, the metadata's or derived). */
int reconcile_parse(struct reconcile *rc, const struct config *c, const char *body, size_t size);
/* "Private NIC ens4 (aa:bb:…) 10.116.0.2/20, gateway 10.116.0.1, vpc_peering_enabled=true": what
 * sync logs, and the service whenever it changes. */
#define RECONCILE_NIC_LINE_MAX 320
const char *reconcile_nic_line(const struct reconcile *rc, const struct config *c, char *buf, size_t size);
int reconcile_find_link(struct reconcile *rc, struct nl_ctx *nl, const struct config *c);
/* Is the NIC found by reconcile_find_link up and carrying the private address? If not, says why
 * (the kernel would refuse routes via the gateway, or they would not work). */
int reconcile_link_ready(const struct reconcile *rc, char *why, size_t size);
/* source = api: routes for the peers' ranges, less those overlapping a connected subnet (one
 * line each, at warning level when loud, else debug). Sets rc->nets (owned by rc). */
int reconcile_use_peers(struct reconcile *rc, struct nl_ctx *nl, const struct config *c, const struct api_peers *peers,
                        bool loud);
/* Computes the desired routes, reads the kernel and plans. With NL_LIST_FAST and believed_own
 * (what the agent last left installed, when it equals the desired routes) the kernel is only
 * asked to confirm those routes with lookups, and the table is walked only if one is not as
 * believed. */
int reconcile_plan(struct reconcile *rc, struct nl_ctx *nl, const struct config *c, enum nl_list_mode mode,
                   const struct route_set *believed_own);
/* The cheap check behind that: believed_own equals desired (few routes, main table) and each
 * desired route is confirmed by a kernel lookup. */
bool reconcile_confirmed(struct nl_ctx *nl, const struct config *c, const struct route_set *believed_own,
                         const struct route_set *desired);
/* Applies the plan; a failing change is logged at debug level when quiet_failures (the daemon
 * saw the very same failure last round). Afterwards the plan names every conflict. */
int reconcile_apply(struct reconcile *rc, struct nl_ctx *nl, const struct config *c, bool quiet_failures);
/* One warning line per conflict in the plan. */
void reconcile_log_conflicts(const struct reconcile *rc);

/* 0 reached, 1 failed, 3 applied with conflicts left (see EXIT STATUS in the man page). */
int reconcile_exit_code(const struct reconcile *rc);

/* "3 routes via 10.116.0.1 dev ens4" and similar, for logs and STATUS=. */
const char *reconcile_summary(const struct reconcile *rc, char *buf, size_t size);
