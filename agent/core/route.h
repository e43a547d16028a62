/* SPDX-License-Identifier: MIT */
/* Layer core (agent/core/): the agent's own types and rules, with no socket and no event loop:
 * routes and CIDR maths, the plan, the owner record, backoff, fights, API pacing, JSON helpers.
 * Uses base only. */
/* The project's own route and CIDR types, sorted route sets, IPv4 text parsing and CIDR maths.
 * Addresses are kept in host byte order; the kernel_* files convert at the kernel boundary. */
#pragma once

#include <linux/rtnetlink.h>
#include <net/if.h>

#include "util.h"

#define IPV4_STRLEN 16 /* "255.255.255.255" + NUL */
#define CIDR_STRLEN 20 /* "255.255.255.255/255" + NUL: room for any uint8 length */
#define ROUTE_STRLEN 192

#define ROUTE_TABLE_MAIN 254
#define ROUTE_TABLE_LOCAL 255

struct cidr {
        uint32_t addr;
        uint8_t len;
};

struct route {
        uint32_t dst;
        uint8_t dst_len;
        uint32_t gateway;   /* 0 when the route has no single gateway */
        int ifindex;        /* 0 when the route has no single device */
        char ifname[IF_NAMESIZE];
        uint32_t metric;
        uint32_t mtu;       /* 0 when the route carries no mtu */
        uint32_t table;
        uint8_t protocol;
        uint8_t type;       /* RTN_* as the kernel reported it; 0 for routes built here */
        bool multipath;     /* more than one nexthop: never equal to anything we want */
};

/* A growable array of routes; sorted by route_compare once route_set_sort() ran. */
struct route_set {
        struct route *routes;
        size_t n;
        size_t cap;
};

/* Strict dotted quad: four decimal octets 0-255, no leading zeros, no spaces. */
int ipv4_parse(const char *s, uint32_t *ret);
const char *ipv4_to_string(uint32_t addr, char buf[static IPV4_STRLEN]);

/* "a.b.c.d/len". Host bits set is -EADDRNOTAVAIL (the caller names the network it meant). */
int cidr_parse(const char *s, struct cidr *ret);
const char *cidr_to_string(const struct cidr *c, char buf[static CIDR_STRLEN]);

uint32_t prefix_to_mask(uint8_t len);
/* Returns the prefix length of a contiguous netmask, or -EINVAL. */
int netmask_to_prefix(uint32_t mask);

/* Orders by address, then prefix length. */
int cidr_compare(const struct cidr *a, const struct cidr *b);
bool cidr_contains_addr(const struct cidr *c, uint32_t addr);
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);

/* Why a destination may not be routed to the VPC gateway. */
enum cidr_verdict {
        CIDR_OK,
        CIDR_PREFIX_TOO_SHORT,   /* shorter than /8 */
        CIDR_DEFAULT,
        CIDR_THIS_NETWORK,       /* 0.0.0.0/8 */
        CIDR_LOOPBACK,
        CIDR_LINK_LOCAL,
        CIDR_METADATA,           /* covers 169.254.169.254 */
        CIDR_MULTICAST,
        CIDR_RESERVED,           /* 240.0.0.0/4 */
        CIDR_NOT_PRIVATE,        /* outside RFC 1918 without allow_non_private */
};

enum cidr_verdict cidr_check(const struct cidr *c, bool allow_non_private);
const char *cidr_verdict_to_string(enum cidr_verdict v);

/* A route that carries traffic to its gateway or device (type 0: one built here). */
static inline bool route_is_unicast(const struct route *r) {
        return r->type == 0 || r->type == RTN_UNICAST;
}
/* "unicast", "blackhole", "unreachable" or "prohibit" (the only types the agent reads). */
const char *route_type_to_string(uint8_t type);
/* Name of a protocol number owned by the kernel or other routing software, or NULL. */
const char *route_protocol_name(uint8_t protocol);

/* "10.0.0.0/8 via 10.120.0.1 dev ens4 metric 101 mtu 1500 proto 241" (+ " table N" when not main) */
const char *route_to_string(const struct route *r, char buf[static ROUTE_STRLEN]);

/* Orders by destination, prefix length, table, metric, then the rest: the merge order of plan. */
int route_compare(const struct route *a, const struct route *b);
/* Orders by destination, prefix length, table and metric only: the kernel's FIB slot. */
int route_key_compare(const struct route *a, const struct route *b);
/* Same destination, prefix length and table. */
bool route_same_prefix(const struct route *a, const struct route *b);
/* Same destination, prefix length, table and metric: one slot in the kernel's FIB. */
bool route_same_key(const struct route *a, const struct route *b);

int route_set_add(struct route_set *s, const struct route *r);
void route_set_sort(struct route_set *s);
/* Sorts, then drops routes that are exact duplicates of their predecessor. */
void route_set_sort_unique(struct route_set *s);
void route_set_clear(struct route_set *s);
void route_set_done(struct route_set *s);
int route_set_copy(struct route_set *dst, const struct route_set *src);
/* Frees dst, moves src into it and leaves src empty. */
void route_set_move(struct route_set *dst, struct route_set *src);
bool route_set_equal(const struct route_set *a, const struct route_set *b);
/* FNV-1a over every field that route_compare looks at: equal sets (sorted) hash equal. */
uint64_t route_set_hash(const struct route_set *s);

static inline void route_set_donep(struct route_set *s) {
        route_set_done(s);
}
#define _cleanup_route_set_ _cleanup_(route_set_donep)
