/* SPDX-License-Identifier: MIT */
/* IPv4 and CIDR text, CIDR maths and the rules for routable destinations, route sets. */
#include "route.h"

int ipv4_parse(const char *s, uint32_t *ret) {
        uint32_t addr = 0;
        const char *p = s;

        if (!s)
                return -EINVAL;
        for (int octet = 0; octet < 4; octet++) {
                unsigned v = 0;
                int digits = 0;

                if (octet > 0) {
                        if (*p != '.')
                                return -EINVAL;
                        p++;
                }
                if (*p == '0' && p[1] >= '0' && p[1] <= '9')
                        return -EINVAL; /* leading zero: octal to inet_aton, decimal to others */
                while (*p >= '0' && *p <= '9') {
                        v = v * 10 + (unsigned) (*p - '0');
                        if (++digits > 3 || v > 255)
                                return -EINVAL;
                        p++;
                }
                if (digits == 0)
                        return -EINVAL;
                addr = (addr << 8) | v;
        }
        if (*p)
                return -EINVAL;
        *ret = addr;
        return 0;
}

const char *ipv4_to_string(uint32_t a, char buf[static IPV4_STRLEN]) {
        snprintf(buf, IPV4_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
        return buf;
}

uint32_t prefix_to_mask(uint8_t len) {
        if (len == 0)
                return 0;
        if (len >= 32)
                return 0xffffffffu;
        return 0xffffffffu << (32 - len);
}

int netmask_to_prefix(uint32_t mask) {
        uint32_t inv = ~mask;

        /* Contiguous means the inverted mask is of the form 0…01…1. */
        if ((inv & (inv + 1)) != 0)
                return -EINVAL;
        return __builtin_popcount(mask);
}

int cidr_parse(const char *s, struct cidr *ret) {
        char addr[IPV4_STRLEN];
        const char *slash;
        uint64_t len;
        uint32_t a;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash || (size_t) (slash - s) >= sizeof addr)
                return -EINVAL;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = '\0';
        if (ipv4_parse(addr, &a) < 0)
                return -EINVAL;
        if (safe_atou64(slash + 1, 0, 32, &len) < 0)
                return -EINVAL;
        if ((a & ~prefix_to_mask((uint8_t) len)) != 0)
                return -EADDRNOTAVAIL;
        *ret = (struct cidr) { .addr = a, .len = (uint8_t) len };
        return 0;
}

const char *cidr_to_string(const struct cidr *c, char buf[static CIDR_STRLEN]) {
        char a[IPV4_STRLEN];
        snprintf(buf, CIDR_STRLEN, "%s/%u", ipv4_to_string(c->addr, a), c->len);
        return buf;
}

int cidr_compare(const struct cidr *a, const struct cidr *b) {
        if (a->addr != b->addr)
                return a->addr < b->addr ? -1 : 1;
        return (int) a->len - (int) b->len;
}

bool cidr_contains_addr(const struct cidr *c, uint32_t addr) {
        return (addr & prefix_to_mask(c->len)) == (c->addr & prefix_to_mask(c->len));
}

bool cidr_contains(const struct cidr *outer, const struct cidr *inner) {
        return outer->len <= inner->len && cidr_contains_addr(outer, inner->addr);
}

bool cidr_overlaps(const struct cidr *a, const struct cidr *b) {
        return cidr_contains(a, b) || cidr_contains(b, a);
}

enum cidr_verdict cidr_check(const struct cidr *c, bool allow_non_private) {
        static const struct {
                struct cidr net;
                enum cidr_verdict verdict;
        } special[] = {
                { { 0x00000000u, 8 }, CIDR_THIS_NETWORK },
                { { 0x7f000000u, 8 }, CIDR_LOOPBACK },
                { { 0xa9fe0000u, 16 }, CIDR_LINK_LOCAL },
                { { 0xe0000000u, 4 }, CIDR_MULTICAST },
                { { 0xf0000000u, 4 }, CIDR_RESERVED },
        };
        static const struct cidr rfc1918[] = {
                { 0x0a000000u, 8 },
                { 0xac100000u, 12 },
                { 0xc0a80000u, 16 },
        };
        const uint32_t metadata = 0xa9fea9feu; /* 169.254.169.254 */

        if (c->len == 0)
                return CIDR_DEFAULT;
        if (c->len < 8)
                return CIDR_PREFIX_TOO_SHORT;
        /* Overlap, not containment: 169.0.0.0/8 is not link-local, but it would swallow it. */
        if (cidr_contains_addr(c, metadata))
                return CIDR_METADATA;
        for (size_t i = 0; i < ELEMENTSOF(special); i++)
                if (cidr_overlaps(&special[i].net, c))
                        return special[i].verdict;
        if (!allow_non_private) {
                for (size_t i = 0; i < ELEMENTSOF(rfc1918); i++)
                        if (cidr_contains(&rfc1918[i], c))
                                return CIDR_OK;
                return CIDR_NOT_PRIVATE;
        }
        return CIDR_OK;
}

const char *cidr_verdict_to_string(enum cidr_verdict v) {
        switch (v) {
        case CIDR_OK:
                return "routable";
        case CIDR_PREFIX_TOO_SHORT:
                return "prefix is shorter than /8";
        case CIDR_DEFAULT:
                return "is the default route";
        case CIDR_THIS_NETWORK:
                return "overlaps 0.0.0.0/8 (this network)";
        case CIDR_LOOPBACK:
                return "overlaps loopback 127.0.0.0/8";
        case CIDR_LINK_LOCAL:
                return "overlaps link-local 169.254.0.0/16";
        case CIDR_METADATA:
                return "covers the metadata service 169.254.169.254";
        case CIDR_MULTICAST:
                return "overlaps multicast 224.0.0.0/4";
        case CIDR_RESERVED:
                return "overlaps reserved 240.0.0.0/4";
        case CIDR_NOT_PRIVATE:
                return "is outside RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); set allow_non_private = yes to route it";
        }
        return "invalid";
}

const char *route_protocol_name(uint8_t protocol) {
        /* The kernel's own numbers and those assigned to routing software in linux/rtnetlink.h. */
        static const struct {
                uint8_t number;
                const char *name;
        } known[] = {
                { 0, "unspec" },      { 1, "redirect" }, { 2, "kernel" },  { 3, "boot" },   { 4, "static" },
                { 8, "gated" },       { 9, "ra" },       { 10, "mrt" },    { 11, "zebra" }, { 12, "bird" },
                { 13, "dnrouted" },   { 14, "xorp" },    { 15, "ntk" },    { 16, "dhcp" },  { 17, "mrouted" },
                { 18, "keepalived" }, { 42, "babel" },   { 99, "openr" },  { 186, "bgp" },  { 187, "isis" },
                { 188, "ospf" },      { 189, "rip" },    { 192, "eigrp" },
        };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (known[i].number == protocol)
                        return known[i].name;
        return NULL;
}

const char *route_type_to_string(uint8_t type) {
        switch (type) {
        case RTN_BLACKHOLE:
                return "blackhole";
        case RTN_UNREACHABLE:
                return "unreachable";
        case RTN_PROHIBIT:
                return "prohibit";
        default:
                return "unicast"; /* 0: a route built here, which is always unicast */
        }
}

const char *route_to_string(const struct route *r, char buf[static ROUTE_STRLEN]) {
        char dst[CIDR_STRLEN], gw[IPV4_STRLEN], table[24] = "", mtu[16] = "", via[IPV4_STRLEN + 6] = "",
             dev[IF_NAMESIZE + 24] = "";
        struct cidr c = { r->dst, r->dst_len };

        if (r->gateway)
                snprintf(via, sizeof via, " via %s", ipv4_to_string(r->gateway, gw));
        if (r->multipath)
                snprintf(dev, sizeof dev, " multipath");
        else if (r->ifname[0])
                snprintf(dev, sizeof dev, " dev %s", r->ifname);
        else if (r->ifindex)
                snprintf(dev, sizeof dev, " dev #%d", r->ifindex);
        if (r->mtu)
                snprintf(mtu, sizeof mtu, " mtu %u", r->mtu);
        if (r->table != ROUTE_TABLE_MAIN)
                snprintf(table, sizeof table, " table %u", r->table);
        const char *pname = route_protocol_name(r->protocol);
        char proto[8];
        if (!pname) {
                snprintf(proto, sizeof proto, "%u", r->protocol);
                pname = proto;
        }
        /* As ip route writes them: a type word only for the routes that end traffic. */
        const char *type = route_type_to_string(r->type);
        snprintf(buf, ROUTE_STRLEN, "%s%s%s%s%s metric %u%s proto %s%s", streq(type, "unicast") ? "" : type,
                 streq(type, "unicast") ? "" : " ", cidr_to_string(&c, dst), via, dev, r->metric, mtu, pname, table);
        return buf;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

int route_compare(const struct route *a, const struct route *b) {
        int c;

        if ((c = CMP(a->dst, b->dst)) || (c = CMP(a->dst_len, b->dst_len)) || (c = CMP(a->table, b->table)) ||
            (c = CMP(a->metric, b->metric)) || (c = CMP(a->protocol, b->protocol)) ||
            (c = CMP(a->gateway, b->gateway)) || (c = CMP(a->ifindex, b->ifindex)) || (c = CMP(a->mtu, b->mtu)) ||
            (c = CMP(a->multipath, b->multipath)))
                return c;
        return 0;
}

int route_key_compare(const struct route *a, const struct route *b) {
        int c;

        if ((c = CMP(a->dst, b->dst)) || (c = CMP(a->dst_len, b->dst_len)) || (c = CMP(a->table, b->table)) ||
            (c = CMP(a->metric, b->metric)))
                return c;
        return 0;
}

bool route_same_prefix(const struct route *a, const struct route *b) {
        return a->dst == b->dst && a->dst_len == b->dst_len && a->table == b->table;
}

bool route_same_key(const struct route *a, const struct route *b) {
        return route_same_prefix(a, b) && a->metric == b->metric;
}

int route_set_add(struct route_set *s, const struct route *r) {
        if (GREEDY_REALLOC(s->routes, s->cap, s->n + 1) < 0)
                return -ENOMEM;
        s->routes[s->n++] = *r;
        return 0;
}

static int route_compare_qsort(const void *a, const void *b) {
        return route_compare(a, b);
}

void route_set_sort(struct route_set *s) {
        if (s->n > 1)
                qsort(s->routes, s->n, sizeof *s->routes, route_compare_qsort);
}

void route_set_sort_unique(struct route_set *s) {
        size_t o = 0;

        route_set_sort(s);
        for (size_t i = 0; i < s->n; i++)
                if (o == 0 || route_compare(&s->routes[o - 1], &s->routes[i]) != 0)
                        s->routes[o++] = s->routes[i];
        s->n = o;
}

void route_set_clear(struct route_set *s) {
        s->n = 0;
}

void route_set_done(struct route_set *s) {
        free(s->routes);
        *s = (struct route_set) {};
}

int route_set_copy(struct route_set *dst, const struct route_set *src) {
        struct route_set n = {};

        if (src->n > 0) {
                n.routes = malloc(src->n * sizeof *n.routes);
                if (!n.routes)
                        return -ENOMEM;
                memcpy(n.routes, src->routes, src->n * sizeof *n.routes);
                n.n = n.cap = src->n;
        }
        route_set_done(dst);
        *dst = n;
        return 0;
}

void route_set_move(struct route_set *dst, struct route_set *src) {
        route_set_done(dst);
        *dst = *src;
        *src = (struct route_set) {};
}

bool route_set_equal(const struct route_set *a, const struct route_set *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (route_compare(&a->routes[i], &b->routes[i]) != 0)
                        return false;
        return true;
}

static uint64_t fnv1a(uint64_t h, uint64_t v, unsigned bytes) {
        for (unsigned i = 0; i < bytes; i++) {
                h ^= (v >> (8 * i)) & 0xff;
                h *= 0x100000001b3ULL;
        }
        return h;
}

uint64_t route_set_hash(const struct route_set *s) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < s->n; i++) {
                const struct route *r = &s->routes[i];
                h = fnv1a(h, r->dst, 4);
                h = fnv1a(h, r->dst_len, 1);
                h = fnv1a(h, r->gateway, 4);
                h = fnv1a(h, (uint64_t) (uint32_t) r->ifindex, 4);
                h = fnv1a(h, r->metric, 4);
                h = fnv1a(h, r->mtu, 4);
                h = fnv1a(h, r->table, 4);
                h = fnv1a(h, r->protocol, 1);
                h = fnv1a(h, r->multipath, 1);
        }
        return fnv1a(h, s->n, 8);
}
