/* SPDX-License-Identifier: MIT */
/* Layer kernel (agent/kernel/): rtnetlink over libnl. Uses core and base (not source). */
/* The kernel side, over libnl: the socket (kernel_socket.c), links and addresses (kernel_link.c), own
 * routes and the foreign routes that matter (kernel_route.c), applying a plan (kernel_apply.c) and the
 * event monitor (kernel_monitor.c). Only project types cross this header; libnl stays in those. */
#pragma once

#include "egress.h"
#include "plan.h"
#include "route.h"

struct kernel_ctx;

struct link_info {
        int ifindex;
        char ifname[IF_NAMESIZE];
        uint8_t mac[6];
        bool has_mac;
        bool up;         /* IFF_UP */
        bool has_address; /* carries the address we were asked about */
        uint32_t mtu;
};

/* ---- the socket (kernel_socket.c) ---- */

int kernel_ctx_open(struct kernel_ctx **ret);
void kernel_ctx_close(struct kernel_ctx *nl);
static inline void kernel_ctx_closep(struct kernel_ctx **nl) {
        if (*nl)
                kernel_ctx_close(*nl);
}
#define _cleanup_kernel_ _cleanup_(kernel_ctx_closep)
/* Tests only: the nth request sent from now on (1: the next) fails with error (negative)
 * instead of leaving, as a full socket buffer or an allocation failure would make it. */
void kernel_ctx_fail_send(struct kernel_ctx *nl, unsigned nth, int error);

/* ---- links and addresses (kernel_link.c) ---- */

/* Finds the interface that carries the private NIC's MAC. When several do (VLANs, a bridge over
 * the NIC), the one that carries address wins; an enslaved NIC resolves to its master.
 * -ENODEV when none matches. */
int kernel_link_find_by_mac(struct kernel_ctx *nl, const uint8_t mac[static 6], uint32_t address, struct link_info *ret);
int kernel_link_find_by_name(struct kernel_ctx *nl, const char *name, uint32_t address, struct link_info *ret);

/* A subnet the droplet reaches directly: an IPv4 address with its prefix on some interface. */
struct connected_subnet {
        struct cidr net;
        int ifindex;
        char ifname[IF_NAMESIZE];
};

/* Every connected IPv4 subnet (addresses with a prefix shorter than /31), any interface. */
int kernel_link_connected(struct kernel_ctx *nl, struct connected_subnet **ret, size_t *ret_n);

/* ---- routes (kernel_route.c) ---- */

enum kernel_route_mode {
        /* Own routes, plus foreign routes on the private NIC only when some desired
         * destination lacks an own route: the cheap reconcile path. */
        KERNEL_LIST_FAST,
        /* Own routes plus every foreign route at a desired destination, on any device: for
         * status, dry runs and explaining a conflict. */
        KERNEL_LIST_FULL,
};

/* Reads own routes (protocol == protocol in table) and foreign routes with a desired
 * destination and metric. ifindex is the private NIC (for the fast foreign scan). Both result
 * sets come back sorted. */
int kernel_route_list(struct kernel_ctx *nl, enum kernel_route_mode mode, uint32_t table, uint8_t protocol, int ifindex,
                   const struct route_set *desired, struct route_set *ret_own, struct route_set *ret_foreign);

/* ---- changing routes (kernel_apply.c) ---- */

struct apply_result {
        size_t ok;
        size_t failed;
        size_t conflicts;   /* adds the kernel refused because the slot was taken (EEXIST) */
};

/* Carries out ADD, REPLACE and DELETE actions: adds and replaces first, deletes last, so
 * traffic never loses a path while a route moves. One failure does not stop the others. Logs
 * one line per action. */
int kernel_apply_plan(struct kernel_ctx *nl, const struct plan *p, bool quiet_failures, struct apply_result *ret);

/* Deletes every route of protocol in table, and nothing else. */
int kernel_flush(struct kernel_ctx *nl, uint32_t table, uint8_t protocol, struct apply_result *ret);



/* ---- what doctor asks (kernel_inspect.c): read only ---- */

/* Every IPv4 route of every table but local: unicast, and those that end traffic (blackhole,
 * unreachable, prohibit: route.type). Sorted. */
int kernel_route_dump_all(struct kernel_ctx *nl, struct route_set *ret);
/* The route the kernel would take for a packet this host sends to address, as `ip route get`
 * finds it, rules included: the matching entry with its prefix, protocol, table and device.
 * -ENETUNREACH (or another -errno) when there is none. */
int kernel_route_lookup(struct kernel_ctx *nl, uint32_t address, struct route *ret);

/* One IPv4 policy rule. */
struct kernel_rule {
        uint32_t priority;
        uint32_t table;         /* action FR_ACT_TO_TBL */
        uint8_t action;         /* FR_ACT_* */
        bool has_src, has_dst;
        struct cidr src, dst;
        char iifname[IF_NAMESIZE];
        bool invert;            /* "not" */
        bool selective;         /* matches some packets only: fwmark, oif, uid, tos, ports, iif other than lo */
        int32_t suppress_prefixlen; /* -1 when not set */
        uint8_t protocol;       /* FRA_PROTOCOL, 0 when absent */
};

/* ---- rules (kernel_rule.c) ---- */

/* Every IPv4 rule. */
int kernel_rule_dump(struct kernel_ctx *nl, struct kernel_rule **ret, size_t *ret_n);
/* The IPv4 rules that carry protocol (FRA_PROTOCOL) and look up a table. */
int kernel_rule_list_own(struct kernel_ctx *nl, uint8_t protocol, struct egress_rule **ret, size_t *ret_n);
/* Adds (refused when an equal rule exists) or deletes r, naming its protocol; logs one line.
 * A rule already gone counts as deleted. */
int kernel_rule_change(struct kernel_ctx *nl, const struct egress_rule *r, bool add);

/* NUD_* of address on ifindex in the neighbour table; 0 when the kernel has no entry. */
int kernel_neigh_state(struct kernel_ctx *nl, int ifindex, uint32_t address, uint16_t *ret_state);

/* ---- events (kernel_monitor.c) ---- */

enum kernel_event_kind {
        KERNEL_EVENT_ROUTE,
        KERNEL_EVENT_LINK,
        KERNEL_EVENT_ADDRESS,
        KERNEL_EVENT_RULE,     /* an IPv4 policy rule */
        KERNEL_EVENT_OVERFLOW, /* the kernel dropped events (ENOBUFS): re-read everything */
};

struct kernel_event {
        enum kernel_event_kind kind;
        bool removed;          /* RTM_DEL* */
        bool self;             /* caused by a request of this process's kernel_ctx */
        struct route route;    /* ROUTE (IPv4 unicast only) */
        struct link_info link; /* LINK: ifindex, name, MAC, up */
        int ifindex;           /* ADDRESS, LINK */
        uint32_t address;      /* ADDRESS (IPv4) */
        struct kernel_rule rule; /* RULE */
};

struct kernel_monitor;
typedef void (*kernel_event_fn)(const struct kernel_event *ev, void *userdata);

/* Subscribes to link, IPv4 address, IPv4 route and IPv4 rule events on the event loop. Events caused by
 * requests sent on requests (our own changes) are flagged self. When the socket fails, it is
 * closed, opened again (retried every second) and an OVERFLOW event asks for a full re-read. */
struct sd_event;
int kernel_monitor_new(struct sd_event *e, const struct kernel_ctx *requests, kernel_event_fn fn, void *userdata,
                   struct kernel_monitor **ret);
void kernel_monitor_free(struct kernel_monitor *m);
/* The receive buffer the kernel granted the event socket, in bytes (it reports twice the size
 * asked for); negative when the socket is closed. */
int kernel_monitor_rcvbuf(const struct kernel_monitor *m);
/* Tests only: the next read of the event socket fails with error (negative). */
void kernel_monitor_fail_next_recv(struct kernel_monitor *m, int error);

