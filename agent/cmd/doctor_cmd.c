/* SPDX-License-Identifier: MIT */
/* `vpc-peer-routes doctor [--json]`: gathers what doctor.c judges (every route, every rule,
 * lookups, the gateway's neighbour entry, the NIC's MTU, rp_filter) and prints the verdicts.
 * Read only: it never changes a route. */
#include <linux/neighbour.h>
#include <net/if.h>

#include "commands.h"
#include "doctor.h"
#include "json.h"
#include "log.h"
#include "reconcile.h"

static void name_device(struct route *r) {
        char name[IF_NAMESIZE];

        if (r->ifindex > 0 && !r->ifname[0] && if_indextoname((unsigned) r->ifindex, name))
                snprintf(r->ifname, sizeof r->ifname, "%s", name);
}

static int lookup(uint32_t address, struct route *ret, void *userdata) {
        int r = kernel_route_lookup(userdata, address, ret);

        if (r >= 0)
                name_device(ret);
        return r;
}

static int read_int(const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t size;

        if (read_full_file(path, 64, &text, &size) < 0)
                return -1;
        return atoi(text);
}

/* The kernel applies the larger of conf/all and the interface's own value. */
static int rp_filter_of(const char *ifname) {
        char path[96];
        int all, dev;

        all = read_int("/proc/sys/net/ipv4/conf/all/rp_filter");
        snprintf(path, sizeof path, "/proc/sys/net/ipv4/conf/%s/rp_filter", ifname);
        dev = read_int(path);
        return all < 0 && dev < 0 ? -1 : MAX(all, dev);
}

static const char *neigh_state_name(uint16_t s) {
        return s & NUD_REACHABLE  ? "REACHABLE"
               : s & NUD_STALE    ? "STALE"
               : s & NUD_DELAY    ? "DELAY"
               : s & NUD_PROBE    ? "PROBE"
               : s & NUD_PERMANENT ? "PERMANENT"
               : s & NUD_NOARP    ? "NOARP"
               : s & NUD_INCOMPLETE ? "INCOMPLETE"
               : s & NUD_FAILED   ? "FAILED"
               : s                ? "other"
                                  : "none yet";
}

struct doctor_run {
        struct route_set routes;
        struct kernel_rule *rules;
        size_t n_rules;
        struct doctor_input in;
        struct doctor_report report;
};

static void doctor_run_done(struct doctor_run *d) {
        route_set_done(&d->routes);
        free(d->rules);
        doctor_report_done(&d->report);
}

/* rc: prepared and planned with KERNEL_LIST_FULL. */
static int doctor_gather(struct kernel_ctx *nl, const struct config *c, const struct reconcile *rc, struct doctor_run *d) {
        int r;

        r = kernel_route_dump_all(nl, &d->routes);
        if (r < 0)
                return log_error_errno(r, "Could not read the routing tables: %m");
        for (size_t i = 0; i < d->routes.n; i++)
                name_device(&d->routes.routes[i]);
        r = kernel_rule_dump(nl, &d->rules, &d->n_rules);
        if (r < 0)
                return log_error_errno(r, "Could not read the routing rules: %m");
        d->in = (struct doctor_input) {
                .ifindex = rc->link.ifindex,
                .ifname = rc->link.ifname,
                .address = rc->md.address,
                .gateway = rc->md.gateway,
                .table = c->table,
                .link_mtu = rc->link.mtu,
                .route_mtu = c->mtu,
                .rp_filter = rp_filter_of(rc->link.ifname),
                .plan = &rc->plan,
                .routes = &d->routes,
                .rules = d->rules,
                .n_rules = d->n_rules,
                .lookup = lookup,
                .userdata = nl,
        };
        for (size_t i = 0; i < rc->egress.routes.n; i++)
                if (rc->egress.routes.routes[i].dst_len == 0)
                        d->in.egress_gateway = rc->egress.routes.routes[i].gateway;
        if (kernel_neigh_state(nl, rc->link.ifindex, rc->md.gateway, &d->in.neigh_state) < 0)
                d->in.neigh_state = 0;
        r = doctor_run(&d->in, &d->report);
        if (r < 0)
                return log_oom();
        return 0;
}

int doctor_summary(struct kernel_ctx *nl, const struct config *c, const struct reconcile *rc, char *buf, size_t size) {
        _cleanup_(doctor_run_done) struct doctor_run d = {};
        size_t used = 0, bad = 0;

        buf[0] = '\0';
        if (doctor_gather(nl, c, rc, &d) < 0)
                return -EIO;
        if (d.report.ok)
                return 0;
        for (size_t i = 0; i < d.report.n; i++) {
                char net[CIDR_STRLEN];
                if (d.report.dests[i].verdict == DOCTOR_OK)
                        continue;
                if (used < size)
                        used += (size_t) snprintf(buf + used, size - used, "%s%s %s", bad++ ? ", " : "",
                                                  cidr_to_string(&d.report.dests[i].dst, net),
                                                  doctor_verdict_to_string(d.report.dests[i].verdict));
        }
        for (size_t i = 0; i < d.report.n_problems && used < size; i++)
                used += (size_t) snprintf(buf + used, size - used, "%s%s", bad++ ? "; " : "", d.report.problems[i]);
        return 1;
}

/* DigitalOcean's own peering helpers on newer images, which install the routes themselves. */
static const char *do_peering_helper(void) {
        static const char *const paths[] = {
                "/etc/systemd/system/vpc-peering.service",
                "/lib/systemd/system/vpc-peering.service",
                "/usr/lib/systemd/system/vpc-peering.service",
                "/etc/NetworkManager/dispatcher.d/vpc-peering",
                "/etc/network/if-up.d/vpc-peering",
        };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (access(paths[i], F_OK) == 0)
                        return paths[i];
        return NULL;
}

static void print_text(FILE *f, const struct doctor_run *d) {
        const struct doctor_input *in = &d->in;
        const struct doctor_report *rep = &d->report;
        const char *helper = do_peering_helper();
        char gw[IPV4_STRLEN], net[CIDR_STRLEN], rs[ROUTE_STRLEN];
        size_t ok = 0;

        fprintf(f, "Private NIC: %s, MTU %u, rp_filter %d%s\n", in->ifname, in->link_mtu, in->rp_filter,
                in->rp_filter == 1 ? " (strict)" : in->rp_filter == 2 ? " (loose)" : in->rp_filter == 0 ? " (off)" : "");
        fprintf(f, "Gateway:     %s, neighbour %s\n", ipv4_to_string(in->gateway, gw), neigh_state_name(in->neigh_state));
        for (size_t i = 0; i < rep->n; i++) {
                const struct doctor_dest *x = &rep->dests[i];
                ok += x->verdict == DOCTOR_OK;
                fprintf(f, "%-18s %-9s %s\n", cidr_to_string(&x->dst, net), doctor_verdict_to_string(x->verdict),
                        x->n_evidence ? x->evidence[0] : "");
                for (size_t k = 1; k < x->n_evidence; k++)
                        fprintf(f, "%-18s %-9s %s\n", "", "", x->evidence[k]);
                if (x->more)
                        fprintf(f, "%-18s %-9s ... and %zu more\n", "", "", x->more);
        }
        if (rep->egress_checked && rep->egress_ok)
                fprintf(f, "Egress:      ok: %s takes %s\n", ipv4_to_string(DOCTOR_EGRESS_PROBE, gw),
                        route_to_string(&rep->egress, rs));
        for (size_t i = 0; i < rep->n_problems; i++)
                fprintf(f, "Problem:     %s\n", rep->problems[i]);
        if (helper)
                fprintf(f, "Note:        DigitalOcean's peering helper %s is installed; its routes count as present\n",
                        helper);
        fprintf(f, "%zu of %zu destination%s ok%s\n", ok, rep->n, rep->n == 1 ? "" : "s",
                rep->n_problems ? "; see the problems above" : "");
}

static int print_json(FILE *f, const struct doctor_run *d) {
        const struct doctor_input *in = &d->in;
        const struct doctor_report *rep = &d->report;
        cJSON *root = cJSON_CreateObject(), *o, *list;
        char gw[IPV4_STRLEN], net[CIDR_STRLEN], a[IPV4_STRLEN];

        if (!root)
                return -ENOMEM;
        cJSON_AddNumberToObject(root, "version", 1);
        cJSON_AddBoolToObject(root, "ok", rep->ok);
        if ((o = cJSON_AddObjectToObject(root, "interface"))) {
                cJSON_AddStringToObject(o, "name", in->ifname);
                cJSON_AddNumberToObject(o, "mtu", in->link_mtu);
                cJSON_AddNumberToObject(o, "rp_filter", in->rp_filter);
        }
        if ((o = cJSON_AddObjectToObject(root, "gateway"))) {
                cJSON_AddStringToObject(o, "address", ipv4_to_string(in->gateway, gw));
                cJSON_AddStringToObject(o, "neighbour", neigh_state_name(in->neigh_state));
        }
        list = cJSON_AddArrayToObject(root, "problems");
        for (size_t i = 0; list && i < rep->n_problems; i++)
                cJSON_AddItemToArray(list, cJSON_CreateString(rep->problems[i]));
        if (rep->egress_checked && (o = cJSON_AddObjectToObject(root, "egress"))) {
                cJSON_AddBoolToObject(o, "ok", rep->egress_ok);
                cJSON_AddStringToObject(o, "probe", ipv4_to_string(DOCTOR_EGRESS_PROBE, a));
                if (rep->egress_error < 0)
                        cJSON_AddNullToObject(o, "takes");
                else
                        cJSON_AddItemToObject(o, "takes", json_from_route(&rep->egress));
        } else
                cJSON_AddNullToObject(root, "egress");
        if (do_peering_helper())
                cJSON_AddStringToObject(root, "digitalocean_helper", do_peering_helper());
        else
                cJSON_AddNullToObject(root, "digitalocean_helper");
        list = cJSON_AddArrayToObject(root, "destinations");
        for (size_t i = 0; list && i < rep->n; i++) {
                const struct doctor_dest *x = &rep->dests[i];
                cJSON *e, *ev;
                if (!(e = cJSON_CreateObject()))
                        break;
                cJSON_AddItemToArray(list, e);
                cJSON_AddStringToObject(e, "destination", cidr_to_string(&x->dst, net));
                cJSON_AddStringToObject(e, "verdict", doctor_verdict_to_string(x->verdict));
                ev = cJSON_AddArrayToObject(e, "evidence");
                for (size_t k = 0; ev && k < x->n_evidence; k++)
                        cJSON_AddItemToArray(ev, cJSON_CreateString(x->evidence[k]));
                cJSON_AddStringToObject(e, "probe", ipv4_to_string(x->probe, a));
                if (x->lookup_error)
                        cJSON_AddNullToObject(e, "takes");
                else
                        cJSON_AddItemToObject(e, "takes", json_from_route(&x->lookup));
        }
        return json_print_free(f, root);
}

int command_doctor(const struct config *c, bool json) {
        _cleanup_(api_peers_done) struct api_peers peers = {};
        _cleanup_reconcile_ struct reconcile rc = { .read_only = true };
        _cleanup_(doctor_run_done) struct doctor_run d = {};
        _cleanup_kernel_ struct kernel_ctx *nl = NULL;
        int r;

        if (command_open_netlink(&nl) < 0)
                return EXIT_FAILED;
        r = reconcile_prepare_full(&rc, nl, c, &peers);
        if (r < 0) {
                log_error("%s", rc.err.msg);
                return EXIT_FAILED;
        }
        if (doctor_gather(nl, c, &rc, &d) < 0)
                return EXIT_FAILED;
        if (json) {
                if (print_json(stdout, &d) < 0)
                        return log_oom(), EXIT_FAILED;
        } else
                print_text(stdout, &d);
        return d.report.ok ? EXIT_OK : EXIT_CONFLICT;
}
