/* SPDX-License-Identifier: MIT */
/* The egress part of a reconcile (nat_gateway, core/egress.h): what the droplet should hold,
 * what it holds of the agent's (rules of its protocol, routes in the egress table), the plan
 * between them, and applying it in its order. */
#include "log.h"
#include "reconcile.h"

/* The address egress leaves through; -EINVAL (a config error) when nat_gateway names an address
 * outside the private subnet. */
static int nat_address(struct reconcile *rc, const struct config *c, uint32_t *ret) {
        const struct cidr subnet = { rc->md.address & prefix_to_mask(rc->md.prefixlen), rc->md.prefixlen };
        char a[IPV4_STRLEN], s[CIDR_STRLEN];

        if (c->nat_gateway.mode == NAT_VPC) {
                *ret = rc->md.gateway;
                return 0;
        }
        if (!cidr_contains_addr(&subnet, c->nat_gateway.address) || c->nat_gateway.address == rc->md.address ||
            c->nat_gateway.address == subnet.addr) {
                rc->usage_error = true;
                return reconcile_fail(rc, -EINVAL, "config: nat_gateway \"%s\" is not a NAT gateway's address in the private "
                                      "subnet %s", ipv4_to_string(c->nat_gateway.address, a), cidr_to_string(&subnet, s));
        }
        *ret = c->nat_gateway.address;
        return 0;
}

/* What egress the droplet should have: none with nat_gateway = off or on a Private Droplet. */
static int egress_input(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, struct egress_input *ret) {
        struct link_info pub;
        struct error err = {};
        char mac[MAC_STRLEN], a[IPV4_STRLEN];
        int r;

        *ret = (struct egress_input) { .protocol = c->protocol };
        rc->egress_off_reason = c->nat_gateway.mode == NAT_OFF ? "nat_gateway = off" : NULL;
        if (c->nat_gateway.mode == NAT_OFF)
                return 0;
        r = metadata_require_public(&rc->md, &err);
        if (r == -ENOENT) {
                rc->egress_off_reason = "no public interface: DigitalOcean routes a Private Droplet's egress itself";
                return 0;
        }
        if (r < 0)
                return reconcile_fail(rc, r, "%s; nat_gateway needs it", err.msg);
        r = nat_address(rc, c, &ret->nat_gateway);
        if (r < 0)
                return r;
        /* With the API at hand, egress goes to a NAT gateway only when the API says one is there:
         * else the droplet keeps its own way out rather than a black hole. */
        if (c->source == SOURCE_API && (!rc->peers || !rc->peers->nat_checked || !rc->peers->nat_found)) {
                if (rc->peers && rc->peers->nat_checked)
                        snprintf(rc->egress_reason, sizeof rc->egress_reason, "the API lists no ACTIVE NAT gateway%s%s for VPC %s",
                                 c->nat_gateway.mode == NAT_VPC ? "" : " at ",
                                 c->nat_gateway.mode == NAT_VPC ? "" : ipv4_to_string(c->nat_gateway.address, a),
                                 rc->peers->own_vpc);
                else
                        snprintf(rc->egress_reason, sizeof rc->egress_reason, "waiting for the API to confirm a NAT gateway");
                rc->egress_off_reason = rc->egress_reason;
                return 0;
        }
        r = kernel_link_find_by_mac(nl, rc->md.public_mac, rc->md.public_address, &pub);
        if (r < 0)
                return reconcile_fail(rc, r, "No interface carries the public MAC %s of the metadata: %s; nat_gateway needs it",
                                      mac_to_string(rc->md.public_mac, mac), r == -ENODEV ? "not found" : strerror(-r));
        ret->private_ifindex = rc->link.ifindex;
        ret->public_ifindex = pub.ifindex;
        memcpy(ret->private_ifname, rc->link.ifname, IF_NAMESIZE);
        memcpy(ret->public_ifname, pub.ifname, IF_NAMESIZE);
        ret->public_gateway = rc->md.public_gateway;
        ret->public_address = rc->md.public_address;
        ret->anchor_address = rc->md.anchor_address;
        return 0;
}

/* The plan from what the kernel holds of protocol's to desired. */
static int plan_from_kernel(struct kernel_ctx *nl, const struct egress_state *desired, struct egress_plan *ret) {
        _cleanup_route_set_ struct route_set own = {}, foreign = {};
        _cleanup_free_ struct egress_rule *rules = NULL;
        size_t n_rules = 0;
        int r;

        r = kernel_rule_list_own(nl, desired->protocol, &rules, &n_rules);
        if (r >= 0)
                r = kernel_route_list(nl, KERNEL_LIST_FAST, EGRESS_TABLE, desired->protocol, 0, &desired->routes, &own,
                                      &foreign);
        if (r < 0)
                return r;
        return egress_plan_compute(desired, rules, n_rules, &own, ret);
}

int reconcile_egress_plan(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c) {
        struct egress_input in;
        int r;

        egress_state_done(&rc->egress);
        egress_plan_done(&rc->egress_plan);
        rc->egress_applied = false;
        r = egress_input(rc, nl, c, &in);
        if (r < 0)
                return r;
        if (c->nat_gateway.mode == NAT_OFF && rc->egress_known_clean) {
                rc->egress.protocol = c->protocol;
                return 0; /* nothing wanted, nothing left: no dump */
        }
        r = egress_desired(&in, &rc->egress);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not compute egress: %s", strerror(-r));
        r = plan_from_kernel(nl, &rc->egress, &rc->egress_plan);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not read the rules and the egress table: %s", strerror(-r));
        return 0;
}

/* The plan's steps in order; returns how many failed. */
static size_t apply_ops(struct kernel_ctx *nl, const struct egress_plan *p, bool quiet_failures, size_t *ret_done) {
        size_t failed = 0, done = 0;
        int r;

        for (size_t i = 0; i < p->n; i++) {
                const struct egress_op *op = &p->ops[i];
                if (op->kind == EGRESS_ADD_RULE || op->kind == EGRESS_DELETE_RULE) {
                        r = kernel_rule_change(nl, &op->rule, op->kind == EGRESS_ADD_RULE);
                        failed += r < 0;
                        done += r >= 0;
                } else if (op->kind == EGRESS_ROUTE && op->route.kind != PLAN_KEEP) {
                        /* One action at a time: the order of the egress plan is the point. */
                        struct plan_action action = op->route;
                        struct plan one = { .actions = &action, .n = 1, .cap = 1 };
                        struct apply_result res = {};
                        one.count[action.kind] = 1;
                        r = kernel_apply_plan(nl, &one, quiet_failures, &res);
                        failed += r < 0 || res.failed > 0 || res.conflicts > 0;
                        done += res.ok;
                }
        }
        if (ret_done)
                *ret_done = done;
        return failed;
}

int reconcile_egress_apply(struct reconcile *rc, struct kernel_ctx *nl, bool quiet_failures) {
        size_t failed;

        if (!rc->egress_plan.changes)
                return 0;
        rc->applied_any = true;
        failed = apply_ops(nl, &rc->egress_plan, quiet_failures, NULL);
        rc->egress_applied = failed == 0;
        if (failed > 0)
                return reconcile_fail(rc, -EIO, "%zu egress change%s failed", failed, failed == 1 ? "" : "s");
        return 0;
}

void reconcile_egress_log(const struct reconcile *rc, const char *summary) {
        /* Off although nat_gateway asks for it (the API shows no NAT gateway, the metadata has no
         * usable public interface): the droplet keeps its own way out, and the operator should
         * know. A Private Droplet's egress is DigitalOcean's: no news. */
        bool warn = summary && strncmp(summary, "off:", 4) == 0 && rc->egress_off_reason == rc->egress_reason;
        log_full(warn ? LOG_WARNING : LOG_INFO, "Egress: %s", summary ? summary : "off (nat_gateway = off)");
}

int reconcile_egress_remove(struct kernel_ctx *nl, uint8_t protocol, size_t *ret_removed) {
        const struct egress_state none = { .protocol = protocol };
        struct egress_plan p = {};
        size_t failed;
        int r;

        r = plan_from_kernel(nl, &none, &p);
        if (r < 0)
                return r;
        failed = apply_ops(nl, &p, false, ret_removed);
        egress_plan_done(&p);
        return failed > 0 ? -EIO : 0;
}

const char *reconcile_egress_summary(const struct reconcile *rc, const struct config *c, bool *ret_active, char *buf,
                                     size_t size) {
        char gw[IPV4_STRLEN];

        *ret_active = false;
        if (c->nat_gateway.mode == NAT_OFF)
                return NULL;
        for (size_t i = 0; i < rc->egress.routes.n; i++) {
                const struct route *r = &rc->egress.routes.routes[i];
                if (r->dst_len != 0)
                        continue;
                *ret_active = !rc->egress_plan.changes || rc->egress_applied;
                snprintf(buf, size, "via %s %s dev %s%s", c->nat_gateway.mode == NAT_VPC ? "the VPC gateway" : "NAT gateway",
                         ipv4_to_string(r->gateway, gw), r->ifname, *ret_active ? "" : " (not in place yet)");
                return buf;
        }
        snprintf(buf, size, "off: %s", rc->egress_off_reason ? rc->egress_off_reason : "not planned");
        return buf;
}
