/* SPDX-License-Identifier: MIT */
/* Reading the kernel: the rtnetlink socket, links by MAC or name, and route dumps filtered by
 * the kernel (strict checking) where it can, and always again in userspace. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "log.h"
#include "nl_internal.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int nl_errno(int nle) {
        static const struct {
                int nle;
                int err;
        } map[] = {
                { NLE_NOMEM, ENOMEM },         { NLE_PERM, EPERM },         { NLE_NOACCESS, EACCES },
                { NLE_EXIST, EEXIST },         { NLE_INVAL, EINVAL },       { NLE_RANGE, ERANGE },
                { NLE_AGAIN, EAGAIN },         { NLE_INTR, EINTR },         { NLE_BAD_SOCK, EBADF },
                { NLE_MSGSIZE, EMSGSIZE },     { NLE_MSG_TRUNC, EMSGSIZE }, { NLE_NODEV, ENODEV },
                { NLE_OBJ_NOTFOUND, ENOENT },  { NLE_NOADDR, EADDRNOTAVAIL }, { NLE_OPNOTSUPP, EOPNOTSUPP },
                { NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_BUSY, EBUSY },    { NLE_SEQ_MISMATCH, EILSEQ },
                { NLE_DUMP_INTR, EINTR },      { NLE_MSG_OVERFLOW, ENOBUFS },
                { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
        };
        int n = nle < 0 ? -nle : nle;

        if (n == 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (map[i].nle == n)
                        return -map[i].err;
        return -EIO;
}

int nl_ctx_open(struct nl_ctx **ret) {
        struct nl_ctx *nl;
        int r, one = 1, fd;

        nl = calloc(1, sizeof *nl);
        if (!nl)
                return -ENOMEM;
        nl->sock = nl_socket_alloc();
        if (!nl->sock) {
                free(nl);
                return -ENOMEM;
        }
        r = nl_connect(nl->sock, NETLINK_ROUTE);
        if (r < 0) {
                r = nl_errno(r);
                nl_ctx_close(nl);
                return r;
        }
        /* Our own requests (dumps, pipelined changes) are matched by sequence number here, which
         * libnl's per-socket "expected sequence" does not follow: let libnl's own cache refills
         * on this socket skip that check. */
        nl_socket_disable_seq_check(nl->sock);
        /* Whole datagrams in one read, no MSG_PEEK round trip; kernel dump skbs stay below 32 KiB. */
        nl_socket_disable_msg_peek(nl->sock);
        (void) nl_socket_set_msg_buf_size(nl->sock, 65536);
        fd = nl_socket_get_fd(nl->sock);
        /* Room for the acknowledgements of a pipelined window (nl_apply.c) and for dump bursts. */
        (void) nl_socket_set_buffer_size(nl->sock, 1024 * 1024, 0);
        /* Small acks (no echo of our request) with the kernel's reason text attached. */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
        /* Linux >= 4.20: the kernel honours protocol, table and device filters in dumps. */
        nl->strict = setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one) == 0;
        if (!nl->strict)
                log_debug("Kernel does not filter route dumps (NETLINK_GET_STRICT_CHK: %m); filtering here instead");
        *ret = nl;
        return 0;
}

void nl_ctx_close(struct nl_ctx *nl) {
        if (!nl)
                return;
        nl_socket_free(nl->sock);
        free(nl);
}

int nl_send_request(struct nl_ctx *nl, struct nl_msg *msg, uint32_t *ret_seq) {
        int r;

        r = nl_send_auto(nl->sock, msg);
        if (r < 0)
                return nl_errno(r);
        *ret_seq = nlmsg_hdr(msg)->nlmsg_seq;
        return 0;
}

static void parse_ext_ack(struct nlmsghdr *hdr, struct nl_ack *ack) {
        struct nlmsgerr *e = nlmsg_data(hdr);
        size_t off;

        ack->ext_msg[0] = '\0';
        if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
                return;
        /* With NETLINK_CAP_ACK the echoed request is cut to its header. */
        off = NLMSG_ALIGN(sizeof *e);
        if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
                off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
        if ((size_t) nlmsg_datalen(hdr) <= off)
                return;
        struct nlattr *attr;
        int rem;
        nla_for_each_attr(attr, (struct nlattr *) ((char *) e + off), nlmsg_datalen(hdr) - (int) off, rem) {
                if (nla_type(attr) == NLMSGERR_ATTR_MSG && nla_len(attr) > 0) {
                        snprintf(ack->ext_msg, sizeof ack->ext_msg, "%.*s", nla_len(attr), (const char *) nla_data(attr));
                        size_t l = strlen(ack->ext_msg);
                        while (l > 0 && ack->ext_msg[l - 1] == '\0')
                                l--;
                        return;
                }
        }
}

int nl_recv_batch(struct nl_ctx *nl, int (*fn)(struct nlmsghdr *hdr, void *userdata), void *userdata) {
        _cleanup_free_ unsigned char *buf = NULL;
        struct sockaddr_nl peer;
        struct nlmsghdr *hdr;
        int n, r;

        n = nl_recv(nl->sock, &peer, &buf, NULL);
        if (n < 0)
                return nl_errno(n);
        if (n == 0)
                return -EIO;
        for (hdr = (struct nlmsghdr *) buf; nlmsg_ok(hdr, n); hdr = nlmsg_next(hdr, &n)) {
                r = fn(hdr, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

struct ack_state {
        uint32_t first;
        size_t expected;
        size_t got;
        void (*cb)(size_t index, const struct nl_ack *ack, void *userdata);
        void *userdata;
};

static int ack_msg(struct nlmsghdr *hdr, void *userdata) {
        struct ack_state *st = userdata;
        struct nl_ack ack = {};
        uint32_t idx = hdr->nlmsg_seq - st->first;

        if (hdr->nlmsg_type != NLMSG_ERROR || idx >= st->expected)
                return 0;
        if ((size_t) nlmsg_datalen(hdr) < sizeof(struct nlmsgerr))
                return -EBADMSG;
        ack.error = ((struct nlmsgerr *) nlmsg_data(hdr))->error;
        parse_ext_ack(hdr, &ack);
        st->cb(idx, &ack, st->userdata);
        return ++st->got == st->expected ? 1 : 0;
}

int nl_collect_acks(struct nl_ctx *nl, uint32_t first, uint32_t last,
                    void (*cb)(size_t index, const struct nl_ack *ack, void *userdata), void *userdata) {
        struct ack_state st = { .first = first, .expected = (size_t) (last - first) + 1, .cb = cb, .userdata = userdata };

        while (st.got < st.expected) {
                int r = nl_recv_batch(nl, ack_msg, &st);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- links ---- */

static void link_from_object(struct rtnl_link *l, struct link_info *ret) {
        struct nl_addr *a = rtnl_link_get_addr(l);
        unsigned flags = rtnl_link_get_flags(l);

        *ret = (struct link_info) {
                .ifindex = rtnl_link_get_ifindex(l),
                .up = flags & IFF_UP,
                .lower_up = flags & IFF_LOWER_UP,
        };
        snprintf(ret->ifname, sizeof ret->ifname, "%s", rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "");
        if (a && nl_addr_get_len(a) == 6) {
                memcpy(ret->mac, nl_addr_get_binary_addr(a), 6);
                ret->has_mac = true;
        }
}

static void cache_freep(struct nl_cache **c) {
        if (*c)
                nl_cache_free(*c);
}

struct addr_dump {
        int (*fn)(int ifindex, uint32_t address, uint8_t prefixlen, void *userdata);
        void *userdata;
        uint32_t seq;
};

static int addr_msg(struct nlmsghdr *hdr, void *userdata) {
        struct addr_dump *st = userdata;
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg *ifa;
        struct nlattr *a;
        uint32_t be;

        if (hdr->nlmsg_seq != st->seq)
                return 0; /* a leftover of an earlier request */
        if (hdr->nlmsg_type == NLMSG_DONE)
                return 1;
        if (hdr->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = nlmsg_data(hdr);
                return (size_t) nlmsg_datalen(hdr) >= sizeof *e && e->error < 0 ? e->error : -EIO;
        }
        if (hdr->nlmsg_type != RTM_NEWADDR || (size_t) nlmsg_datalen(hdr) < sizeof *ifa)
                return 0;
        ifa = nlmsg_data(hdr);
        if (ifa->ifa_family != AF_INET || nlmsg_parse(hdr, sizeof *ifa, tb, IFA_MAX, NULL) < 0)
                return 0;
        a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        if (!a || nla_len(a) != 4)
                return 0;
        memcpy(&be, nla_data(a), 4);
        return st->fn((int) ifa->ifa_index, ntohl(be), ifa->ifa_prefixlen, st->userdata);
}

/* Dumps IPv4 addresses (of one interface when ifindex > 0 and the kernel filters), calling fn
 * for each. The request carries a proper ifaddrmsg header, which strict checking requires
 * (libnl's address cache request does not pass it). */
static int dump_addresses(struct nl_ctx *nl, int ifindex, int (*fn)(int, uint32_t, uint8_t, void *), void *userdata) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_index = nl->strict && ifindex > 0 ? (uint32_t) ifindex : 0 };
        struct addr_dump st = { .fn = fn, .userdata = userdata };
        int r;

        msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &ifa, sizeof ifa, NLMSG_ALIGNTO) < 0)
                return -ENOMEM;
        r = nl_send_request(nl, msg, &st.seq);
        if (r < 0)
                return r;
        do
                r = nl_recv_batch(nl, addr_msg, &st);
        while (r == 0);
        return r < 0 ? r : 0;
}

struct has_address {
        int ifindex;
        uint32_t address;
        bool found;
};

static int has_address_fn(int ifindex, uint32_t address, uint8_t prefixlen, void *userdata) {
        struct has_address *st = userdata;
        (void) prefixlen;
        if (ifindex == st->ifindex && address == st->address)
                st->found = true;
        return 0;
}

/* Does ifindex carry the IPv4 address? */
static int link_has_address(struct nl_ctx *nl, int ifindex, uint32_t address, bool *ret) {
        struct has_address st = { .ifindex = ifindex, .address = address };
        int r = dump_addresses(nl, ifindex, has_address_fn, &st);
        if (r < 0)
                return r;
        *ret = st.found;
        return 0;
}

struct connected_list {
        struct connected_subnet *list;
        size_t n, cap;
};

static int connected_fn(int ifindex, uint32_t address, uint8_t prefixlen, void *userdata) {
        struct connected_list *st = userdata;

        /* A /32 (or /31 point-to-point) address reaches no subnet of its own. */
        if (prefixlen == 0 || prefixlen >= 31)
                return 0;
        if (GREEDY_REALLOC(st->list, st->cap, st->n + 1) < 0)
                return -ENOMEM;
        st->list[st->n++] = (struct connected_subnet) {
                .net = { address & prefix_to_mask(prefixlen), prefixlen },
                .ifindex = ifindex,
        };
        return 0;
}

int nl_list_connected(struct nl_ctx *nl, struct connected_subnet **ret, size_t *ret_n) {
        _cleanup_(cache_freep) struct nl_cache *links = NULL;
        struct connected_list st = {};
        int r;

        r = dump_addresses(nl, 0, connected_fn, &st);
        if (r < 0) {
                free(st.list);
                return r;
        }
        if (st.n > 0 && rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &links) >= 0)
                for (size_t i = 0; i < st.n; i++) {
                        struct rtnl_link *l = rtnl_link_get(links, st.list[i].ifindex);
                        if (l) {
                                snprintf(st.list[i].ifname, sizeof st.list[i].ifname, "%s", rtnl_link_get_name(l));
                                rtnl_link_put(l);
                        }
                }
        *ret = st.list;
        *ret_n = st.n;
        return 0;
}

/* Follows an enslaved device up to the master that carries its addresses (bridge, bond). */
static struct rtnl_link *resolve_master(struct nl_cache *links, struct rtnl_link *l) {
        for (int depth = 0; depth < 4; depth++) {
                int master = rtnl_link_get_master(l);
                struct rtnl_link *m;
                if (master <= 0)
                        break;
                m = rtnl_link_get(links, master);
                if (!m)
                        break;
                rtnl_link_put(m); /* the cache keeps it alive */
                l = m;
        }
        return l;
}

int nl_find_link_by_mac(struct nl_ctx *nl, const uint8_t mac[static 6], uint32_t address, struct link_info *ret) {
        _cleanup_(cache_freep) struct nl_cache *links = NULL;
        struct rtnl_link *best = NULL;
        bool best_has_address = false;
        unsigned candidates = 0;
        int r;

        r = rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &links);
        if (r < 0)
                return nl_errno(r);

        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *) o, *target;
                struct nl_addr *a = rtnl_link_get_addr(l);
                bool has = false;

                if (!a || nl_addr_get_len(a) != 6 || memcmp(nl_addr_get_binary_addr(a), mac, 6) != 0)
                        continue;
                target = resolve_master(links, l);
                r = link_has_address(nl, rtnl_link_get_ifindex(target), address, &has);
                if (r < 0)
                        return r;
                candidates++;
                /* Prefer the interface that carries the private address; else the lowest ifindex
                 * (the physical NIC precedes VLANs and macvlans created on top of it). */
                if (!best || (has && !best_has_address) ||
                    (has == best_has_address && rtnl_link_get_ifindex(target) < rtnl_link_get_ifindex(best))) {
                        best = target;
                        best_has_address = has;
                }
        }
        if (!best)
                return -ENODEV;
        link_from_object(best, ret);
        ret->has_address = best_has_address;
        if (candidates > 1)
                log_debug("%u interfaces carry the private MAC; using %s", candidates, ret->ifname);
        return 0;
}

int nl_find_link_by_name(struct nl_ctx *nl, const char *name, uint32_t address, struct link_info *ret) {
        _cleanup_(cache_freep) struct nl_cache *links = NULL;
        struct rtnl_link *l;
        int r;

        r = rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &links);
        if (r < 0)
                return nl_errno(r);
        l = rtnl_link_get_by_name(links, name);
        if (!l)
                return -ENODEV;
        link_from_object(l, ret);
        rtnl_link_put(l);
        return link_has_address(nl, ret->ifindex, address, &ret->has_address);
}

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

/* ---- routes ---- */

int nl_route_from_msg(struct nlmsghdr *hdr, struct route *ret) {
        struct nlattr *tb[NL_RTA_MAX + 1];
        struct rtmsg *rtm;
        struct route r = {};

        if (hdr->nlmsg_type != RTM_NEWROUTE && hdr->nlmsg_type != RTM_DELROUTE)
                return -EINVAL;
        if ((size_t) nlmsg_datalen(hdr) < sizeof *rtm)
                return -EBADMSG;
        rtm = nlmsg_data(hdr);
        if (rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST || (rtm->rtm_flags & RTM_F_CLONED))
                return -EINVAL;
        if (nlmsg_parse(hdr, sizeof *rtm, tb, NL_RTA_MAX, NULL) < 0)
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
        if (tb[RTA_MULTIPATH] || tb[RTA_VIA] || tb[NL_RTA_NH_ID]) {
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
        bool interrupted;
        uint32_t seq;
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

        if (nl_route_from_msg(hdr, &r) < 0)
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

/* Per message of a dump: 1 when the dump is complete. */
static int dump_msg(struct nlmsghdr *hdr, void *userdata) {
        struct dump_state *st = userdata;

        if (hdr->nlmsg_seq != st->seq)
                return 0; /* a leftover of an earlier request */
        if (hdr->nlmsg_flags & NLM_F_DUMP_INTR)
                st->interrupted = true;
        if (hdr->nlmsg_type == NLMSG_DONE)
                return 1;
        if (hdr->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = nlmsg_data(hdr);
                return (size_t) nlmsg_datalen(hdr) >= sizeof *e && e->error < 0 ? e->error : -EIO;
        }
        return dump_route(hdr, st);
}

/* One dump of IPv4 routes in table; protocol and oif are kernel-side filters (0: none). */
static int dump_routes_once(struct nl_ctx *nl, struct dump_state *st, uint8_t protocol, int oif) {
        _cleanup_nlmsg_ struct nl_msg *msg = NULL;
        struct rtmsg rtm = {
                .rtm_family = AF_INET,
                .rtm_table = st->table < 256 ? (uint8_t) st->table : RT_TABLE_UNSPEC,
                .rtm_protocol = protocol,
        };
        int r;

        msg = nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP);
        if (!msg)
                return -ENOMEM;
        if (nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 || nla_put_u32(msg, RTA_TABLE, st->table) < 0 ||
            (oif > 0 && nla_put_u32(msg, RTA_OIF, (uint32_t) oif) < 0))
                return -ENOMEM;
        r = nl_send_request(nl, msg, &st->seq);
        if (r < 0)
                return r;
        st->interrupted = false;
        do
                r = nl_recv_batch(nl, dump_msg, st);
        while (r == 0);
        if (r < 0)
                return r;
        return st->interrupted ? -EAGAIN : 0;
}

/* The routing table changed while the kernel walked it: the dump is inconsistent, start again. */
static int dump_routes(struct nl_ctx *nl, struct dump_state *st, uint8_t protocol, int oif) {
        size_t own_n = st->own->n, foreign_n = st->foreign->n;
        int r = -EAGAIN;

        for (int attempt = 0; attempt < 5 && r == -EAGAIN; attempt++) {
                st->own->n = own_n;
                st->foreign->n = foreign_n;
                r = dump_routes_once(nl, st, protocol, oif);
        }
        return r;
}

int nl_list_routes(struct nl_ctx *nl, enum nl_list_mode mode, uint32_t table, uint8_t protocol, int ifindex,
                   const struct route_set *desired, struct route_set *ret_own, struct route_set *ret_foreign) {
        _cleanup_route_set_ struct route_set own = {}, foreign = {};
        struct dump_state st = {
                .table = table,
                .protocol = protocol,
                .own = &own,
                .foreign = &foreign,
                .want_own = true,
        };
        bool need_foreign = false;
        int r;

        if (mode == NL_LIST_FULL || !nl->strict) {
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

                /* Foreign routes only matter where no own route holds a desired slot; a foreign
                 * route that does our job uses our device, so the kernel can filter by it. */
                for (size_t i = 0, k = 0; i < desired->n && !need_foreign; i++) {
                        while (k < own.n && route_key_compare(&own.routes[k], &desired->routes[i]) < 0)
                                k++;
                        need_foreign = k == own.n || route_key_compare(&own.routes[k], &desired->routes[i]) != 0;
                }
                if (need_foreign && ifindex > 0) {
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
                _cleanup_(cache_freep) struct nl_cache *links = NULL;
                if (rtnl_link_alloc_cache(nl->sock, AF_UNSPEC, &links) >= 0) {
                        name_routes(links, &own);
                        name_routes(links, &foreign);
                }
        }
        route_set_move(ret_own, &own);
        route_set_move(ret_foreign, &foreign);
        return 0;
}

struct confirm_state {
        uint32_t seq;
        const struct route *want;
        bool matched;
};

static int confirm_msg(struct nlmsghdr *hdr, void *userdata) {
        struct confirm_state *st = userdata;
        struct route got;

        if (hdr->nlmsg_seq != st->seq)
                return 0;
        /* The answer comes first, then the acknowledgement (or only an error, when there is no
         * route or the kernel does not know FIB_MATCH). Read up to the acknowledgement, so that
         * nothing of this request is left on the socket for the next one. */
        if (hdr->nlmsg_type == NLMSG_ERROR)
                return 1;
        if (nl_route_from_msg(hdr, &got) >= 0)
                st->matched = route_compare(&got, st->want) == 0;
        return 0;
}

int nl_confirm_routes(struct nl_ctx *nl, const struct route_set *expected, bool *ret) {
        *ret = false;
        for (size_t i = 0; i < expected->n; i++) {
                _cleanup_nlmsg_ struct nl_msg *msg = NULL;
                const struct route *want = &expected->routes[i];
                struct rtmsg rtm = { .rtm_family = AF_INET, .rtm_dst_len = 32, .rtm_flags = RTM_F_FIB_MATCH };
                struct confirm_state st = { .want = want };
                uint32_t dst = htonl(want->dst);
                int r;

                if (want->table != ROUTE_TABLE_MAIN || want->multipath)
                        return 0;
                msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
                if (!msg)
                        return -ENOMEM;
                if (nlmsg_append(msg, &rtm, sizeof rtm, NLMSG_ALIGNTO) < 0 || nla_put(msg, RTA_DST, 4, &dst) < 0)
                        return -ENOMEM;
                r = nl_send_request(nl, msg, &st.seq);
                if (r < 0)
                        return r;
                do
                        r = nl_recv_batch(nl, confirm_msg, &st);
                while (r == 0);
                if (r < 0)
                        return r;
                if (!st.matched)
                        return 0;
        }
        *ret = true;
        return 0;
}
