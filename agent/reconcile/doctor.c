/* SPDX-License-Identifier: MIT */
/* The verdicts of doctor.h. For each desired destination: what the plan says (missing, conflict),
 * then every way traffic inside it could go elsewhere, each confirmed by a lookup of an address
 * inside the overlap: more specific routes in the agent's table, and the tables that policy rules
 * consult before it. Then one lookup of the destination itself. */
#include <stdarg.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "doctor.h"

#define DOCTOR_CONFIRM_MAX 16 /* lookups per destination */

/* One destination being checked. */
struct check {
        const struct doctor_input *in;
        int public_ifindex;     /* where the default route leaves, 0 when none */
        struct doctor_dest *d;
        unsigned lookups;
};

const char *doctor_verdict_to_string(enum doctor_verdict v) {
        switch (v) {
        case DOCTOR_OK:
                return "ok";
        case DOCTOR_SHADOWED:
                return "shadowed";
        case DOCTOR_RULE:
                return "rule";
        case DOCTOR_MISSING:
                return "missing";
        case DOCTOR_CONFLICT:
                return "conflict";
        }
        return "?";
}

const char *doctor_device_kind(const char *ifname) {
        static const struct {
                const char *prefix;
                const char *kind;
        } kinds[] = {
                { "docker", "a Docker bridge" }, { "br-", "a Docker bridge" },     { "tailscale", "Tailscale" },
                { "wg", "WireGuard" },            { "virbr", "a libvirt bridge" },  { "cni", "Kubernetes networking" },
                { "flannel", "Kubernetes networking" }, { "cali", "Kubernetes networking" }, { "zt", "ZeroTier" },
                { "tun", "a VPN tunnel" },        { "tap", "a VPN tunnel" },        { "lxdbr", "an LXD bridge" },
        };

        for (size_t i = 0; ifname && i < ELEMENTSOF(kinds); i++)
                if (strncmp(ifname, kinds[i].prefix, strlen(kinds[i].prefix)) == 0)
                        return kinds[i].kind;
        return NULL;
}

/* "blackhole 10.1.0.0/16 ... (a Docker bridge)" */
static const char *describe(const struct route *r, char *buf, size_t size) {
        const char *kind = doctor_device_kind(r->ifname);
        char s[ROUTE_STRLEN];

        snprintf(buf, size, "%s%s%s%s", route_to_string(r, s), kind ? " (" : "", kind ? kind : "", kind ? ")" : "");
        return buf;
}

static const char *describe_rule(const struct kernel_rule *r, char *buf, size_t size) {
        char src[CIDR_STRLEN], dst[CIDR_STRLEN], what[32];

        if (r->action == FR_ACT_TO_TBL)
                snprintf(what, sizeof what, "lookup %u", r->table);
        else
                snprintf(what, sizeof what, "%s", r->action == FR_ACT_BLACKHOLE ? "blackhole"
                                                  : r->action == FR_ACT_UNREACHABLE ? "unreachable"
                                                  : r->action == FR_ACT_PROHIBIT    ? "prohibit"
                                                                                    : "action");
        snprintf(buf, size, "rule %u: %sfrom %s%s%s %s", r->priority, r->invert ? "not " : "",
                 r->has_src ? cidr_to_string(&r->src, src) : "all", r->has_dst ? " to " : "",
                 r->has_dst ? cidr_to_string(&r->dst, dst) : "", what);
        return buf;
}

/* Traffic that leaves this way reaches the peered VPCs: through the private NIC, via the VPC
 * gateway or directly (the droplet's own VPC subnet). */
static bool our_path(const struct doctor_input *in, const struct route *r) {
        return route_is_unicast(r) && !r->multipath && r->ifindex == in->ifindex &&
               (r->gateway == in->gateway || r->gateway == 0);
}

/* DigitalOcean reserves these in every region: no VPC, so no peered VPC, is ever there. */
static bool reserved(const struct cidr *c) {
        static const struct cidr list[] = {
                { 0x0af40000u, 16 }, /* 10.244.0.0/16 */
                { 0x0af50000u, 16 }, /* 10.245.0.0/16 */
                { 0x0af60000u, 24 }, /* 10.246.0.0/24 */
                { 0x0ae50000u, 16 }, /* 10.229.0.0/16 */
        };
        for (size_t i = 0; i < ELEMENTSOF(list); i++)
                if (cidr_contains(&list[i], c))
                        return true;
        return false;
}

/* The droplet's anchor network: the connected /16 in 10.0.0.0/8 on the public NIC (the one the
 * default route leaves by). DigitalOcean reserves it per region; no VPC is there either. */
static bool anchor(const struct check *c, const struct route *r) {
        const struct cidr ten = { 0x0a000000u, 8 }, net = { r->dst, r->dst_len };

        return r->gateway == 0 && r->protocol == RTPROT_KERNEL && r->dst_len == 16 && cidr_contains(&ten, &net) &&
               c->public_ifindex > 0 && r->ifindex == c->public_ifindex;
}

/* A finding (why the verdict is what it is) goes before the context lines (our route, the anchor
 * network), so that the first line printed is the one that matters. */
static void add_line(struct doctor_dest *d, bool finding, const char *fmt, ...) _printf_(3, 4);
static void add_line(struct doctor_dest *d, bool finding, const char *fmt, ...) {
        char line[DOCTOR_LINE_MAX];
        size_t at;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        for (size_t i = 0; i < d->n_evidence; i++)
                if (streq(d->evidence[i], line))
                        return;
        if (d->n_evidence == DOCTOR_EVIDENCE_MAX) {
                d->more++;
                return;
        }
        at = finding ? d->n_findings++ : d->n_evidence;
        memmove(d->evidence[at + 1], d->evidence[at], (d->n_evidence - at) * sizeof d->evidence[0]);
        snprintf(d->evidence[at], DOCTOR_LINE_MAX, "%s", line);
        d->n_evidence++;
}

static void raise_to(struct doctor_dest *d, enum doctor_verdict v) {
        if (v > d->verdict)
                d->verdict = v;
}

/* An address inside c to look up: the last host, not the first, which is where a bridge or a
 * tunnel puts its own address (docker0 is 172.17.0.1), and a lookup of it finds the host itself. */
static uint32_t probe_of(const struct cidr *c) {
        uint32_t hosts = c->len == 0 ? UINT32_MAX : (UINT32_C(1) << (32 - c->len)) - 1;

        return c->len < 31 ? (c->addr | hosts) - 1 : c->addr;
}

/* Looks up an address inside the overlap of a candidate with the destination, and says what the
 * kernel takes there when it is not our path. cand: the route suspected, or NULL; rule: the rule
 * that led there, or NULL. */
static void confirm(struct check *c, const struct cidr *overlap, const struct route *cand, const struct kernel_rule *rule) {
        const struct doctor_input *in = c->in;
        uint32_t probe = probe_of(overlap);
        char a[IPV4_STRLEN], o[CIDR_STRLEN], rs[DOCTOR_LINE_MAX], ru[128];
        struct route l;
        int r;

        if (c->lookups++ >= DOCTOR_CONFIRM_MAX) {
                c->d->more++;
                return;
        }
        r = in->lookup(probe, &l, in->userdata);
        if (r >= 0 && our_path(in, &l))
                return;
        if (r < 0) {
                raise_to(c->d, rule ? DOCTOR_RULE : DOCTOR_SHADOWED);
                /* The kernel refuses lookups into routes that drop (blackhole: EINVAL). */
                if (cand && !route_is_unicast(cand))
                        add_line(c->d, true, "%s%s%s drops %s", rule ? describe_rule(rule, ru, sizeof ru) : "", rule ? ", then " : "",
                                 describe(cand, rs, sizeof rs), ipv4_to_string(probe, a));
                else
                        add_line(c->d, true, "%s%snothing takes %s in %s (%s)", rule ? describe_rule(rule, ru, sizeof ru) : "",
                                 rule ? ": " : "", ipv4_to_string(probe, a), cidr_to_string(overlap, o), strerror(-r));
        } else if (l.table != in->table) {
                raise_to(c->d, DOCTOR_RULE);
                add_line(c->d, true, "%s sends %s to table %u, where %s takes %s", rule ? describe_rule(rule, ru, sizeof ru) : "a policy rule",
                         cidr_to_string(overlap, o), l.table, describe(&l, rs, sizeof rs), ipv4_to_string(probe, a));
        } else {
                raise_to(c->d, DOCTOR_SHADOWED);
                add_line(c->d, true, "%s takes %s", describe(&l, rs, sizeof rs), ipv4_to_string(probe, a));
        }
}

/* The rule that sends packets to the agent's table: "from all lookup main" (32766), unless
 * another one does it earlier. */
static uint32_t table_rule_priority(const struct doctor_input *in) {
        uint32_t prio = 32766;

        for (size_t i = 0; i < in->n_rules; i++) {
                const struct kernel_rule *r = &in->rules[i];
                if (r->action == FR_ACT_TO_TBL && r->table == in->table && !r->has_src && !r->has_dst && !r->selective &&
                    !r->invert && r->suppress_prefixlen < 0 && r->priority < prio)
                        prio = r->priority;
        }
        return prio;
}

static bool rule_applies(const struct doctor_input *in, const struct kernel_rule *r, const struct cidr *dst) {
        if (r->selective || r->invert)
                return false;
        /* The droplet sends to the peers from its private address. */
        if (r->has_src && !cidr_contains_addr(&r->src, in->address))
                return false;
        return !r->has_dst || cidr_overlaps(&r->dst, dst);
}

static void check_rules(struct check *c, const struct cidr *dst) {
        const struct doctor_input *in = c->in;
        uint32_t before = table_rule_priority(in);

        for (size_t i = 0; i < in->n_rules; i++) {
                const struct kernel_rule *rule = &in->rules[i];

                if (rule->priority >= before || !rule_applies(in, rule, dst))
                        continue;
                if (rule->action == FR_ACT_BLACKHOLE || rule->action == FR_ACT_UNREACHABLE || rule->action == FR_ACT_PROHIBIT) {
                        struct cidr o = rule->has_dst && cidr_contains(dst, &rule->dst) ? rule->dst : *dst;
                        confirm(c, &o, NULL, rule);
                        continue;
                }
                if (rule->action != FR_ACT_TO_TBL || rule->table == RT_TABLE_LOCAL || rule->table == in->table)
                        continue;
                for (size_t k = 0; k < in->routes->n; k++) {
                        const struct route *r = &in->routes->routes[k];
                        struct cidr net = { r->dst, r->dst_len };
                        if (r->table != rule->table || !cidr_overlaps(&net, dst) || our_path(in, r) ||
                            (rule->suppress_prefixlen >= 0 && r->dst_len <= rule->suppress_prefixlen))
                                continue;
                        struct cidr o = cidr_contains(dst, &net) ? net : *dst;
                        if (rule->has_dst && cidr_contains(&o, &rule->dst))
                                o = rule->dst;
                        confirm(c, &o, r, rule);
                }
        }
}

static void check_shadows(struct check *c, const struct cidr *dst) {
        const struct doctor_input *in = c->in;
        char rs[DOCTOR_LINE_MAX];

        for (size_t k = 0; k < in->routes->n; k++) {
                const struct route *r = &in->routes->routes[k];
                struct cidr net = { r->dst, r->dst_len };

                if (r->table != in->table || r->dst_len <= dst->len || !cidr_contains(dst, &net) || our_path(in, r))
                        continue;
                if (anchor(c, r)) {
                        add_line(c->d, false, "%s: the droplet's anchor network, where no VPC can be", describe(r, rs, sizeof rs));
                        continue;
                }
                if (reserved(&net)) {
                        add_line(c->d, false, "%s: inside a range DigitalOcean reserves, where no VPC can be", describe(r, rs, sizeof rs));
                        continue;
                }
                confirm(c, &net, r, NULL);
        }
}

static void check_destination(struct check *c, const struct plan_action *a) {
        const struct doctor_input *in = c->in;
        struct doctor_dest *d = c->d;
        char rs[DOCTOR_LINE_MAX], ws[DOCTOR_LINE_MAX], p[IPV4_STRLEN];
        int r;

        d->dst = (struct cidr) { a->want.dst, a->want.dst_len };
        switch (a->kind) {
        case PLAN_KEEP:
                add_line(d, false, "our route: %s", describe(&a->have, rs, sizeof rs));
                break;
        case PLAN_FOREIGN_EQUAL:
                add_line(d, false, "an equal route of another program: %s", describe(&a->have, rs, sizeof rs));
                break;
        case PLAN_ADD:
                raise_to(d, DOCTOR_MISSING);
                add_line(d, true, "no route %s in table %u; `vpc-peer-routes sync` installs it", describe(&a->want, ws, sizeof ws),
                         in->table);
                break;
        case PLAN_REPLACE:
                raise_to(d, DOCTOR_MISSING);
                add_line(d, true, "our route %s differs from the one wanted, %s", describe(&a->have, rs, sizeof rs),
                         describe(&a->want, ws, sizeof ws));
                break;
        case PLAN_CONFLICT:
                raise_to(d, DOCTOR_CONFLICT);
                add_line(d, true, "%s holds the destination and metric and goes elsewhere", describe(&a->have, rs, sizeof rs));
                break;
        default:
                break;
        }

        check_shadows(c, &d->dst);
        check_rules(c, &d->dst);

        /* And the destination itself, for whatever the above did not foresee. */
        d->probe = probe_of(&d->dst);
        r = in->lookup(d->probe, &d->lookup, in->userdata);
        d->lookup_error = r < 0 ? r : 0;
        if (r < 0)
                add_line(d, true, "nothing takes %s (%s)", ipv4_to_string(d->probe, p), strerror(-r));
        else if (!our_path(in, &d->lookup)) {
                if (d->verdict == DOCTOR_OK)
                        raise_to(d, d->lookup.table != in->table ? DOCTOR_RULE : DOCTOR_SHADOWED);
                add_line(d, true, "%s takes %s%s", describe(&d->lookup, rs, sizeof rs), ipv4_to_string(d->probe, p),
                         d->lookup.table != in->table ? " (a policy rule sends it to that table)" : "");
        }
        /* Where traffic leaves by another way, the replies still arrive on the private NIC. */
        if (in->rp_filter == 1 && d->verdict != DOCTOR_OK && d->verdict != DOCTOR_CONFLICT)
                add_line(d, true, "rp_filter is strict on %s: replies from the peers that arrive there are dropped too", in->ifname);
}

/* Egress: does a packet to the internet take the egress table's default via the NAT gateway? */
static void check_egress(const struct doctor_input *in, struct doctor_report *rep) {
        char rs[ROUTE_STRLEN], gw[IPV4_STRLEN], probe[IPV4_STRLEN];

        if (!in->egress_gateway)
                return;
        rep->egress_checked = true;
        rep->egress_error = in->lookup(DOCTOR_EGRESS_PROBE, &rep->egress, in->userdata);
        rep->egress_ok = rep->egress_error >= 0 && rep->egress.table == EGRESS_TABLE && rep->egress.gateway == in->egress_gateway;
        if (rep->egress_ok || rep->n_problems >= ELEMENTSOF(rep->problems))
                return;
        ipv4_to_string(DOCTOR_EGRESS_PROBE, probe);
        if (rep->egress_error < 0)
                snprintf(rep->problems[rep->n_problems++], DOCTOR_LINE_MAX, "egress: no route takes %s (%s)", probe,
                         strerror(-rep->egress_error));
        else
                snprintf(rep->problems[rep->n_problems++], DOCTOR_LINE_MAX,
                         "egress: %s takes %s, not the NAT gateway %s in table %u", probe,
                         route_to_string(&rep->egress, rs), ipv4_to_string(in->egress_gateway, gw), EGRESS_TABLE);
}

int doctor_run(const struct doctor_input *in, struct doctor_report *ret) {
        struct doctor_report rep = {};
        struct check c = { .in = in };
        char gw[IPV4_STRLEN];

        for (size_t i = 0; i < in->routes->n; i++) {
                const struct route *r = &in->routes->routes[i];
                if (r->dst_len == 0 && r->table == in->table && r->ifindex != in->ifindex && !c.public_ifindex)
                        c.public_ifindex = r->ifindex;
        }
        for (size_t i = 0; i < in->plan->n; i++)
                if (in->plan->actions[i].kind != PLAN_DELETE)
                        rep.n++;
        if (rep.n > 0 && !(rep.dests = calloc(rep.n, sizeof *rep.dests)))
                return -ENOMEM;
        rep.n = 0;
        rep.ok = true;
        for (size_t i = 0; i < in->plan->n; i++) {
                const struct plan_action *a = &in->plan->actions[i];
                if (a->kind == PLAN_DELETE)
                        continue;
                c.d = &rep.dests[rep.n];
                c.lookups = 0;
                check_destination(&c, a);
                rep.ok = rep.ok && rep.dests[rep.n].verdict == DOCTOR_OK;
                rep.n++;
        }

        if (in->neigh_state & NUD_FAILED)
                snprintf(rep.problems[rep.n_problems++], DOCTOR_LINE_MAX,
                         "the VPC gateway %s does not answer ARP on %s (neighbour FAILED): nothing routed through it arrives",
                         ipv4_to_string(in->gateway, gw), in->ifname);
        if (in->route_mtu && in->link_mtu && in->link_mtu < in->route_mtu)
                snprintf(rep.problems[rep.n_problems++], DOCTOR_LINE_MAX,
                         "%s has MTU %u, less than the routes' mtu %u: packets larger than %u bytes to the peers are dropped "
                         "(set mtu = %u)",
                         in->ifname, in->link_mtu, in->route_mtu, in->link_mtu, in->link_mtu);
        check_egress(in, &rep);
        rep.ok = rep.ok && rep.n_problems == 0;
        *ret = rep;
        return 0;
}

void doctor_report_done(struct doctor_report *r) {
        free(r->dests);
        *r = (struct doctor_report) {};
}
