/* SPDX-License-Identifier: MIT */
/* What doctor asks the kernel, and nothing else does: every IPv4 route of every table, the
 * policy rules, a route lookup as `ip route get` makes it, and a neighbour entry. Read only. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>

#include "kernel_internal.h"

/* One dump request of type with the family header hdr. */
static int dump_once(struct kernel_ctx *nl, int type, const void *hdr, size_t hdrlen, int (*fn)(struct nlmsghdr *, void *),
                     void *userdata) {
        _cleanup_nlmsg_ struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_DUMP);

        if (!msg || nlmsg_append(msg, (void *) hdr, hdrlen, NLMSG_ALIGNTO) < 0)
                return -ENOMEM;
        return kernel_request(nl, msg, fn, userdata);
}

/* ---- routes ---- */

static int all_route_msg(struct nlmsghdr *hdr, void *userdata) {
        struct route r;

        if (kernel_route_parse(hdr, &r) < 0 || r.table == RT_TABLE_LOCAL)
                return 0;
        return route_set_add(userdata, &r) < 0 ? -ENOMEM : 0;
}

int kernel_route_dump_all(struct kernel_ctx *nl, struct route_set *ret) {
        struct rtmsg rtm = { .rtm_family = AF_INET };
        int r = -EAGAIN;

        for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
                ret->n = 0;
                r = dump_once(nl, RTM_GETROUTE, &rtm, sizeof rtm, all_route_msg, ret);
        }
        if (r < 0)
                return r;
        route_set_sort(ret);
        return 0;
}

struct lookup {
        struct route *ret;
        bool found;
};

static int lookup_msg(struct nlmsghdr *hdr, void *userdata) {
        struct lookup *l = userdata;

        if (hdr->nlmsg_type != RTM_NEWROUTE)
                return 0;
        if (kernel_route_parse(hdr, l->ret) < 0)
                return -EINVAL;
        l->found = true;
        return 1;
}

int kernel_route_lookup(struct kernel_ctx *nl, uint32_t address, struct route *ret) {
        /* RTM_F_FIB_MATCH: the matching FIB entry (its prefix, protocol, metric and table) rather
         * than a route for the one address; rules are honoured as for a packet this host sends. */
        struct rtmsg rtm = {
                .rtm_family = AF_INET,
                .rtm_dst_len = 32,
                .rtm_flags = RTM_F_FIB_MATCH | RTM_F_LOOKUP_TABLE,
        };
        _cleanup_nlmsg_ struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
        struct lookup l = { .ret = ret };
        uint32_t be = htonl(address);
        int r;

        *ret = (struct route) {};
        if (!msg || nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 || nla_put(msg, RTA_DST, 4, &be) < 0)
                return -ENOMEM;
        r = kernel_request(nl, msg, lookup_msg, &l);
        if (r < 0)
                return r;
        return l.found ? 0 : -ENOENT;
}

/* ---- rules ---- */

struct rule_dump {
        struct kernel_rule *list;
        size_t n, cap;
};

static void rule_prefix(struct nlattr *a, uint8_t len, struct cidr *ret, bool *has) {
        uint32_t be;

        if (!a || nla_len(a) != 4)
                return;
        memcpy(&be, nla_data(a), 4);
        *ret = (struct cidr) { .addr = ntohl(be), .len = len };
        *has = true;
}

static int rule_msg(struct nlmsghdr *hdr, void *userdata) {
        struct rule_dump *d = userdata;
        struct nlattr *tb[FRA_MAX + 1];
        struct fib_rule_hdr *frh;
        struct kernel_rule rule = {};

        if (hdr->nlmsg_type != RTM_NEWRULE || (size_t) nlmsg_datalen(hdr) < sizeof *frh)
                return 0;
        frh = nlmsg_data(hdr);
        if (frh->family != AF_INET || nlmsg_parse(hdr, sizeof *frh, tb, FRA_MAX, NULL) < 0)
                return 0;
        rule.action = frh->action;
        rule.table = tb[FRA_TABLE] && nla_len(tb[FRA_TABLE]) == 4 ? nla_get_u32(tb[FRA_TABLE]) : frh->table;
        rule.priority = tb[FRA_PRIORITY] && nla_len(tb[FRA_PRIORITY]) == 4 ? nla_get_u32(tb[FRA_PRIORITY]) : 0;
        rule.invert = frh->flags & FIB_RULE_INVERT;
        rule_prefix(tb[FRA_DST], frh->dst_len, &rule.dst, &rule.has_dst);
        rule_prefix(tb[FRA_SRC], frh->src_len, &rule.src, &rule.has_src);
        if (tb[FRA_IIFNAME])
                snprintf(rule.iifname, sizeof rule.iifname, "%.*s", nla_len(tb[FRA_IIFNAME]), (const char *) nla_data(tb[FRA_IIFNAME]));
        /* Selectors that pick some packets only: marked ones, a socket bound to a device, a
         * user, a protocol or port, a type of service. */
        rule.selective = (tb[FRA_FWMARK] && nla_get_u32(tb[FRA_FWMARK]) != 0) || tb[FRA_OIFNAME] || tb[FRA_UID_RANGE] ||
                         tb[FRA_L3MDEV] || frh->tos != 0 || (rule.iifname[0] && strcmp(rule.iifname, "lo") != 0);
#ifdef FRA_IP_PROTO
        rule.selective = rule.selective || tb[FRA_IP_PROTO] || tb[FRA_SPORT_RANGE] || tb[FRA_DPORT_RANGE];
#endif
        rule.suppress_prefixlen = tb[FRA_SUPPRESS_PREFIXLEN] && nla_len(tb[FRA_SUPPRESS_PREFIXLEN]) == 4
                                          ? (int32_t) nla_get_u32(tb[FRA_SUPPRESS_PREFIXLEN])
                                          : -1;
        if (GREEDY_REALLOC(d->list, d->cap, d->n + 1) < 0)
                return -ENOMEM;
        d->list[d->n++] = rule;
        return 0;
}

int kernel_rule_dump(struct kernel_ctx *nl, struct kernel_rule **ret, size_t *ret_n) {
        struct fib_rule_hdr frh = { .family = AF_INET };
        struct rule_dump d = {};
        int r = -EAGAIN;

        for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
                d.n = 0;
                r = dump_once(nl, RTM_GETRULE, &frh, sizeof frh, rule_msg, &d);
        }
        if (r < 0) {
                free(d.list);
                return r;
        }
        *ret = d.list;
        *ret_n = d.n;
        return 0;
}

/* ---- neighbours ---- */

struct neigh_dump {
        int ifindex;
        uint32_t address;
        uint16_t state;
};

static int neigh_msg(struct nlmsghdr *hdr, void *userdata) {
        struct neigh_dump *d = userdata;
        struct nlattr *tb[NDA_MAX + 1];
        struct ndmsg *nd;
        uint32_t be;

        if (hdr->nlmsg_type != RTM_NEWNEIGH || (size_t) nlmsg_datalen(hdr) < sizeof *nd)
                return 0;
        nd = nlmsg_data(hdr);
        if (nd->ndm_family != AF_INET || nd->ndm_ifindex != d->ifindex || nlmsg_parse(hdr, sizeof *nd, tb, NDA_MAX, NULL) < 0 ||
            !tb[NDA_DST] || nla_len(tb[NDA_DST]) != 4)
                return 0;
        memcpy(&be, nla_data(tb[NDA_DST]), 4);
        if (ntohl(be) == d->address)
                d->state = nd->ndm_state;
        return 0;
}

int kernel_neigh_state(struct kernel_ctx *nl, int ifindex, uint32_t address, uint16_t *ret_state) {
        /* With strict checking the kernel refuses an ifindex in the header: filter here. */
        struct ndmsg nd = { .ndm_family = AF_INET };
        struct neigh_dump d = { .ifindex = ifindex, .address = address };
        int r = -EAGAIN;

        for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
                d.state = 0;
                r = dump_once(nl, RTM_GETNEIGH, &nd, sizeof nd, neigh_msg, &d);
        }
        if (r < 0)
                return r;
        *ret_state = d.state;
        return 0;
}
