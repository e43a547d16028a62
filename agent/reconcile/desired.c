/* SPDX-License-Identifier: MIT */
/* Desired routes from config or API peers + metadata. */
#include "desired.h"
#include "log.h"

int desired_compute(const struct config *c, const struct metadata *md, int ifindex, const char *ifname,
                    const struct cidr *nets, size_t n_nets, desired_inside_fn inside, void *userdata,
                    struct route_set *ret) {
        _cleanup_route_set_ struct route_set s = {};
        struct cidr subnet = { md->address & prefix_to_mask(md->prefixlen), md->prefixlen };
        int r;

        if (md->peering_enabled == TRISTATE_FALSE && c->peering_flag == PEERING_FLAG_HONOR) {
                route_set_done(ret); /* leaves it empty */
                return 0;
        }

        for (size_t i = 0; i < n_nets; i++) {
                const struct cidr *n = &nets[i];
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
                        if (inside)
                                inside(n, &subnet, userdata);
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
        route_set_move(ret, &s);
        return 0;
}

int desired_api_nets(const struct api_peers *peers, const struct connected_subnet *connected, size_t n_connected,
                     bool allow_non_private, struct cidr **ret, size_t *ret_n, desired_skip_fn skip, void *userdata) {
        _cleanup_free_ struct cidr *out = NULL;
        size_t n = 0;

        if (peers->n > 0) {
                out = calloc(peers->n, sizeof *out);
                if (!out)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < peers->n; i++) {
                const struct api_peer *p = &peers->peers[i];
                enum cidr_verdict v = cidr_check(&p->range, allow_non_private);
                char why[256], net[CIDR_STRLEN];
                bool overlap = false;

                if (v != CIDR_OK) {
                        if (skip)
                                skip(p, cidr_verdict_to_string(v), userdata);
                        continue;
                }
                for (size_t k = 0; k < n_connected && !overlap; k++)
                        if (cidr_overlaps(&p->range, &connected[k].net)) {
                                snprintf(why, sizeof why, "it overlaps %s on %s, which the droplet reaches directly",
                                         cidr_to_string(&connected[k].net, net),
                                         connected[k].ifname[0] ? connected[k].ifname : "an interface");
                                overlap = true;
                        }
                if (overlap) {
                        if (skip)
                                skip(p, why, userdata);
                        continue;
                }
                if (n > 0 && out[n - 1].addr == p->range.addr && out[n - 1].len == p->range.len)
                        continue; /* two peerings to one VPC: one route */
                out[n++] = p->range;
        }
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}
