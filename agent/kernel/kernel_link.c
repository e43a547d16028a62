/* SPDX-License-Identifier: MIT */
/* Links and addresses: the private NIC by MAC or by name, whether it carries an address, and
 * every subnet the droplet reaches directly. */
#include <arpa/inet.h>
#include <net/if.h>
#include <netlink/route/link.h>

#include "log.h"
#include "kernel_internal.h"


static void link_from_object(struct rtnl_link *l, struct link_info *ret) {
        struct nl_addr *a = rtnl_link_get_addr(l);
        unsigned flags = rtnl_link_get_flags(l);

        *ret = (struct link_info) {
                .ifindex = rtnl_link_get_ifindex(l),
                .up = flags & IFF_UP,
                .mtu = rtnl_link_get_mtu(l),
        };
        snprintf(ret->ifname, sizeof ret->ifname, "%s", rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "");
        if (a && nl_addr_get_len(a) == 6) {
                memcpy(ret->mac, nl_addr_get_binary_addr(a), 6);
                ret->has_mac = true;
        }
}

struct addr_dump {
        int (*fn)(int ifindex, uint32_t address, uint8_t prefixlen, void *userdata);
        void *userdata;
};

static int addr_msg(struct nlmsghdr *hdr, void *userdata) {
        struct addr_dump *st = userdata;
        struct nlattr *tb[IFA_MAX + 1];
        struct ifaddrmsg *ifa;
        struct nlattr *a;
        uint32_t be;

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
static int dump_addresses(struct kernel_ctx *nl, int ifindex, int (*fn)(int, uint32_t, uint8_t, void *), void *userdata) {
        struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_index = nl->strict && ifindex > 0 ? (uint32_t) ifindex : 0 };
        struct addr_dump st = { .fn = fn, .userdata = userdata };
        _cleanup_nlmsg_ struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP);
        int r;

        if (!msg || nlmsg_append(msg, &ifa, sizeof ifa, NLMSG_ALIGNTO) < 0)
                return -ENOMEM;
        r = kernel_request(nl, msg, addr_msg, &st);
        /* An address that changed while the kernel walked them comes with its own event, and
         * the reconcile it causes reads them again. */
        return r == -EAGAIN ? 0 : r;
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
static int link_has_address(struct kernel_ctx *nl, int ifindex, uint32_t address, bool *ret) {
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

int kernel_link_connected(struct kernel_ctx *nl, struct connected_subnet **ret, size_t *ret_n) {
        _cleanup_cache_ struct nl_cache *links = NULL;
        struct connected_list st = {};
        int r;

        r = dump_addresses(nl, 0, connected_fn, &st);
        if (r < 0) {
                free(st.list);
                return r;
        }
        if (st.n > 0 && kernel_link_cache(nl, &links) >= 0)
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

int kernel_link_find_by_mac(struct kernel_ctx *nl, const uint8_t mac[static 6], uint32_t address, struct link_info *ret) {
        _cleanup_cache_ struct nl_cache *links = NULL;
        struct rtnl_link *best = NULL;
        bool best_has_address = false;
        unsigned candidates = 0;
        int r;

        r = kernel_link_cache(nl, &links);
        if (r < 0)
                return r;

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

int kernel_link_find_by_name(struct kernel_ctx *nl, const char *name, uint32_t address, struct link_info *ret) {
        _cleanup_cache_ struct nl_cache *links = NULL;
        struct rtnl_link *l;
        int r;

        r = kernel_link_cache(nl, &links);
        if (r < 0)
                return r;
        l = rtnl_link_get_by_name(links, name);
        if (!l)
                return -ENODEV;
        link_from_object(l, ret);
        rtnl_link_put(l);
        return link_has_address(nl, ret->ifindex, address, &ret->has_address);
}
