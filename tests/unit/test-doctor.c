/* SPDX-License-Identifier: MIT */
/* doctor's verdicts (agent/reconcile/doctor.c) on made-up kernels: a table of routes, policy rules, and a
 * lookup that does what the kernel does with them (rules by priority, then the longest prefix).
 * tests/integration/doctor.sh shows the same against the real kernel. */
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "doctor.h"
#include "unit.h"

#define PRIV 3 /* ens4 */
#define PUB 2  /* eth0 */
#define GW 0x0a740001u

struct world {
        struct route_set routes;
        struct kernel_rule rules[4];
        size_t n_rules;
        struct plan plan;
        unsigned lookups;
};

static struct route rt(const char *net, uint32_t gw, int ifindex, const char *ifname, uint32_t table, uint8_t proto) {
        struct route r = { .gateway = gw, .ifindex = ifindex, .table = table, .protocol = proto, .type = RTN_UNICAST };
        struct cidr c;

        assert_int_equal(cidr_parse(net, &c), 0);
        r.dst = c.addr;
        r.dst_len = c.len;
        snprintf(r.ifname, sizeof r.ifname, "%s", ifname);
        return r;
}

/* The kernel's choice: rules by priority (main at 32766), in each table the longest prefix. */
static int lookup(uint32_t address, struct route *ret, void *userdata) {
        struct world *w = userdata;
        struct kernel_rule main_rule = { .priority = 32766, .table = 254, .action = FR_ACT_TO_TBL, .suppress_prefixlen = -1 };

        w->lookups++;
        for (size_t pass = 0; pass <= w->n_rules; pass++) {
                const struct kernel_rule *rule = NULL;
                /* the pass-th rule by priority, main among them */
                struct kernel_rule all[5];
                size_t n = 0;
                for (size_t i = 0; i < w->n_rules; i++)
                        all[n++] = w->rules[i];
                all[n++] = main_rule;
                for (size_t i = 0; i < n; i++)
                        for (size_t k = i + 1; k < n; k++)
                                if (all[k].priority < all[i].priority) {
                                        struct kernel_rule t = all[i];
                                        all[i] = all[k];
                                        all[k] = t;
                                }
                rule = &all[pass];
                if (rule->selective || rule->action != FR_ACT_TO_TBL)
                        continue;
                const struct route *best = NULL;
                for (size_t i = 0; i < w->routes.n; i++) {
                        const struct route *r = &w->routes.routes[i];
                        struct cidr c = { r->dst, r->dst_len };
                        if (r->table == rule->table && cidr_contains_addr(&c, address) &&
                            (rule->suppress_prefixlen < 0 || r->dst_len > rule->suppress_prefixlen) &&
                            (!best || r->dst_len > best->dst_len))
                                best = r;
                }
                if (best) {
                        if (best->type == RTN_BLACKHOLE)
                                return -EINVAL;
                        *ret = *best;
                        return 0;
                }
        }
        return -ENETUNREACH;
}

static void world_init(struct world *w) {
        *w = (struct world) {};
        /* The droplet: default via eth0 with its anchor network, the VPC subnet on ens4, ours. */
        const struct route base[] = {
                rt("0.0.0.0/0", 0xc0000201u, PUB, "eth0", 254, RTPROT_BOOT),
                rt("10.10.0.0/16", 0, PUB, "eth0", 254, RTPROT_KERNEL),
                rt("10.116.0.0/20", 0, PRIV, "ens4", 254, RTPROT_KERNEL),
                rt("10.0.0.0/8", GW, PRIV, "ens4", 254, 241),
                rt("172.16.0.0/12", GW, PRIV, "ens4", 254, 241),
        };
        for (size_t i = 0; i < ELEMENTSOF(base); i++)
                assert_int_equal(route_set_add(&w->routes, &base[i]), 0);
}

static void add(struct world *w, struct route r) {
        assert_int_equal(route_set_add(&w->routes, &r), 0);
}

/* The plan for one wanted route: KEEP when ours is there, else kind with have. */
static void plan_one(struct world *w, const char *net, enum plan_kind kind, const struct route *have) {
        struct route want = rt(net, GW, PRIV, "ens4", 254, 241);
        want.metric = 101;
        want.mtu = 1500;
        w->plan.actions = realloc(w->plan.actions, (w->plan.n + 1) * sizeof *w->plan.actions);
        assert_non_null(w->plan.actions);
        w->plan.actions[w->plan.n++] = (struct plan_action) { .kind = kind, .want = want, .have = have ? *have : want };
        w->plan.count[kind]++;
}

static void run(struct world *w, struct doctor_report *rep) {
        struct doctor_input in = {
                .ifindex = PRIV, .ifname = "ens4", .address = 0x0a740002u, .gateway = GW, .table = 254,
                .link_mtu = 1500, .route_mtu = 1500, .rp_filter = 0, .neigh_state = NUD_REACHABLE,
                .plan = &w->plan, .routes = &w->routes, .rules = w->rules, .n_rules = w->n_rules,
                .lookup = lookup, .userdata = w,
        };
        route_set_sort(&w->routes);
        assert_int_equal(doctor_run(&in, rep), 0);
}

static void world_done(struct world *w, struct doctor_report *rep) {
        doctor_report_done(rep);
        route_set_done(&w->routes);
        free(w->plan.actions);
}

static void test_ok_with_anchor(void **state) {
        struct world w;
        struct doctor_report rep;
        (void) state;

        world_init(&w);
        plan_one(&w, "10.0.0.0/8", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_true(rep.ok);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_OK);
        /* the anchor network is named, after the finding-less "our route" context */
        assert_contains(rep.dests[0].evidence[1], "the droplet's anchor network");
        world_done(&w, &rep);
}

static void test_bridge_shadows(void **state) {
        struct world w;
        struct doctor_report rep;
        (void) state;

        world_init(&w);
        add(&w, rt("172.18.0.0/16", 0, 7, "br-3f2a", 254, RTPROT_KERNEL));
        plan_one(&w, "172.16.0.0/12", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_false(rep.ok);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_SHADOWED);
        assert_string_equal(rep.dests[0].evidence[0],
                            "172.18.0.0/16 dev br-3f2a metric 0 proto kernel (a Docker bridge) takes 172.18.255.254");
        assert_contains(rep.dests[0].evidence[1], "our route");
        world_done(&w, &rep);
}

static void test_rules(void **state) {
        struct world w;
        struct doctor_report rep;
        (void) state;

        /* Tailscale: its own traffic by fwmark (not ours), then everything to table 52. */
        world_init(&w);
        add(&w, rt("10.120.0.0/20", 0, 9, "tailscale0", 52, RTPROT_BOOT));
        w.rules[w.n_rules++] = (struct kernel_rule) { .priority = 5210, .table = 254, .action = FR_ACT_TO_TBL, .selective = true,
                                                  .suppress_prefixlen = -1 };
        w.rules[w.n_rules++] = (struct kernel_rule) { .priority = 5270, .table = 52, .action = FR_ACT_TO_TBL, .suppress_prefixlen = -1 };
        plan_one(&w, "10.0.0.0/8", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_RULE);
        assert_contains(rep.dests[0].evidence[0], "rule 5270: from all lookup 52 sends 10.120.0.0/20 to table 52, where 10.120.0.0/20 dev tailscale0");
        assert_contains(rep.dests[0].evidence[0], "(Tailscale) takes 10.120.15.254");
        world_done(&w, &rep);

        /* A rule for another source address does not apply to the droplet's packets. */
        world_init(&w);
        add(&w, rt("10.120.0.0/20", 0, 9, "wg0", 100, RTPROT_BOOT));
        struct cidr other;
        assert_int_equal(cidr_parse("192.0.2.0/24", &other), 0);
        w.rules[w.n_rules++] = (struct kernel_rule) { .priority = 100, .table = 100, .action = FR_ACT_TO_TBL, .has_src = true,
                                                  .src = other, .suppress_prefixlen = -1 };
        plan_one(&w, "10.0.0.0/8", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_OK);
        world_done(&w, &rep);

        /* wg-quick: "lookup 51820" holds a default route only; suppress_prefixlength keeps
         * more specific ones of main. A default route is not more specific than ours. */
        world_init(&w);
        add(&w, rt("0.0.0.0/0", 0, 9, "wg0", 51820, RTPROT_BOOT));
        w.rules[w.n_rules++] = (struct kernel_rule) { .priority = 32764, .table = 254, .action = FR_ACT_TO_TBL,
                                                  .suppress_prefixlen = 0 };
        w.rules[w.n_rules++] = (struct kernel_rule) { .priority = 32765, .table = 51820, .action = FR_ACT_TO_TBL, .selective = true,
                                                  .suppress_prefixlen = -1 };
        plan_one(&w, "10.0.0.0/8", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_OK);
        world_done(&w, &rep);
}

static void test_reserved_and_blackhole(void **state) {
        struct world w;
        struct doctor_report rep;
        struct route bh = rt("10.200.0.0/16", 0, 0, "", 254, RTPROT_BOOT);
        (void) state;

        world_init(&w);
        add(&w, rt("10.244.0.0/16", 0, 8, "cni0", 254, RTPROT_KERNEL)); /* DOKS pods: reserved */
        bh.type = RTN_BLACKHOLE;
        add(&w, bh);
        plan_one(&w, "10.0.0.0/8", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_SHADOWED);
        assert_string_equal(rep.dests[0].evidence[0], "blackhole 10.200.0.0/16 metric 0 proto boot drops 10.200.255.254");
        bool reserved_named = false;
        for (size_t i = 0; i < rep.dests[0].n_evidence; i++)
                reserved_named = reserved_named || strstr(rep.dests[0].evidence[i], "10.244.0.0/16 dev cni0") != NULL;
        assert_true(reserved_named);
        world_done(&w, &rep);
}

static void test_many_shadows(void **state) {
        struct world w;
        struct doctor_report rep;
        (void) state;

        /* Fifty bridges: a bounded number of lookups, and the evidence says how much it left out. */
        world_init(&w);
        for (int i = 0; i < 50; i++) {
                char net[CIDR_STRLEN], name[IF_NAMESIZE];
                snprintf(net, sizeof net, "172.%d.0.0/16", 17 + i % 15);
                snprintf(name, sizeof name, "br-%02d", i);
                struct route r = rt(net, 0, 20 + i, name, 254, RTPROT_KERNEL);
                r.metric = (uint32_t) i;
                add(&w, r);
        }
        plan_one(&w, "172.16.0.0/12", PLAN_KEEP, NULL);
        run(&w, &rep);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_SHADOWED);
        assert_true(w.lookups <= 17);
        assert_int_equal(rep.dests[0].n_evidence, DOCTOR_EVIDENCE_MAX);
        assert_true(rep.dests[0].more > 0);
        world_done(&w, &rep);
}

static void test_plan_verdicts_and_problems(void **state) {
        struct world w;
        struct doctor_report rep;
        struct route foreign = rt("192.168.0.0/16", 0xc0000201u, PUB, "eth0", 254, RTPROT_STATIC);
        (void) state;

        world_init(&w);
        foreign.metric = 101;
        add(&w, foreign);
        plan_one(&w, "192.168.0.0/16", PLAN_CONFLICT, &foreign);
        plan_one(&w, "10.0.0.0/8", PLAN_ADD, NULL);
        struct doctor_input in = {
                .ifindex = PRIV, .ifname = "ens4", .address = 0x0a740002u, .gateway = GW, .table = 254,
                .link_mtu = 1400, .route_mtu = 1500, .rp_filter = 1, .neigh_state = NUD_FAILED,
                .plan = &w.plan, .routes = &w.routes, .lookup = lookup, .userdata = &w,
        };
        route_set_sort(&w.routes);
        assert_int_equal(doctor_run(&in, &rep), 0);
        assert_false(rep.ok);
        assert_int_equal(rep.dests[0].verdict, DOCTOR_CONFLICT);
        assert_contains(rep.dests[0].evidence[0], "192.168.0.0/16 via 192.0.2.1 dev eth0 metric 101 proto static holds");
        assert_int_equal(rep.dests[1].verdict, DOCTOR_MISSING);
        assert_contains(rep.dests[1].evidence[0], "no route 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241");
        assert_int_equal(rep.n_problems, 2);
        assert_contains(rep.problems[0], "the VPC gateway 10.116.0.1 does not answer ARP on ens4 (neighbour FAILED)");
        assert_contains(rep.problems[1], "ens4 has MTU 1400, less than the routes' mtu 1500");
        world_done(&w, &rep);
}

int main(void) {
        struct unit_tests u = {};

        UNIT_ADD(&u, test_ok_with_anchor);
        UNIT_ADD(&u, test_bridge_shadows);
        UNIT_ADD(&u, test_rules);
        UNIT_ADD(&u, test_reserved_and_blackhole);
        UNIT_ADD(&u, test_many_shadows);
        UNIT_ADD(&u, test_plan_verdicts_and_problems);
        return unit_run(&u, "doctor");
}
