/* SPDX-License-Identifier: MIT */
/* Layer reconcile (agent/reconcile/): one pass from the sources to the kernel, the desired
 * set, doctor's verdicts, the state file. Uses source, kernel and the layers below. */
/* One reconcile: metadata body → private NIC → desired routes → kernel state → plan → apply.
 * The same steps serve sync, status, and every round of the daemon. */
#pragma once

#include "api_peers.h"
#include "config.h"
#include "metadata_parse.h"
#include "kernel.h"
#include "owner.h"
#include "plan.h"

struct reconcile {
        /* Inputs set before reconcile_plan: the networks to route (when have_nets; else the
         * config's routes) and, for source = api, the peers they come from. */
        bool have_nets;
        struct cidr *nets;
        size_t n_nets;
        const struct api_peers *peers;
        /* What owner_file says own routes carried so far, when it says anything: routes under a
         * protocol or table the config no longer names are moved by the plan. */
        bool have_previous;
        struct owner previous;
        /* The service knows nothing of egress is left (nat_gateway = off, checked since the last
         * reload or rule event): the egress reads are skipped on its hot path. */
        bool egress_known_clean;
        /* Set by commands that change nothing (status, doctor): no warning about owner_file. */
        bool read_only;
        /* Warnings about how the configuration fits this droplet, which every reconcile finds
         * again: logged as they come unless quiet_notes (the service logs them when they change). */
        bool quiet_notes;
        char notes[2048];

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

        /* Egress (nat_gateway): the state wanted (empty when off), and the plan to it. */
        struct egress_state egress;
        struct egress_plan egress_plan;
        bool egress_applied;    /* the whole plan went through */
        const char *egress_off_reason; /* why there is no egress: NULL when it is on */
        char egress_reason[192];

        int error;
        struct error err;
        bool usage_error;       /* the config does not fit this droplet: exit 2 */
        /* The API round failed (error says how), and the time before which the API must not
         * be asked again (a 429's Retry-After; CLOCK_MONOTONIC), 0 when it said nothing. */
        bool api_failed;
        uint64_t api_retry_after;

        /* CLOCK_MONOTONIC microseconds at the end of each step, 0 when it did not run: where a
         * one-shot command spends its time (sync -v). */
        struct {
                uint64_t start, fetched, parsed, linked, planned, applied;
        } times;
};

void reconcile_done(struct reconcile *rc);
static inline void reconcile_donep(struct reconcile *rc) {
        reconcile_done(rc);
}
#define _cleanup_reconcile_ _cleanup_(reconcile_donep)

/* Records a failure (the message is logged by the caller's choice) and returns error. */
int reconcile_fail(struct reconcile *rc, int error, const char *fmt, ...) _printf_(3, 4);

/* Parses the metadata and chooses the gateway (the config's, the metadata's or derived). */
int reconcile_parse(struct reconcile *rc, const struct config *c, const char *body, size_t size);
/* "Private NIC ens4 (aa:bb:…) 10.116.0.2/20, gateway 10.116.0.1, vpc_peering_enabled=true": what
 * sync logs, and the service whenever it changes. */
#define RECONCILE_NIC_LINE_MAX 320
const char *reconcile_nic_line(const struct reconcile *rc, const struct config *c, char *buf, size_t size);
int reconcile_find_link(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c);
/* Is the NIC found by reconcile_find_link up and carrying the private address? If not, says why
 * (the kernel would refuse routes via the gateway, or they would not work). */
int reconcile_link_ready(const struct reconcile *rc, char *why, size_t size);
/* source = api: routes for the peers' ranges, less those overlapping a connected subnet (one
 * line each, at warning level when loud, else debug). Sets rc->nets (owned by rc). */
int reconcile_use_peers(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, const struct api_peers *peers,
                        bool loud);
/* For one-shot commands: fetch and parse the metadata, find the NIC, and with source = api ask
 * the API for the peers (into peers, which must outlive rc). peers->own_vpc may name the
 * droplet's VPC as an earlier pass found it (sync --wait): only its peerings are asked then. Any
 * failure here changes nothing. */
int reconcile_prepare_blocking(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, struct api_peers *peers);
/* reconcile_prepare_blocking, then the plan with every foreign route at a desired slot: what
 * status and doctor look at. */
int reconcile_prepare_full(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, struct api_peers *peers);
/* Reads owner_file into rc->previous. A missing file is no record; one that cannot be read,
 * is garbled or names another program's protocol is ignored (adopting nothing), with a warning
 * when loud, and its error returned. */
/* Adds a line to rc->notes, and logs it as a warning unless rc->quiet_notes. */
void reconcile_note(struct reconcile *rc, const char *fmt, ...) _printf_(2, 3);
int reconcile_load_owner(struct reconcile *rc, const struct config *c, bool loud);
/* After an apply with no failure: records the config's protocol and table in owner_file when
 * they are not what it says already. */
void reconcile_save_owner(struct reconcile *rc, const struct config *c);
/* Computes the desired routes, reads the kernel (own routes through the kernel-filtered dump,
 * foreign ones as mode says, and own routes under rc->previous when it differs) and plans. */
int reconcile_plan(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, enum kernel_route_mode mode);
/* Applies the plan; a failing change is logged at debug level when quiet_failures (the daemon
 * saw the very same failure last round). Afterwards the plan names every conflict. */
int reconcile_apply(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, bool quiet_failures);
/* Egress, by reconcile_plan and reconcile_apply (after the routes): reconcile_egress.c. */
int reconcile_egress_plan(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c);
int reconcile_egress_apply(struct reconcile *rc, struct kernel_ctx *nl, bool quiet_failures);
/* One line on egress: "via the VPC gateway 10.116.0.1 dev ens4", "off: no public interface: …";
 * NULL with nat_gateway = off. *ret_active: traffic leaves through the NAT gateway now. */
const char *reconcile_egress_summary(const struct reconcile *rc, const struct config *c, bool *ret_active, char *buf,
                                     size_t size);
/* Logs a summary: a warning when egress is off although nat_gateway asks for it. */
void reconcile_egress_log(const struct reconcile *rc, const char *summary);
/* flush: removes every rule of protocol and its routes in the egress table, the switch first. */
int reconcile_egress_remove(struct kernel_ctx *nl, uint8_t protocol, size_t *ret_removed);

/* One warning line per conflict in the plan. */
void reconcile_log_conflicts(const struct reconcile *rc);

/* 0 reached, 1 failed, 3 applied with conflicts left (see EXIT STATUS in the man page). */
int reconcile_exit_code(const struct reconcile *rc);

/* "3 routes via 10.116.0.1 dev ens4", with ", with conflicts" when there are, or "no routes wanted"
 * and why: what sync logs and the service's STATUS= starts with. */
const char *reconcile_routes_summary(const struct plan *p, size_t n_desired, const struct metadata *md, const struct config *c,
                                     const char *ifname, char *buf, size_t size);
