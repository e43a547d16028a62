/* SPDX-License-Identifier: MIT */
/* Reconciling in the service: from the last good metadata (and API answer) to the kernel, on
 * every poll that needs it and, within milliseconds, on every kernel event that touches the
 * agent's routes, the private NIC or its addresses. */
#include "daemon_internal.h"
#include "log.h"

/* Kernel events are coalesced for this long: one heal per burst (a link flap deletes every
 * route at once). */
#define HEAL_DEBOUNCE_USEC (10 * 1000ULL)

static void set_waiting(struct daemon *d, const char *why) {
        if (streq(d->waiting, why))
                return;
        if (*why)
                log_notice("Waiting: %s", why);
        else if (d->waiting[0])
                log_info("No longer waiting: the private NIC is ready");
        snprintf(d->waiting, sizeof d->waiting, "%s", why);
}

static void log_nic_line(struct daemon *d, const struct reconcile *rc) {
        char line[RECONCILE_NIC_LINE_MAX];

        reconcile_nic_line(rc, d->config, line, sizeof line);
        if (!streq(line, d->nic_line)) {
                log_info("%s", line);
                snprintf(d->nic_line, sizeof d->nic_line, "%s", line);
        }
}

int daemon_reconcile(struct daemon *d, enum trigger trigger) {
        _cleanup_reconcile_ struct reconcile rc = {};
        char why[256];
        bool quiet;
        int r;

        if (!d->have_md)
                return 0;
        if (d->config->source == SOURCE_API && !d->have_api)
                return 0; /* no answer yet: nothing is known to be unwanted */
        d->reconciles++;
        rc.md = d->md;
        rc.have_metadata = true;

        r = reconcile_find_link(&rc, d->nl, d->config);
        if (r == -ENODEV) {
                d->have_link = false;
                set_waiting(d, rc.error_msg);
                return 0;
        }
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return r;
        }
        d->link = rc.link;
        d->have_link = true;
        if (reconcile_link_ready(&rc, why, sizeof why) < 0) {
                set_waiting(d, why);
                return 0;
        }
        set_waiting(d, "");
        log_nic_line(d, &rc);

        if (d->config->source == SOURCE_API) {
                r = reconcile_use_peers(&rc, d->nl, d->config, &d->peers, d->peers_changed);
                if (r < 0) {
                        log_error("%s", rc.error_msg);
                        return r;
                }
                d->peers_changed = false;
        }
        r = reconcile_plan(&rc, d->nl, d->config, NL_LIST_FAST);
        if (r < 0) {
                log_error("%s", rc.error_msg);
                return r;
        }
        /* The very same plan failed last time: say so once, not every round. */
        quiet = d->last_failed && plan_equal(&rc.plan, &d->plan);
        r = reconcile_apply(&rc, d->nl, d->config, quiet);
        if (!plan_conflicts_equal(&rc.plan, &d->plan))
                reconcile_log_conflicts(&rc);
        if (r < 0 && !quiet)
                log_error("%s", rc.error_msg);
        d->last_failed = r < 0;

        if (rc.applied_any || !d->in_sync_since)
                d->in_sync_since = daemon_now_sec();
        if (rc.applied_any) {
                if (trigger == TRIGGER_EVENT && rc.applied.ok > 0)
                        d->heals++;
                /* What is installed now, for the state file. */
                _cleanup_route_set_ struct route_set foreign = {};
                (void) nl_route_list(d->nl, NL_LIST_FAST, d->config->table, d->config->protocol, rc.link.ifindex,
                                      &rc.desired, &rc.own, &foreign);
        }

        route_set_move(&d->desired, &rc.desired);
        route_set_move(&d->own, &rc.own);
        plan_move(&d->plan, &rc.plan);
        if (r >= 0)
                d->last_success = daemon_now_sec();
        return r;
}

/* Every change to own routes, to a route in a desired slot, to the NIC or its addresses comes as
 * a kernel event and is healed then (on_kernel_event). So a poll that finds the metadata
 * unchanged reads the kernel only when the last reconcile did not reach the desired state. */
int daemon_check(struct daemon *d) {
        if (d->waiting[0] || !d->have_link || d->last_failed)
                return daemon_reconcile(d, TRIGGER_POLL);
        d->reconciles++;
        d->last_success = daemon_now_sec();
        return 0;
}

static void schedule_heal(struct daemon *d, const char *why) {
        uint64_t now;
        int enabled = SD_EVENT_OFF;

        log_debug("Kernel event: %s; checking routes", why);
        (void) sd_event_source_get_enabled(d->heal_timer, &enabled);
        if (enabled != SD_EVENT_OFF)
                return; /* already pending: this event joins the burst */
        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(d->heal_timer, now + HEAL_DEBOUNCE_USEC);
        (void) sd_event_source_set_enabled(d->heal_timer, SD_EVENT_ONESHOT);
}

int daemon_on_heal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct daemon *d = userdata;

        (void) s;
        (void) usec;
        (void) daemon_reconcile(d, TRIGGER_EVENT);
        daemon_publish(d);
        return 0;
}

static bool desired_has_prefix(const struct route_set *desired, const struct route *r) {
        for (size_t i = 0; i < desired->n; i++)
                if (route_same_prefix(&desired->routes[i], r))
                        return true;
        return false;
}

void daemon_on_kernel_event(const struct nl_event *ev, void *userdata) {
        struct daemon *d = userdata;

        if (ev->kind == NL_EVENT_OVERFLOW) {
                schedule_heal(d, "event queue overflow");
                return;
        }
        if (ev->self || !d->have_md)
                return;
        switch (ev->kind) {
        case NL_EVENT_ROUTE:
                /* Own routes, and any route in a slot we want (an equal foreign route going away,
                 * or one of another program taking the slot). */
                if (ev->route.table == d->config->table &&
                    (ev->route.protocol == d->config->protocol || desired_has_prefix(&d->desired, &ev->route)))
                        schedule_heal(d, ev->removed ? "route removed" : "route added or changed");
                break;
        case NL_EVENT_LINK:
                if ((d->have_link && ev->ifindex == d->link.ifindex) ||
                    (ev->link.has_mac && memcmp(ev->link.mac, d->md.mac, 6) == 0) ||
                    (d->config->interface && streq(ev->link.ifname, d->config->interface)))
                        schedule_heal(d, "private NIC changed");
                break;
        case NL_EVENT_ADDRESS:
                if (!d->have_link || ev->ifindex == d->link.ifindex)
                        schedule_heal(d, "address changed on the private NIC");
                break;
        default:
                break;
        }
}
