/* SPDX-License-Identifier: MIT */
/* Desired routes from config + metadata. */
#include "desired.h"
#include "log.h"

int desired_compute(const struct config *c, const struct metadata *md, int ifindex, const char *ifname,
                    struct route_set *ret) {
        _cleanup_route_set_ struct route_set s = {};
        struct cidr subnet = { md->address & prefix_to_mask(md->prefixlen), md->prefixlen };
        char a[CIDR_STRLEN], b[CIDR_STRLEN];
        int r;

        if (md->peering_enabled == TRISTATE_FALSE && c->peering_flag == PEERING_FLAG_HONOR) {
                route_set_done(ret); /* leaves it empty */
                return 0;
        }

        for (size_t i = 0; i < c->n_routes; i++) {
                const struct cidr *n = &c->routes[i];
                struct route rt = {
                        .dst = n->addr,
                        .dst_len = n->len,
                        .gateway = md->gateway,
                        .ifindex = ifindex,
                        .metric = c->metric,
                        .mtu = c->mtu,
                        .table = c->table,
                        .protocol = c->protocol,
                };

                if (cidr_contains(&subnet, n)) {
                        log_warning("Skipping %s: it lies inside the droplet's private subnet %s, which is reached directly",
                                    cidr_to_string(n, a), cidr_to_string(&subnet, b));
                        continue;
                }
                snprintf(rt.ifname, sizeof rt.ifname, "%s", ifname ? ifname : "");
                r = route_set_add(&s, &rt);
                if (r < 0)
                        return r;
        }
        if (s.n > c->max_routes)
                return log_error_errno(-E2BIG, "%zu desired routes exceed max_routes = %llu; refusing the whole set", s.n,
                                       (unsigned long long) c->max_routes);
        route_set_sort_unique(&s);
        route_set_done(ret);
        *ret = s;
        s = (struct route_set) {};
        return 0;
}
