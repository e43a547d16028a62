/* SPDX-License-Identifier: MIT */
/* The reconcile steps shared by every subcommand. Any failure before the plan changes nothing. */
#include <stdarg.h>

#include "api_round.h"
#include "desired.h"
#include "log.h"
#include "metadata_fetch.h"
#include "reconcile.h"

void reconcile_done(struct reconcile *rc) {
        free(rc->nets);
        route_set_done(&rc->desired);
        route_set_done(&rc->own);
        route_set_done(&rc->foreign);
        plan_done(&rc->plan);
        egress_state_done(&rc->egress);
        egress_plan_done(&rc->egress_plan);
        *rc = (struct reconcile) {};
}

int reconcile_fail(struct reconcile *rc, int error, const char *fmt, ...) {
        va_list ap;

        rc->error = error < 0 ? error : -EIO;
        va_start(ap, fmt);
        vsnprintf(rc->err.msg, sizeof rc->err.msg, fmt, ap);
        va_end(ap);
        return rc->error;
}

int reconcile_parse(struct reconcile *rc, const struct config *c, const char *body, size_t size) {
        struct error err = {0};
        int r;

        r = metadata_parse(body, size, &rc->md, &err);
        if (r < 0)
                return reconcile_fail(rc, r, "metadata: %s", err.msg);
        r = metadata_resolve_gateway(&rc->md, c->gateway, &err);
        if (r < 0)
                return reconcile_fail(rc, r, "%s", err.msg);
        rc->have_metadata = true;
        return 0;
}

const char *reconcile_nic_line(const struct reconcile *rc, const struct config *c, char *buf, size_t size) {
        char mac[MAC_STRLEN], a[IPV4_STRLEN], gw[IPV4_STRLEN], why[64], origin[80] = "";

        if (gateway_origin_explain(&rc->md, why, sizeof why)[0])
                snprintf(origin, sizeof origin, " (%s)", why);
        snprintf(buf, size, "Private NIC %s (%s) %s/%u, gateway %s%s, vpc_peering_enabled=%s%s", rc->link.ifname,
                 mac_to_string(rc->md.mac, mac), ipv4_to_string(rc->md.address, a), rc->md.prefixlen,
                 ipv4_to_string(rc->md.gateway, gw), origin, tristate_to_string(rc->md.peering_enabled),
                 rc->md.peering_enabled == TRISTATE_FALSE
                         ? (c->peering_flag == PEERING_FLAG_HONOR ? " (peering_flag = honor: no routes wanted)"
                                                                  : " (peering_flag = ignore: installing anyway)")
                         : "");
        return buf;
}

void reconcile_note(struct reconcile *rc, const char *fmt, ...) {
        char line[512];
        size_t n = strlen(rc->notes);
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (!rc->quiet_notes)
                log_warning("%s", line);
        snprintf(rc->notes + n, sizeof rc->notes - n, "%s\n", line);
}

static void note_inside(const struct cidr *net, const struct cidr *subnet, void *userdata) {
        char a[CIDR_STRLEN], b[CIDR_STRLEN];

        reconcile_note(userdata, "Skipping %s: it lies inside the droplet's private subnet %s, which is reached directly",
                       cidr_to_string(net, a), cidr_to_string(subnet, b));
}

int reconcile_find_link(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c) {
        char mac[MAC_STRLEN], other[MAC_STRLEN];
        int r;

        mac_to_string(rc->md.mac, mac);
        if (c->interface) {
                r = kernel_link_find_by_name(nl, c->interface, rc->md.address, &rc->link);
                if (r == -ENODEV)
                        return reconcile_fail(rc, r, "interface %s (from the config's interface key) does not exist",
                                              c->interface);
                if (r < 0)
                        return reconcile_fail(rc, r, "Could not read network interfaces: %s", strerror(-r));
                if (!rc->link.has_mac || memcmp(rc->link.mac, rc->md.mac, 6) != 0)
                        reconcile_note(rc, "interface = %s has MAC %s, but the metadata's private NIC has %s; using %s as configured",
                                       c->interface, rc->link.has_mac ? mac_to_string(rc->link.mac, other) : "none", mac,
                                       c->interface);
        } else {
                r = kernel_link_find_by_mac(nl, rc->md.mac, rc->md.address, &rc->link);
                if (r == -ENODEV)
                        return reconcile_fail(rc, r,
                                              "no network interface has the private NIC's MAC %s "
                                              "(interfaces.private[0].mac); is the VPC interface attached?",
                                              mac);
                if (r < 0)
                        return reconcile_fail(rc, r, "Could not read network interfaces: %s", strerror(-r));
        }
        rc->have_link = true;
        return 0;
}

int reconcile_link_ready(const struct reconcile *rc, char *why, size_t size) {
        char mac[MAC_STRLEN], a[IPV4_STRLEN];

        if (!rc->link.up) {
                snprintf(why, size, "private NIC %s (%s) is down", rc->link.ifname, mac_to_string(rc->md.mac, mac));
                return -ENETDOWN;
        }
        if (!rc->link.has_address) {
                snprintf(why, size, "private NIC %s does not carry the private address %s/%u", rc->link.ifname,
                         ipv4_to_string(rc->md.address, a), rc->md.prefixlen);
                return -EADDRNOTAVAIL;
        }
        return 0;
}

int reconcile_prepare_blocking(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, struct api_peers *peers) {
        _cleanup_free_ char *body = NULL;
        struct error err = {0};
        size_t size = 0;
        int r;

        rc->times.start = now_usec_monotonic();
        /* status and doctor only look: a record they cannot read (the service's, mode 0600)
         * changes nothing they show. */
        reconcile_load_owner(rc, c, !rc->read_only);
        r = metadata_fetch_blocking(c, &body, &size, NULL, &err);
        if (r < 0)
                return reconcile_fail(rc, r, "metadata: %s", err.msg);
        rc->times.fetched = now_usec_monotonic();
        r = reconcile_parse(rc, c, body, size);
        if (r < 0)
                return r;
        rc->times.parsed = now_usec_monotonic();
        r = reconcile_find_link(rc, nl, c);
        rc->times.linked = now_usec_monotonic();
        if (r < 0 || c->source != SOURCE_API)
                return r;
        r = metadata_require_droplet_id(&rc->md, &err);
        if (r < 0)
                return reconcile_fail(rc, r, "%s", err.msg);
        r = api_round_blocking(c, &(struct api_target) { rc->md.droplet_id, rc->md.address, rc->md.prefixlen },
                               peers->own_vpc, peers, &rc->api_retry_after, &err);
        if (r < 0) {
                rc->api_failed = true;
                return reconcile_fail(rc, r, "%s", err.msg);
        }
        return reconcile_use_peers(rc, nl, c, peers, true);
}

int reconcile_prepare_full(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, struct api_peers *peers) {
        int r = reconcile_prepare_blocking(rc, nl, c, peers);

        return r < 0 ? r : reconcile_plan(rc, nl, c, KERNEL_LIST_FULL);
}

struct skip_log {
        int level;
};

static void log_skip(const struct api_peer *p, const char *why, void *userdata) {
        const struct skip_log *s = userdata;
        char net[CIDR_STRLEN];

        log_full(s->level, "Skipping %s of VPC %s (peering %s): %s", cidr_to_string(&p->range, net),
                 p->vpc_name[0] ? p->vpc_name : p->vpc_id, p->peering_name[0] ? p->peering_name : p->peering_id, why);
}

int reconcile_use_peers(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, const struct api_peers *peers,
                        bool loud) {
        _cleanup_free_ struct connected_subnet *connected = NULL;
        struct skip_log s = { .level = loud ? LOG_WARNING : LOG_DEBUG };
        size_t n_connected = 0;
        int r;

        r = kernel_link_connected(nl, &connected, &n_connected);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not read the droplet's addresses: %s", strerror(-r));
        free(rc->nets);
        rc->nets = NULL;
        r = desired_api_nets(peers, connected, n_connected, c->allow_non_private, &rc->nets, &rc->n_nets, log_skip, &s);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not compute the desired routes: %s", strerror(-r));
        rc->have_nets = true;
        rc->peers = peers;
        return 0;
}

int reconcile_load_owner(struct reconcile *rc, const struct config *c, bool loud) {
        int r;

        if (!c->track_owner)
                return 0;
        r = owner_read(c->owner_file, &rc->previous);
        rc->have_previous = r >= 0;
        if (r >= 0 || r == -ENOENT)
                return 0;
        if (loud)
                log_warning("Ignoring %s: %s; no route of an earlier protocol or table is adopted", c->owner_file,
                            r == -EBADMSG ? "not an owner record"
                            : r == -EPROTO ? "it names the protocol number of the kernel or another program"
                                           : strerror(-r));
        return r;
}

void reconcile_save_owner(struct reconcile *rc, const struct config *c) {
        struct owner now = { .protocol = c->protocol, .table = c->table };
        char t[12], t0[12];
        int r;

        if (!c->track_owner || (rc->have_previous && owner_equal(&rc->previous, &now)))
                return;
        r = owner_write(c->owner_file, &now);
        if (r < 0) {
                log_warning_errno(r, "Could not write %s: %m; a later change of protocol or table will not move the routes",
                                  c->owner_file);
                return;
        }
        if (rc->have_previous)
                log_info("Own routes now carry protocol %u in table %s (they carried %u in table %s)", now.protocol,
                         table_to_string(now.table, t), rc->previous.protocol, table_to_string(rc->previous.table, t0));
        rc->previous = now;
        rc->have_previous = true;
}

/* The config names another protocol or table than own routes carried so far: those routes are
 * still ours. They join the own routes, so that the plan moves each (a replacement under the new
 * protocol) or deletes it; and they are no foreign route. */
static int add_previous_own(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c) {
        _cleanup_route_set_ struct route_set old = {}, none = {}, ignored = {};
        size_t kept = 0;
        int r;

        if (!rc->have_previous || (rc->previous.protocol == c->protocol && rc->previous.table == c->table))
                return 0;
        r = kernel_route_list(nl, KERNEL_LIST_FAST, rc->previous.table, rc->previous.protocol, 0, &none, &old, &ignored);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rc->foreign.n; i++) {
                const struct route *f = &rc->foreign.routes[i];
                if (f->protocol != rc->previous.protocol || f->table != rc->previous.table)
                        rc->foreign.routes[kept++] = *f;
        }
        rc->foreign.n = kept;
        for (size_t i = 0; i < old.n; i++)
                if ((r = route_set_add(&rc->own, &old.routes[i])) < 0)
                        return r;
        route_set_sort(&rc->own);
        return 0;
}

int reconcile_plan(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, enum kernel_route_mode mode) {
        int r;

        r = desired_compute(c, &rc->md, rc->link.ifindex, rc->link.ifname, rc->have_nets ? rc->nets : c->routes,
                            rc->have_nets ? rc->n_nets : c->n_routes, note_inside, rc, &rc->desired);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not compute the desired routes: %s", strerror(-r));
        r = kernel_route_list(nl, mode, c->table, c->protocol, rc->link.ifindex, &rc->desired, &rc->own, &rc->foreign);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not read the routing table: %s", strerror(-r));
        r = add_previous_own(rc, nl, c);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not read the routing table: %s", strerror(-r));
        plan_done(&rc->plan);
        r = plan_compute(&rc->desired, &rc->own, &rc->foreign, c->protocol, &rc->plan);
        if (r < 0)
                return reconcile_fail(rc, r, "Could not plan: %s", strerror(-r));
        rc->have_plan = true;
        r = reconcile_egress_plan(rc, nl, c);
        if (r < 0)
                return r;
        rc->times.planned = now_usec_monotonic();
        return 0;
}

void reconcile_log_conflicts(const struct reconcile *rc) {
        char buf[PLAN_ACTION_STRLEN];

        for (size_t i = 0; i < rc->plan.n; i++)
                if (rc->plan.actions[i].kind == PLAN_CONFLICT)
                        log_warning("%s", plan_action_to_string(&rc->plan.actions[i], buf, sizeof buf));
}

int reconcile_apply(struct reconcile *rc, struct kernel_ctx *nl, const struct config *c, bool quiet_failures) {
        int r;

        if (plan_has_changes(&rc->plan)) {
                rc->applied_any = true;
                r = kernel_apply_plan(nl, &rc->plan, quiet_failures, &rc->applied);
                if (r < 0)
                        return reconcile_fail(rc, r, "Could not talk to the kernel: %s", strerror(-r));
                /* The kernel refused an add because a route of another program holds the slot on
                 * another device: look at the whole table once to name it. */
                if (rc->applied.conflicts > 0)
                        (void) reconcile_plan(rc, nl, c, KERNEL_LIST_FULL);
        }
        r = reconcile_egress_apply(rc, nl, quiet_failures);
        rc->times.applied = now_usec_monotonic();
        if (rc->applied.failed > 0)
                return reconcile_fail(rc, -EIO, "%zu of %zu route changes failed", rc->applied.failed,
                                      rc->applied.failed + rc->applied.ok + rc->applied.conflicts);
        return r;
}

int reconcile_exit_code(const struct reconcile *rc) {
        if (rc->error < 0)
                return rc->usage_error ? 2 : 1;
        if (rc->applied.conflicts > 0 || (rc->have_plan && rc->plan.count[PLAN_CONFLICT] > 0))
                return 3;
        return 0;
}

const char *reconcile_routes_summary(const struct plan *p, size_t n_desired, const struct metadata *md, const struct config *c,
                                     const char *ifname, char *buf, size_t size) {
        char gw[IPV4_STRLEN];
        size_t n = p->count[PLAN_KEEP] + p->count[PLAN_ADD] + p->count[PLAN_REPLACE] + p->count[PLAN_FOREIGN_EQUAL];

        if (n_desired == 0)
                snprintf(buf, size, "no routes wanted (%s)",
                         md->peering_enabled == TRISTATE_FALSE && c->peering_flag == PEERING_FLAG_HONOR
                                 ? "vpc_peering_enabled is false"
                         : c->source == SOURCE_API ? "no ACTIVE peering to route"
                                                   : "every network lies inside the private subnet");
        else if (n > 0 && p->count[PLAN_FOREIGN_EQUAL] == n)
                /* Every route is another program's (DigitalOcean's own vpc-peering.service, a
                 * network manager): say so, or "in sync" reads as the agent's doing. */
                snprintf(buf, size, "%zu route%s present, held by another program (via %s dev %s)%s", n, n == 1 ? "" : "s",
                         ipv4_to_string(md->gateway, gw), ifname, p->count[PLAN_CONFLICT] ? ", with conflicts" : "");
        else if (p->count[PLAN_FOREIGN_EQUAL] > 0)
                snprintf(buf, size, "%zu route%s via %s dev %s (%zu held by another program)%s", n, n == 1 ? "" : "s",
                         ipv4_to_string(md->gateway, gw), ifname, p->count[PLAN_FOREIGN_EQUAL],
                         p->count[PLAN_CONFLICT] ? ", with conflicts" : "");
        else
                snprintf(buf, size, "%zu route%s via %s dev %s%s", n, n == 1 ? "" : "s", ipv4_to_string(md->gateway, gw), ifname,
                         p->count[PLAN_CONFLICT] ? ", with conflicts" : "");
        return buf;
}
