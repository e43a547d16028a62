/* SPDX-License-Identifier: MIT */
/* The planner: every action kind, then a randomized check against a model kernel that a plan,
 * once applied, converges (the next plan changes nothing) and never touches a foreign route. */
#include "egress.h"
#include "plan.h"
#include "unit.h"

#define OURS 241
#define GW 0x0a740001u    /* 10.116.0.1 */
#define GW2 0x0a740009u   /* 10.116.0.9 */
#define NIC 3
#define OTHER_NIC 2

static struct route R(const char *cidr, uint32_t gw, int ifindex, uint32_t metric, uint32_t mtu, uint8_t proto) {
        struct cidr c;
        if (cidr_parse(cidr, &c) < 0)
                abort();
        return (struct route) { .dst = c.addr, .dst_len = c.len, .gateway = gw, .ifindex = ifindex, .metric = metric,
                                .mtu = mtu, .table = ROUTE_TABLE_MAIN, .protocol = proto };
}

#define WANT(cidr) R(cidr, GW, NIC, 101, 1500, OURS)

static struct route_set set_of(const struct route *r, size_t n) {
        struct route_set s = {};
        for (size_t i = 0; i < n; i++)
                assert_int_equal(route_set_add(&s, &r[i]), 0);
        route_set_sort(&s);
        return s;
}

struct plan_case {
        const char *name;
        struct route desired[4];
        size_t n_desired;
        struct route own[4];
        size_t n_own;
        struct route foreign[4];
        size_t n_foreign;
        /* expected counts: keep, add, replace, delete, foreign-equal, conflict */
        size_t count[_PLAN_KIND_MAX];
};

static const struct plan_case *cases;

static void run_case(void **state) {
        const struct plan_case *c = *state;
        struct route_set d = set_of(c->desired, c->n_desired), o = set_of(c->own, c->n_own),
                         f = set_of(c->foreign, c->n_foreign);
        struct plan p = {};

        assert_int_equal(plan_compute(&d, &o, &f, OURS, &p), 0);
        for (int k = 0; k < _PLAN_KIND_MAX; k++)
                if (p.count[k] != c->count[k])
                        fail_msg("%s: expected %zu, got %zu", plan_kind_to_string(k), c->count[k], p.count[k]);
        /* Never an action on a foreign route other than reporting it. */
        for (size_t i = 0; i < p.n; i++)
                if (p.actions[i].kind == PLAN_DELETE || p.actions[i].kind == PLAN_REPLACE)
                        assert_int_equal(p.actions[i].have.protocol, OURS);
        plan_done(&p);
        route_set_done(&d);
        route_set_done(&o);
        route_set_done(&f);
}

static struct plan_case table[32];
static size_t n_table;

static void build_cases(void) {
        struct plan_case *c;
#define CASE(nm) do { c = &table[n_table++]; *c = (struct plan_case) { .name = nm }; } while (0)
#define D(r) (c->desired[c->n_desired++] = (r))
#define O(r) (c->own[c->n_own++] = (r))
#define F(r) (c->foreign[c->n_foreign++] = (r))
#define EXPECT(kind, n) (c->count[kind] = (n))

        CASE("nothing at all");

        CASE("fresh droplet adds three");
        D(WANT("10.0.0.0/8")); D(WANT("172.16.0.0/12")); D(WANT("192.168.0.0/16"));
        EXPECT(PLAN_ADD, 3);

        CASE("converged keeps three");
        D(WANT("10.0.0.0/8")); D(WANT("172.16.0.0/12")); D(WANT("192.168.0.0/16"));
        O(WANT("10.0.0.0/8")); O(WANT("172.16.0.0/12")); O(WANT("192.168.0.0/16"));
        EXPECT(PLAN_KEEP, 3);

        CASE("replace on gateway change");
        D(WANT("10.0.0.0/8")); O(R("10.0.0.0/8", GW2, NIC, 101, 1500, OURS));
        EXPECT(PLAN_REPLACE, 1);

        CASE("replace on mtu change");
        D(WANT("10.0.0.0/8")); O(R("10.0.0.0/8", GW, NIC, 101, 9000, OURS));
        EXPECT(PLAN_REPLACE, 1);

        CASE("replace on mtu missing");
        D(WANT("10.0.0.0/8")); O(R("10.0.0.0/8", GW, NIC, 101, 0, OURS));
        EXPECT(PLAN_REPLACE, 1);

        CASE("replace on device change");
        D(WANT("10.0.0.0/8")); O(R("10.0.0.0/8", GW, OTHER_NIC, 101, 1500, OURS));
        EXPECT(PLAN_REPLACE, 1);

        CASE("replace on metric change");
        D(WANT("10.0.0.0/8")); O(R("10.0.0.0/8", GW, NIC, 50, 1500, OURS));
        EXPECT(PLAN_REPLACE, 1);

        CASE("delete own no longer desired");
        D(WANT("10.0.0.0/8")); O(WANT("10.0.0.0/8")); O(WANT("100.64.0.0/10"));
        EXPECT(PLAN_KEEP, 1); EXPECT(PLAN_DELETE, 1);

        CASE("peering disabled deletes all own");
        O(WANT("10.0.0.0/8")); O(WANT("172.16.0.0/12"));
        F(R("10.0.0.0/8", GW, NIC, 101, 0, 4));
        EXPECT(PLAN_DELETE, 2);

        CASE("foreign equal proto static is left alone");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", GW, NIC, 101, 0, 4));
        EXPECT(PLAN_FOREIGN_EQUAL, 1);

        CASE("foreign equal proto boot with other mtu");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", GW, NIC, 101, 1400, 3));
        EXPECT(PLAN_FOREIGN_EQUAL, 1);

        CASE("foreign at other metric does not matter");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", 0x0a0a0001u, OTHER_NIC, 0, 0, 4));
        EXPECT(PLAN_ADD, 1);

        CASE("foreign conflict other gateway");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", GW2, NIC, 101, 0, 4));
        EXPECT(PLAN_CONFLICT, 1);

        CASE("foreign conflict other device");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", 0x0a0a0001u, OTHER_NIC, 101, 0, 16));
        EXPECT(PLAN_CONFLICT, 1);

        CASE("conflict keeps own in the slot, drops own elsewhere");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", GW2, NIC, 101, 0, 4));
        O(R("10.0.0.0/8", GW, NIC, 101, 9000, OURS)); O(R("10.0.0.0/8", GW, NIC, 7, 1500, OURS));
        EXPECT(PLAN_CONFLICT, 1); EXPECT(PLAN_DELETE, 1);

        CASE("foreign equal beside own equal: ours goes, one route per destination");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", GW, NIC, 101, 0, 4)); O(WANT("10.0.0.0/8"));
        EXPECT(PLAN_FOREIGN_EQUAL, 1); EXPECT(PLAN_DELETE, 1);

        CASE("foreign equal with mtu beside own equal: ours goes");
        D(WANT("10.0.0.0/8")); F(R("10.0.0.0/8", GW, NIC, 101, 1500, 4)); O(WANT("10.0.0.0/8"));
        EXPECT(PLAN_FOREIGN_EQUAL, 1); EXPECT(PLAN_DELETE, 1);

        CASE("two own in one slot keep the right one when it sorts last");
        D(R("10.0.0.0/8", GW2, NIC, 101, 1500, OURS)); O(R("10.0.0.0/8", GW2, NIC, 101, 1500, OURS));
        O(R("10.0.0.0/8", GW, NIC, 101, 1500, OURS));
        EXPECT(PLAN_KEEP, 1); EXPECT(PLAN_DELETE, 1);

        CASE("blackhole of another program in the slot is a conflict");
        D(WANT("10.0.0.0/8"));
        {
                struct route b = R("10.0.0.0/8", 0, 0, 101, 0, 3);
                b.type = 6; /* RTN_BLACKHOLE */
                F(b);
        }
        EXPECT(PLAN_CONFLICT, 1);

        CASE("own route of another type is replaced");
        D(WANT("10.0.0.0/8"));
        {
                struct route u = WANT("10.0.0.0/8");
                u.type = 7; /* RTN_UNREACHABLE, gateway and device as wanted */
                O(u);
        }
        EXPECT(PLAN_REPLACE, 1);

        CASE("two own in one slot keep one");
        D(WANT("10.0.0.0/8")); O(WANT("10.0.0.0/8")); O(R("10.0.0.0/8", GW2, NIC, 101, 1500, OURS));
        EXPECT(PLAN_KEEP, 1); EXPECT(PLAN_DELETE, 1);

        CASE("own multipath is replaced");
        D(WANT("10.0.0.0/8"));
        {
                struct route m = R("10.0.0.0/8", 0, 0, 101, 1500, OURS);
                m.multipath = true;
                O(m);
        }
        EXPECT(PLAN_REPLACE, 1);

        CASE("foreign multipath is a conflict");
        D(WANT("10.0.0.0/8"));
        {
                struct route m = R("10.0.0.0/8", 0, 0, 101, 0, 4);
                m.multipath = true;
                F(m);
        }
        EXPECT(PLAN_CONFLICT, 1);

        CASE("mixed droplet");
        D(WANT("10.0.0.0/8")); D(WANT("172.16.0.0/12")); D(WANT("192.168.0.0/16"));
        O(WANT("10.0.0.0/8")); O(WANT("100.64.0.0/10"));
        F(R("172.16.0.0/12", 0xac110001u, OTHER_NIC, 101, 0, 4)); F(R("192.168.0.0/16", GW, NIC, 101, 1500, 3));
        F(R("10.10.0.0/16", 0, 1, 0, 0, 2));
        EXPECT(PLAN_KEEP, 1); EXPECT(PLAN_DELETE, 1); EXPECT(PLAN_CONFLICT, 1); EXPECT(PLAN_FOREIGN_EQUAL, 1);

        CASE("more specific own untouched by less specific desired");
        D(WANT("10.0.0.0/8")); O(WANT("10.0.0.0/8")); O(WANT("10.0.0.0/16"));
        EXPECT(PLAN_KEEP, 1); EXPECT(PLAN_DELETE, 1);
        cases = table;
}

static void test_rejects_bad_input(void **state) {
        struct route a = WANT("10.0.0.0/8"), b = WANT("192.168.0.0/16");
        struct route_set unsorted = {}, d = {}, empty = {};
        struct plan p = {};
        (void) state;

        route_set_add(&unsorted, &b);
        route_set_add(&unsorted, &a);
        assert_int_equal(plan_compute(&unsorted, &empty, &empty, OURS, &p), -EINVAL);
        assert_int_equal(plan_compute(&empty, &unsorted, &empty, OURS, &p), -EINVAL);
        a.protocol = 4;
        route_set_add(&d, &a);
        assert_int_equal(plan_compute(&d, &empty, &empty, OURS, &p), -EINVAL);
        route_set_done(&unsorted);
        route_set_done(&d);
}

static void test_action_strings(void **state) {
        struct plan_action a = { .kind = PLAN_FOREIGN_EQUAL, .want = WANT("10.0.0.0/8"), .have = R("10.0.0.0/8", GW, NIC, 101, 0, 4) };
        char buf[PLAN_ACTION_STRLEN];
        (void) state;

        strcpy(a.have.ifname, "ens4");
        assert_string_equal(plan_action_to_string(&a, buf, sizeof buf),
                            "present 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 proto static (owned by proto static, left alone)");
        a.kind = PLAN_ADD;
        strcpy(a.want.ifname, "ens4");
        assert_string_equal(plan_action_to_string(&a, buf, sizeof buf), "add 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241");
        a.kind = PLAN_CONFLICT;
        a.have = R("10.0.0.0/8", 0, 0, 101, 0, 3);
        a.have.type = 6; /* RTN_BLACKHOLE */
        assert_string_equal(plan_action_to_string(&a, buf, sizeof buf),
                            "conflict: want 10.0.0.0/8 via 10.116.0.1 dev ens4 metric 101 mtu 1500 proto 241, but blackhole "
                            "10.0.0.0/8 metric 101 proto boot holds that destination and metric; not installing");
}

/* ---- a model kernel for the randomized check ---- */

static bool slot_taken(const struct route_set *k, const struct route *r) {
        for (size_t i = 0; i < k->n; i++)
                if (route_same_key(&k->routes[i], r))
                        return true;
        return false;
}

static void model_remove(struct route_set *k, const struct route *r) {
        for (size_t i = 0; i < k->n; i++)
                if (route_compare(&k->routes[i], r) == 0) {
                        k->routes[i] = k->routes[--k->n];
                        return;
                }
        fail_msg("deleting a route that is not there");
}

static bool has_identical(const struct route_set *k, const struct route *r) {
        for (size_t i = 0; i < k->n; i++)
                if (route_compare(&k->routes[i], r) == 0)
                        return true;
        return false;
}

/* Applies a plan the way kernel_apply does and answers as the kernel would: an add (NLM_F_EXCL)
 * into a slot that holds any route is refused with EEXIST, and so is an append (a replacement
 * in its slot, made before the old one is broken) of a route identical to one already there.
 * A plan that meets either is wrong: it read the table and should have known. */
static void model_apply(struct route_set *kernel, const struct plan *p) {
        char buf[PLAN_ACTION_STRLEN];

        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                if (a->kind == PLAN_ADD || (a->kind == PLAN_REPLACE && a->want.metric != a->have.metric)) {
                        if (slot_taken(kernel, &a->want))
                                fail_msg("EEXIST: %s into a taken slot", plan_action_to_string(a, buf, sizeof buf));
                        route_set_add(kernel, &a->want);
                } else if (a->kind == PLAN_REPLACE) {
                        if (has_identical(kernel, &a->want))
                                fail_msg("EEXIST: %s appends a route already there", plan_action_to_string(a, buf, sizeof buf));
                        route_set_add(kernel, &a->want);
                }
        }
        for (size_t i = 0; i < p->n; i++) {
                const struct plan_action *a = &p->actions[i];
                if (a->kind == PLAN_DELETE || a->kind == PLAN_REPLACE)
                        model_remove(kernel, &a->have);
        }
}

static void split(const struct route_set *kernel, struct route_set *own, struct route_set *foreign) {
        route_set_clear(own);
        route_set_clear(foreign);
        for (size_t i = 0; i < kernel->n; i++)
                route_set_add(kernel->routes[i].protocol == OURS ? own : foreign, &kernel->routes[i]);
        route_set_sort(own);
        route_set_sort(foreign);
}

static void test_random_convergence(void **state) {
        static const char *const nets[] = { "10.0.0.0/8", "10.120.0.0/20", "172.16.0.0/12", "192.168.0.0/16", "10.130.0.0/16" };
        static const uint32_t gws[] = { GW, GW2 };
        static const uint32_t metrics[] = { 101, 50, 0 };
        static const uint8_t protos[] = { OURS, OURS, 3, 4 };
        unsigned seed = 12345;
        (void) state;

        for (int iter = 0; iter < 2000; iter++) {
                struct route_set desired = {}, kernel = {}, own = {}, foreign = {}, foreign_before = {};
                struct plan p = {}, again = {};

                for (size_t i = 0; i < ELEMENTSOF(nets); i++)
                        if (rand_r(&seed) % 2) {
                                struct route w = WANT(nets[i]);
                                route_set_add(&desired, &w);
                        }
                route_set_sort(&desired);
                for (int i = rand_r(&seed) % 6; i > 0; i--) {
                        struct route r = R(nets[rand_r(&seed) % ELEMENTSOF(nets)], gws[rand_r(&seed) % 2],
                                           rand_r(&seed) % 2 ? NIC : OTHER_NIC, metrics[rand_r(&seed) % 3],
                                           rand_r(&seed) % 2 ? 1500 : 0, protos[rand_r(&seed) % 4]);
                        /* Routes appended into one slot are the kernel's normal (an interrupted run,
                         * a network manager's reapply); identical ones it refuses. */
                        if (!has_identical(&kernel, &r))
                                route_set_add(&kernel, &r);
                }
                split(&kernel, &own, &foreign);
                route_set_copy(&foreign_before, &foreign);

                assert_int_equal(plan_compute(&desired, &own, &foreign, OURS, &p), 0);
                model_apply(&kernel, &p);
                split(&kernel, &own, &foreign);

                /* Foreign routes are exactly as before. */
                assert_true(route_set_equal(&foreign, &foreign_before));
                /* Converged: the next plan changes nothing. */
                assert_int_equal(plan_compute(&desired, &own, &foreign, OURS, &again), 0);
                if (plan_has_changes(&again))
                        fail_msg("iteration %d did not converge", iter);
                /* Every desired destination is served by an own or equal foreign route, or in conflict. */
                assert_int_equal(again.count[PLAN_KEEP] + again.count[PLAN_FOREIGN_EQUAL] + again.count[PLAN_CONFLICT],
                                 desired.n);

                plan_done(&p);
                plan_done(&again);
                route_set_done(&desired);
                route_set_done(&kernel);
                route_set_done(&own);
                route_set_done(&foreign);
                route_set_done(&foreign_before);
        }
}

/* ---- egress (core/egress.c) ---- */

static const struct egress_input egress_on = {
        .nat_gateway = 0x0a740001u, .private_ifindex = 3, .private_ifname = "ens4", .public_gateway = 0xc0000201u,
        .public_ifindex = 2, .public_ifname = "eth0", .public_address = 0xc000020au, .anchor_address = 0x0a0a0005u,
        .protocol = 241,
};

/* The plan's steps as text, one a line. */
static char *egress_steps(const struct egress_plan *p) {
        char *text = NULL, line[PLAN_ACTION_STRLEN];
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        for (size_t i = 0; i < p->n; i++)
                fprintf(f, "%s\n", egress_op_to_string(&p->ops[i], line, sizeof line));
        fclose(f);
        return text;
}

/* Switched on from nothing: the table first, then the rules, the switch (lookup 241) last; and
 * off again: the switch first, the metadata route last. */
static void test_egress_order(void **state) {
        struct egress_state want = {}, none = { .protocol = 241 };
        struct egress_plan on = {}, off = {};
        const struct route_set empty = {};
        _cleanup_free_ char *on_text = NULL, *off_text = NULL;
        (void) state;

        assert_int_equal(egress_desired(&egress_on, &want), 0);
        assert_int_equal(want.n_rules, 4);
        assert_int_equal(egress_plan_compute(&want, NULL, 0, &empty, &on), 0);
        assert_true(on.changes);
        on_text = egress_steps(&on);
        assert_string_equal(on_text,
                            "add 169.254.169.254/32 via 192.0.2.1 dev eth0 metric 0 proto 241 table 241\n"
                            "add 0.0.0.0/0 via 10.116.0.1 dev ens4 metric 0 proto 241 table 241\n"
                            "add rule 32700: from all lookup main suppress_prefixlength 0 proto 241\n"
                            "add rule 32701: from 192.0.2.10/32 lookup main proto 241\n"
                            "add rule 32702: from 10.10.0.5/32 lookup main proto 241\n"
                            "add rule 32703: from all lookup 241 proto 241\n");

        assert_int_equal(egress_plan_compute(&none, want.rules, want.n_rules, &want.routes, &off), 0);
        off_text = egress_steps(&off);
        assert_string_equal(off_text,
                            "delete rule 32703: from all lookup 241 proto 241\n"
                            "delete rule 32702: from 10.10.0.5/32 lookup main proto 241\n"
                            "delete rule 32701: from 192.0.2.10/32 lookup main proto 241\n"
                            "delete rule 32700: from all lookup main suppress_prefixlength 0 proto 241\n"
                            "delete 0.0.0.0/0 via 10.116.0.1 dev ens4 metric 0 proto 241 table 241\n"
                            "delete 169.254.169.254/32 via 192.0.2.1 dev eth0 metric 0 proto 241 table 241\n");
        egress_plan_done(&on);
        egress_plan_done(&off);
        egress_state_done(&want);
}

/* In place: nothing to change; a new VPC gateway: the default route alone is replaced; no anchor
 * address: three rules; no public interface or no NAT gateway: nothing wanted. */
static void test_egress_changes(void **state) {
        struct egress_state want = {}, moved = {}, bare = {};
        struct egress_input in = egress_on;
        struct egress_plan same = {}, follow = {};
        (void) state;

        assert_int_equal(egress_desired(&egress_on, &want), 0);
        assert_int_equal(egress_plan_compute(&want, want.rules, want.n_rules, &want.routes, &same), 0);
        assert_false(same.changes);

        in.nat_gateway = 0x0a740009u;
        assert_int_equal(egress_desired(&in, &moved), 0);
        assert_int_equal(egress_plan_compute(&moved, want.rules, want.n_rules, &want.routes, &follow), 0);
        assert_true(follow.changes);
        for (size_t i = 0; i < follow.n; i++) {
                const struct egress_op *op = &follow.ops[i];
                if (op->kind == EGRESS_ROUTE && op->route.kind != PLAN_KEEP) {
                        assert_int_equal(op->route.kind, PLAN_REPLACE);
                        assert_int_equal(op->route.want.gateway, 0x0a740009u);
                } else
                        assert_true(op->kind == EGRESS_KEEP_RULE || op->kind == EGRESS_ROUTE);
        }

        in = egress_on;
        in.anchor_address = 0;
        assert_int_equal(egress_desired(&in, &bare), 0);
        assert_int_equal(bare.n_rules, 3);
        egress_state_done(&bare);
        in.public_ifindex = 0;
        assert_int_equal(egress_desired(&in, &bare), 0);
        assert_int_equal(bare.n_rules + bare.routes.n, 0);
        in = egress_on;
        in.nat_gateway = 0;
        assert_int_equal(egress_desired(&in, &bare), 0);
        assert_int_equal(bare.n_rules + bare.routes.n, 0);

        egress_plan_done(&same);
        egress_plan_done(&follow);
        egress_state_done(&want);
        egress_state_done(&moved);
}

int main(void) {
        struct unit_tests u = {};

        build_cases();
        for (size_t i = 0; i < n_table; i++)
                unit_add(&u, cases[i].name, run_case, (void *) &cases[i]);
        UNIT_ADD(&u, test_rejects_bad_input);
        UNIT_ADD(&u, test_action_strings);
        UNIT_ADD(&u, test_random_convergence);
        UNIT_ADD(&u, test_egress_order);
        UNIT_ADD(&u, test_egress_changes);
        return unit_run(&u, "plan");
}
