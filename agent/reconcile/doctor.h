/* SPDX-License-Identifier: MIT */
/* `doctor`: does traffic to each desired destination take the route the agent wants? A route in
 * place is not enough: a more specific route (a Docker bridge in 172.18.0.0/16 under
 * 172.16.0.0/12), a policy rule to another table (Tailscale's "from all lookup 52" at 5270) or a
 * VPN's route takes the packets first. Per destination one verdict with its evidence, and the
 * droplet-wide checks (the gateway's ARP entry, the NIC's MTU, strict rp_filter).
 *
 * Pure: the kernel's answers come in (every route, every rule, a lookup callback), the report
 * goes out; doctor_cmd.c gathers them and prints. */
#pragma once

#include "kernel.h"
#include "plan.h"

enum doctor_verdict {
        DOCTOR_OK,       /* our route, or an equal one of another program, via the private NIC */
        DOCTOR_SHADOWED, /* a more specific route in the table takes (part of) the traffic */
        DOCTOR_RULE,     /* a policy rule sends (part of) it to another table */
        DOCTOR_MISSING,  /* no route to it (or ours differs from the one wanted) */
        DOCTOR_CONFLICT, /* another program's route holds the destination and metric elsewhere */
};

const char *doctor_verdict_to_string(enum doctor_verdict v);

/* A lookup as `ip route get ADDRESS` makes it: 0 and the route (with its device name), or
 * -errno (-ENETUNREACH: no route). */
typedef int (*doctor_lookup_fn)(uint32_t address, struct route *ret, void *userdata);

struct doctor_input {
        int ifindex;               /* the private NIC */
        const char *ifname;
        uint32_t address;          /* its private address */
        uint32_t gateway;          /* the VPC gateway the routes go via */
        uint32_t table;            /* the agent's table */
        uint32_t link_mtu;         /* the private NIC's MTU */
        uint32_t route_mtu;        /* the mtu the routes carry, 0 for none */
        int rp_filter;             /* effective on the private NIC (max of all and it), -1 unknown */
        uint16_t neigh_state;      /* NUD_* of the gateway on the private NIC, 0 when none */
        const struct plan *plan;   /* desired against the kernel, every foreign route at a desired slot */
        const struct route_set *routes;  /* every route of every table (kernel_route_dump_all), named */
        const struct kernel_rule *rules;
        size_t n_rules;
        doctor_lookup_fn lookup;
        void *userdata;
        /* nat_gateway: the NAT gateway egress should leave through (0: egress not wanted). */
        uint32_t egress_gateway;
};

/* The address doctor looks up for egress: any internet address will do (nothing is sent). */
#define DOCTOR_EGRESS_PROBE 0x01010101u /* 1.1.1.1 */

#define DOCTOR_LINE_MAX 320
#define DOCTOR_EVIDENCE_MAX 6

struct doctor_dest {
        struct cidr dst;
        enum doctor_verdict verdict;
        char evidence[DOCTOR_EVIDENCE_MAX][DOCTOR_LINE_MAX];
        size_t n_evidence;
        size_t n_findings;         /* the first ones: why the verdict is what it is */
        size_t more;               /* evidence lines left out */
        uint32_t probe;            /* the address inside dst that was looked up */
        int lookup_error;          /* 0, or the lookup's -errno */
        struct route lookup;       /* what the kernel takes for probe */
};

struct doctor_report {
        struct doctor_dest *dests;
        size_t n;
        char problems[4][DOCTOR_LINE_MAX]; /* droplet-wide */
        size_t n_problems;
        /* nat_gateway on: where a packet to DOCTOR_EGRESS_PROBE goes, and whether that is the NAT
         * gateway in the egress table. */
        bool egress_checked, egress_ok;
        int egress_error;
        struct route egress;
        bool ok;                   /* every destination ok and no problem */
};

int doctor_run(const struct doctor_input *in, struct doctor_report *ret);
void doctor_report_done(struct doctor_report *r);

/* What a device is, by its name, for people: "a Docker bridge", "Tailscale", ...; NULL when the
 * name says nothing. */
const char *doctor_device_kind(const char *ifname);
