/* SPDX-License-Identifier: MIT */
/* Egress through a VPC NAT gateway (nat_gateway), without touching the network manager's routes:
 * policy routing with a table and rules of the agent's own, all carrying its protocol number.
 *
 *   32700  from all lookup main suppress_prefixlength 0   every route of main but its default
 *   32701  from PUBLIC lookup main                        replies to inbound connections: symmetric
 *   32702  from ANCHOR lookup main                        (when the droplet has an anchor address)
 *   32703  from all lookup EGRESS_TABLE                   what is left: the NAT gateway
 *
 *   EGRESS_TABLE: 169.254.169.254/32 via PUBLIC_GW dev PUBLIC_NIC   the metadata service stays
 *                 0.0.0.0/0 via NAT_GW dev PRIVATE_NIC               on the public side
 *
 * main is never changed: the VPC subnet, peered ranges, docker bridges and every other more
 * specific route of main keep working through the first rule. Switching on installs the table
 * and the first rules before the last rule (the switch); switching off removes the switch
 * first and the metadata route last. Pure: numbers in, actions out. */
#pragma once

#include "plan.h"

#define EGRESS_TABLE 241u
#define EGRESS_RULE_PRIORITY 32700u
#define METADATA_ADDRESS 0xa9fea9feu /* 169.254.169.254 */

/* An IPv4 policy rule of the agent's. */
struct egress_rule {
        uint32_t priority;
        uint32_t src;               /* 0: from all */
        uint8_t src_len;
        uint32_t table;
        int32_t suppress_prefixlen; /* -1: none */
        uint8_t protocol;
};

/* What egress needs to know of the droplet; nat_gateway 0 (or no public interface): egress off. */
struct egress_input {
        uint32_t nat_gateway;       /* the VPC gateway, or the NAT gateway's address in the VPC */
        int private_ifindex;
        char private_ifname[IF_NAMESIZE];
        uint32_t public_gateway;
        int public_ifindex;
        char public_ifname[IF_NAMESIZE];
        uint32_t public_address;
        uint32_t anchor_address;    /* 0: none */
        uint8_t protocol;
};

struct egress_state {
        uint8_t protocol;
        struct egress_rule rules[4];
        size_t n_rules;
        struct route_set routes;    /* in EGRESS_TABLE, sorted */
};

/* The desired state (empty when egress is off). */
int egress_desired(const struct egress_input *in, struct egress_state *ret);
void egress_state_done(struct egress_state *s);

enum egress_op_kind {
        EGRESS_KEEP_RULE,
        EGRESS_ADD_RULE,
        EGRESS_DELETE_RULE,
        EGRESS_ROUTE,               /* a route action (plan.h) in EGRESS_TABLE */
};

struct egress_op {
        enum egress_op_kind kind;
        struct egress_rule rule;
        struct plan_action route;
};

struct egress_plan {
        struct egress_op *ops;      /* in the order to apply them */
        size_t n, cap;
        bool changes;               /* anything but KEEP */
};

/* From the installed rules and routes of the agent's protocol (routes in EGRESS_TABLE, sorted)
 * to the desired ones, in a safe order. */
int egress_plan_compute(const struct egress_state *desired, const struct egress_rule *rules, size_t n_rules,
                        const struct route_set *routes, struct egress_plan *ret);
void egress_plan_done(struct egress_plan *p);

bool egress_rule_equal(const struct egress_rule *a, const struct egress_rule *b);
/* "32703: from all lookup 241", as ip rule writes it. */
#define EGRESS_RULE_STRLEN 96
const char *egress_rule_to_string(const struct egress_rule *r, char buf[static EGRESS_RULE_STRLEN]);
/* One line a step of the plan: "add rule …", "add 0.0.0.0/0 via … table 241 …". */
const char *egress_op_to_string(const struct egress_op *op, char *buf, size_t size);
