/* SPDX-License-Identifier: MIT */
/* What doctor asks the kernel, and nothing else does: every IPv4 route of every table, a route
 * lookup as `ip route get` makes it, and a neighbour entry (the rules: kernel_rule.c). Read only. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>

#include "kernel_internal.h"

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
                r = kernel_dump(nl, RTM_GETROUTE, &rtm, sizeof rtm, all_route_msg, ret);
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
                r = kernel_dump(nl, RTM_GETNEIGH, &nd, sizeof nd, neigh_msg, &d);
        }
        if (r < 0)
                return r;
        *ret_state = d.state;
        return 0;
}
