/* SPDX-License-Identifier: MIT */
/* Routes as the kernel holds them: one RTM_NEWROUTE turned into a struct route, and dumps of the
 * agent's table filtered by the kernel (strict checking) where it can, and always again here. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/route/link.h>

#include "kernel_internal.h"

static void name_routes(struct nl_cache *links, struct route_set *s) {
        for (size_t i = 0; i < s->n; i++) {
                struct rtnl_link *l;
                if (!s->routes[i].ifindex)
                        continue;
                l = rtnl_link_get(links, s->routes[i].ifindex);
                if (!l)
                        continue;
                snprintf(s->routes[i].ifname, sizeof s->routes[i].ifname, "%s", rtnl_link_get_name(l));
                rtnl_link_put(l);
        }
}

/* Copies device names from known routes onto s by ifindex. True when every route with a
 * device got a name. */
static bool name_from(const struct route_set *known, struct route_set *s) {
        bool all = true;

        for (size_t i = 0; i < s->n; i++) {
                struct route *r = &s->routes[i];
                for (size_t k = 0; !r->ifname[0] && k < known->n; k++)
                        if (known->routes[k].ifindex == r->ifindex && known->routes[k].ifname[0])
                                memcpy(r->ifname, known->routes[k].ifname, sizeof r->ifname);
                if (r->ifindex > 0 && !r->ifname[0])
                        all = false;
        }
        return all;
}

/* Unicast routes, and those that end traffic (blackhole, unreachable, prohibit): any of them in a
 * wanted slot decides where its packets go. */
static bool carries_traffic(uint8_t type) {
        return type == RTN_UNICAST || type == RTN_BLACKHOLE || type == RTN_UNREACHABLE || type == RTN_PROHIBIT;
}

int kernel_route_parse(struct nlmsghdr *hdr, struct route *ret) {
        struct nlattr *tb[KERNEL_RTA_MAX + 1];
        struct rtmsg *rtm;
        struct route r = {};

        if (hdr->nlmsg_type != RTM_NEWROUTE && hdr->nlmsg_type != RTM_DELROUTE)
                return -EINVAL;
        if ((size_t) nlmsg_datalen(hdr) < sizeof *rtm)
                return -EBADMSG;
        rtm = nlmsg_data(hdr);
        if (rtm->rtm_family != AF_INET || !carries_traffic(rtm->rtm_type) || (rtm->rtm_flags & RTM_F_CLONED))
                return -EINVAL;
        r.type = rtm->rtm_type;
        if (nlmsg_parse(hdr, sizeof *rtm, tb, KERNEL_RTA_MAX, NULL) < 0)
                return -EBADMSG;

        r.dst_len = rtm->rtm_dst_len;
        r.protocol = rtm->rtm_protocol;
        r.table = rtm->rtm_table;
        if (tb[RTA_TABLE] && nla_len(tb[RTA_TABLE]) == 4)
                r.table = nla_get_u32(tb[RTA_TABLE]);
        if (tb[RTA_DST] && nla_len(tb[RTA_DST]) == 4) {
                uint32_t be;
                memcpy(&be, nla_data(tb[RTA_DST]), 4);
                r.dst = ntohl(be);
        }
        if (tb[RTA_PRIORITY] && nla_len(tb[RTA_PRIORITY]) == 4)
                r.metric = nla_get_u32(tb[RTA_PRIORITY]);
        if (tb[RTA_GATEWAY] && nla_len(tb[RTA_GATEWAY]) == 4) {
                uint32_t be;
                memcpy(&be, nla_data(tb[RTA_GATEWAY]), 4);
                r.gateway = ntohl(be);
        }
        if (tb[RTA_OIF] && nla_len(tb[RTA_OIF]) == 4)
                r.ifindex = (int) nla_get_u32(tb[RTA_OIF]);
        if (tb[RTA_MULTIPATH] || tb[RTA_VIA] || tb[KERNEL_RTA_NH_ID]) {
                /* Nexthops we never install; such a route is never "equal" to a desired one. */
                r.multipath = true;
                r.gateway = 0;
                r.ifindex = 0;
        }
        if (tb[RTA_METRICS]) {
                struct nlattr *m;
                int rem;
                nla_for_each_nested(m, tb[RTA_METRICS], rem)
                        if (nla_type(m) == RTAX_MTU && nla_len(m) == 4)
                                r.mtu = nla_get_u32(m);
        }
        *ret = r;
        return 0;
}

struct dump_state {
        uint32_t table;
        uint8_t protocol;
        const struct route_set *desired; /* NULL: keep no foreign routes */
        struct route_set *own;
        struct route_set *foreign;
        bool want_own;
};

static bool desired_has_key(const struct route_set *desired, const struct route *r) {
        size_t lo = 0, hi = desired->n;

        /* desired is sorted by route_compare: destination, length, table, metric first. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = route_key_compare(&desired->routes[mid], r);
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

static int dump_route(struct nlmsghdr *hdr, struct dump_state *st) {
        struct route r;

        if (kernel_route_parse(hdr, &r) < 0)
                return 0;
        /* The kernel may not have filtered (old kernels): check everything here again. */
        if (r.table != st->table)
                return 0;
        if (r.protocol == st->protocol)
                return st->want_own ? route_set_add(st->own, &r) : 0;
        if (st->desired && desired_has_key(st->desired, &r))
                return route_set_add(st->foreign, &r);
        return 0;
}

static int dump_msg(struct nlmsghdr *hdr, void *userdata) {
        return dump_route(hdr, userdata);
}

/* One dump of IPv4 routes in table; protocol and oif are kernel-side filters (0: none). */
static int dump_routes_once(struct kernel_ctx *nl, struct dump_state *st, uint8_t protocol, int oif) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        int r;
        struct rtmsg rtm = {
                .rtm_family = AF_INET,
                .rtm_table = st->table < 256 ? (uint8_t) st->table : RT_TABLE_UNSPEC,
                .rtm_protocol = protocol,
        };

        msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 || nla_put_u32(msg, RTA_TABLE, st->table) < 0 ||
            (oif > 0 && nla_put_u32(msg, RTA_OIF, (uint32_t) oif) < 0))
                return -ENOMEM;
        r = kernel_request(nl, msg, dump_msg, st);
        /* A dump filtered by table (strict checking) ends with ENOENT when that table does not
         * exist yet ("ipv4: FIB table does not exist"): it holds no route. */
        return r == -ENOENT ? 0 : r;
}

/* The routing table changed while the kernel walked it: the dump is inconsistent, start again. */
static int dump_routes(struct kernel_ctx *nl, struct dump_state *st, uint8_t protocol, int oif) {
        size_t own_n = st->own->n, foreign_n = st->foreign->n;
        int r = -EAGAIN;

        for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
                st->own->n = own_n;
                st->foreign->n = foreign_n;
                r = dump_routes_once(nl, st, protocol, oif);
        }
        return r;
}

int kernel_route_list(struct kernel_ctx *nl, enum kernel_route_mode mode, uint32_t table, uint8_t protocol, int ifindex,
                   const struct route_set *desired, struct route_set *ret_own, struct route_set *ret_foreign) {
        _cleanup_route_set_ struct route_set own = {}, foreign = {};
        struct dump_state st = {
                .table = table,
                .protocol = protocol,
                .own = &own,
                .foreign = &foreign,
                .want_own = true,
        };
        int r;

        if (mode == KERNEL_LIST_FULL || !nl->strict) {
                /* One walk over the whole table gives both sets. */
                st.desired = desired;
                r = dump_routes(nl, &st, 0, 0);
                if (r < 0)
                        return r;
        } else {
                r = dump_routes(nl, &st, protocol, 0);
                if (r < 0)
                        return r;
                route_set_sort(&own);

                /* Foreign routes matter in every desired slot: where none of ours is, and beside
                 * ours too (an equal route another program appended means ours must go). One
                 * that does our job uses our device, so the kernel can filter by it; any other
                 * in the slot (another device, a blackhole) makes our add fail with EEXIST, and
                 * the full read that follows names it. */
                if (desired->n > 0 && ifindex > 0) {
                        st.desired = desired;
                        st.want_own = false;
                        r = dump_routes(nl, &st, 0, ifindex);
                        if (r < 0)
                                return r;
                }
        }

        route_set_sort(&own);
        route_set_sort(&foreign);
        /* Names for messages: the desired routes already carry the private NIC's; ask the kernel
         * for the link list only when a route uses another device. */
        if (!name_from(desired, &own) || !name_from(desired, &foreign)) {
                _cleanup_cache_ struct nl_cache *links = NULL;
                if (kernel_link_cache(nl, &links) >= 0) {
                        name_routes(links, &own);
                        name_routes(links, &foreign);
                }
        }
        route_set_move(ret_own, &own);
        route_set_move(ret_foreign, &foreign);
        return 0;
}
